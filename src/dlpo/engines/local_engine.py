"""`LocalEngine`: a GGUF model run in process by llama.cpp (`llama-cpp-python`).

The model is loaded on the first request, not at construction, and `llama_cpp` is imported only
then, so building an engine (or importing dlpo) costs nothing. llama.cpp decodes one sequence at a
time and a `Llama` object is not thread-safe, so calls are serialized: an asyncio lock keeps a batch
from occupying the default thread pool, and a thread lock shared by every engine on the same
loaded model guards the model itself. Generation runs in a worker thread (`asyncio.to_thread`) so
the event loop stays free for other engines.
"""

from __future__ import annotations

import asyncio
import functools
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dlpo.engines.base import ChatRequest, Completion
from dlpo.engines.models import MODELS, ensure_model
from dlpo.errors import EngineInputError, ModelInstallError

INSTALL_HINT = "llama-cpp-python is not installed: install the 'local' extra with scripts/setup.sh"


class SharedModel:
    """One GGUF file loaded once per process with given settings; `lock` guards every use."""

    def __init__(self, path: str, n_ctx: int, n_threads: int, seed: int) -> None:
        self.path, self.n_ctx, self.n_threads, self.seed = path, n_ctx, n_threads, seed
        self.lock = threading.Lock()
        self._llama: Any = None

    def llama(self) -> Any:
        """The loaded `llama_cpp.Llama`; call with `lock` held."""
        if self._llama is None:
            try:
                import llama_cpp
            except ImportError:
                raise ModelInstallError(INSTALL_HINT) from None
            if not Path(self.path).is_file():
                raise ModelInstallError(f"model file not found: {self.path}")
            self._llama = llama_cpp.Llama(
                model_path=self.path,
                n_ctx=self.n_ctx,
                n_threads=self.n_threads,
                seed=self.seed,
                verbose=False,
            )
        return self._llama

    @property
    def loaded(self) -> bool:
        return self._llama is not None


@functools.lru_cache(maxsize=8)
def shared_model(path: str, n_ctx: int, n_threads: int, seed: int) -> SharedModel:
    """The process-wide `SharedModel` for these settings (creating it loads nothing)."""
    return SharedModel(path, n_ctx, n_threads, seed)


def local_cache_id(model: str | Path) -> str:
    """`local:<registry name>`, or for a file: the registry name if its verified hash marker matches
    a built-in model, else `local:<file name>#<size>`."""
    if isinstance(model, str) and model in MODELS:
        return f"local:{model}"
    path = Path(model).expanduser()
    marker = path.with_name(path.name + ".sha256")
    try:
        digest = marker.read_text().strip()
        for m in MODELS.values():
            if m.sha256 == digest and path.stat().st_size == m.size:
                return f"local:{m.name}"
    except OSError:
        pass
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    return f"local:{path.name}#{size}"


class LocalEngine:
    """An `Engine` over llama.cpp in process. `model` is a registry name or a path to a .gguf file."""

    def __init__(
        self,
        model: str | Path,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        seed: int = 0,
        cache_dir: str | Path | None = None,
    ) -> None:
        self.model = model
        self.n_ctx = n_ctx
        self.n_threads = n_threads or os.cpu_count() or 1
        self.seed = seed
        self.cache_dir = cache_dir
        self._cache_id = local_cache_id(model)
        self._shared: SharedModel | None = None
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None

    @property
    def cache_id(self) -> str:
        return self._cache_id

    def __repr__(self) -> str:
        return f"LocalEngine(model={str(self.model)!r}, n_ctx={self.n_ctx}, n_threads={self.n_threads})"

    def _resolve(self) -> SharedModel:
        if self._shared is None:
            if isinstance(self.model, str) and self.model in MODELS:
                path = ensure_model(self.model, self.cache_dir, progress=False)
            else:
                path = Path(self.model).expanduser()
                if not path.is_file():
                    raise ModelInstallError(f"model file not found: {path}")
            self._shared = shared_model(str(path.resolve()), self.n_ctx, self.n_threads, self.seed)
        return self._shared

    def _async_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:
            self._lock, self._lock_loop = asyncio.Lock(), loop
        return self._lock

    async def complete(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        lock = self._async_lock()
        out = []
        for request in requests:
            async with lock:
                out.append(await asyncio.to_thread(self._generate, request))
        return out

    def _generate(self, request: ChatRequest) -> Completion:
        shared = self._resolve()
        with shared.lock:
            llama = shared.llama()
            if request.temperature > 0:
                # Reusing a cached prompt prefix changes the logits slightly, and a seeded sample
                # would then differ between calls; a full evaluation makes it reproducible. Greedy
                # calls keep the prefix reuse (shared system prompts are the common case).
                llama.reset()
            start = time.perf_counter()
            try:
                result = llama.create_chat_completion(
                    messages=[m.to_dict() for m in request.messages],
                    temperature=request.temperature,
                    max_tokens=request.max_tokens,
                    stop=list(request.stop) or None,
                    # Repeated samples (sample_index) of one request get distinct, reproducible seeds.
                    seed=(request.seed if request.seed is not None else self.seed) + request.sample_index,
                )
            except ValueError as exc:  # e.g. "Requested tokens (5000) exceed context window of 4096"
                raise EngineInputError(f"{self.cache_id}: {' '.join(str(exc).split())}") from None
            latency = time.perf_counter() - start
        choice = result["choices"][0]
        usage = result.get("usage") or {}
        return Completion(
            text=choice["message"].get("content") or "",
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
            latency_s=latency,
            finish_reason=choice.get("finish_reason") or "stop",
            model=self.cache_id,
        )

    async def aclose(self) -> None:
        """Nothing to release: the shared model stays loaded for other engines of this process."""
        return
