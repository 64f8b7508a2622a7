"""`demo`: a seeded generator of short arithmetic word problems, shipped in the package.

It needs no data folder, so the main job and the tests run offline. Problems take one or two
steps with small numbers over varied templates (shopping, sharing, ages, distance, ...); the target
is an integer. The answer instruction asks for `Answer: <number>` on the last line, so the strict
numeric scorer rewards format-following — which is exactly where small local models are
prompt-sensitive (a "think step by step" prompt makes Qwen2.5 reason well but end with
`\\boxed{N}`, scoring 0 strict).

The same seed always gives the same problems in the same splits; questions are unique.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from dlpo.errors import ConfigError
from dlpo.tasks.base import Example, Task
from dlpo.tasks.prompts import GSM_PROMPT, NUMERIC_INSTRUCTION
from dlpo.tasks.scoring import make_scorer
from dlpo.tasks.splits import resolve_sizes

DEFAULT_SIZES = (30, 20, 50)
NAMES = (
    "Ava",
    "Ben",
    "Chloe",
    "Dan",
    "Emma",
    "Finn",
    "Grace",
    "Hugo",
    "Ivy",
    "Jack",
    "Lena",
    "Omar",
    "Mia",
    "Noah",
)
ITEMS = (
    ("apples", "apple"),
    ("pencils", "pencil"),
    ("stickers", "sticker"),
    ("cookies", "cookie"),
    ("marbles", "marble"),
    ("notebooks", "notebook"),
    ("cupcakes", "cupcake"),
    ("balloons", "balloon"),
)

Template = Callable[[random.Random], tuple[str, int, str]]


def _who(rng: random.Random) -> tuple[str, str]:
    first, second = rng.sample(NAMES, 2)
    return first, second


def _buy(rng: random.Random) -> tuple[str, int, str]:
    name, (items, _) = _who(rng)[0], rng.choice(ITEMS)
    count, price = rng.randint(2, 9), rng.randint(2, 12)
    return (
        f"{name} buys {count} {items} that cost ${price} each. How many dollars does {name} spend?",
        count * price,
        "buy",
    )


def _change(rng: random.Random) -> tuple[str, int, str]:
    name, (items, _) = _who(rng)[0], rng.choice(ITEMS)
    count, price = rng.randint(2, 6), rng.randint(2, 9)
    money = count * price + rng.randint(1, 30)
    question = (
        f"{name} has ${money}. {name} buys {count} {items} for ${price} each. How many dollars are left?"
    )
    return question, money - count * price, "change"


def _share(rng: random.Random) -> tuple[str, int, str]:
    name, (items, _) = _who(rng)[0], rng.choice(ITEMS)
    friends, each = rng.randint(2, 8), rng.randint(2, 12)
    question = f"{name} has {friends * each} {items} and shares them equally among {friends} friends. How many {items} does each friend get?"
    return question, each, "share"


def _ages(rng: random.Random) -> tuple[str, int, str]:
    a, b = _who(rng)
    age, gap, years = rng.randint(5, 40), rng.randint(2, 15), rng.randint(2, 10)
    question = (
        f"{a} is {age} years old. {b} is {gap} years older than {a}. How old will {b} be in {years} years?"
    )
    return question, age + gap + years, "ages"


def _distance(rng: random.Random) -> tuple[str, int, str]:
    speed, hours = rng.choice((30, 40, 45, 50, 60, 70, 80)), rng.randint(2, 6)
    vehicle = rng.choice(("A car", "A train", "A bus"))
    return (
        f"{vehicle} travels at {speed} km per hour for {hours} hours. How many km does it travel?",
        speed * hours,
        "distance",
    )


def _boxes(rng: random.Random) -> tuple[str, int, str]:
    (items, _) = rng.choice(ITEMS)
    boxes, per_box = rng.randint(2, 9), rng.randint(3, 12)
    eaten = rng.randint(1, boxes * per_box - 1)
    question = f"There are {boxes} boxes with {per_box} {items} in each box. {eaten} {items} are given away. How many {items} are left?"
    return question, boxes * per_box - eaten, "boxes"


def _savings(rng: random.Random) -> tuple[str, int, str]:
    name = _who(rng)[0]
    start, weekly, weeks = rng.randint(5, 50), rng.randint(3, 20), rng.randint(2, 8)
    question = f"{name} has saved ${start} and saves ${weekly} more every week. How many dollars will {name} have after {weeks} weeks?"
    return question, start + weekly * weeks, "savings"


def _pages(rng: random.Random) -> tuple[str, int, str]:
    name = _who(rng)[0]
    per_day, days = rng.randint(5, 25), rng.randint(2, 7)
    pages = per_day * days + rng.randint(10, 120)
    question = f"A book has {pages} pages. {name} reads {per_day} pages a day for {days} days. How many pages are left to read?"
    return question, pages - per_day * days, "pages"


def _marbles(rng: random.Random) -> tuple[str, int, str]:
    a, b = _who(rng)
    (items, _) = rng.choice(ITEMS)
    have, got = rng.randint(5, 40), rng.randint(2, 30)
    gave = rng.randint(1, have + got - 1)
    question = f"{a} has {have} {items}. {b} gives {a} {got} more, and then {a} gives away {gave}. How many {items} does {a} have now?"
    return question, have + got - gave, "gain-loss"


def _minutes(rng: random.Random) -> tuple[str, int, str]:
    minutes, count = rng.choice((15, 20, 25, 30, 40, 45, 50)), rng.randint(2, 8)
    name = _who(rng)[0]
    question = f"Each of {name}'s piano lessons lasts {minutes} minutes. How many minutes do {count} lessons last in total?"
    return question, minutes * count, "time"


TEMPLATES: tuple[Template, ...] = (
    _buy,
    _change,
    _share,
    _ages,
    _distance,
    _boxes,
    _savings,
    _pages,
    _marbles,
    _minutes,
)


def generate(n: int, seed: int = 0) -> list[Example]:
    """`n` distinct problems; the same (n, seed) always gives the same list, and a longer list
    starts with the shorter one."""
    rng = random.Random(f"dlpo-demo-{seed}")
    seen: set[str] = set()
    out: list[Example] = []
    attempts = 0
    while len(out) < n:
        attempts += 1
        if attempts > 50 * (n + 10):
            raise ConfigError(f"demo: cannot generate {n} distinct problems; ask for fewer")
        template = TEMPLATES[len(out) % len(TEMPLATES)] if rng.random() < 0.5 else rng.choice(TEMPLATES)
        question, answer, kind = template(rng)
        if question in seen:
            continue
        seen.add(question)
        out.append(Example(f"demo/{seed}/{len(out)}", question, str(answer), {"template": kind}))
    return out


def load_demo(
    *, seed: int | None = None, scorer: str | None = None, split_sizes: object = None, **_: object
) -> Task:
    """The demo task (`data_dir` and other data options are accepted and ignored)."""
    seed = 0 if seed is None else seed
    n_train, n_val, n_test = resolve_sizes(split_sizes, DEFAULT_SIZES)
    examples = generate(n_train + n_val + n_test, seed)
    train, val, test = examples[:n_train], examples[n_train : n_train + n_val], examples[n_train + n_val :]
    chosen = (
        "numeric" if scorer in (None, "strict") else ("reference:gsm8k" if scorer == "reference" else scorer)
    )
    return Task(
        name="demo",
        train=train,
        val=val,
        test=test,
        scorer=make_scorer(chosen),
        answer_instruction=NUMERIC_INSTRUCTION,
        initial_prompt=GSM_PROMPT,
        description=f"generated arithmetic word problems, 1-2 steps (seed {seed}); offline",
        source="generated by dlpo.tasks.demo (no data needed)",
        answer_type="numeric",
    )
