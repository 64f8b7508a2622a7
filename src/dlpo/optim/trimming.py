"""Trimming a candidate to TLR's edit budget (`trim_to_budget`).

The model's unit edits (`dlpo.optim.sentences`) are kept in text order while they fit the budget,
but a sentence deleted or added whole is kept or reverted whole, so a trimmed prompt never holds a
clause cut off its sentence.
"""

from __future__ import annotations

from collections import Counter

from dlpo.optim.sentences import (
    Alignment,
    Edit,
    align,
    join_pieces,
    sentence_diff,
    split_units,
    units_by_sentence,
)

__all__ = ["trim_to_budget"]

Group = tuple[str, int] | Edit  # a sentence deleted ("old", k) or added ("new", k) whole, or one edit


def _sentence_of_unit(text: str) -> list[int]:
    """For each edit unit of `text` (`split_units`), the index of the sentence it belongs to."""
    return [k for k, units in enumerate(units_by_sentence(text)) for _ in units]


def _whole_sentence_groups(old: str, new: str, edits: tuple[Edit, ...]) -> dict[Edit, Group]:
    """Each unit edit's group: a sentence deleted (or added) whole is one group, so that trimming
    keeps or reverts it whole; any other edit is a group of its own."""
    old_sentence, new_sentence = _sentence_of_unit(old), _sentence_of_unit(new)
    old_units, new_units = Counter(old_sentence), Counter(new_sentence)
    deleted = Counter(
        old_sentence[e.old_index] for e in edits if e.kind == "delete" and e.old_index is not None
    )
    added = Counter(new_sentence[e.new_index] for e in edits if e.kind == "add" and e.new_index is not None)
    groups: dict[Edit, Group] = {}
    for e in edits:
        groups[e] = e
        if e.kind == "delete" and e.old_index is not None:
            k = old_sentence[e.old_index]
            if deleted[k] == old_units[k]:
                groups[e] = ("old", k)
        elif e.kind == "add" and e.new_index is not None:
            k = new_sentence[e.new_index]
            if added[k] == new_units[k]:
                groups[e] = ("new", k)
    return groups


def _keep_first(alignment: Alignment, groups: dict[Edit, Group], allowance: int) -> str:
    """Apply the unit edits of `alignment` in text order while their groups' weights fit in
    `allowance`; revert the rest. A sentence deleted or added whole is one group, kept or reverted
    whole: reverting part of it would leave a fragment no one wrote ("write it as digits." from
    "The answer is a number: write it as digits.")."""
    weight: Counter[Group] = Counter()
    for e, group in groups.items():
        weight[group] += e.weight
    decided: dict[Group, bool] = {}
    used = 0
    for group in groups.values():  # the edits in text order
        if group not in decided:
            decided[group] = used + weight[group] <= allowance
            used += weight[group] if decided[group] else 0
    return alignment.apply(lambda edit: decided[groups[edit]])


def trim_to_budget(old: str, new: str, budget: int) -> str:
    """Keep the first edits of `old -> new` (in text order) that fit in `budget`; revert the rest.

    Edits are paired by content (see the module docstring), so the result is made only of old units
    and units the model proposed, each where the model put it. Re-measured, it never exceeds the
    budget: if rebuilding shifts the alignment, fewer edits are kept.
    """
    alignment = align(old, new, "unit")
    groups = _whole_sentence_groups(old, new, alignment.diff().edits)
    for allowance in range(max(budget, 0), -1, -1):
        trimmed = _keep_first(alignment, groups, allowance)
        if sentence_diff(old, trimmed).total <= budget:
            return trimmed
    return join_pieces(split_units(old))
