"""Atomic JSON files and the run checkpoint.

A checkpoint is written after every optimizer step with temp file + fsync + `os.replace`, so a
`kill -9` at any moment leaves either the previous or the new checkpoint, never a torn one.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
from pathlib import Path
from typing import Any

from dlpo.errors import ConfigError

CHECKPOINT_VERSION = 1


def write_json_atomic(path: str | Path, obj: Any) -> None:
    """Write `obj` as JSON to `path` atomically (temp file in the same folder, fsync, rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(obj, fh, ensure_ascii=False, indent=1, sort_keys=True)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_json(path: str | Path) -> Any:
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> None:
    """Write the checkpoint `state` (a JSON-able dict) atomically, stamped with the format version."""
    write_json_atomic(path, {"version": CHECKPOINT_VERSION, **state})


def load_checkpoint(path: str | Path) -> dict[str, Any] | None:
    """The saved checkpoint, or None when there is none yet."""
    path = Path(path)
    if not path.exists():
        return None
    state = read_json(path)
    if not isinstance(state, dict) or state.get("version") != CHECKPOINT_VERSION:
        raise ConfigError(f"{path}: unsupported checkpoint format (expected version {CHECKPOINT_VERSION})")
    return state


def rng_state_to_json(rng: random.Random) -> list[Any]:
    """`random.Random.getstate()` as JSON (tuples become lists)."""
    version, internal, gauss = rng.getstate()
    return [version, list(internal), gauss]


def rng_state_from_json(state: list[Any]) -> tuple[Any, ...]:
    """Inverse of `rng_state_to_json`, ready for `random.Random.setstate`."""
    version, internal, gauss = state
    return (version, tuple(internal), gauss)
