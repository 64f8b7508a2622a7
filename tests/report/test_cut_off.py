"""Answers cut off at the answer limit are counted, and the final screen, the reports, the progress
lines and `dlpo evaluate` say when the limit, not the prompt, may cap the score."""

from __future__ import annotations

import io
import json

import pytest

from dlpo.cli.app import main
from dlpo.engines.base import ChatRequest, run_sync
from dlpo.engines.scripted import ScriptedEngine
from dlpo.report import write_report
from dlpo.report.cut_off import NOTE_SHARE, cut_off_note, run_cut_off_note
from dlpo.runs.events import read_events

from .runs import scripted_fit


def _test(cut: int | None, n: int = 20) -> dict:
    return {"score": 0.1, "n": n, "cut_off": cut}


def test_the_note_names_the_best_prompts_cut_off_answers_and_the_limit():
    note = cut_off_note({"start": _test(1), "best": _test(9), "last": _test(0)}, 256)
    assert note is not None
    assert note.startswith(
        "9 of 20 test answers of the best prompt were cut off at the answer limit (256 tokens) "
        "(the starting prompt's: 1 of 20)"
    )
    assert "--max-tokens" in note


def test_no_note_below_the_share_or_for_runs_written_before_the_count():
    below = int(NOTE_SHARE * 20) - 1
    assert cut_off_note({"start": _test(20), "best": _test(below), "last": _test(below)}, 64) is None
    assert cut_off_note({"best": _test(None), "last": _test(None)}, 64) is None
    assert cut_off_note({}, 64) is None


def test_the_last_prompt_is_named_when_only_it_was_cut_off():
    note = cut_off_note({"best": _test(0), "last": _test(5)}, None)
    assert note is not None and note.startswith(
        "5 of 20 test answers of the last prompt were cut off at the answer limit;"
    )


def test_the_scripted_engine_stops_at_max_tokens_like_a_model():
    engine = ScriptedEngine(lambda r: "one two three four five")
    short, cut = run_sync(
        engine.complete([ChatRequest.chat("s", "u", max_tokens=8), ChatRequest.chat("s", "u", max_tokens=3)])
    )
    assert (short.text, short.finish_reason, short.completion_tokens) == (
        "one two three four five",
        "stop",
        5,
    )
    assert (cut.text, cut.finish_reason, cut.completion_tokens) == ("one two three", "length", 3)


def test_a_run_whose_answers_hit_the_limit_says_so_on_screen_in_the_reports_and_in_the_log(tmp_path, capsys):
    """The scripted forward model answers "Let me see. Answer: N" (4 words); with a 3-token limit
    every answer loses its answer line, as a long-winded real answer would."""
    from rich.console import Console

    from dlpo.cli.optimize import print_result
    from dlpo.training.progress import PlainProgress

    result = scripted_fit(tmp_path / "run", preset="tgd", steps=1, forward_max_tokens=3)
    events = read_events(result.run_dir / "events.jsonl")
    tests = [e for e in events if e["type"] == "test"]
    assert tests and all(e["cut_off"] == e["n"] == 5 and e["score"] == 0.0 for e in tests)
    assert all(e["cut_off"] == e["n"] for e in events if e["type"] == "validation")
    expected = "5 of 5 test answers of the best prompt were cut off at the answer limit (3 tokens)"
    assert (run_cut_off_note(result.run_dir) or "").startswith(expected)

    screen = io.StringIO()
    print_result(Console(file=screen, width=400), result)
    assert expected in screen.getvalue()
    html_path, md_path = write_report(result.run_dir)
    assert f"- **{expected}" in md_path.read_text()
    assert f'<p class="meta"><b>{expected}' in html_path.read_text()

    log = io.StringIO()
    display = PlainProgress(1, stream=log)
    for e in events:
        display.on_event(e)
    lines = log.getvalue()
    assert "validation 0.000 (n=5), 5 cut off at the answer limit" in lines
    assert "test best prompt (step " in lines and "0.000 (n=5), 5 cut off at the answer limit" in lines


def test_a_run_whose_answers_fit_shows_no_note(tmp_path):
    result = scripted_fit(tmp_path / "run", preset="tgd", steps=1)
    events = read_events(result.run_dir / "events.jsonl")
    assert all(e["cut_off"] == 0 for e in events if e["type"] in ("test", "validation"))
    assert run_cut_off_note(result.run_dir) is None
    _, md_path = write_report(result.run_dir)
    assert "cut off" not in md_path.read_text()


def test_evaluate_counts_the_cut_off_answers(tmp_path, capsys, scripted_engines):
    """The scripted forward model answers "Answer: 7" (2 words): 1 token cuts it."""
    out = tmp_path / "answers.jsonl"
    args = ["evaluate", "--task", "demo", "--limit", "3", "--output", str(out)]
    assert main([*args, "--max-tokens", "1"]) == 0
    text = capsys.readouterr().out
    assert "3 of 3 answers were cut off at the answer limit (1 tokens)" in text
    assert [json.loads(line)["finish_reason"] for line in out.read_text().splitlines()] == ["length"] * 3
    assert main(args) == 0
    assert "cut off" not in capsys.readouterr().out


@pytest.mark.model
def test_evaluate_on_the_real_model_counts_answers_cut_off_at_the_limit(tmp_path, capsys, small_model_path):
    """Two tokens cannot hold a demo answer ("Answer: " and a number), so the real model's replies
    hit the limit and the server says so (finish_reason "length")."""
    out = tmp_path / "answers.jsonl"
    args = [
        "evaluate",
        "--task",
        "demo",
        "--limit",
        "2",
        "--output",
        str(out),
        "--forward",
        "local:qwen2.5-0.5b",
    ]
    assert main([*args, "--max-tokens", "2"]) == 0
    assert "2 of 2 answers were cut off at the answer limit (2 tokens)" in capsys.readouterr().out
    assert [json.loads(line)["finish_reason"] for line in out.read_text().splitlines()] == ["length"] * 2
