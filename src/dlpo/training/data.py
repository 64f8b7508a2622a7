"""Seeded minibatch order: a fresh shuffle per epoch from the run's own `random.Random`.

The sampler's whole state (RNG, epoch, the current epoch's order, cursor) is checkpointed, so a
resumed run draws exactly the batches the uninterrupted run would have drawn.
"""

from __future__ import annotations

import random
from typing import Any

from dlpo.runs.checkpoint import rng_state_from_json, rng_state_to_json


class BatchSampler:
    def __init__(self, n: int, batch_size: int, seed: int) -> None:
        if n <= 0:
            raise ValueError("cannot sample batches from an empty training split")
        self.n = n
        self.batch_size = batch_size
        self.rng = random.Random(seed)
        self.epoch = 0  # 1-based number of the epoch in progress; 0 = none started
        self.order: list[int] = []
        self.cursor = 0

    @property
    def at_epoch_end(self) -> bool:
        """True when the next batch starts a new epoch."""
        return self.cursor >= len(self.order)

    def next_batch(self) -> list[int]:
        """Indices of the next minibatch (the last batch of an epoch may be smaller)."""
        if self.at_epoch_end:
            self.order = list(range(self.n))
            self.rng.shuffle(self.order)
            self.epoch += 1
            self.cursor = 0
        batch = self.order[self.cursor : self.cursor + self.batch_size]
        self.cursor += len(batch)
        return batch

    def state_dict(self) -> dict[str, Any]:
        return {
            "rng": rng_state_to_json(self.rng),
            "epoch": self.epoch,
            "order": list(self.order),
            "cursor": self.cursor,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.setstate(rng_state_from_json(state["rng"]))
        self.epoch = int(state["epoch"])
        self.order = [int(i) for i in state["order"]]
        self.cursor = int(state["cursor"])


def acceptance_subset(n_train: int, spec: str | int, seed: int) -> list[int]:
    """Indices of the acceptance set: all of train (`"train"`, the reference) or a fixed seeded
    random subset of `spec` examples (capped at the train size), in train order."""
    if spec == "train" or int(spec) >= n_train:
        return list(range(n_train))
    rng = random.Random(f"acceptance-set:{seed}")
    return sorted(rng.sample(range(n_train), int(spec)))
