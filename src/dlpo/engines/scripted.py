"""A scripted engine for unit tests of pure logic (prompt building, parsing, acceptance).

It never stands in for a real model in an integration test. Replies come from a callable that sees
the request, or from a fixed list consumed in order. Like a real model it stops at the request's
`max_tokens` (counting a word as a token): a longer reply is cut there, with finish_reason "length".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from dlpo.engines.base import ChatRequest, Completion


def stop_at_max_tokens(text: str, request: ChatRequest) -> tuple[str, int, str]:
    """(text, completion tokens, finish_reason) of a scripted reply under the request's max_tokens,
    a word counting as a token: a longer reply is cut there with finish_reason "length"."""
    words = text.split()
    if len(words) > request.max_tokens:
        return " ".join(words[: request.max_tokens]), request.max_tokens, "length"
    return text, len(words), "stop"


class ScriptedEngine:
    def __init__(
        self,
        replies: Callable[[ChatRequest], str] | Iterable[str],
        name: str = "scripted",
    ) -> None:
        self._fn = replies if callable(replies) else None
        self._queue = None if callable(replies) else list(replies)
        self._name = name
        self.requests: list[ChatRequest] = []

    @property
    def cache_id(self) -> str:
        return f"scripted:{self._name}"

    async def complete(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        out = []
        for request in requests:
            self.requests.append(request)
            if self._fn is not None:
                text = self._fn(request)
            else:
                if not self._queue:
                    raise AssertionError("ScriptedEngine ran out of scripted replies")
                text = self._queue.pop(0)
            prompt_tokens = sum(len(m.content.split()) for m in request.messages)
            text, tokens, finish = stop_at_max_tokens(text, request)
            out.append(
                Completion(
                    text=text,
                    prompt_tokens=prompt_tokens,
                    completion_tokens=tokens,
                    latency_s=0.0,
                    model=self.cache_id,
                    finish_reason=finish,
                )
            )
        return out

    async def aclose(self) -> None:
        return None
