"""Config files for `dlpo optimize --config FILE` (YAML, TOML or JSON), as powerful as the flags.

    # demo.yaml
    task: demo                  # or task_file: data.jsonl (+ input_col, target_col)
    preset: dlpo                # or techniques: [tsa, tcl]
    recipe: {lr: 3, t0: 32}     # any recipe hyper-parameter (see `dlpo optimize --help`)
    steps: 4
    batch_size: 3
    forward: local:qwen2.5-0.5b
    budget: {max_calls: 500}
    engine: {timeout: 300, max_retries: 8, concurrency: 16}   # how calls are made (both roles)
    run_dir: runs/demo-1        # optional; also mlflow: true, mlflow_experiment: NAME

Every key of `TrainConfig` is accepted with the same constraints; a run's own `config.json` is a
valid config file. Unknown keys are errors naming the key and the allowed keys; bad values are one
line: `demo.yaml:6: batch_size: Input should be greater than or equal to 1 (got -1)`. Flags given
on the command line override the file's values. API keys are never read from a config file (only
from the environment).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from pydantic.fields import FieldInfo

from dlpo.errors import ConfigError
from dlpo.training.config import BudgetConfig, EngineSettings, TrainConfig

# Keys a file may hold besides TrainConfig's own (flag conveniences and run options).
_EXTRA_FIELDS: dict[str, Any] = {
    "preset": (str | None, None),
    "techniques": (list[str] | str | None, None),
    "task_file": (str | None, None),
    "input_col": (str | None, None),
    "target_col": (str | None, None),
    "scorer": (str | None, None),
    "data_dir": (str | None, None),
    "run_dir": (str | None, None),
    "mlflow": (bool | None, None),
    "mlflow_experiment": (str | None, None),
    "recipe": (dict[str, Any] | None, None),
    "budget": (BudgetConfig | None, None),
}
RUN_OPTIONS = ("run_dir", "mlflow", "mlflow_experiment")


def _optional(info: FieldInfo) -> tuple[Any, FieldInfo]:
    """The same field (type and constraints) but optional with default None (= not given)."""
    merged = FieldInfo.merge_field_infos(info, default=None)
    merged.default_factory = None
    return info.annotation | None, merged


def _file_model() -> type[BaseModel]:
    fields: dict[str, Any] = {
        name: _optional(info) for name, info in TrainConfig.model_fields.items() if name not in _EXTRA_FIELDS
    }
    fields.update({k: (t, Field(d)) for k, (t, d) in _EXTRA_FIELDS.items()})
    return create_model("ConfigFile", __config__=ConfigDict(extra="forbid"), **fields)


def allowed_keys() -> list[str]:
    return sorted(_file_model().model_fields)


def read_config_file(path: str | Path) -> dict[str, Any]:
    """Parse and validate a config file; returns only the keys it sets."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not valid UTF-8 (byte {exc.start}); save the file as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc.strerror})") from None
    data = _parse(path, text)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of keys to values at the top level")
    try:
        model = _file_model().model_validate(data)
    except ValidationError as exc:
        raise _file_error(path, text, exc) from None
    # Keys set to null stay (null = "none", e.g. no test limit); keys not written are absent.
    values = model.model_dump(exclude_unset=True)
    for key in ("budget", "engine"):
        if values.get(key) is not None:
            values[key] = {k: v for k, v in values[key].items() if v is not None}
    return {k: v for k, v in values.items() if v is not None or k in TrainConfig.model_fields}


def _parse(path: Path, text: str) -> Any:
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        import yaml

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f":{mark.line + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise ConfigError(f"{path}{where}: not valid YAML ({problem})") from None
    if suffix == ".toml":
        import tomllib

        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    if suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    raise ConfigError(f"{path}: unknown config file type {suffix!r}; allowed: .yaml, .yml, .toml, .json")


def _file_error(path: Path, text: str, exc: ValidationError) -> ConfigError:
    err = exc.errors()[0]
    loc = [str(p) for p in err["loc"]]
    key = ".".join(loc) or "(top level)"
    line = _line_of(text, loc[0]) if loc else None
    where = f"{path}:{line}" if line else str(path)
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    if err["type"] == "extra_forbidden":
        nested = {"budget": BudgetConfig, "engine": EngineSettings}
        allowed = sorted(nested[loc[0]].model_fields) if loc[0] in nested and len(loc) > 1 else allowed_keys()
        return ConfigError(f"{where}: unknown key {key!r}; allowed keys: {', '.join(allowed)}{more}")
    got = err.get("input")
    shown = "" if isinstance(got, dict) else f" (got {got!r})"
    return ConfigError(f"{where}: {key}: {err['msg']}{shown}{more}")


def _line_of(text: str, key: str) -> int | None:
    """Line number of a top-level key in YAML/TOML text (best effort)."""
    pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*[:=]")
    for number, line in enumerate(text.splitlines(), 1):
        if pattern.match(line):
            return number
    return None


def merge_with_flags(
    flags: dict[str, Any],
    file_values: dict[str, Any],
    where: str = "config file",
    recipe_flags: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """TrainConfig values for a new run from the file's values and the CLI flags (flags win).

    `flags` are `dlpo optimize`'s flag values (None = not given), as `run_values.config_values`
    takes them; `recipe_flags` are recipe hyper-parameter flags (t0, momentum_k, ...). The quick
    demo sizes still fill what neither gives."""
    from dlpo.optim.presets import PRESETS, resolve_recipe
    from dlpo.run_values import config_values

    fv = dict(file_values)
    f = dict(flags)
    nulls = {k for k, v in fv.items() if v is None}  # explicit nulls beat the quick demo defaults
    fv = {k: v for k, v in fv.items() if v is not None}
    if f.get("task") is not None or f.get("task_file") is not None:  # the flag's task replaces the file's
        for key in ("task", "task_file", "input_col", "target_col", "scorer", "task_options"):
            fv.pop(key, None)
    recipe = dict(fv.pop("recipe", {}) or {})
    preset = fv.pop("preset", None)
    techniques = fv.pop("techniques", recipe.pop("techniques", None))
    name = recipe.pop("name", None)
    if preset is None and name in PRESETS:
        preset = name
    renamed = {"forward_max_tokens": "max_tokens", "skip_correct_batches": "skip_correct"}
    for key in (
        "task",
        "task_file",
        "input_col",
        "target_col",
        "scorer",
        "data_dir",
        "forward",
        "backward",
        "steps",
        "epochs",
        "batch_size",
        "seed",
        "val_limit",
        "test_limit",
        "acceptance_set",
        "forward_max_tokens",
        "feedback",
        "skip_correct_batches",
        "warm_start",
        "update_format",
    ):
        flag = renamed.get(key, key)
        if key in fv and f.get(flag) is None:
            f[flag] = fv.pop(key)
        else:
            fv.pop(key, None)
    values = config_values(f)
    for key in nulls:
        if f.get(renamed.get(key, key)) is None and key not in ("task", "recipe", "budget", "task_options"):
            values[key] = None
    try:
        values["recipe"] = resolve_recipe(
            f.get("preset") or (None if f.get("techniques") else preset),
            f.get("techniques") or (None if f.get("preset") else techniques),
            **{
                **recipe,
                **{k: v for k, v in (recipe_flags or {}).items() if v is not None},
                **{k: f[k] for k in ("lr", "dropout") if f.get(k) is not None},
            },
        )
    except ConfigError as exc:
        text = str(exc) if str(exc).startswith("recipe:") else f"recipe: {exc}"
        raise ConfigError(f"{where}: {text}") from None
    for nested in ("budget", "engine"):  # flag values win key by key
        merged = {**fv.pop(nested, {}), **values.get(nested, {})}
        if merged:
            values[nested] = merged
    task_options = fv.pop("task_options", None)
    if task_options:
        values["task_options"] = {**task_options, **values.get("task_options", {})}
    for key in RUN_OPTIONS:
        fv.pop(key, None)
    values.update(fv)  # TrainConfig keys with no flag: train_limit, eval_every, critique_max_tokens, ...
    return values
