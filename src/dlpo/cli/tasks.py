"""`dlpo tasks`: list the built-in tasks; `dlpo tasks NAME` (or `--task-file F`) shows one task."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

DATA_STATUS = {"builtin": "built in", "local": "found", "hub": "HF hub", "missing": "data not found"}


COLUMNS = ("name", "train", "val", "test", "answer", "scorer", "reference", "source", "data")


def list_table(data_dir: Path | None) -> None:
    """A table on a terminal; plain aligned lines, one task per line and nothing cut, in a pipe (so
    `dlpo tasks | grep object_counting` finds it). The name column is never truncated."""
    from rich.console import Console
    from rich.table import Table

    from dlpo.tasks.registry import list_tasks

    rows = [
        (
            info.name,
            str(info.train),
            str(info.val),
            str(info.test),
            info.answer_type,
            info.scorer,
            info.reference_scorer or "-",
            info.source,
            DATA_STATUS.get(info.data, info.data),
        )
        for info in list_tasks(data_dir)
    ]
    console = Console()
    if not console.is_terminal:
        widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(COLUMNS)]
        for line in [COLUMNS, *rows]:
            typer.echo("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
        return
    table = Table(title="dlpo tasks (reference splits)")
    name_width = max(len(r[0]) for r in rows)
    # a narrow terminal drops the wide descriptive columns rather than cutting the others
    shown = [i for i, c in enumerate(COLUMNS) if console.width >= 120 or c not in ("reference", "source")]
    for i in shown:
        column = COLUMNS[i]
        if column == "name":
            table.add_column(column, no_wrap=True, min_width=name_width)
        else:
            justify = "right" if column in ("train", "val", "test") else "left"
            table.add_column(column, justify=justify, overflow="fold")
    for row in rows:
        table.add_row(*(row[i] for i in shown))
    console.print(table)
    console.print(
        "data: found = read from --data-dir/$DLPO_DATA_DIR; HF hub = would download (hf extra "
        "installed); data not found = pass --data-dir or set DLPO_DATA_DIR. scorer = strict default; "
        "--scorer reference uses the paper's lenient rule."
    )


def show_task(
    task_name: str | None,
    task_file: Path | None,
    data_dir: Path | None,
    scorer: str | None,
    input_col: str,
    target_col: str,
    examples: int,
    seed: int | None,
) -> None:
    from rich.console import Console

    from dlpo.tasks.files import load_task_file
    from dlpo.tasks.registry import load_task

    if task_file is not None:
        task = load_task_file(
            task_file,
            input_col=input_col,
            target_col=target_col,
            scorer=scorer or "exact",
            seed=0 if seed is None else seed,
        )
    else:
        assert task_name is not None
        task = load_task(task_name, data_dir=data_dir, scorer=scorer, seed=seed)
    console = Console(highlight=False)
    console.print(f"[bold]{task.name}[/bold]: {task.description}")
    console.print(f"source: {task.source}")
    console.print(f"sizes: train {len(task.train)}, val {len(task.val)}, test {len(task.test)}")
    console.print(f"answer type: {task.answer_type or '-'}; scorer: {task.scorer_name}")
    console.print(f"starting prompt: {task.initial_prompt!r}")
    console.print(f"answer instruction: {task.answer_instruction!r}")
    for example in task.train[:examples]:
        text = " ".join(example.input.split())
        console.print(
            f"- [{example.id}] {text[:200]}{'…' if len(text) > 200 else ''}  -> target {example.target!r}",
            markup=False,
        )


def register(app: typer.Typer) -> None:
    @app.command("tasks")
    def tasks(
        name: Annotated[
            str | None, typer.Argument(help="Show one task (e.g. gsm8k, bbh:navigate, mgsm:de).")
        ] = None,
        data_dir: Annotated[
            Path | None, typer.Option("--data-dir", help="Folder with the benchmark files.")
        ] = None,
        task_file: Annotated[
            Path | None, typer.Option("--task-file", help="Show a user task file (.jsonl/.csv).")
        ] = None,
        input_col: Annotated[str, typer.Option("--input-col")] = "input",
        target_col: Annotated[str, typer.Option("--target-col")] = "target",
        scorer: Annotated[
            str | None, typer.Option("--scorer", help="strict (default), reference or a scorer name.")
        ] = None,
        seed: Annotated[
            int | None, typer.Option("--seed", help="Split seed (default: the reference seed).")
        ] = None,
        examples: Annotated[int, typer.Option("--examples", help="Training examples to print.")] = 3,
    ) -> None:
        """List the built-in tasks with split sizes, answer type, scorer and source; or show one."""
        if name is None and task_file is None:
            list_table(data_dir)
        else:
            show_task(name, task_file, data_dir, scorer, input_col, target_col, examples, seed)
