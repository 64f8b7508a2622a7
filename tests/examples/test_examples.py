"""The four examples run on the embedded models with CI sizes (DLPO_EXAMPLE_SMALL=1), each as a
user would run it, and leave the run folder they promise."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dlpo.programs import parse_prompts

pytestmark = pytest.mark.model
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_example(name: str, run_dir: Path) -> dict:
    env = {**os.environ, "DLPO_EXAMPLE_SMALL": "1"}
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / name), "--run-dir", str(run_dir)],
        capture_output=True,
        text=True,
        env=env,
        timeout=1500,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads((run_dir / "result.json").read_text())


def events(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]


def test_custom_metric_on_a_csv(small_model_path, large_model_path, tmp_path):
    result = run_example("custom_metric_csv.py", tmp_path / "r")
    reasons = [r for e in events(tmp_path / "r") if e["type"] == "forward_batch" for r in e["reasons"]]
    assert result["best"]["test"] is not None and reasons
    assert all(r == "correct" or "expected" in r or "label" in r or "not one of" in r for r in reasons)


def test_two_prompt_program_changes_both_prompts(small_model_path, large_model_path, tmp_path):
    result = run_example("two_prompt_program.py", tmp_path / "r")
    steps = [parse_prompts(e["prompt"]) for e in events(tmp_path / "r") if e["type"] == "step"]
    start = parse_prompts(result["start"]["prompt"])
    assert set(start) == {"extract", "answer"} and len(steps) == 2
    changed = {name for name in start if any(s[name] != start[name] for s in steps)}
    assert changed == {"extract", "answer"}, f"prompts that changed: {changed}"
    from dlpo.report import write_report

    html, _ = write_report(tmp_path / "r")
    text = html.read_text()
    assert "### extract" in text and "### answer" in text


def test_llm_judge_task(small_model_path, large_model_path, tmp_path):
    result = run_example("llm_judge.py", tmp_path / "r")
    judge = result["usage"]["roles"]["judge"]
    assert judge["requests"] > 0 and result["best"]["test"] is not None
    reasons = [r for e in events(tmp_path / "r") if e["type"] == "forward_batch" for r in e["reasons"]]
    assert reasons and all(r.startswith(("judge ", "metric error")) for r in reasons)


def test_custom_technique(small_model_path, large_model_path, tmp_path):
    result = run_example("custom_technique.py", tmp_path / "r")
    assert "word-budget" in result["activity"]
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert config["components"] == {"techniques": ["word-budget"]}
