"""One step's update request and the reading of its reply, apart from the optimizer's loop.

`build_ask` writes the request (tags, or a JSON list of sentence edits for an engine with structured
output); `read_candidate` turns a reply into a candidate prompt (or says why it cannot), repaired by
`repair_candidate`, which drops what the optimizer pasted along with its edit (headers, repeated sentences);
`copied_from_request` catches a candidate that only echoes the request's own instructions.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dlpo.optim.base import Gradient, UpdateContext
from dlpo.optim.parsing import drop_copied_headers, parse_reply
from dlpo.optim.request import build_update_message
from dlpo.optim.sentences import drop_repeats, split_sentences
from dlpo.optim.structured import apply_edit_list, edit_schema, json_instruction, parse_edits

JSON_REASK = (
    'Reply with only a JSON object {"edits": [...]} of sentence edits that change the prompt, as described '
    "above."
)

__all__ = [
    "JSON_REASK",
    "Ask",
    "ReadReply",
    "build_ask",
    "copied_from_request",
    "normalized",
    "read_candidate",
    "repair_candidate",
]


@dataclass(frozen=True)
class Ask:
    """One step's update request: the user message, and the JSON schema and frozen sentences in JSON
    mode (schema None: a tag reply is asked for)."""

    message: str
    schema: str | None = None
    frozen: tuple[int, ...] = ()
    # The request's own instructions and worked examples (normalized): a new sentence copied from
    # them is the model echoing the request, not an improvement (seen: TLR's example sentences).
    scaffold: str = ""

    def reminder(self, hint: str) -> str:
        """A re-ask's reminder: the hint, and in JSON mode the reply format again."""
        return f"{hint} {JSON_REASK}" if self.schema is not None else hint


def normalized(text: str) -> str:
    return " ".join(text.split()).lower()


def build_ask(
    ctx: UpdateContext,
    grad: Gradient,
    sections: Sequence[Any],
    *,
    role_description: str,
    json_updates: bool,
    edit_budget: int | None,
) -> Ask:
    """The request for one step. `edit_budget` is TLR's sentence-edit budget (JSON mode only)."""
    scaffold = normalized(
        " ".join([s.instruction for s in sections] + [s.body for s in sections if not s.tag])
    )
    current = ctx.prompt
    if not json_updates:
        return Ask(build_update_message(current, role_description, grad.text, sections), scaffold=scaffold)
    sentences = split_sentences(current)
    frozen = tuple(int(i) for i in ctx.notes.get("tdo_frozen", []))
    editable = [k for k in range(1, len(sentences) + 1) if k - 1 not in frozen]
    message = build_update_message(
        current,
        role_description,
        grad.text,
        sections,
        format_instruction=json_instruction(sentences, frozen, edit_budget),
    )
    schema = json.dumps(edit_schema(len(sentences), editable, edit_budget))
    return Ask(message, schema, frozen, scaffold)


@dataclass(frozen=True)
class ReadReply:
    """One reply read: the candidate (None when there is none), how it was read, why it could not be
    (empty when it could), and what `repair_candidate` dropped from it, by kind (none: {})."""

    candidate: str | None
    method: str
    reason: str
    repairs: dict[str, int]


def read_candidate(ask: Ask, text: str, finish: str, current: str) -> ReadReply:
    """One reply read into a repaired candidate prompt (or why there is none). A JSON request whose
    reply is not an edit object is read as a tag reply ("json->tags")."""
    candidate, method, reason = None, "json", ""
    if ask.schema is not None:
        edits = parse_edits(text)
        if edits.edits is not None:
            candidate = apply_edit_list(current, edits.edits, ask.frozen)
        else:
            method, reason = "json->tags", edits.reason
    if candidate is None:
        parsed = parse_reply(text, current=current, finish_reason=finish)
        candidate = parsed.candidate
        method = parsed.method if ask.schema is None else f"json->{parsed.method}"
        reason = parsed.reason if ask.schema is None or parsed.candidate is not None else reason
    if candidate is None:
        return ReadReply(None, method, reason, {})
    repaired, repairs = repair_candidate(candidate, current)
    return ReadReply(repaired, method, reason, repairs)


def repair_candidate(candidate: str, current: str) -> tuple[str, dict[str, int]]:
    """`candidate` without what a small optimizer pastes along with its edit and no model should
    read: the feedback's block headers (`drop_copied_headers`) and second copies of a sentence
    (`drop_repeats`); with the counts dropped, by kind, for the step's parse log (none: {})."""
    candidate, headers = drop_copied_headers(candidate, current)
    candidate, repeats = drop_repeats(candidate, current)
    counts = {"headers_dropped": headers, "repeats_dropped": repeats}
    return candidate, {kind: n for kind, n in counts.items() if n}


def copied_from_request(candidate: str, current: str, scaffold: str) -> str | None:
    """Why `candidate` is a copy of the request's own text: a new sentence of three or more words
    that the request's instructions or worked examples contain (None when there is none)."""
    if not scaffold:
        return None
    before = {normalized(s) for s in split_sentences(current)}
    for sentence in split_sentences(candidate):
        norm = normalized(sentence)
        if norm not in before and len(norm.split()) >= 3 and norm.rstrip(".") in scaffold:
            return f"copied from the request: {sentence[:80]!r} is part of its instructions or examples"
    return None
