"""Structured update replies: the update as a JSON list of sentence edits (`update_format="json"`).

An earlier probe (local-llm.md) asked for `{"improved_prompt": "..."}` under grammar-constrained
decoding: 5/5 replies parsed and 0/5 were sensible, because the field copied the old prompt. So the
object here holds *edits* of the current prompt's numbered sentences, never a whole prompt:

    {"edits": [{"action": "add", "after": 2, "text": "..."},
               {"action": "replace", "sentence": 1, "text": "..."},
               {"action": "delete", "sentence": 3}]}

The schema maps one-to-one onto the techniques: TLR's budget is `maxItems` (one edit per sentence
edit), TDO's frozen sentences are left out of the numbers a replace or delete may name, and
`minItems: 1` means the reply cannot be "no change". Code applies the edits (`apply_edit_list`)
and the candidate then goes through the same checks as a tag reply (unchanged, pasted feedback or
example, too long, ...). A reply that is not such an object (an engine without structured output,
or a broken one) is parsed as a tag reply instead (`dlpo.optim.parsing.parse_reply`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dlpo.optim.sentences import normalize, split_pieces

ACTIONS = ("add", "replace", "delete")
MAX_SENTENCE_WORDS = 60

JSON_SYSTEM = (
    "You write system prompts for a language model. Reply with only a JSON object that lists the edits to "
    "make to the current prompt's numbered sentences."
)
JSON_RULE = (
    "Every new sentence is an instruction addressed to the model that says something the prompt does not "
    "already say: work in the suggested instructions and leave out the facts, questions, names and numbers of "
    "the feedback."
)
_FENCE = re.compile(r"^```[a-zA-Z]*\s*|\s*```$")


def supports_json_schema(engine: Any) -> bool:
    """Whether an engine constrains replies to a JSON schema (`ChatRequest.json_schema`). Engines
    say so with a `supports_json_schema` attribute; without it, tag replies are asked for."""
    return bool(getattr(engine, "supports_json_schema", False))


@dataclass(frozen=True)
class SentenceEdit:
    action: str  # add | replace | delete
    position: int  # add: after this sentence (0 = at the start); replace/delete: the sentence (1-based)
    text: str = ""


@dataclass(frozen=True)
class EditParse:
    """`edits` is None when the reply is not an edit object; `reason` then says why."""

    edits: list[SentenceEdit] | None
    reason: str = ""


def edit_schema(n_sentences: int, editable: Sequence[int], max_edits: int | None) -> dict[str, Any]:
    """The JSON schema of an edit reply: `editable` are the 1-based numbers a replace or delete may
    name (not TDO's frozen ones), `max_edits` TLR's budget (None: no cap)."""
    text = {"type": "string"}
    items: list[dict[str, Any]] = [
        _object({"action": {"enum": ["add"]}, "after": {"enum": list(range(n_sentences + 1))}, "text": text})
    ]
    if editable:
        numbers = {"enum": list(editable)}
        items.append(_object({"action": {"enum": ["replace"]}, "sentence": numbers, "text": text}))
        items.append(_object({"action": {"enum": ["delete"]}, "sentence": numbers}))
    edits: dict[str, Any] = {"type": "array", "items": {"anyOf": items}, "minItems": 1}
    if max_edits is not None:
        edits["maxItems"] = max(1, max_edits)
    return _object({"edits": edits})


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def json_instruction(sentences: Sequence[str], frozen: Sequence[int], max_edits: int | None) -> str:
    """The request's last block in JSON mode: the numbered sentences and the edit format."""
    numbered = "\n".join(f"{k}. {s}" for k, s in enumerate(sentences, 1)) or "(the prompt is empty)"
    cap = f"at most {max_edits} edit{'s' if max_edits != 1 else ''}" if max_edits else "one or more edits"
    formats = (
        f'Reply with only a JSON object {{"edits": [...]}} that lists {cap}. Each edit is one of:\n'
        '{"action": "add", "after": <sentence number, 0 = at the start>, "text": "<new sentence>"}\n'
        '{"action": "replace", "sentence": <number>, "text": "<the new sentence>"}\n'
        '{"action": "delete", "sentence": <number>}'
    )
    lines = [f"The current prompt, sentence by sentence:\n{numbered}", formats, JSON_RULE]
    if frozen:
        listed = ", ".join(str(i + 1) for i in frozen)
        lines.append(f"Sentences {listed} are frozen: do not replace or delete them.")
    return "\n\n".join(lines)


def _load(text: str) -> Any:
    body = _FENCE.sub("", text.strip())
    try:
        return json.loads(body)
    except json.JSONDecodeError:
        start, end = body.find("{"), body.rfind("}")
        if start < 0 or end <= start:
            raise
        return json.loads(body[start : end + 1])


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def parse_edits(text: str) -> EditParse:
    """The edits of a JSON reply, or why there are none (not JSON, no "edits" list, bad items)."""
    try:
        data = _load(text)
    except (json.JSONDecodeError, ValueError):
        return EditParse(None, "not json: the reply is not a JSON object")
    if not isinstance(data, dict) or not isinstance(data.get("edits"), list):
        return EditParse(None, 'not json: the reply has no "edits" list')
    edits: list[SentenceEdit] = []
    for item in data["edits"]:
        if not isinstance(item, dict) or item.get("action") not in ACTIONS:
            continue
        action = str(item["action"])
        where = _int(item.get("after" if action == "add" else "sentence"))
        new = " ".join(str(item.get("text", "")).split())
        if where is None or (action != "delete" and not new):
            continue
        edits.append(SentenceEdit(action, where, new))
    if not edits:
        return EditParse(None, "not json: the reply lists no usable edit")
    return EditParse(edits)


def apply_edit_list(current: str, edits: Sequence[SentenceEdit], frozen: Sequence[int] = ()) -> str:
    """The current prompt with `edits` applied by sentence number. Edits that name no sentence, touch
    a frozen one (0-based `frozen`), add a sentence the prompt already has or are over-long are
    skipped, so the result may equal `current` (then the optimizer reports it unchanged)."""
    pieces = split_pieces(current)
    n = len(pieces)
    texts: list[str | None] = [p.text for p in pieces]
    present = {normalize(t).casefold() for t in texts if t}
    inserts: dict[int, list[str]] = {}
    locked = set(frozen)
    for edit in edits:
        new = edit.text.strip()
        if edit.action != "delete" and (
            len(new.split()) > MAX_SENTENCE_WORDS or normalize(new).casefold() in present
        ):
            continue
        if edit.action == "add" and 0 <= edit.position <= n:
            inserts.setdefault(edit.position, []).append(_sentence(new))
            present.add(normalize(new).casefold())
        elif edit.action in ("replace", "delete") and 1 <= edit.position <= n:
            index = edit.position - 1
            if index in locked or texts[index] is None:
                continue
            texts[index] = _sentence(new) if edit.action == "replace" else None
            locked.add(index)  # one edit per sentence
    parts: list[tuple[str, str]] = [(s, " ") for s in inserts.get(0, [])]
    for k, piece in enumerate(pieces):
        text = texts[k]
        if text is not None:
            parts.append((text, piece.tail if "\n" in piece.tail else " "))
        parts.extend((s, " ") for s in inserts.get(k + 1, []))
    return "".join(t + sep for t, sep in parts).strip()


def _sentence(text: str) -> str:
    """A new sentence ends with punctuation, so it does not run into the next one."""
    text = text.strip()
    return text if text.endswith((".", "!", "?", ":", '"', "'", ")")) else text + "."
