"""Registry of the CLI's command modules. A new command = a new module with `register(app)`."""

from __future__ import annotations

import importlib

import typer

# Modules under dlpo.cli that define `register(app: typer.Typer) -> None`.
COMMAND_MODULES: tuple[str, ...] = (
    "models",
    "chat",
    "tasks",
    "optimize",
    "evaluate",
    "report",
    "compare",
    "sweep",
    "serve",
)


def register_all(app: typer.Typer) -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(f"dlpo.cli.{name}").register(app)
