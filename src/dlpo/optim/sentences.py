"""Sentence splitting, edit units and a content-aligned diff.

Sentences (`split_pieces`, `split_sentences`) end at `.!?` + whitespace and at line breaks; list
markers ("1.", "a)") and common abbreviations ("e.g.") do not end one. TDO freezes and restores
whole sentences.

Edit units (`split_units`) are what the textual learning rate (TLR) counts. They are built so a
budget cannot be dodged by writing run-on sentences: each sentence is also cut
- after a ';' or ':' that is followed by whitespace and not inside quotes, brackets or <...>,
- before an inline list marker ("1)", "(2)", "(a)", "b)", "•") that follows whitespace;
a piece of fewer than `MIN_UNIT_WORDS` words is merged into its neighbour, so "Answer: <n>" or
"Note: be brief" stay one unit. Lines are units already (a line break ends a sentence), so list
items on their own lines count one each. A unit of w words weighs ceil(w / `WORD_CAP`) edits
(`WORD_CAP` = 25): a 40-word run-on counts as 2 even without any separator.

Alignment (`align`, `sentence_diff`, `apply_edits`): `difflib.SequenceMatcher` on the whitespace-normalized
lists finds the unchanged runs. Inside each changed run an old and a new item are paired as a
*modification* only when their word similarity (SequenceMatcher ratio over lowercased words) is
>= `SIMILARITY` (0.5). The pairs are chosen by dynamic programming (most pairs, then highest total
similarity) and never cross, so a text can be rebuilt in order. Unpaired old items are deletions,
unpaired new items additions. An addition weighs its new unit, a deletion its old unit, a
modification the larger of the two.

Trimming to a budget (`dlpo.optim.trimming`) builds on these units and `apply_edits`.

A text is split into `Piece`s (text + the whitespace that followed it), so a text can be rebuilt
from pieces of the old and the new prompt with its line breaks intact.
"""

from __future__ import annotations

import difflib
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

SIMILARITY = 0.5  # word-level ratio from which an old and a new item are one modified item
WORD_CAP = 25  # a unit of w words counts as ceil(w / WORD_CAP) edits
MIN_UNIT_WORDS = 2  # shorter clause pieces are merged into a neighbour

_END = re.compile(r"[.!?]+[\"')\]]*(?=\s)")
_LIST_MARKER = re.compile(r"^(?:\(?\d{1,3}|[a-zA-Z]|[ivxIVX]{1,4})[.)]$")
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "Mr.", "Mrs.", "Dr.", "No.", "approx.", "cf.")
_WS = re.compile(r"\s+")
_CLAUSE_END = re.compile(r"[;:](?=\s)")
_INLINE_ITEM = re.compile(r"(?<=\s)(?:\(?\d{1,2}\)|\([A-Za-z]\)|[a-z]\)|[•▪‣◦])(?=\s)")
_PROTECTED = re.compile(
    r"\"[^\"\n]*\"|\u201c[^\u201d\n]*\u201d|\u2018[^\u2019\n]*\u2019|`[^`\n]*`|(?<!\w)'[^'\n]*'(?!\w)"
    r"|\([^()\n]*\)|\[[^\[\]\n]*\]|<[^<>\n]*>"
)
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Piece:
    text: str  # the sentence (or unit), with its own punctuation, no surrounding whitespace
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
    return _pieces(text, spans)


def _pieces(text: str, spans: list[tuple[int, int]]) -> list[Piece]:
    """Pieces for stripped `spans` of `text`; each keeps the text up to the next span as its tail."""
    out = []
    for k, (s, e) in enumerate(spans):
        nxt = spans[k + 1][0] if k + 1 < len(spans) else len(text)
        out.append(Piece(text[s:e], text[e:nxt]))
    return out


def _joins_next(sentence: str) -> bool:
    s = sentence.strip()
    return bool(_LIST_MARKER.match(s)) or any(s.endswith(a) for a in _ABBREVIATIONS)


def split_sentences(text: str) -> list[str]:
    """The sentences of `text`, punctuation kept, whitespace-stripped, empty ones dropped."""
    return [p.text for p in split_pieces(text)]


REPEAT_MIN_WORDS = 4  # shorter pieces ("Example:", "Answer: <n>") may recur by design


def _repeat_key(sentence: str) -> str:
    """What two copies of a sentence share: its words, casefolded and sorted, so a copy with its
    words reordered ("Work out the problem first" / "Work the problem out first") or its
    punctuation changed is a copy too."""
    return " ".join(sorted(_WORD.findall(sentence.casefold())))


def drop_repeats(candidate: str, current: str) -> tuple[str, int]:
    """`candidate` without the extra copies of a sentence (of `REPEAT_MIN_WORDS` words or more) that
    it states more often than `current` does, and how many were dropped; a copy is a sentence with
    the same words (`_repeat_key`), the first one stated is kept.

    A small optimizer often restates a neighbouring sentence inside its edit (a structured "replace
    sentence 1" whose text is sentences 1 and 2; a rewrite that pastes a line twice, or adds it
    again with two words swapped). The copy changes nothing a model reads, yet counts as an edit
    and makes the step look like progress; with it gone such a candidate is seen for what it is
    (often: unchanged)."""
    allowed = Counter(_repeat_key(sentence) for sentence in split_sentences(current))
    seen: Counter[str] = Counter()
    kept: list[Piece] = []
    pieces = split_pieces(candidate)
    for piece in pieces:
        key = _repeat_key(piece.text)
        seen[key] += 1
        if _word_count(piece.text) >= REPEAT_MIN_WORDS and seen[key] > max(1, allowed[key]):
            continue
        kept.append(piece)
    dropped = len(pieces) - len(kept)
    return (join_pieces(kept) if dropped else candidate), dropped


def _word_count(text: str) -> int:
    return len(text.split())


def _unit_spans(sentence: str) -> list[tuple[int, int]]:
    """Stripped spans of the edit units of one (stripped) sentence: see the module docstring."""
    protected = [m.span() for m in _PROTECTED.finditer(sentence)]

    def free(pos: int) -> bool:
        return not any(s < pos < e for s, e in protected)

    cuts = {m.end() for m in _CLAUSE_END.finditer(sentence) if free(m.start())}
    cuts |= {m.start() for m in _INLINE_ITEM.finditer(sentence) if free(m.start())}
    spans: list[tuple[int, int]] = []
    prev = 0
    for cut in [*sorted(cuts), len(sentence)]:
        seg = sentence[prev:cut]
        if seg.strip():
            spans.append((prev + len(seg) - len(seg.lstrip()), prev + len(seg.rstrip())))
        prev = cut
    return _merge_short(sentence, spans)


def _merge_short(sentence: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in spans:
        short = _word_count(sentence[s:e]) < MIN_UNIT_WORDS
        if out and (short or _word_count(sentence[out[-1][0] : out[-1][1]]) < MIN_UNIT_WORDS):
            out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def units_by_sentence(text: str) -> list[list[Piece]]:
    """The edit units of each sentence of `text`, sentence by sentence."""
    out: list[list[Piece]] = []
    for sentence in split_pieces(text):
        units = _pieces(sentence.text, _unit_spans(sentence.text))
        if units:
            units[-1] = Piece(units[-1].text, units[-1].tail + sentence.tail)
        out.append(units)
    return out


def split_units(text: str) -> list[Piece]:
    """The edit units of `text` (sentences cut further at ';', ':' and inline list items)."""
    return [unit for units in units_by_sentence(text) for unit in units]


def unit_weight(unit: str) -> int:
    """How many edits changing this unit counts: one per started `WORD_CAP` words."""
    return max(1, math.ceil(_word_count(unit) / WORD_CAP))


def join_pieces(pieces: list[Piece]) -> str:
    """Rebuild a text; a piece that ended its original text gets a space before a following one."""
    out = []
    for k, p in enumerate(pieces):
        tail = p.tail if p.tail or k == len(pieces) - 1 else " "
        out.append(p.text + tail)
    return "".join(out).strip()


EditKind = Literal["add", "delete", "modify"]
Level = Literal["sentence", "unit"]
Equal = tuple[str, int, int, int, int]  # a difflib 'equal' opcode


@dataclass(frozen=True)
class Edit:
    """One edit. `old_index`/`new_index` point into the old/new item lists (units or sentences,
    whichever the diff was made on); `weight` is how many edits it counts against a budget."""

    kind: EditKind
    old_index: int | None
    new_index: int | None
    weight: int = 1


@dataclass(frozen=True)
class SentenceDiff:
    """Edit counts (weighted, see `unit_weight`) of a unit-level diff."""

    added: int
    deleted: int
    modified: int
    edits: tuple[Edit, ...] = field(default=(), repr=False)

    @property
    def total(self) -> int:
        return self.added + self.deleted + self.modified

    def to_dict(self) -> dict[str, int]:
        return {"added": self.added, "deleted": self.deleted, "modified": self.modified, "total": self.total}


def similarity(a: str, b: str) -> float:
    """Word-level `difflib` ratio of two sentences (lowercased, punctuation ignored), in [0, 1]."""
    wa, wb = _WORD.findall(a.lower()), _WORD.findall(b.lower())
    return difflib.SequenceMatcher(None, wa, wb, autojunk=False).ratio()


def _opcodes(old: list[str], new: list[str]) -> list[tuple[str, int, int, int, int]]:
    a = [normalize(s) for s in old]
    b = [normalize(s) for s in new]
    return difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()


def _pair(old: list[str], new: list[str]) -> list[tuple[int, int]]:
    """Non-crossing (old, new) index pairs with similarity >= SIMILARITY: most pairs, then the
    highest total similarity (a longest-common-subsequence style dynamic programme)."""
    sim = [[similarity(a, b) for b in new] for a in old]
    n, m = len(old), len(new)
    best = [[(0, 0.0)] * (m + 1) for _ in range(n + 1)]
    for i in reversed(range(n)):
        for j in reversed(range(m)):
            options = [best[i + 1][j], best[i][j + 1]]
            if sim[i][j] >= SIMILARITY:
                p, s = best[i + 1][j + 1]
                options.append((p + 1, s + sim[i][j]))
            best[i][j] = max(options)
    pairs: list[tuple[int, int]] = []
    i = j = 0
    while i < n and j < m:
        p, s = best[i + 1][j + 1]
        if sim[i][j] >= SIMILARITY and best[i][j] == (p + 1, s + sim[i][j]):
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            i += 1
        else:
            j += 1
    return pairs


def _block_edits(old: list[str], new: list[str], i1: int, i2: int, j1: int, j2: int) -> list[Edit]:
    """The edits of one changed run, in text order: before each pair its unpaired old items
    (deletions), then its unpaired new items (additions), then the pair (a modification)."""
    pairs = [(i1 + a, j1 + b) for a, b in _pair(old[i1:i2], new[j1:j2])]
    out: list[Edit] = []
    i, j = i1, j1
    for pi, pj in [*pairs, (i2, j2)]:
        out.extend(Edit("delete", k, None, unit_weight(old[k])) for k in range(i, pi))
        out.extend(Edit("add", None, k, unit_weight(new[k])) for k in range(j, pj))
        if pi < i2:
            out.append(Edit("modify", pi, pj, max(unit_weight(old[pi]), unit_weight(new[pj]))))
        i, j = pi + 1, pj + 1
    return out


def _edits(old: list[str], new: list[str]) -> list[Equal | Edit]:
    """The diff as a sequence of 'equal' opcodes and single `Edit`s, in text order."""
    out: list[Equal | Edit] = []
    for tag, i1, i2, j1, j2 in _opcodes(old, new):
        if tag == "equal":
            out.append((tag, i1, i2, j1, j2))
        else:
            out.extend(_block_edits(old, new, i1, i2, j1, j2))
    return out


@dataclass(frozen=True)
class Alignment:
    """`old -> new` aligned once (`align`): measured (`diff`) and rebuilt with a subset of its edits
    (`apply`) as often as needed without diffing again (trimming tries several subsets)."""

    old: tuple[Piece, ...]
    new: tuple[Piece, ...]
    items: tuple[Equal | Edit, ...]

    def diff(self) -> SentenceDiff:
        """Weighted added, deleted and modified items."""
        edits = [e for e in self.items if isinstance(e, Edit)]
        return SentenceDiff(
            added=sum(e.weight for e in edits if e.kind == "add"),
            deleted=sum(e.weight for e in edits if e.kind == "delete"),
            modified=sum(e.weight for e in edits if e.kind == "modify"),
            edits=tuple(edits),
        )

    def apply(self, keep: Callable[[Edit], bool]) -> str:
        """Rebuild the text from `old` applying only the edits for which `keep` is True: a reverted
        addition is left out, a reverted deletion keeps the old item, a reverted modification keeps
        the old item in place of its new version. The result is made only of old and new items, in
        their order."""
        out: list[Piece] = []
        for item in self.items:
            if not isinstance(item, Edit):
                _, i1, i2, _, _ = item
                out.extend(self.old[i1:i2])
                continue
            applied = keep(item)
            if item.kind == "add":
                if applied:
                    out.append(self.new[item.new_index])  # type: ignore[index]
            elif item.kind == "delete":
                if not applied:
                    out.append(self.old[item.old_index])  # type: ignore[index]
            else:
                out.append(self.new[item.new_index] if applied else self.old[item.old_index])  # type: ignore[index]
        return join_pieces(out)


def align(old: str, new: str, level: Level = "sentence") -> Alignment:
    """Align `old` and `new` by whole sentences (TDO) or by edit units (TLR)."""
    split = split_units if level == "unit" else split_pieces
    old_p, new_p = split(old), split(new)
    items = _edits([p.text for p in old_p], [p.text for p in new_p])
    return Alignment(tuple(old_p), tuple(new_p), tuple(items))


def sentence_diff(old: str, new: str) -> SentenceDiff:
    """Weighted added, deleted and modified edit units from `old` to `new` (what TLR counts)."""
    return align(old, new, "unit").diff()


def apply_edits(old: str, new: str, keep: Callable[[Edit], bool], level: Level = "sentence") -> str:
    """Rebuild the text from `old` applying only the edits (towards `new`) for which `keep` is True
    (`Alignment.apply`); `level` is what the diff pairs: whole sentences (TDO) or edit units (TLR)."""
    return align(old, new, level).apply(keep)


def text_stats(text: str) -> dict[str, int]:
    """Prompt length as logged every step: words and sentences."""
    return {"words": len(text.split()), "sentences": len(split_sentences(text))}
