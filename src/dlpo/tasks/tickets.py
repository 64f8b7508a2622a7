"""`tickets`: route customer messages to a support queue — a task whose difficulty is conventions.

A seeded generator (no data files) of short customer messages, each labelled with one of eight
queue names spelled exactly as a routing system expects (`refund-request`, `double-charge`, ...).
The reply is read as is (`WholeReplyScorer`): the exact label, lower case, nothing else. Real
users' tasks look like this: the hard part is not the reading but the hidden conventions a good
prompt must state — the label set and its spellings, "the label only", and the edge-case policies:

* a damaged item is `item-damaged` even when the customer asks for a refund;
* a double charge is `double-charge` even when the customer asks for the money back;
* a late delivery is `delivery-late` even when the customer threatens to cancel;
* anything that is not a problem with an order, a payment or an account is `other`.

The starting prompt knows none of this ("Read the customer's message and say what it is about."),
so a small model answers in prose and scores near 0; `HUMAN_PROMPT` states every convention. The
measured gap between the two is what an optimizer can find (docs/results.md).
"""

from __future__ import annotations

import random
from collections.abc import Callable

from dlpo.errors import ConfigError
from dlpo.tasks.base import Example, Task
from dlpo.tasks.scoring import make_scorer
from dlpo.tasks.scoring.whole import WholeReplyScorer
from dlpo.tasks.splits import resolve_sizes

DEFAULT_SIZES = (60, 40, 100)
LABELS = (
    "refund-request",
    "double-charge",
    "login-problem",
    "delivery-late",
    "item-damaged",
    "cancel-order",
    "address-change",
    "other",
)
INITIAL_PROMPT = "Read the customer's message and say what it is about."
HUMAN_PROMPT = (
    "You route customer messages to a support queue. Reply with exactly one queue name, in lower case, "
    "and nothing else. The queue names are: refund-request, double-charge, login-problem, delivery-late, "
    "item-damaged, cancel-order, address-change, other. If an item arrived damaged, the queue is "
    "item-damaged even if the customer asks for a refund. If the customer was charged twice, the queue is "
    "double-charge even if they ask for their money back. If a delivery is late, the queue is delivery-late "
    "even if they want to cancel. Messages that are not about an order, a payment or an account go to other."
)

PRODUCTS = ("blender", "desk lamp", "running shoes", "coffee grinder", "backpack", "phone case", "kettle",
            "bookshelf", "headphones", "yoga mat", "toaster", "rain jacket")  # fmt: skip
NAMES = ("Ana", "Ben", "Chen", "Dara", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Jo", "Kai", "Lea")

Template = Callable[[random.Random, str, str, int], str]


def _order(rng: random.Random) -> int:
    return rng.randint(10000, 99999)


TEMPLATES: dict[str, tuple[str, ...]] = {
    "refund-request": (
        "I returned the {p} last week. When will I get my money back for order {o}?",
        "Hi, I'd like a refund for the {p} (order {o}), it just isn't what I expected.",
        "The {p} doesn't fit my kitchen. Can you refund me? Order {o}.",
        "Please refund order {o}. I changed my mind about the {p}.",
        "I sent the {p} back two weeks ago and still no refund. Order {o}. - {n}",
    ),
    "double-charge": (
        "My card was charged twice for order {o}. Please fix this.",
        "I see two identical payments for the {p} on my statement. I only ordered one!",
        "You billed me two times for order {o}. I want the extra money back.",
        "Why was I charged twice for one {p}? Please refund the duplicate payment. - {n}",
        "Duplicate charge on my credit card for order {o}, can you reverse one of them?",
    ),
    "login-problem": (
        "I can't log into my account, it says my password is wrong even after resetting it.",
        "The password reset email never arrives, so I can't sign in. - {n}",
        "My account is locked after too many attempts. How do I get back in?",
        "I keep getting 'invalid credentials' when I try to sign in to check order {o}.",
        "The two-factor code never comes to my phone so I'm stuck at the login page.",
    ),
    "delivery-late": (
        "Order {o} was supposed to arrive on Monday and it's Friday now. Where is my {p}?",
        "My {p} still hasn't shown up, tracking hasn't updated in a week. Order {o}.",
        "It's been 3 weeks and no {p}. If it doesn't come soon I'll cancel order {o}.",
        "The delivery for order {o} is late again. I need the {p} for a trip tomorrow.",
        "Still waiting for my package (order {o}). The estimated date passed 5 days ago. - {n}",
    ),
    "item-damaged": (
        "The {p} arrived with a cracked case. Order {o}.",
        "My {p} came broken, the box was crushed. I want a refund. - {n}",
        "The {p} from order {o} was damaged in shipping; please refund me.",
        "Opened the package and the {p} is scratched and dented. What now?",
        "The {p} arrived in pieces. Please send my money back for order {o}.",
    ),
    "cancel-order": (
        "I just placed order {o} by mistake, please cancel it before it ships.",
        "Please cancel my order for the {p}, I found it cheaper elsewhere. Order {o}.",
        "Can I still cancel order {o}? I ordered the wrong size {p}.",
        "Cancel order {o} please, I no longer need the {p}. - {n}",
        "I'd like to cancel the {p} I ordered an hour ago.",
    ),
    "address-change": (
        "I moved last week. Can you ship order {o} to my new address instead?",
        "Please change the delivery address for the {p} to 12 Oak Street. Order {o}.",
        "I typed the wrong street number for order {o}. Can you update the shipping address?",
        "Can you send the {p} to my office instead of my home? - {n}",
        "Wrong address on order {o}! It should go to apartment 4B, not 4D.",
    ),
    "other": (
        "Do you sell gift cards?",
        "Just wanted to say the {p} is great, thanks! - {n}",
        "What are your store opening hours on Sundays?",
        "Is the {p} available in blue?",
        "Are you hiring for the summer? - {n}",
    ),
}


def _message(rng: random.Random, label: str) -> str:
    template = rng.choice(TEMPLATES[label])
    return template.format(p=rng.choice(PRODUCTS), o=_order(rng), n=rng.choice(NAMES))


def generate(n: int, seed: int) -> list[Example]:
    """`n` unique labelled messages, labels balanced (round robin) and order shuffled by `seed`."""
    rng = random.Random(seed)
    seen: set[str] = set()
    out: list[Example] = []
    attempts = 0
    while len(out) < n:
        label = LABELS[len(out) % len(LABELS)]
        text = _message(rng, label)
        attempts += 1
        if attempts > 200 * n:
            raise ConfigError(f"tickets: cannot generate {n} unique messages")
        if text in seen:
            continue
        seen.add(text)
        out.append(Example(id=f"tickets-{len(out)}", input=text, target=label, metadata={"label": label}))
    rng.shuffle(out)
    return [Example(f"tickets-{i}", e.input, e.target, e.metadata) for i, e in enumerate(out)]


def load_tickets(
    *, seed: int | None = None, scorer: str | None = None, split_sizes: object = None, **_: object
) -> Task:
    """The tickets task (`data_dir` and other data options are accepted and ignored). Its scorer is
    the whole-reply exact match whatever `scorer` says, except `scorer="exact-nocase"`-style names
    from the scorer registry, which replace it."""
    n_train, n_val, n_test = resolve_sizes(split_sizes, DEFAULT_SIZES)
    examples = generate(n_train + n_val + n_test, 0 if seed is None else seed)
    chosen = WholeReplyScorer() if scorer in (None, "strict", "reference", "whole") else make_scorer(scorer)
    return Task(
        name="tickets",
        train=examples[:n_train],
        val=examples[n_train : n_train + n_val],
        test=examples[n_train + n_val :],
        scorer=chosen,
        answer_instruction="",
        initial_prompt=INITIAL_PROMPT,
        reference_prompt=HUMAN_PROMPT,
        description="route customer messages to one of 8 support queues (conventions task; generated)",
        source="generated in code (dlpo.tasks.tickets)",
        answer_type="label",
    )
