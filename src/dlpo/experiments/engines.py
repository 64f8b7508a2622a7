"""Engines of a worker process: a local model is loaded once per process and reused by every trial
that process runs; network engines are built per trial (their clients belong to one event loop).

Besides the usual specs (`local:...`, `openai:...`), `py:<module>:<factory>` names a zero-argument
factory to import (how tests give a sweep a deterministic toy engine that also works inside Ray
workers, which cannot receive objects from the test process).
"""

from __future__ import annotations

import importlib
from typing import Any

from dlpo.engines.base import Engine
from dlpo.errors import ConfigError


class EngineRegistry:
    """Engines by spec for the current process. `get` returns (engine, owned): owned engines must be
    closed by the caller after the trial; shared ones stay for the next trial."""

    def __init__(self) -> None:
        self._shared: dict[tuple[str, str, int | None, int, int], Engine] = {}

    def get(self, spec: str, role: str, settings: dict[str, Any] | None = None) -> tuple[Engine, bool]:
        """The engine of `spec`; `settings` are `EngineConfig` fields (timeout, max_retries, ...)."""
        if spec.startswith("py:"):
            return _import_factory(spec)(), True
        from dlpo.engines.spec import build_engine, parse_engine_spec

        config = parse_engine_spec(spec, role=role, **(settings or {}))
        if config.kind != "local":
            return build_engine(config, role=role), True
        key = (config.kind, config.model, config.n_threads, config.slots, config.n_ctx)
        if key not in self._shared:
            self._shared[key] = build_engine(config, role=role)
        return self._shared[key], False


def _import_factory(spec: str) -> Any:
    _, _, rest = spec.partition(":")
    module, _, attr = rest.partition(":")
    if not module or not attr:
        raise ConfigError(f"bad engine spec {spec!r}: expected py:<module>:<factory>")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"engine spec {spec!r}: cannot import {module}:{attr} ({exc})") from None


_PROCESS_REGISTRY: EngineRegistry | None = None


def process_registry() -> EngineRegistry:
    """This process's registry, created on first use (the one deliberate per-process cache: a
    Ray or pool worker loads its local model once for all the trials it runs)."""
    global _PROCESS_REGISTRY
    if _PROCESS_REGISTRY is None:
        _PROCESS_REGISTRY = EngineRegistry()
    return _PROCESS_REGISTRY
