"""Programs with several named prompts: both prompts are optimized (one per step in turn), each
step's critics read the program's trace, and a program run resumes like any other."""

from __future__ import annotations

import json
import re

import pytest

import dlpo
from dlpo.engines.base import ChatRequest
from dlpo.engines.scripted import ScriptedEngine
from dlpo.programs import parse_prompts, render_prompts

ROWS = [{"question": f"What is {a} + {b}?", "answer": str(a + b)} for a in range(1, 7) for b in (1, 2, 3, 4)]
PROMPTS = {"extract": "List the numbers.", "answer": "Answer the question."}


def forward(request: ChatRequest) -> str:
    system, user = request.messages[0].content, request.messages[1].content
    numbers = [int(n) for n in re.findall(r"\d+", user)]
    if "List the numbers" in system or "numbers" in system.lower():
        return " ".join(str(n) for n in numbers[:2])
    total = sum(numbers[:2])
    return str(total if "step" in system else total + 1)  # an improved answer prompt gets it right


def backward(request: ChatRequest) -> str:
    text = "\n".join(m.content for m in request.messages)
    if "IMPROVED_VARIABLE" in text:
        current = re.search(r"<VARIABLE>\n(.*?)\n</VARIABLE>", text, re.DOTALL)
        base = current.group(1) if current else ""
        return f"<IMPROVED_VARIABLE>{base} Work step by step.</IMPROVED_VARIABLE>"
    return "- Add the two numbers given by the previous call."


@pytest.fixture
def engines(monkeypatch):
    from dlpo.engines import spec

    seen: list[ChatRequest] = []

    def build(spec_str, role="forward"):
        if role == "forward":
            return ScriptedEngine(forward, name="fwd")
        engine = ScriptedEngine(backward, name="bwd")
        engine.requests = seen
        return engine

    monkeypatch.setattr(spec, "build_engine", build)
    return seen


def extract_then_answer(prompts, example, llm):  # a synchronous program: llm() blocks
    numbers = llm("extract", example.input)
    return llm("answer", f"{example.input}\nNumbers: {numbers}")


async def async_program(prompts, example, llm):
    numbers = await llm("extract", example.input)
    return await llm("answer", f"{example.input}\nNumbers: {numbers}")


def exact(output: str, example: dlpo.Example) -> bool:
    return output.strip() == example.target


@pytest.mark.parametrize("program", [extract_then_answer, async_program])
def test_both_prompts_change_and_critics_read_the_trace(tmp_path, engines, program):
    task = dlpo.Task.from_records(
        ROWS,
        input="question",
        target="answer",
        metric=exact,
        program=program,
        prompts=PROMPTS,
        sizes=(8, 6, 10),
    )
    result = dlpo.optimize(task, preset="tgd", steps=4, run_dir=tmp_path / "r", skip_correct_batches=False)
    events = [json.loads(line) for line in (tmp_path / "r" / "events.jsonl").read_text().splitlines()]
    prompts_by_step = [parse_prompts(e["prompt"]) for e in events if e["type"] == "step"]
    assert [set(p) for p in prompts_by_step] == [{"extract", "answer"}] * 4
    assert (
        prompts_by_step[-1]["extract"] != PROMPTS["extract"]
        and prompts_by_step[-1]["answer"] != PROMPTS["answer"]
    )
    assert prompts_by_step[0]["answer"] == PROMPTS["answer"]  # step 1 updated "extract" only
    assert result.best.prompts.keys() == PROMPTS.keys() and result.best.test == 1.0
    critiques = [r for r in engines if "the prompt under review" in r.messages[-1].content]
    assert critiques and "[call 2: prompt 'answer'" in critiques[0].messages[-1].content


def test_a_program_run_resumes_to_the_same_prompts(tmp_path, engines):
    task = dlpo.Task.from_records(
        ROWS, input="question", target="answer", metric=exact, program=extract_then_answer, prompts=PROMPTS,
        sizes=(8, 6, 10),
    )  # fmt: skip
    whole = dlpo.optimize(task, preset="dlpo", steps=4, run_dir=tmp_path / "a", skip_correct_batches=False)
    dlpo.optimize(
        task, preset="dlpo", steps=4, run_dir=tmp_path / "b", skip_correct_batches=False, stop_after=2
    )
    resumed = dlpo.optimize(task, preset="dlpo", steps=4, resume=tmp_path / "b")
    assert resumed.best.prompt == whole.best.prompt and resumed.last.prompt == whole.last.prompt
    activity = json.loads((tmp_path / "a" / "result.json").read_text())["activity"]
    assert any(k.startswith("extract:") for k in activity) and any(k.startswith("answer:") for k in activity)


def test_a_program_that_fails_is_one_line(tmp_path, engines):
    def broken(prompts, example, llm):
        return llm("nope", example.input)

    task = dlpo.Task.from_records(
        ROWS,
        input="question",
        target="answer",
        metric=exact,
        program=broken,
        prompts=PROMPTS,
        sizes=(8, 6, 10),
    )
    with pytest.raises(
        dlpo.MetricError, match=r"program raised KeyError: .*no prompt named 'nope'.* on example"
    ):
        dlpo.optimize(task, preset="tgd", steps=1, run_dir=tmp_path / "r")


def test_render_and_parse_round_trip():
    text = render_prompts(PROMPTS)
    assert text.startswith("### extract\n") and parse_prompts(text) == PROMPTS
    assert parse_prompts("Just one prompt.") == {"system": "Just one prompt."}
