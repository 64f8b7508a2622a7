"""Instruction induction: the backward model writes a starting prompt from a few training pairs.

As in APE (Zhou et al., 2023) and PromptWizard: show a few input -> target pairs of the train split
and ask for the instruction that maps one to the other. One call (role "induction", greedy, cached),
and one sampled re-ask when the reply is unusable. The request states the task conventions
(`dlpo.tasks.conventions`: the label set, the targets' format), because a prompt that works must
state them; the pairs are chosen to cover each label of a label task.

The induced prompt is checked in code like any candidate (`parsing.reject_reason`): it must not
contain a training input (verbatim or half of its 8-word shingles), a shown target that is not a
label of the task, or a number of two or more digits from the shown pairs (`masking.leaked_values`). A prompt
that fails twice is not used: the run starts from its original prompt and records why.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from dlpo.engines.base import ChatRequest
from dlpo.engines.client import LLMClient
from dlpo.evaluation import ExampleResult
from dlpo.optim.gradient import answer_excerpt
from dlpo.optim.masking import batch_values, leaked_values
from dlpo.optim.parsing import parse_reply, reject_reason
from dlpo.optim.update_ask import repair_candidate
from dlpo.tasks.base import Example, Score, Task
from dlpo.tasks.conventions import TaskFacts

ROLE = "induction"
N_PAIRS = 5
SYSTEM = (
    "You write system prompts for a language model. Reply with only the new system prompt between "
    "<IMPROVED_VARIABLE> and </IMPROVED_VARIABLE>."
)
REQUEST = (
    "A language model will be given inputs like the ones below and must reply with the correct output. "
    "Here are {k} training inputs with their correct outputs:\n\n{pairs}\n\n"
    "{conventions}"
    'After each input the model is also told: "{instruction}"\n\n'
    "Write a system prompt for the model: two to five sentences, addressed to the model, that say what the "
    "task is and how to find and write the output for any input of this kind.{state} Do not copy any of "
    "these inputs or outputs, and no names or numbers from them, into the prompt. Reply with only the prompt "
    "between <IMPROVED_VARIABLE> and </IMPROVED_VARIABLE>."
)
REASK = "IMPORTANT: your previous reply was not usable ({reason}). Write a new, general prompt."


@dataclass
class Induction:
    """`prompt` is the induced prompt (None when both replies were unusable; `reason` says why);
    `examples` the ids of the pairs shown."""

    prompt: str | None
    reason: str = ""
    examples: list[str] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)


def choose_pairs(train: Sequence[Example], facts: TaskFacts, seed: int, k: int = N_PAIRS) -> list[Example]:
    """`k` seeded training examples; for a label task, one per label first (as far as `k` allows)."""
    rng = random.Random(f"dlpo-induction-{seed}")
    order = list(train)
    rng.shuffle(order)
    chosen: list[Example] = []
    if facts.kind == "label":
        for label in facts.labels:
            match = next((ex for ex in order if ex.target.strip() == label and ex not in chosen), None)
            if match is not None and len(chosen) < k:
                chosen.append(match)
    chosen += [ex for ex in order if ex not in chosen][: k - len(chosen)]
    return chosen


def induction_request(
    task: Task, pairs: Sequence[Example], facts: TaskFacts, *, seed: int = 0, reminder: str = ""
) -> ChatRequest:
    """The induction request; with a `reminder` (the re-ask) it is sampled (temperature 0.7,
    sample index 1)."""
    shown = "\n\n".join(
        f"Input {n}:\n{answer_excerpt(ex.input, max_words=80, head=60, tail=20)}\nOutput {n}: {ex.target.strip()}"
        for n, ex in enumerate(pairs, 1)
    )
    conventions = f"{facts.render()}\n\n" if facts.lines else ""
    user = REQUEST.format(
        k=len(pairs),
        pairs=shown,
        conventions=conventions,
        instruction=task.answer_instruction or "(nothing)",
        state=" State the task conventions above." if facts.lines else "",
    )
    if not reminder:
        return ChatRequest.chat(SYSTEM, user, temperature=0.0, max_tokens=300, seed=seed)
    user = f"{user}\n\n{REASK.format(reason=reminder)}"
    return ChatRequest.chat(SYSTEM, user, temperature=0.7, max_tokens=300, seed=seed + 1, sample_index=1)


def check_induced(
    prompt: str,
    original: str,
    pairs: Sequence[Example],
    facts: TaskFacts,
    max_words: int,
    train: Sequence[Example] = (),
) -> str | None:
    """Why an induced prompt is not usable (None: it is): the usual candidate checks against every
    training input (`train`, and the shown `pairs`), then no shown target (other than a label) and
    no number from the pairs."""
    sources = list(dict.fromkeys([ex.input for ex in pairs] + [ex.input for ex in train]))
    why = reject_reason(prompt, current=original, sources=sources, max_words=max_words)
    if why is not None:
        return why
    items = [ExampleResult(ex, "", Score(0.0, None, "")) for ex in pairs]
    leaked = leaked_values(prompt, original, batch_values(items, facts.labels))
    if leaked:
        return f"pasted example: the prompt states a training input's value or output ({leaked[0]!r})"
    return None


async def induce(
    client: LLMClient,
    task: Task,
    train: Sequence[Example],
    facts: TaskFacts,
    *,
    seed: int,
    original: str,
    max_words: int = 300,
) -> Induction:
    """One induction call (and one sampled re-ask); the checked prompt or why there is none."""
    pairs = choose_pairs(train, facts, seed)
    out = Induction(None, examples=[ex.id for ex in pairs])
    request = induction_request(task, pairs, facts, seed=seed)
    for attempt in range(2):
        [reply] = await client.complete([request], role=ROLE)
        out.replies.append(reply.text)
        parsed = parse_reply(reply.text, current=original, finish_reason=reply.finish_reason)
        candidate = repair_candidate(parsed.candidate, original)[0] if parsed.candidate is not None else None
        why = parsed.reason if candidate is None else None
        if candidate is not None:
            why = check_induced(candidate, original, pairs, facts, max_words, train)
        if why is None:
            out.prompt, out.reason = candidate, "ok"
            return out
        out.reason = why
        if attempt == 0:
            request = induction_request(task, pairs, facts, seed=seed, reminder=why)
    return out
