"""The engine contract: a batch of chat requests in, completions with token usage out.

Every backend (`openai`, `local`, scripted fakes in tests) implements `Engine`. Caching, usage
accounting and budgets are *not* the engine's job: `dlpo.engines.client.LLMClient` wraps any
engine with them, so a backend file stays small.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str

    def to_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True)
class ChatRequest:
    """One chat completion request. Immutable and hashable, so it can key the cache.

    `sample_index` tells apart repeated samples of the same request at temperature > 0
    (each gets its own cache entry); it is never sent to the backend. `json_schema` (a JSON
    Schema, serialized) asks for structured output: engines that support it constrain the reply
    to the schema (OpenAI and llama-server: `response_format` of type `json_schema`).
    """

    messages: tuple[ChatMessage, ...]
    temperature: float = 0.0
    max_tokens: int = 512
    stop: tuple[str, ...] = ()
    seed: int | None = 0
    sample_index: int = 0
    json_schema: str | None = None

    @classmethod
    def chat(cls, system: str, user: str, **params: Any) -> ChatRequest:
        """Shorthand for the common system + user request."""
        return cls(messages=(ChatMessage("system", system), ChatMessage("user", user)), **params)

    def to_dict(self) -> dict[str, Any]:
        return {
            "messages": [m.to_dict() for m in self.messages],
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "stop": list(self.stop),
            "seed": self.seed,
            "sample_index": self.sample_index,
            # only when set, so the cache keys of plain requests stay what they were
            **({"json_schema": self.json_schema} if self.json_schema is not None else {}),
        }


@dataclass(frozen=True)
class Completion:
    """What a backend returned for one request."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    finish_reason: str = "stop"
    model: str = ""
    cached: bool = False
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@runtime_checkable
class Engine(Protocol):
    """An LLM backend.

    `cache_id` identifies the backend and model for the response cache (two engines with the same
    `cache_id` must produce interchangeable answers). `complete` answers a batch of requests, in
    order; it may run them concurrently up to its own limit. It raises `dlpo.errors.EngineError`
    when a request cannot be answered after the engine's own retries.
    """

    @property
    def cache_id(self) -> str: ...

    async def complete(self, requests: Sequence[ChatRequest]) -> list[Completion]: ...

    async def aclose(self) -> None: ...


T = TypeVar("T")


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine from synchronous code.

    With no running event loop (scripts) this is `asyncio.run`. Inside a running loop (Jupyter)
    the coroutine runs to completion on a fresh loop in a worker thread.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
