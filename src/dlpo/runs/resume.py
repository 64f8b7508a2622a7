"""Resume checks: a run continues only under the configuration it was started with."""

from __future__ import annotations

from typing import Any

from dlpo.errors import ConfigError
from dlpo.runs.checkpoint import load_checkpoint
from dlpo.runs.run_dir import RunDir

# Keys a resumed run may change: raising the budget to continue a run stopped by it is the point;
# engine settings (timeout, retries, concurrency) change how calls are made, not what they return.
RESUMABLE_KEYS = frozenset({"budget", "engine"})


def diff_configs(saved: Any, current: Any, prefix: str = "") -> list[str]:
    """Dotted paths of the keys whose values differ (added, removed or changed)."""
    if isinstance(saved, dict) and isinstance(current, dict):
        out: list[str] = []
        for key in sorted(set(saved) | set(current), key=str):
            path = f"{prefix}{key}"
            if key not in saved or key not in current:
                out.append(path)
            else:
                out.extend(diff_configs(saved[key], current[key], path + "."))
        return out
    return [] if saved == current else [prefix.rstrip(".") or "<root>"]


def check_config(
    saved: dict[str, Any],
    current: dict[str, Any],
    where: str = "the run",
    allowed: frozenset[str] = RESUMABLE_KEYS,
) -> None:
    """Raise ConfigError naming the keys that differ, ignoring the top-level `allowed` keys."""
    keys = [k for k in diff_configs(saved, current) if k.split(".", 1)[0] not in allowed]
    if keys:
        shown = ", ".join(keys[:12]) + (f" (+{len(keys) - 12} more)" if len(keys) > 12 else "")
        raise ConfigError(f"cannot resume {where}: the configuration differs from the saved one in {shown}")


def load_for_resume(run: RunDir, current: dict[str, Any]) -> dict[str, Any] | None:
    """Check `current` against the run's saved config and return its checkpoint (None if the run
    was killed before its first checkpoint)."""
    check_config(run.read_config(), current, where=str(run.path))
    return load_checkpoint(run.checkpoint_path)
