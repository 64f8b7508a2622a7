"""dlpo: automatic prompt optimization by textual gradient descent (DLPO, arXiv 2503.13413).

    import dlpo
    task = dlpo.Task.from_records(rows, input="question", target="answer", metric=my_metric)
    result = dlpo.optimize(task, preset="dlpo", forward="local", backward="local", steps=8)
    print(result.best.prompt, result.best.test)

Importing this package has no side effects: no files, no network, no model loading.
Public names are loaded lazily on first attribute access.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "optimize": "dlpo.api",
    "Score": "dlpo.tasks.base",
    "LLMJudge": "dlpo.tasks.judge",
    "MetricError": "dlpo.tasks.metric",
    "Recipe": "dlpo.optim.presets",
    "resolve_recipe": "dlpo.optim.presets",
    "Technique": "dlpo.optim.base",
    "AcceptanceRule": "dlpo.optim.base",
    "RequestSection": "dlpo.optim.base",
    "CheckResult": "dlpo.optim.base",
    "Decision": "dlpo.optim.base",
    "TrainConfig": "dlpo.training.config",
    "FitResult": "dlpo.training.result",
    "evaluate": "dlpo.evaluation",
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


__all__ = [
    "AcceptanceRule",
    "ChatMessage",
    "ChatRequest",
    "CheckResult",
    "Completion",
    "Decision",
    "Engine",
    "Example",
    "FitResult",
    "LLMClient",
    "LLMJudge",
    "MetricError",
    "Recipe",
    "RequestSection",
    "Score",
    "Task",
    "Technique",
    "TrainConfig",
    "__version__",
    "build_engine",
    "evaluate",
    "fit",
    "load_task",
    "optimize",
    "resolve_recipe",
]
