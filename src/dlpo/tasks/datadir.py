"""Where benchmark files come from: `--data-dir`, else `$DLPO_DATA_DIR`, else the Hugging Face hub.

A folder counts when it holds every file the benchmark needs (paths relative to it, e.g.
`gsm8k/train.jsonl`, the layout of the project's shared data folder). The hub is used when the
`hf` extra (`datasets`) is installed and the benchmark is published there; whether the machine is
online shows only when the download is tried, so loaders call `hub_or_error` around it. When no
place works, one DataError lists every place looked at and what to do.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from dlpo.errors import DataError

ENV_VAR = "DLPO_DATA_DIR"
T = TypeVar("T")


@dataclass(frozen=True)
class DataRoot:
    """A resolved source: a local folder (`path`) or the hub (`path is None`). `tried` records the
    places that did not work, for the error message if the hub then fails too."""

    path: Path | None
    tried: tuple[str, ...] = field(default=())

    @property
    def is_hub(self) -> bool:
        return self.path is None

    def file(self, relative: str) -> Path:
        assert self.path is not None, "file() on a hub source"
        return self.path / relative


def hub_installed() -> bool:
    return importlib.util.find_spec("datasets") is not None


def _advice(required: Sequence[str], hub_id: str | None) -> str:
    advice = f"pass --data-dir DIR (or set {ENV_VAR}) to a folder that holds {required[0]}"
    if hub_id:
        advice += ", or install the hf extra (pip install 'dlpo[hf]') on a machine that is online"
    return advice


def resolve(
    benchmark: str,
    required: Sequence[str],
    data_dir: str | Path | None = None,
    *,
    hub_id: str | None = None,
    env: dict[str, str] | None = None,
) -> DataRoot:
    """Find `benchmark`'s files. `hub_id` names its Hugging Face dataset (None: not on the hub)."""
    env = dict(os.environ) if env is None else env
    tried: list[str] = []
    candidates: list[tuple[str, Path]] = []
    if data_dir is not None:
        candidates.append(("--data-dir", Path(data_dir).expanduser()))
    else:
        tried.append("--data-dir: not given")
    if env.get(ENV_VAR):
        candidates.append((f"${ENV_VAR}", Path(env[ENV_VAR]).expanduser()))
    else:
        tried.append(f"${ENV_VAR}: not set")
    for label, root in candidates:
        if not root.is_dir():
            tried.append(f"{label} {root}: no such folder")
            continue
        missing = [rel for rel in required if not (root / rel).exists()]
        if not missing:
            return DataRoot(root, tuple(tried))
        tried.append(f"{label} {root}: {missing[0]} not found")
    if hub_id is None:
        tried.append(f"Hugging Face hub: {benchmark} is not published there")
    elif not hub_installed():
        tried.append(f"Hugging Face hub ({hub_id}): the `datasets` package is not installed")
    else:
        return DataRoot(None, tuple(tried))
    raise not_found(benchmark, required, tried, hub_id)


def not_found(benchmark: str, required: Sequence[str], tried: Sequence[str], hub_id: str | None) -> DataError:
    places = "; ".join(f"{i}) {place}" for i, place in enumerate(tried, 1))
    return DataError(
        f"data for task {benchmark} not found. Looked at: {places}. To fix: {_advice(required, hub_id)}."
    )


def hub_or_error(
    root: DataRoot, benchmark: str, required: Sequence[str], hub_id: str, fetch: Callable[[], T]
) -> T:
    """Run a hub download; any failure (offline, dataset gone) becomes the one DataError."""
    try:
        return fetch()
    except DataError:
        raise
    except Exception as exc:  # datasets/huggingface_hub raise many unrelated types when offline
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        tried = [*root.tried, f"Hugging Face hub ({hub_id}): {first_line[:160]}"]
        raise not_found(benchmark, required, tried, hub_id) from exc


def data_available(
    required: Sequence[str],
    data_dir: str | Path | None = None,
    *,
    hub_id: str | None = None,
    env: dict[str, str] | None = None,
) -> str:
    """For listings, without downloading: 'local' (a folder holds the files), 'hub' (would try the
    hub) or 'missing'."""
    env = dict(os.environ) if env is None else env
    for root in (data_dir, env.get(ENV_VAR)):
        if root and all((Path(root).expanduser() / rel).exists() for rel in required):
            return "local"
    return "hub" if hub_id and hub_installed() else "missing"
