"""A task with no single right answer, scored by an LLM judge against a rubric.

    .venv/bin/python examples/llm_judge.py [--run-dir runs/judged]

The judge (the 1.5B model here, through the run's cache and ledger: role "judge") scores each reply
0-10 and says why; the reason is what the optimizer learns from.
"""

from __future__ import annotations

from _sizes import args, sizes

import dlpo

PRODUCTS = [
    "a steel water bottle that keeps drinks cold for 24 hours",
    "a foldable desk lamp with three brightness levels",
    "wireless earbuds with a 30-hour battery case",
    "a cast-iron pan that works on induction hobs",
    "a backpack with a padded laptop sleeve",
    "a bamboo cutting board with a juice groove",
    "a phone stand that folds flat",
    "a wool blanket made from recycled fibres",
    "a kettle with a keep-warm button",
    "running socks with arch support",
    "a mechanical keyboard with quiet switches",
    "a plant pot that waters itself for two weeks",
]
RUBRIC = (
    "The reply is one sentence of at most 25 words that describes the product for a shop page, "
    "names its main benefit, and does not invent features that the input does not mention."
)


def main() -> None:
    a = args(__doc__.splitlines()[0])
    rows = [{"product": p, "notes": ""} for p in PRODUCTS]
    task = dlpo.Task.from_records(
        rows,
        input="product",
        target="notes",
        metric=dlpo.LLMJudge(RUBRIC),
        sizes=sizes((4, 4, 4), (4, 2, 2)),
        prompt="Write about the product.",
        name="product-copy",
    )
    result = dlpo.optimize(
        task,
        preset="tgd",
        run_dir=a.run_dir,
        forward_max_tokens=60,
        **sizes({"steps": 3}, {"steps": 1, "critique_max_tokens": 96, "reduction_max_tokens": 128}),
    )
    print(f"judge score: start {result.start.test:.2f} -> best {result.best.test:.2f}")
    print("best prompt:", result.best.prompt)


if __name__ == "__main__":
    main()
