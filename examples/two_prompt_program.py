"""A two-step program with two prompts: "extract the quantities", then "answer".

    .venv/bin/python examples/two_prompt_program.py [--run-dir runs/two-step]

dlpo optimizes both prompts, one per step in turn; each step's critics read the program's whole
trace (both calls) and write instructions for the prompt being updated. The run folder's events and
`dlpo report` show both prompts changing.
"""

from __future__ import annotations

from _sizes import args, sizes

import dlpo
from dlpo.tasks.demo import generate

PROMPTS = {
    "extract": "List the quantities in the problem.",
    "answer": "Answer the question.",
}


async def extract_then_answer(prompts: dict[str, str], example: dlpo.Example, llm) -> str:
    quantities = await llm("extract", example.input, max_tokens=80)
    return await llm("answer", f"{example.input}\n\nQuantities:\n{quantities}")


def exact_number(output: str, example: dlpo.Example) -> dlpo.Score:
    last = output.strip().split()[-1].strip(".$") if output.strip() else ""
    if last == example.target:
        return dlpo.Score(1.0, last, "correct")
    return dlpo.Score(0.0, last, f"the reply ends with {last!r}, expected the number {example.target}")


def main() -> None:
    a = args(__doc__.splitlines()[0])
    rows = [{"question": e.input, "answer": e.target} for e in generate(60, seed=5)]
    task = dlpo.Task.from_records(
        rows,
        input="question",
        target="answer",
        metric=exact_number,
        program=extract_then_answer,
        prompts=PROMPTS,
        sizes=sizes((20, 10, 20), (6, 3, 3)),
        name="two-step",
    )
    result = dlpo.optimize(
        task,
        preset="tgd",
        run_dir=a.run_dir,
        forward_max_tokens=120,
        skip_correct_batches=False,
        **sizes({"steps": 4}, {"steps": 2, "critique_max_tokens": 96, "reduction_max_tokens": 128}),
    )
    for name, text in result.best.prompts.items():
        print(f"[{name}] {text}")
    print(f"start test {result.start.test:.2f} -> best test {result.best.test:.2f}")


if __name__ == "__main__":
    main()
