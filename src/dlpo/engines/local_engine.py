"""`LocalEngine`: an embedded GGUF model served by a managed `llama-server` on 127.0.0.1.

The server (`dlpo.engines.llama_server`) is started on the first request, not at construction, so
building an engine (or importing dlpo) costs nothing; requests go through the same `OpenAIEngine`
as any other OpenAI-compatible server, with as many requests in flight as the server has slots.
`aclose()` stops the server. A server that dies mid-run is started again (up to `max_restarts`
times) and the failed requests are retried once.

Determinism: with one slot (`slots=1`) greedy answers are bit-exact from run to run. With several
slots, which requests share a decode batch depends on timing, and llama.cpp's batched numerics
can change the tail of a greedy answer; the response cache still replays every finished call
exactly (see docs/determinism in the README).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from dlpo.engines.base import ChatRequest, Completion
from dlpo.engines.llama_server import LlamaServer, ServerOptions, cpu_cores
from dlpo.engines.models import MODELS, ensure_model
from dlpo.engines.openai_engine import OpenAIEngine
from dlpo.errors import EngineError, ModelInstallError

MAX_DEFAULT_SLOTS = 4


def default_slots(cores: int | None = None) -> int:
    """Parallel slots when none are asked for: half the cores, 1 to 4.

    Slots pay when decoding has idle compute to batch into. On a 2-core machine it has none:
    4 slots gave 1.16-1.36x one stream's tokens/s and the main job ran 10 % slower than on one slot
    (172.8 s vs 157.8 s, docs/measurements.md), so one slot there: as fast, and bit-exact."""
    n = cpu_cores() if cores is None else cores
    return max(1, min(MAX_DEFAULT_SLOTS, n // 2))


DEFAULT_CTX_PER_SLOT = 4096
LOCAL_TIMEOUT_S = 900.0  # a long answer of the 1.5B model on two busy cores takes minutes


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
    """An `Engine` over a managed llama-server. `model` is a registry name or a path to a .gguf file."""

    supports_json_schema = True  # llama-server constrains decoding to a JSON schema

    def __init__(
        self,
        model: str | Path,
        slots: int | None = None,
        ctx_per_slot: int = DEFAULT_CTX_PER_SLOT,
        n_threads: int | None = None,
        seed: int = 0,
        timeout: float = LOCAL_TIMEOUT_S,
        max_retries: int = 2,
        cache_dir: str | Path | None = None,
        server_args: Sequence[str] = (),
        max_restarts: int = 2,
    ) -> None:
        self.model = model
        self.options = ServerOptions(
            slots=slots or default_slots(),
            ctx_per_slot=ctx_per_slot,
            threads=n_threads,
            extra=tuple(server_args),
        )
        self.seed = seed
        self.timeout = timeout
        self.max_retries = max_retries
        self.cache_dir = cache_dir
        self.max_restarts = max_restarts
        self._cache_id = local_cache_id(model)
        self._server: LlamaServer | None = None
        self._client: OpenAIEngine | None = None
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None
        self.restarts = 0

    @property
    def cache_id(self) -> str:
        return self._cache_id

    @property
    def slots(self) -> int:
        return self.options.slots

    @property
    def server(self) -> LlamaServer | None:
        """The managed server (None before the first request)."""
        return self._server

    def __repr__(self) -> str:
        return f"LocalEngine(model={str(self.model)!r}, slots={self.options.slots})"

    def _model_path(self) -> Path:
        if isinstance(self.model, str) and self.model in MODELS:
            return ensure_model(self.model, self.cache_dir, progress=False)
        path = Path(self.model).expanduser()
        if not path.is_file():
            raise ModelInstallError(f"model file not found: {path}")
        return path.resolve()

    def _alias(self) -> str:
        return self._cache_id.removeprefix("local:")

    def _async_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:
            self._lock, self._lock_loop = asyncio.Lock(), loop
        return self._lock

    async def start(self) -> OpenAIEngine:
        """Start the server if it is not running; the client that talks to it."""
        async with self._async_lock():
            if self._server is None:
                self._server = LlamaServer(self._model_path(), self._alias(), self.options, seed=self.seed)
            if not self._server.running or self._client is None:
                if self._server.starts > 0 and not self._server.running:
                    self.restarts += 1
                base_url = await asyncio.to_thread(self._server.start)
                if self._client is not None:
                    await self._client.aclose()
                self._client = OpenAIEngine(
                    self._alias(),
                    base_url=base_url,
                    timeout=self.timeout,
                    concurrency=self.options.slots,
                    max_retries=self.max_retries,
                    label=self._cache_id,
                )
            return self._client

    async def complete(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        client = await self.start()
        try:
            out = await client.complete(requests)
        except EngineError:
            if self._server is None or self._server.running or self.restarts >= self.max_restarts:
                raise
            client = await self.start()  # the server died under us: start it again, retry once
            out = await client.complete(requests)
        build = self._server.build if self._server is not None else None
        return [_as_local(c, self._cache_id, build) for c in out]

    async def aclose(self) -> None:
        """Stop the server and close the client (a later request starts the server again)."""
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()
        if self._server is not None:
            await asyncio.to_thread(self._server.stop)

    async def release_client(self) -> None:
        """Close the HTTP client, which is bound to the running event loop, and keep the server.

        A sweep shares one server across trials that each run on their own loop; a client left
        open when its loop ends would be closed later on a dead loop ("Event loop is closed")."""
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    def close(self) -> None:
        """Synchronous stop, for code that runs outside an event loop (atexit, worker shutdown)."""
        self._client = None
        if self._server is not None:
            self._server.stop()


def _as_local(completion: Completion, cache_id: str, build: str | None) -> Completion:
    """The completion under the engine's cache id, marked with the server build that made it."""
    from dataclasses import replace

    extra = {**completion.extra, "build": build} if build else completion.extra
    return replace(completion, model=cache_id, extra=extra)
