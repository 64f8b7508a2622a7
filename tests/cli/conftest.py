"""CLI tests: every engine the CLI builds is scripted unless a test says otherwise."""

from __future__ import annotations

import pytest
from train.scripted_setup import backward_reply

from dlpo.engines.scripted import ScriptedEngine


@pytest.fixture
def scripted_engines(monkeypatch):
    """Forward answers 'Answer: 7' (right for some demo questions), backward as in the fit tests."""
    from dlpo.engines import spec

    def build(spec_str, role="forward"):
        if role == "forward":
            return ScriptedEngine(lambda r: "Answer: 7", name="fwd")
        return ScriptedEngine(backward_reply, name="bwd")

    monkeypatch.setattr(spec, "build_engine", build)
