"""TextGrad's own TGD loop for `vs_textgrad.py`; runs in the benchmark's textgrad venv (no dlpo).

    python vs_textgrad_runner.py SPEC.json OUT.json

SPEC: base_url, model, initial_prompt, train [{input, target}], batches [[index, ...], ...],
val [{input, target}], workers. The loop is textgrad's prompt-optimization tutorial: a
`BlackboxLLM` with the system prompt as the trainable `tg.Variable`, a `StringBasedFunction`
loss, `tg.sum(losses).backward()` and `tg.TGD.step()`, then validation of the new prompt
(a thread pool of `workers`, as textgrad's own examples evaluate). OUT: the wall-clock time at
each step boundary (the first is after the starting prompt's validation) and the val accuracy.
"""

from __future__ import annotations

import json
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def last_number(text: str) -> str | None:
    found = re.findall(r"-?\d+(?:\.\d+)?", text.replace(",", ""))
    return found[-1] if found else None


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    import textgrad as tg
    from openai import OpenAI
    from textgrad.autograd import StringBasedFunction
    from textgrad.engine.local_model_openai_api import ChatExternalClient

    client = OpenAI(base_url=spec["base_url"], api_key="sk-no-key", max_retries=2)
    engine = ChatExternalClient(client=client, model_string=spec["model"])
    tg.set_backward_engine(engine, override=True)
    system_prompt = tg.Variable(
        spec["initial_prompt"],
        requires_grad=True,
        role_description="system prompt to a language model that answers arithmetic word problems",
    )
    model = tg.BlackboxLLM(engine, system_prompt=system_prompt)
    optimizer = tg.TGD(engine=engine, parameters=[system_prompt])

    def equality(prediction, ground_truth_answer) -> int:
        return int(last_number(prediction.value) == str(ground_truth_answer.value))

    loss_fn = StringBasedFunction(
        equality, function_purpose="checks whether the last number in the prediction is the correct answer"
    )

    def answer(example: dict) -> int:
        question = tg.Variable(
            example["input"], requires_grad=False, role_description="query to the language model"
        )
        return int(last_number(model(question).value) == example["target"])

    def validate() -> float:
        with ThreadPoolExecutor(max_workers=spec["workers"]) as pool:
            scores = list(pool.map(answer, spec["val"]))
        return sum(scores) / len(scores)

    accuracy = [validate()]
    boundaries = [time.time()]
    for batch in spec["batches"]:
        optimizer.zero_grad()
        losses = []
        for index in batch:
            example = spec["train"][index]
            question = tg.Variable(
                example["input"], requires_grad=False, role_description="query to the language model"
            )
            target = tg.Variable(
                example["target"], requires_grad=False, role_description="correct answer for the query"
            )
            losses.append(loss_fn(inputs={"prediction": model(question), "ground_truth_answer": target}))
        tg.sum(losses).backward()
        optimizer.step()
        accuracy.append(validate())
        boundaries.append(time.time())
    out = {"boundaries": boundaries, "val": accuracy, "prompt": system_prompt.value}
    Path(sys.argv[2]).write_text(json.dumps(out), encoding="utf-8")


if __name__ == "__main__":
    main()
