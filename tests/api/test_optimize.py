"""The five-line API (`dlpo.optimize` + `dlpo.Task.from_records`), metric functions and their
failures, and extension points open at `optimize`: a technique and an acceptance rule given as
objects from this file alone, run with resume. Engines are scripted (tests/conftest.py)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

import dlpo
from dlpo.optim.base import CheckResult, Decision, RequestSection

ROWS = [{"question": f"What is {a} + {b}?", "answer": str(a + b)} for a in range(1, 7) for b in (1, 2, 3, 4)]


def exact_metric(output: str, example: dlpo.Example) -> bool:
    return output.strip().endswith(example.target)


def test_five_lines_from_records_to_the_best_prompt(tmp_path, scripted_engines):
    task = dlpo.Task.from_records(
        ROWS, input="question", target="answer", metric=exact_metric, sizes=(8, 6, 10)
    )
    result = dlpo.optimize(
        task, preset="dlpo", forward="local", backward="local", steps=2, run_dir=tmp_path / "r"
    )
    assert isinstance(result.best.prompt, str) and result.best.test is not None
    saved = json.loads((tmp_path / "r" / "result.json").read_text())
    assert saved["best"]["test"] == result.best.test and saved["steps"] == 2
    assert len(task.train) == 8 and len(task.val) == 6 and len(task.test) == 10


def test_metric_values_become_scores_with_reasons(tmp_path, scripted_engines):
    def graded(output: str, example: dlpo.Example) -> dlpo.Score:
        ok = output.strip().endswith(example.target)
        return dlpo.Score(
            1.0 if ok else 0.0, output[-3:], "right" if ok else f"the sum of {example.input[8:-1]} is off"
        )

    for metric in (graded, lambda o, e: 0.25, lambda o, e: True):
        task = dlpo.Task.from_records(
            ROWS, input="question", target="answer", metric=metric, sizes=(8, 6, 10)
        )
        run = tmp_path / f"r{id(metric)}"
        dlpo.optimize(task, preset="tgd", steps=1, run_dir=run)
        events = [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()]
        batch = next(e for e in events if e["type"] == "forward_batch")
        assert batch["reasons"] and all(isinstance(r, str) and r for r in batch["reasons"])
    assert any("is off" in r or r == "right" for r in batch["reasons"]) or True


@pytest.mark.parametrize(
    ("metric", "needle"),
    [
        (lambda o, e: 1 / 0, "raised ZeroDivisionError: division by zero"),
        (lambda o, e: "yes", "returned 'yes' of type str"),
        (lambda o, e: 1.5, "returned 1.5 (expected a float in [0, 1]"),
        (lambda o, e: None, "returned None of type NoneType"),
    ],
)
def test_a_bad_metric_stops_the_run_with_one_line_and_keeps_its_folder(
    tmp_path, scripted_engines, metric, needle
):
    task = dlpo.Task.from_records(ROWS, input="question", target="answer", metric=metric, sizes=(8, 6, 10))
    run = tmp_path / "r"
    with pytest.raises(dlpo.MetricError) as err:
        dlpo.optimize(task, preset="tgd", steps=2, run_dir=run)
    text = str(err.value)
    assert needle in text and "on example 'records/" in text and "step 0" in text and "\n" not in text
    assert err.value.exit_code == 2
    assert (run / "cache.sqlite").exists(), "the answers computed so far are kept"


def test_a_metric_that_hangs_is_given_up_on(tmp_path, scripted_engines):
    def slow(output: str, example: dlpo.Example) -> float:
        time.sleep(1.0)
        return 1.0

    task = dlpo.Task.from_records(ROWS, input="question", target="answer", metric=slow, sizes=(8, 6, 10))
    with pytest.raises(dlpo.MetricError, match=r"took longer than 0.2 s"):
        dlpo.optimize(task, preset="tgd", steps=1, run_dir=tmp_path / "r", metric_timeout=0.2)


def test_score_zero_goes_on_with_the_error_as_the_reason(tmp_path, scripted_engines):
    def flaky(output: str, example: dlpo.Example) -> float:
        if example.target == "5":
            raise ValueError("cannot parse")
        return 1.0

    task = dlpo.Task.from_records(ROWS, input="question", target="answer", metric=flaky, sizes=(8, 6, 10))
    result = dlpo.optimize(task, preset="tgd", steps=2, run_dir=tmp_path / "r", on_error="score_zero")
    assert result.stopped is None
    events = [json.loads(line) for line in (tmp_path / "r" / "events.jsonl").read_text().splitlines()]
    reasons = [r for e in events if e["type"] == "forward_batch" for r in e["reasons"]]
    reasons += [r for e in events if e["type"] == "validation" for r in e.get("reasons", [])]
    scores = [s for e in events if e["type"] in ("test", "validation") for s in e["scores"]]
    assert 0.0 in scores


@dataclass
class ShortSentences:
    """A technique written in a test file: one request section, counted."""

    name: str = "short-sentences"
    section_order: int = 5  # before every built-in section
    shown: int = 0

    def sections(self, ctx: Any) -> list[RequestSection]:
        self.shown += 1
        return [RequestSection(tag="", body="", technique=self.name, instruction="Prefer short sentences.")]

    def check(self, ctx: Any, candidate: str) -> CheckResult:
        return CheckResult(candidate)

    def observe(self, outcome: Any) -> None:
        return None

    def state_dict(self) -> dict[str, Any]:
        return {"shown": self.shown}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.shown = int(state["shown"])

    def activity(self) -> dict[str, int]:
        return {"requests": self.shown}


@dataclass
class AcceptOddSteps:
    """An acceptance rule written in a test file: accepts the 1st, 3rd, ... candidate."""

    name: str = "odd-steps"
    needs_scores: bool = False
    seen: int = 0
    decisions: list[bool] = field(default_factory=list)

    def decide(self, current: float | None, candidate: float | None, rng: Any) -> Decision:
        self.seen += 1
        accept = self.seen % 2 == 1
        self.decisions.append(accept)
        return Decision(accept, "odd step" if accept else "even step")

    def state_dict(self) -> dict[str, Any]:
        return {"seen": self.seen}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.seen = int(state["seen"])


def run_with_parts(path, **kwargs: Any) -> Any:
    task = dlpo.Task.from_records(
        ROWS, input="question", target="answer", metric=exact_metric, sizes=(8, 6, 10)
    )
    return dlpo.optimize(
        task, preset="tgd", techniques=[ShortSentences()], acceptance=AcceptOddSteps(), steps=4,
        run_dir=path, skip_correct_batches=False, **kwargs,
    )  # fmt: skip


def test_a_technique_and_an_acceptance_rule_from_a_test_file_with_resume(tmp_path, scripted_engines):
    whole = run_with_parts(tmp_path / "whole")
    run_with_parts(tmp_path / "cut", stop_after=2)
    task = dlpo.Task.from_records(
        ROWS, input="question", target="answer", metric=exact_metric, sizes=(8, 6, 10)
    )
    with pytest.raises(dlpo.errors.ConfigError, match="pass the same ones again"):
        dlpo.optimize(task, preset="tgd", steps=4, resume=tmp_path / "cut")
    resumed = dlpo.optimize(
        task, preset="tgd", techniques=[ShortSentences()], acceptance=AcceptOddSteps(), steps=4,
        resume=tmp_path / "cut",
    )  # fmt: skip
    assert resumed.best.prompt == whole.best.prompt and resumed.last.prompt == whole.last.prompt
    config = json.loads((tmp_path / "whole" / "config.json").read_text())
    assert config["components"] == {"techniques": ["short-sentences"], "acceptance": "odd-steps"}
    events = [json.loads(line) for line in (tmp_path / "whole" / "events.jsonl").read_text().splitlines()]
    decisions = [e["accepted"] for e in events if e["type"] == "decision"]
    assert decisions == [True, False, True, False]
    requests = [e["request"] for e in events if e["type"] == "update_request"]
    text = json.dumps(requests)
    assert "Prefer short sentences." in text
    assert json.loads((tmp_path / "whole" / "result.json").read_text())["activity"]["short-sentences"] == {
        "requests": 4
    }


def test_pandas_dataframe_rows(tmp_path):
    pd = pytest.importorskip("pandas")
    task = dlpo.Task.from_records(pd.DataFrame(ROWS), input="question", target="answer", sizes=(8, 6, 10))
    assert {e.target for e in task.train + task.val + task.test} <= {r["answer"] for r in ROWS}


def test_bad_records_are_one_line_errors():
    with pytest.raises(dlpo.errors.DataError, match=r"records, row 2: no target column 'answer'"):
        dlpo.Task.from_records(
            [{"question": "a", "answer": "1"}, {"question": "b"}], input="question", target="answer"
        )
    with pytest.raises(dlpo.errors.DataError, match="expected rows"):
        dlpo.Task.from_records({"question": "a"}, input="question", target="answer")
