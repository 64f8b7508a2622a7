"""Seeded shuffles and split cutting, exactly as the reference code does them (SPLITS.md).

Every shuffle is `random.Random(seed).shuffle(list(range(n)))` on a fresh generator, so a
permutation depends only on `n` and `seed`; shuffling a list of items equals indexing the list by
that permutation.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import TypeVar

from dlpo.errors import ConfigError

T = TypeVar("T")

SplitSizes = tuple[int | None, int | None, int | None]
SPLIT_NAMES = ("train", "val", "test")


def permutation(n: int, seed: int) -> list[int]:
    """The order `random.Random(seed).shuffle` puts `range(n)` in."""
    order = list(range(n))
    random.Random(seed).shuffle(order)
    return order


def shuffled(items: Sequence[T], seed: int) -> list[T]:
    return [items[i] for i in permutation(len(items), seed)]


def normalize_sizes(split_sizes: object) -> SplitSizes | None:
    """Accept None, a (train, val, test) sequence or a {"train": .., "val": .., "test": ..} mapping;
    None entries mean "the default". Raises ConfigError on anything else."""
    if split_sizes is None:
        return None
    if isinstance(split_sizes, Mapping):
        unknown = set(split_sizes) - set(SPLIT_NAMES)
        if unknown:
            raise ConfigError(f"split_sizes: unknown split {min(unknown)!r}; use train, val, test")
        values = [split_sizes.get(name) for name in SPLIT_NAMES]
    elif isinstance(split_sizes, Sequence) and not isinstance(split_sizes, str) and len(split_sizes) == 3:
        values = list(split_sizes)
    else:
        raise ConfigError(f"split_sizes must be (train, val, test), got {split_sizes!r}")
    for name, value in zip(SPLIT_NAMES, values):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ConfigError(f"split_sizes: {name} must be a non-negative integer, got {value!r}")
    return (values[0], values[1], values[2])


def resolve_sizes(split_sizes: object, default: tuple[int, int, int]) -> tuple[int, int, int]:
    """`split_sizes` with None entries filled from `default`."""
    sizes = normalize_sizes(split_sizes)
    if sizes is None:
        return default
    return tuple(d if s is None else s for s, d in zip(sizes, default))  # type: ignore[return-value]


def truncate(splits: tuple[list[T], list[T], list[T]], split_sizes: object, task: str) -> tuple[list[T], ...]:
    """Keep the first n items of each reference split (a cap for quick runs). Asking for more than a
    split holds is a ConfigError that says how many there are."""
    sizes = normalize_sizes(split_sizes)
    if sizes is None:
        return splits
    out = []
    for name, items, size in zip(SPLIT_NAMES, splits, sizes):
        if size is not None and size > len(items):
            raise ConfigError(f"task {task}: {name} has {len(items)} examples, split_sizes asks for {size}")
        out.append(items if size is None else items[:size])
    return tuple(out)


def cut(items: Sequence[T], sizes: Sequence[int], task: str) -> tuple[list[T], ...]:
    """Consecutive slices of `items` of the given sizes; ConfigError when there are too few."""
    if sum(sizes) > len(items):
        asked = "+".join(str(s) for s in sizes)
        raise ConfigError(
            f"task {task}: {len(items)} examples are too few for splits of {asked}={sum(sizes)}"
        )
    out, start = [], 0
    for size in sizes:
        out.append(list(items[start : start + size]))
        start += size
    return tuple(out)
