"""Sentence splitting, a sentence-level diff, and edit trimming.

The textual learning rate (TLR) counts *sentence edits*: an added, a deleted or a modified sentence
each count 1. The diff aligns the old and new sentence lists with `difflib`; inside a replaced
block, old and new sentences are paired one to one (each pair = 1 modification) and the excess
counts as additions or deletions.

A text is split into `Piece`s (sentence text + the whitespace that followed it), so a text can be
rebuilt from pieces of the old and the new prompt with its line breaks intact.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

_END = re.compile(r"[.!?]+[\"')\]]*(?=\s)")
_LIST_MARKER = re.compile(r"^(?:\(?\d{1,3}|[a-zA-Z]|[ivxIVX]{1,4})[.)]$")
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "Mr.", "Mrs.", "Dr.", "No.", "approx.", "cf.")
_WS = re.compile(r"\s+")


@dataclass(frozen=True)
class Piece:
    text: str  # the sentence, with its own punctuation, no surrounding whitespace
    tail: str  # the whitespace (or closing quotes + whitespace) that followed it


def normalize(text: str) -> str:
    """Whitespace-collapsed, stripped text: the form in which sentences are compared."""
    return _WS.sub(" ", text).strip()


def split_pieces(text: str) -> list[Piece]:
    """Split `text` into sentences that keep their punctuation; line breaks end sentences too.

    List markers ("1.", "a)") and common abbreviations ("e.g.") do not end a sentence.
    """
    spans: list[tuple[int, int]] = []
    offset = 0
    for line in text.split("\n"):
        cuts = [m.end() for m in _END.finditer(line)] + [len(line)]
        segs: list[tuple[int, int]] = []
        prev = 0
        for cut in cuts:
            seg = line[prev:cut]
            if seg.strip():
                s = prev + len(seg) - len(seg.lstrip())
                e = prev + len(seg.rstrip())
                if segs and _joins_next(line[segs[-1][0] : segs[-1][1]]):
                    segs[-1] = (segs[-1][0], e)
                else:
                    segs.append((s, e))
            prev = cut
        spans.extend((offset + s, offset + e) for s, e in segs)
        offset += len(line) + 1
    pieces = []
    for k, (s, e) in enumerate(spans):
        nxt = spans[k + 1][0] if k + 1 < len(spans) else len(text)
        pieces.append(Piece(text[s:e], text[e:nxt]))
    return pieces


def _joins_next(sentence: str) -> bool:
    s = sentence.strip()
    return bool(_LIST_MARKER.match(s)) or any(s.endswith(a) for a in _ABBREVIATIONS)


def split_sentences(text: str) -> list[str]:
    """The sentences of `text`, punctuation kept, whitespace-stripped, empty ones dropped."""
    return [p.text for p in split_pieces(text)]


def join_pieces(pieces: list[Piece]) -> str:
    """Rebuild a text; a piece that ended its original text gets a space before a following one."""
    out = []
    for k, p in enumerate(pieces):
        tail = p.tail if p.tail or k == len(pieces) - 1 else " "
        out.append(p.text + tail)
    return "".join(out).strip()


EditKind = Literal["add", "delete", "modify"]


@dataclass(frozen=True)
class Edit:
    """One counted edit. `old_index`/`new_index` point into the old/new sentence lists."""

    kind: EditKind
    old_index: int | None
    new_index: int | None


@dataclass(frozen=True)
class SentenceDiff:
    added: int
    deleted: int
    modified: int
    edits: tuple[Edit, ...] = field(default=(), repr=False)

    @property
    def total(self) -> int:
        return self.added + self.deleted + self.modified

    def to_dict(self) -> dict[str, int]:
        return {"added": self.added, "deleted": self.deleted, "modified": self.modified, "total": self.total}


def _opcodes(old: list[str], new: list[str]) -> list[tuple[str, int, int, int, int]]:
    a = [normalize(s) for s in old]
    b = [normalize(s) for s in new]
    return difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()


def _edits(old: list[str], new: list[str]) -> list[tuple[str, int, int, int, int] | Edit]:
    """The diff as a sequence of 'equal' opcodes and single `Edit`s, in text order."""
    out: list[tuple[str, int, int, int, int] | Edit] = []
    for tag, i1, i2, j1, j2 in _opcodes(old, new):
        if tag == "equal":
            out.append((tag, i1, i2, j1, j2))
            continue
        n_old, n_new = i2 - i1, j2 - j1
        for k in range(max(n_old, n_new)):
            oi = i1 + k if k < n_old else None
            ni = j1 + k if k < n_new else None
            kind: EditKind = (
                "modify" if oi is not None and ni is not None else ("delete" if ni is None else "add")
            )
            out.append(Edit(kind, oi, ni))
    return out


def sentence_diff(old: str, new: str) -> SentenceDiff:
    """Count added, deleted and modified sentences from `old` to `new`."""
    edits = [e for e in _edits(split_sentences(old), split_sentences(new)) if isinstance(e, Edit)]
    return SentenceDiff(
        added=sum(e.kind == "add" for e in edits),
        deleted=sum(e.kind == "delete" for e in edits),
        modified=sum(e.kind == "modify" for e in edits),
        edits=tuple(edits),
    )


def apply_edits(old: str, new: str, keep: Callable[[Edit], bool]) -> str:
    """Rebuild the text from `old` applying only the edits (towards `new`) for which `keep` is True.

    A reverted addition is left out, a reverted deletion keeps the old sentence, a reverted
    modification keeps the old sentence in place of the new one.
    """
    old_p, new_p = split_pieces(old), split_pieces(new)
    out: list[Piece] = []
    for item in _edits([p.text for p in old_p], [p.text for p in new_p]):
        if not isinstance(item, Edit):
            _, i1, i2, _, _ = item
            out.extend(old_p[i1:i2])
            continue
        applied = keep(item)
        if item.kind == "add":
            if applied:
                out.append(new_p[item.new_index])  # type: ignore[index]
        elif item.kind == "delete":
            if not applied:
                out.append(old_p[item.old_index])  # type: ignore[index]
        else:
            out.append(new_p[item.new_index] if applied else old_p[item.old_index])  # type: ignore[index]
    return join_pieces(out)


def trim_to_budget(old: str, new: str, budget: int) -> str:
    """Keep only the first `budget` sentence edits of `old -> new` (in text order); revert the rest."""
    counter = {"used": 0}

    def keep(_: Edit) -> bool:
        if counter["used"] < budget:
            counter["used"] += 1
            return True
        return False

    return apply_edits(old, new, keep)


def text_stats(text: str) -> dict[str, int]:
    """Prompt length as logged every step: words and sentences."""
    return {"words": len(text.split()), "sentences": len(split_sentences(text))}
