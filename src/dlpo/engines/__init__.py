"""LLM backends behind one small async contract (see `dlpo.engines.base`)."""
