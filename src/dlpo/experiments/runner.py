"""Run a sweep's trials: one after another, in a local process pool, or as Ray tasks.

`run_trial` is a plain top-level function (picklable) that runs one trial into its folder and
returns its summary row; it is what every mode calls. A finished trial (its folder has
`result.json`) is summarised without any model call; an unfinished folder left by a crash is
resumed where the method supports it (the textual-gradient loop), else replayed against its
cache. A trial that raises is retried `retries` times, then reported as failed; the other trials
go on. Results do not depend on the mode: each trial has its own seeded RNG and its own cache.

Trials share work through one sweep-wide response cache (`<sweep>/shared-cache.sqlite`, wrapped
around each trial's engines by `SharedCacheEngine`): a request another trial already made (the
starting prompt's test answers, a candidate scored on the same acceptance set) is answered once.
Each trial's usage still says what it would have cost alone (`calls_alone`, `tokens_alone`).
"""

from __future__ import annotations

import concurrent.futures
import shutil
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from dlpo.experiments.trials import Trial, is_finished, save_row, saved_row, summarize, trial_dir

Mode = Literal["serial", "pool", "ray"]


SHARED_CACHE = "shared-cache.sqlite"


def run_trial(
    trial: Trial, sweep_dir: str, share_cache: bool = True, results: str | None = None
) -> dict[str, Any]:
    """Run (or just summarise, when finished) one trial; returns its summary row. `share_cache`
    puts the sweep's shared response cache in front of the trial's engines; a trial whose row is
    kept under `results` is not run at all, and a finished trial's row is saved there."""
    kept = saved_row(results, trial)
    if kept is not None:
        return kept
    row = _run_trial(trial, sweep_dir, share_cache)
    if results is not None:
        save_row(results, row)
    return row


def _run_trial(trial: Trial, sweep_dir: str, share_cache: bool) -> dict[str, Any]:
    from dlpo.cache import ResponseCache
    from dlpo.engines.base import run_sync
    from dlpo.engines.shared_cache import SharedCacheEngine
    from dlpo.engines.spec import same_engine
    from dlpo.experiments.engines import process_registry
    from dlpo.runs.run_dir import is_run_dir
    from dlpo.train import afit
    from dlpo.training.config import TrainConfig

    path = trial_dir(sweep_dir, trial)
    if not is_finished(path):
        config = TrainConfig.from_json(trial.config)
        registry = process_registry()
        settings = config.engine.given()
        forward, own_f = registry.get(config.forward, "forward", settings)
        if same_engine(config.forward, config.backward):
            backward, own_b = forward, False
        else:
            backward, own_b = registry.get(config.backward, "backward", settings)
        resume = path if is_run_dir(path) else None
        if path.exists() and (resume is None or config.recipe.name == "human"):
            shutil.rmtree(path)  # a crash before the config was written, or a cheap human run
            resume = None
        shared = ResponseCache(Path(sweep_dir) / SHARED_CACHE) if share_cache else None
        if shared is not None:
            forward = SharedCacheEngine(forward, shared)
            backward = forward if backward is forward.engine else SharedCacheEngine(backward, shared)

        async def go() -> None:
            try:
                await afit(
                    config if resume is None else None,
                    run_dir=None if resume else path,
                    resume=resume,
                    forward_engine=forward,
                    backward_engine=backward,
                )
            finally:
                for engine, owned in ((forward, own_f), (backward, own_b)):
                    inner = getattr(engine, "engine", engine)
                    if owned:
                        await inner.aclose()
                    elif hasattr(inner, "release_client"):  # shared across trials: keep the server
                        await inner.release_client()

        try:
            run_sync(go())
        finally:
            if shared is not None:
                shared.close()
    return summarize(trial, path)


@dataclass
class SweepOutcome:
    rows: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)  # ids of trials that were not finished before


def _failure(trial: Trial, exc: BaseException) -> dict[str, Any]:
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return {"id": trial.id, "method": trial.method, "task": trial.task, "seed": trial.seed, "error": text}


def run_trials(
    trials: Sequence[Trial],
    sweep_dir: str | Path,
    *,
    mode: Mode = "serial",
    workers: int = 1,
    retries: int = 1,
    num_cpus: float = 1.0,
    num_gpus: float = 0.0,
    address: str | None = None,
    on_done: Callable[[dict[str, Any]], None] | None = None,
    share_cache: bool = True,
    results: str | Path | None = None,
) -> SweepOutcome:
    sweep = str(Path(sweep_dir).resolve())
    kept = None if results is None else str(Path(results).resolve())
    out = SweepOutcome(
        ran=[t.id for t in trials if not is_finished(trial_dir(sweep, t)) and saved_row(kept, t) is None]
    )
    submit = _submitter(mode, workers, num_cpus, num_gpus, address)
    pending = list(trials)
    results: dict[str, dict[str, Any]] = {}
    errors: dict[str, dict[str, Any]] = {}
    try:
        for attempt in range(retries + 1):
            if not pending:
                break
            again = []
            for trial, row, exc in submit.map(pending, sweep, share_cache, kept):
                if exc is None:
                    results[trial.id] = row
                    errors.pop(trial.id, None)
                    if on_done is not None:
                        on_done(row)
                else:
                    errors[trial.id] = {**_failure(trial, exc), "attempts": attempt + 1}
                    again.append(trial)
            pending = again
    finally:
        submit.close()
    out.rows = [results[t.id] for t in trials if t.id in results]
    out.failures = [errors[t.id] for t in trials if t.id in errors]
    return out


# A submitter's `map` yields (trial, row, error) as each trial ends, in the order they end, so
# that `on_done` reports a trial when it finishes, not when the whole sweep does.
Finished = Iterator[tuple[Trial, Any, BaseException | None]]


class _Serial:
    def map(self, trials: Sequence[Trial], sweep: str, share: bool, kept: str | None) -> Finished:
        for t in trials:
            try:
                row = run_trial(t, sweep, share, kept)
            except Exception as exc:  # noqa: BLE001 - a failed trial is data, reported and retried
                yield t, None, exc
            else:
                yield t, row, None

    def close(self) -> None:
        return None


class _Pool:
    def __init__(self, workers: int) -> None:
        self.pool = concurrent.futures.ProcessPoolExecutor(max_workers=workers)

    def map(self, trials: Sequence[Trial], sweep: str, share: bool, kept: str | None) -> Finished:
        futures = {self.pool.submit(run_trial, t, sweep, share, kept): t for t in trials}
        for f in concurrent.futures.as_completed(futures):
            exc = f.exception()
            yield futures[f], (None if exc is not None else f.result()), exc

    def close(self) -> None:
        self.pool.shutdown()


class _Ray:
    def __init__(self, num_cpus: float, num_gpus: float, address: str | None, workers: int) -> None:
        import ray

        self.ray = ray
        self.started = not ray.is_initialized()
        if self.started:
            if address:
                ray.init(address=address)
            else:
                ray.init(num_cpus=max(workers, 1), include_dashboard=False)
        self.remote = ray.remote(num_cpus=num_cpus, num_gpus=num_gpus, max_retries=0)(run_trial)

    def map(self, trials: Sequence[Trial], sweep: str, share: bool, kept: str | None) -> Finished:
        refs = {self.remote.remote(t, sweep, share, kept): t for t in trials}
        waiting = list(refs)
        while waiting:
            ready, waiting = self.ray.wait(waiting, num_returns=1)
            row, error = None, None
            try:
                row = self.ray.get(ready[0])
            except Exception as exc:  # noqa: BLE001 - RayTaskError wraps the trial's exception
                error = exc
            yield refs[ready[0]], row, error

    def close(self) -> None:
        if self.started:
            self.ray.shutdown()


def _submitter(mode: Mode, workers: int, num_cpus: float, num_gpus: float, address: str | None) -> Any:
    if mode == "ray":
        try:
            return _Ray(num_cpus, num_gpus, address, workers)
        except ImportError:
            from dlpo.errors import ConfigError

            raise ConfigError("--ray needs the `ray` package: pip install 'dlpo[ray]'") from None
    if mode == "pool" and workers > 1:
        return _Pool(workers)
    return _Serial()
