"""The main job's honest result: the chosen prompt's paired test gain with a 95% interval and n."""

from __future__ import annotations

import json

from dlpo.cli.app import main
from dlpo.report.gain import paired_gain


def write_tests(run, start: list[float], best: list[float]) -> None:
    ids = [f"q{i}" for i in range(len(start))]
    events = [
        {"type": "test", "step": 2, "which": "start", "ids": ids, "scores": start},
        {"type": "test", "step": 2, "which": "best", "ids": ids[::-1], "scores": best[::-1]},
    ]
    run.mkdir()
    (run / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))


def test_a_large_paired_gain_is_significant(tmp_path):
    write_tests(tmp_path / "r", [0.0] * 80 + [1.0] * 20, [1.0] * 70 + [0.0] * 10 + [1.0] * 20)
    g = paired_gain(tmp_path / "r")
    assert g is not None and g.n == 100 and abs(g.delta - 0.70) < 1e-9
    assert 0 < g.ci_low < 0.7 < g.ci_high and g.significant and "better" in g.verdict()


def test_a_small_sample_cannot_tell(tmp_path):
    write_tests(tmp_path / "r", [0, 1, 0, 1, 0, 1, 0, 1, 0, 1], [1, 1, 0, 1, 0, 1, 0, 1, 0, 0])
    g = paired_gain(tmp_path / "r")
    assert g is not None and g.n == 10 and g.delta == 0.0
    assert g.ci_low < 0 < g.ci_high and not g.significant
    assert g.verdict().startswith("the sample cannot tell") and "n=10" in g.verdict()


def test_optimize_prints_the_gain_interval_and_n(tmp_path, capsys, scripted_engines):
    run = tmp_path / "run"
    assert main(["optimize", "--task", "demo", "--preset", "tgd", "--steps", "1", "--run-dir", str(run)]) == 0
    out = capsys.readouterr().out
    assert "test gain vs start (95% CI)" in out
    g = paired_gain(run)
    assert g is not None and g.n == 10
    assert g.verdict() in " ".join(out.split())
