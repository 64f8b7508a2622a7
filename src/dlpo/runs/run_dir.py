"""The run directory: where one optimization run keeps everything it needs to report and resume.

<run>/config.json      the resolved configuration (no secrets: API keys only come from the env)
<run>/events.jsonl     append-only event log (dlpo.runs.events)
<run>/checkpoint.json  state after the last finished step (dlpo.runs.checkpoint)
<run>/cache.sqlite     every LLM response of the run (dlpo.cache)
<run>/result.json      the final prompts and scores, written at the end
<run>/resumes.jsonl    when each resume started (dlpo.runs.wall: the run's working time)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from dlpo.errors import ConfigError
from dlpo.runs.checkpoint import read_json, write_json_atomic

CONFIG_FILE = "config.json"
EVENTS_FILE = "events.jsonl"
CHECKPOINT_FILE = "checkpoint.json"
CACHE_FILE = "cache.sqlite"
RESULT_FILE = "result.json"

# Config keys whose values look like secrets; refused in config.json as a safety net.
_SECRET_KEY = re.compile(r"(api[_-]?key|secret|token|password)$", re.IGNORECASE)


def is_run_dir(path: str | Path) -> bool:
    """True when `path` is a folder holding a run's `config.json`."""
    return (Path(path) / CONFIG_FILE).is_file()


@dataclass(frozen=True)
class RunDir:
    path: Path

    @property
    def config_path(self) -> Path:
        return self.path / CONFIG_FILE

    @property
    def events_path(self) -> Path:
        return self.path / EVENTS_FILE

    @property
    def checkpoint_path(self) -> Path:
        return self.path / CHECKPOINT_FILE

    @property
    def cache_path(self) -> Path:
        return self.path / CACHE_FILE

    @property
    def result_path(self) -> Path:
        return self.path / RESULT_FILE

    @classmethod
    def create(cls, path: str | Path, config: dict[str, Any]) -> RunDir:
        """Make a new run folder and write its config. An existing run there is an error (resume it
        instead); an existing non-empty folder that is not a run is refused too."""
        path = Path(path)
        if is_run_dir(path):
            raise ConfigError(
                f"{path} already holds a dlpo run; resume it with --resume {path} or choose another --run-dir"
            )
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise ConfigError(f"{path} exists and is not an empty folder; choose another --run-dir")
        _refuse_secrets(config)
        path.mkdir(parents=True, exist_ok=True)
        write_json_atomic(path / CONFIG_FILE, config)
        (path / EVENTS_FILE).touch()
        return cls(path)

    @classmethod
    def open(cls, path: str | Path) -> RunDir:
        path = Path(path)
        if not is_run_dir(path):
            raise ConfigError(f"{path} is not a dlpo run directory (no {CONFIG_FILE})")
        return cls(path)

    def read_config(self) -> dict[str, Any]:
        config = read_json(self.config_path)
        if not isinstance(config, dict):
            raise ConfigError(f"{self.config_path}: expected a JSON object")
        return config

    def write_result(self, result: dict[str, Any]) -> None:
        write_json_atomic(self.result_path, result)

    def read_result(self) -> dict[str, Any] | None:
        return read_json(self.result_path) if self.result_path.exists() else None


def default_run_dir(task: str, preset: str, now: datetime | None = None, root: str | Path = "runs") -> Path:
    """`runs/<task>-<preset>-<YYYYmmdd-HHMMSS>` with characters unsafe in file names replaced."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{task}-{preset}")
    return Path(root) / f"{safe}-{stamp}"


def _refuse_secrets(obj: Any, where: str = "") -> None:
    if isinstance(obj, dict):
        for key, value in obj.items():
            if _SECRET_KEY.search(str(key)) and value not in (None, ""):
                raise ConfigError(
                    f"config key {where}{key!s} looks like a secret; API keys are read "
                    "from the environment and never written to a run"
                )
            _refuse_secrets(value, f"{where}{key}.")
    elif isinstance(obj, list):
        for value in obj:
            _refuse_secrets(value, where)
