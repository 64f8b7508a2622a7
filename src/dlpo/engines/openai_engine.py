"""`OpenAIEngine`: any OpenAI-compatible chat server through the official `openai` SDK.

The SDK's own retries are off (`max_retries=0`); this engine retries connection errors, timeouts,
408, 429 (honouring `Retry-After`) and 5xx with exponential backoff and full jitter, and fails at
once, with one readable line, on any other 4xx. The API key is read from an environment variable
when the first request is made and never appears in a message or repr.
"""

from __future__ import annotations

import asyncio
import http
import json
import os
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import urlparse

from dlpo.engines.base import ChatRequest, Completion
from dlpo.engines.retry import Backoff, parse_retry_after
from dlpo.errors import EngineError, EngineInputError

DEFAULT_BASE_URL = "https://api.openai.com/v1"
_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}
# 4xx statuses that mean the user's key, model, URL or request is wrong (EngineInputError, exit 2).
_INPUT_STATUSES = frozenset({400, 401, 403, 404})
_CONTEXT_HINTS = ("context length", "context_length", "maximum context", "context size", "too many tokens")


def is_local_url(base_url: str | None) -> bool:
    return bool(base_url) and (urlparse(base_url).hostname or "") in _LOCAL_HOSTS


class _Retryable(Exception):
    """Internal: one failed attempt that may be retried after `wait` seconds (None = backoff)."""

    def __init__(self, cause: str, wait: float | None = None) -> None:
        super().__init__(cause)
        self.cause = cause
        self.wait = wait


class OpenAIEngine:
    """An `Engine` for OpenAI-compatible `/v1/chat/completions` servers.

    `max_retries` counts retries after the first attempt. `sleep` and `backoff` are injectable so
    tests can observe the delays without waiting for them. `label` names the engine in error
    messages (the `local` engine passes its own spec).
    """

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        timeout: float = 120.0,
        concurrency: int = 8,
        max_retries: int = 4,
        backoff: Backoff | None = None,
        max_retry_after: float = 120.0,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        label: str | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        self.model = model
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.api_key_env = api_key_env
        self.timeout = timeout
        self.concurrency = concurrency
        self.max_retries = max_retries
        self.backoff = backoff if backoff is not None else Backoff(rng=random.Random())
        self.max_retry_after = max_retry_after
        self._sleep = sleep
        self._label = label
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: Any = None
        self._semaphore: asyncio.Semaphore | None = None
        self.attempts = 0  # total HTTP attempts made (tests and diagnostics)
        self._reached = False  # a reply (any HTTP status) came back at least once

    # The server accepts `response_format: json_schema` (OpenAI, llama-server, vLLM, SGLang do);
    # an engine without it gets tag-based update requests instead.
    supports_json_schema = True

    @property
    def cache_id(self) -> str:
        return f"openai:{self.model}@{self.base_url}"

    @property
    def label(self) -> str:
        """How error messages name this engine (the cache id unless the owner gives another name)."""
        return self._label or self.cache_id

    def __repr__(self) -> str:
        return (
            f"OpenAIEngine(model={self.model!r}, base_url={self.base_url!r}, "
            f"api_key_env={self.api_key_env!r}, concurrency={self.concurrency})"
        )

    def _api_key(self) -> str:
        key = os.environ.get(self.api_key_env)
        if key:
            return key
        if is_local_url(self.base_url):
            return "sk-no-key"
        raise EngineInputError(f"{self.label}: no API key: set the environment variable {self.api_key_env}")

    async def _state(self) -> tuple[Any, asyncio.Semaphore]:
        """The SDK client and semaphore of the running loop (both are bound to one event loop).

        A client made on an earlier loop is closed here, on purpose: left to the garbage collector,
        the SDK would close it in a task on this loop, which fails on the dead loop's connections
        ("Task exception was never retrieved ... Event loop is closed")."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._client is None or self._semaphore is None:
            from openai import AsyncOpenAI

            stale, self._client = self._client, None
            await _close_quietly(stale)

            self._client = AsyncOpenAI(
                api_key=self._api_key(), base_url=self.base_url, timeout=self.timeout, max_retries=0
            )
            self._semaphore = asyncio.Semaphore(self.concurrency)
            self._loop = loop
        return self._client, self._semaphore

    async def complete(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        client, semaphore = await self._state()
        return list(await asyncio.gather(*(self._one(client, semaphore, r) for r in requests)))

    async def _one(self, client: Any, semaphore: asyncio.Semaphore, request: ChatRequest) -> Completion:
        attempts = self.max_retries + 1
        last = ""
        for attempt in range(1, attempts + 1):
            try:
                async with semaphore:
                    return await self._attempt(client, request)
            except _Retryable as exc:
                last = exc.cause
                if attempt == attempts:
                    break
                wait = (
                    self.backoff.delay(attempt) if exc.wait is None else min(exc.wait, self.max_retry_after)
                )
                await self._sleep(wait)
        message = f"{self.label}: gave up after {attempts} attempts; last error: {last}"
        if not self._reached and last.startswith("connection error"):
            # Never reached at all: a wrong URL or a server that is not running (user input);
            # a server that answered before and died mid-run is a run failure (EngineError).
            raise EngineInputError(f"{message}; is the server running at {self.base_url}?")
        raise EngineError(message)

    async def _attempt(self, client: Any, request: ChatRequest) -> Completion:
        import openai

        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": [m.to_dict() for m in request.messages],
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
        }
        if request.stop:
            kwargs["stop"] = list(request.stop)
        if request.seed is not None:
            # Repeated samples of one request differ through their seed (sample_index itself is not sent).
            kwargs["seed"] = request.seed + request.sample_index
        if request.json_schema is not None:
            kwargs["response_format"] = {
                "type": "json_schema",
                # not "strict": OpenAI's strict mode refuses some schema keywords; servers that
                # constrain decoding (llama-server, vLLM) apply the schema either way
                "json_schema": {"name": "reply", "schema": json.loads(request.json_schema)},
            }
        self.attempts += 1
        start = time.perf_counter()
        try:
            response = await client.chat.completions.create(**kwargs)
        except openai.APITimeoutError:
            raise _Retryable(f"timed out after {self.timeout:g} s") from None
        except openai.APIConnectionError as exc:
            raise _Retryable(f"connection error: {self._redact(_first_line(exc))}") from None
        except openai.APIStatusError as exc:
            self._reached = True
            status = exc.status_code
            cause = f"{status} {_phrase(status)}"
            if status in (408, 429) or status >= 500:
                wait = parse_retry_after(exc.response.headers) if status == 429 else None
                raise _Retryable(cause, wait) from None
            error = EngineInputError if status in _INPUT_STATUSES else EngineError
            raise error(f"{self.label}: {cause} — {self._hint(status, exc)}") from None
        except openai.APIError as exc:  # e.g. a reply that is not valid JSON
            raise _Retryable(f"bad reply: {self._redact(_first_line(exc))}") from None
        except ValueError as exc:  # a 200 whose body is not JSON: the SDK raises JSONDecodeError
            raise _Retryable(f"bad reply: not JSON ({_first_line(exc)})") from None
        self._reached = True
        latency = time.perf_counter() - start
        return self._completion(response, latency)

    def _completion(self, response: Any, latency: float) -> Completion:
        if not getattr(response, "choices", None):
            raise _Retryable("reply had no choices")
        choice = response.choices[0]
        usage = getattr(response, "usage", None)
        extra: dict[str, Any] = {}
        timings = (getattr(response, "model_extra", None) or {}).get("timings")
        if timings:
            extra["timings"] = timings  # llama-server: prompt_ms, predicted_ms, ...
        return Completion(
            text=(choice.message.content or "") if choice.message else "",
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
            latency_s=latency,
            finish_reason=choice.finish_reason or "stop",
            model=self.cache_id,
            extra=extra,
        )

    def _hint(self, status: int, exc: Exception) -> str:
        detail = self._redact(_server_message(exc))
        if status == 401:
            return f"check {self.api_key_env}"
        if status == 403:
            return f"permission denied; check {self.api_key_env} and access to model '{self.model}'"
        if status == 404:
            return f"unknown model '{self.model}' or wrong base URL ({detail})"
        if status == 400 and any(h in detail.lower() for h in _CONTEXT_HINTS):
            return f"the request is longer than the model's context window ({detail})"
        return detail or "the server rejected the request"

    def _redact(self, text: str) -> str:
        key = os.environ.get(self.api_key_env)
        return text.replace(key, "***") if key else text

    async def aclose(self) -> None:
        client, self._client, self._semaphore, self._loop = self._client, None, None, None
        await _close_quietly(client)

    async def release_client(self) -> None:
        """Close the loop-bound client at the end of a trial (a sweep shares engines across trials
        that each run on their own loop); the next call makes a new one. Same as `aclose` here:
        there is no server to keep."""
        await self.aclose()


async def _close_quietly(client: Any) -> None:
    """Close an SDK client; one made on a loop that has ended cannot close its connections, but
    is marked closed all the same (so the SDK does not try again from its finalizer)."""
    if client is None:
        return
    try:
        await client.close()
    except RuntimeError:  # created on a loop that is already closed
        pass


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "HTTP error"


def _first_line(exc: BaseException) -> str:
    cause = exc.__cause__ or exc
    text = str(cause) or type(cause).__name__
    return text.strip().splitlines()[0][:200] if text.strip() else type(cause).__name__


def _server_message(exc: Exception) -> str:
    """The server's error message as one short line."""
    body = getattr(exc, "body", None)
    message = ""
    if isinstance(body, dict):
        inner = body.get("error", body)
        message = inner.get("message", "") if isinstance(inner, dict) else str(inner)
    elif body is not None:
        message = str(body)
    if not message:
        message = getattr(exc, "message", "") or str(exc)
    return " ".join(message.split())[:240]
