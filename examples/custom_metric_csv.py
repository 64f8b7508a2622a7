"""A custom metric on a CSV of labelled reviews.

    .venv/bin/python examples/custom_metric_csv.py [--run-dir runs/reviews]

The metric sees the model's output and the whole example, and returns a `dlpo.Score` whose reason
says which convention the answer broke: that reason is what the backward model learns from, so it
is worth writing (a bare 0/1 only says "wrong").
"""

from __future__ import annotations

from pathlib import Path

from _sizes import args, sizes

import dlpo

LABELS = ("positive", "negative", "neutral")


def sentiment_metric(output: str, example: dlpo.Example) -> dlpo.Score:
    reply = output.strip().strip(".").lower()
    if reply == example.target:
        return dlpo.Score(1.0, reply, "correct")
    if reply in LABELS:
        return dlpo.Score(0.0, reply, f"answered {reply!r}, expected {example.target!r}")
    found = [label for label in LABELS if label in reply]
    if found:
        return dlpo.Score(
            0.0, reply, f"the reply names {found[0]!r} but has other words; reply with the label only"
        )
    return dlpo.Score(0.0, reply, "the reply is not one of positive, negative, neutral")


def main() -> None:
    a = args(__doc__.splitlines()[0])
    task = dlpo.Task.from_records(
        _rows(Path(__file__).with_name("data") / "reviews.csv"),
        input="review",
        target="sentiment",
        metric=sentiment_metric,
        sizes=sizes((10, 8, 12), (6, 3, 4)),
        prompt="Read the review.",
        name="reviews",
    )
    result = dlpo.optimize(
        task,
        preset="dlpo",
        run_dir=a.run_dir,
        forward_max_tokens=24,
        **sizes({"steps": 4}, {"steps": 1, "acceptance_set": 3, "critique_max_tokens": 64}),
    )
    print(f"start test {result.start.test:.2f} -> best test {result.best.test:.2f}")
    print("best prompt:", result.best.prompt)


def _rows(path: Path) -> list[dict[str, str]]:
    import csv

    with path.open(newline="") as f:
        return list(csv.DictReader(f))


if __name__ == "__main__":
    main()
