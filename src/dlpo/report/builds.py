"""One line naming the llama-server builds that answered a run.

Greedy answers of one llama.cpp source differ between builds (AVX2 vs AVX-512: 2-3 of 100 BBH
answers, docs/results.md), so a run's screen and report say which build made its answers; a
reader comparing two runs can then tell a replay from a re-run on other hardware.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def builds_line(builds: Mapping[str, Sequence[str]] | None, quote: str = "") -> str | None:
    """`llama-server builds: local:a c/1; local:b c/1 + c/2`, or None when no answer named its
    build (a remote API, or a run recorded before builds were). `quote` wraps each build id (the
    Markdown summary passes a backtick; the screen and the HTML report show the id plain)."""
    named = {model: sorted(set(b)) for model, b in sorted((builds or {}).items()) if b}
    if not named:
        return None
    parts = [f"{model} " + " + ".join(f"{quote}{b}{quote}" for b in bs) for model, bs in named.items()]
    line = "llama-server builds: " + "; ".join(parts)
    if any(len(bs) > 1 for bs in named.values()):
        line += " (more than one build answered one model: its answers are not a single build's replay)"
    return line
