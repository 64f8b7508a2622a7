"""dlpo: automatic prompt optimization by textual gradient descent (DLPO, arXiv 2503.13413).

Importing this package has no side effects: no files, no network, no model loading.
Public names are loaded lazily on first attribute access.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "ChatMessage": "dlpo.engines.base",
    "ChatRequest": "dlpo.engines.base",
    "Completion": "dlpo.engines.base",
    "Engine": "dlpo.engines.base",
    "LLMClient": "dlpo.engines.client",
    "build_engine": "dlpo.engines.spec",
    "Example": "dlpo.tasks.base",
    "Task": "dlpo.tasks.base",
    "load_task": "dlpo.tasks.registry",
    "fit": "dlpo.train",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dlpo' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = sorted(_LAZY) + ["__version__"]
