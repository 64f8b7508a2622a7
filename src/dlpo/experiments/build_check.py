"""Before a sweep runs: will its new trials pair with the finished ones?

The tables pair two methods' trials of one task, engine and seed only when the same llama-server
build answered both (`tables.other_builds`: builds for different CPU flags disagree on a few greedy
answers). A sweep resumed on another machine therefore runs trials that silently drop out of every
paired comparison with the trials finished elsewhere. `unpaired_note` says so before anything runs,
names the build the finished partners used, and where this machine has that build in its cache,
the binary that gives it (`$DLPO_LLAMA_SERVER`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from dlpo.experiments.table_notes import build_set
from dlpo.experiments.tables import other_builds
from dlpo.experiments.trials import Trial

__all__ = ["cached_builds", "local_build", "unpaired_note"]


def _runs_locally(trial: Trial) -> bool:
    """True when a managed llama-server (this machine's build) answers the trial."""
    return any(str(trial.config.get(role, "")).startswith("local:") for role in ("forward", "backward"))


def _partners(
    trial: Trial,
    rows: Sequence[dict[str, Any]],
    compare: Sequence[tuple[str, str]] | None,
    seedless: Collection[str],
) -> list[dict[str, Any]]:
    """Finished rows the tables would pair with `trial` (`tables.pair_rows`): same task and engine,
    a method the experiment compares it with (`compare`; every other method when empty), and the
    same seed (a `seedless` method, run once, pairs with every seed)."""
    if not compare:
        methods = None
    else:
        methods = {b for a, b in compare if a == trial.method} | {a for a, b in compare if b == trial.method}
    return [
        r
        for r in rows
        if r["task"] == trial.task
        and r["engine"] == trial.engine
        and r["method"] != trial.method
        and (methods is None or r["method"] in methods)
        and (r["seed"] == trial.seed or r["method"] in seedless or trial.method in seedless)
    ]


def unpaired_note(
    pending: Sequence[Trial],
    rows: Sequence[dict[str, Any]],
    local: str | None,
    cached: Callable[[], Mapping[str, Path]] = dict,
    compare: Sequence[tuple[str, str]] | None = None,
    seedless: Collection[str] = (),
) -> str | None:
    """A warning when pending trials answered by this machine's build `local` would not pair with
    finished `rows` answered by another build; None when every partner used `local` (or recorded no
    build), or nothing pending runs locally. `cached` lists the builds in this machine's cache with
    their binaries (`cached_builds`: one `--version` per build, so called only for a warning);
    `compare` and `seedless` are what the tables pair by (`tables.pair_rows`)."""
    if local is None:
        return None
    answered_here = {"builds": {"": [local]}}  # what a pending trial's row will record
    other: Counter[str] = Counter()
    affected: set[str] = set()
    counted: set[str] = set()
    for trial in pending:
        if not _runs_locally(trial):
            continue
        for row in _partners(trial, rows, compare, seedless):
            if other_builds(row, answered_here):
                affected.add(trial.id)
                if row["id"] not in counted:
                    counted.add(row["id"])
                    other[" + ".join(sorted(build_set(row) or ())) or "none named"] += 1
    if not other:
        return None
    found = ", ".join(f"`{b}` ({n} trials)" for b, n in other.most_common())
    text = (
        f"This machine answers with llama-server build `{local}`; {len(counted)} finished trial(s) that "
        f"{len(affected)} of the trials to run would pair with (same task, engine and seed) were "
        f"answered by {found}. Builds disagree on a few greedy answers, so the tables will leave those "
        "pairs out."
    )
    build = other.most_common(1)[0][0]
    binary = cached().get(build)
    if binary is not None:
        return (
            text
            + f" To pair them, answer with that build: it is in this machine's cache (DLPO_LLAMA_SERVER={binary})."
        )
    return text + (
        " To pair them, answer with that build: run scripts/setup.sh with DLPO_CMAKE_ARGS set to the CPU "
        "flags it was built with (the second line of `llama-server.build` beside its binary; the AVX2 "
        "build runs on any x86-64 machine with AVX2), or run the partner trials again here."
    )


def local_build() -> str | None:
    """The build of the llama-server this machine would start (`build_id`); None when there is none."""
    from dlpo.engines.llama_server import build_id, find_llama_server

    binary = find_llama_server()
    if binary is None or not binary.is_file():
        return None
    return build_id(binary)


def cached_builds() -> dict[str, Path]:
    """Builds of llama-server in this machine's cache (scripts/setup.sh keeps one per source and
    flags), by `build_id`."""
    from dlpo.engines.llama_server import build_id, cache_root

    return {build_id(b): b for b in sorted(cache_root().glob("*/llama-server")) if b.is_file()}
