"""Experiment trackers fed from a run directory (optional extras; imported lazily)."""
