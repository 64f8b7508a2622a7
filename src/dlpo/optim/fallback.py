"""The unchanged fallback: when the optimizer returns the current prompt, the step still gets a
candidate.

"Unchanged" (the 1.5B optimizer returns the current prompt word for word, even after the re-ask)
was the main failure of small-model runs. A full rewrite is what the small model fails at; one new
sentence is a request it handles far better. So, when no usable candidate came back and a reply was
unchanged (or already rejected), the step

0. states a task convention the prompt does not state yet, verbatim (`conventions`: the label set
   and its spellings, "the label only", the number format; drawn from the training targets, shown in
   the feedback under `feedback: facts`, so a small model that ignores them cannot keep them out);
1. asks for ONE new sentence that fixes the batch's most frequent problem (the first fix hint, else
   the first critic suggestion: `problems`), greedily, then once more sampled (temperature 0.7,
   its own seed and `sample_index`) on the next problem;
2. failing that, takes the first fix hint or suggestion the prompt does not already state, verbatim.

Code appends the sentence to the prompt (so TDO's frozen sentences stay and TLR counts one edit);
the candidate then passes the same checks as any other.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from dlpo.engines.base import ChatRequest
from dlpo.optim.base import Gradient
from dlpo.optim.facts import echoes
from dlpo.optim.parsing import has_repetition_loop

TRIGGERS = ("unchanged", "already rejected")
MAX_WORDS = 40
PROBLEM_WORDS = 60

SENTENCE_SYSTEM = "You write one instruction sentence for a system prompt. Reply with the sentence only."
SENTENCE_REQUEST = (
    "The system prompt of a language model:\n<VARIABLE>\n{prompt}\n</VARIABLE>\n\n"
    "Its answers have this problem: {problem}\n\n"
    "Write ONE new instruction to add to this prompt that fixes the problem: one sentence, a command to "
    "the model that starts with a verb (like 'Check ...' or 'Write ...'). It must say something the prompt "
    "does not already say and contain no question, name or number from any example. Reply with the "
    "sentence only."
)
GENERIC_PROBLEM = "some answers were wrong or not in the required format"
_LABEL = re.compile(r"^\s*(?:\*\*)?(?:new\s+)?(?:sentence|instruction)\s*:\s*(?:\*\*)?", re.IGNORECASE)
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_TAG = re.compile(r"<\s*/?\s*[A-Z_]+\s*>")
# A reply that talks to the user instead of instructing the model ("Please provide the question ...").
_CHAT = re.compile(
    r"\b(?:I|me|my|we|us|our)\b|^(?:please provide|sure|certainly|here|of course|as an ai)\b", re.IGNORECASE
)


def triggered(reasons: Sequence[str]) -> bool:
    """The fallback runs when a reply was unchanged or proposed an already-rejected prompt."""
    return any(r.startswith(TRIGGERS) for r in reasons)


def problems(grad: Gradient) -> list[str]:
    """What to fix, most important first: the fix hints (ranked by frequency), then the critic's
    suggestions; without either, the head of the (masked) feedback."""
    found = list(dict.fromkeys([*grad.hints, *grad.suggestions]))
    if found:
        return found
    first = " ".join(grad.text.split()[:PROBLEM_WORDS]).strip()
    return [first or GENERIC_PROBLEM]


def sentence_request(
    prompt: str, problem: str, *, seed: int, temperature: float = 0.0, sample_index: int = 0
) -> ChatRequest:
    """The one-sentence request (role "optimizer")."""
    user = SENTENCE_REQUEST.format(prompt=prompt.strip() or "(empty)", problem=problem.strip())
    return ChatRequest.chat(
        SENTENCE_SYSTEM,
        user,
        temperature=temperature,
        max_tokens=80,
        seed=seed + sample_index,
        sample_index=sample_index,
    )


def parse_sentence(text: str) -> str | None:
    """The sentence of a reply: its first non-empty line without list marker, label or quotes,
    ending with punctuation; None when it is empty, tagged, looping, longer than MAX_WORDS, a
    question, or talk to the user ("Please provide ...", first person) rather than an instruction."""
    line = next((ln for ln in text.splitlines() if ln.strip()), "")
    line = _LABEL.sub("", _BULLET.sub("", line)).strip().strip('"“”`').strip()
    if not line or _TAG.search(line) or has_repetition_loop(line) or len(line.split()) > MAX_WORDS:
        return None
    if _CHAT.search(line) or line.endswith("?"):
        return None
    return line if line.endswith((".", "!", "?")) else line + "."


def append_sentence(prompt: str, sentence: str) -> str:
    """The prompt with `sentence` added at its end."""
    prompt = prompt.rstrip()
    if not prompt:
        return sentence
    joiner = " " if prompt.endswith((".", "!", "?", ":", '"', "'", ")")) else ". "
    return prompt + joiner + sentence


def unstated(facts: Any, prompt: str) -> list[str]:
    """The convention lines of `facts` (a `TaskFacts`, or None: none) that `prompt` does not state."""
    return list(facts.unstated(prompt)) if facts is not None else []


def with_conventions(prompt: str, facts: Any) -> tuple[str, int]:
    """`prompt` with every task convention it does not state appended (and how many there were):
    how `feedback: facts` gives every method's candidates the conventions (`TaskFacts.unstated`)."""
    missing = unstated(facts, prompt)
    for line in missing:
        prompt = append_sentence(prompt, line)
    return prompt, len(missing)


def conventions(grad: Gradient, prompt: str) -> list[str]:
    """The task's convention lines that `prompt` does not state yet (none under `feedback: plain`)."""
    return unstated(grad.task_facts, prompt)


def verbatim_fixes(grad: Gradient, prompt: str) -> list[str]:
    """The hints and suggestions the prompt does not state yet, as sentences to append."""
    out = []
    for line in [*grad.hints, *grad.suggestions]:
        sentence = parse_sentence(line)
        if sentence is not None and not echoes(sentence, prompt) and sentence not in out:
            out.append(sentence)
    return out
