"""`dlpo chat`: send one message to an engine and print the reply and its usage."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

DEFAULT_SYSTEM = "You are a helpful assistant."


def default_cache_path() -> Path:
    return Path.home() / ".cache" / "dlpo" / "cache.sqlite"


async def chat_once(
    engine_spec: str,
    text: str,
    system: str = DEFAULT_SYSTEM,
    max_tokens: int = 256,
    temperature: float = 0.0,
    cache_path: Path | None = None,
):
    """One request through an `LLMClient`; returns the `Completion`."""
    from dlpo.cache import ResponseCache
    from dlpo.engines.base import ChatRequest
    from dlpo.engines.client import LLMClient
    from dlpo.engines.spec import build_engine

    cache = ResponseCache(cache_path) if cache_path is not None else None
    client = LLMClient(build_engine(engine_spec, role="forward"), cache=cache)
    try:
        request = ChatRequest.chat(system, text, temperature=temperature, max_tokens=max_tokens)
        [completion] = await client.complete([request], role="chat")
        return completion
    finally:
        await client.aclose()
        if cache is not None:
            cache.close()


def usage_line(completion) -> str:
    return (
        f"[{completion.model}] tokens: {completion.prompt_tokens} prompt + {completion.completion_tokens} "
        f"completion; latency {completion.latency_s:.2f} s; finish: {completion.finish_reason}; "
        f"cached: {'yes' if completion.cached else 'no'}"
    )


def register(app: typer.Typer) -> None:
    @app.command("chat")
    def chat(
        text: Annotated[str, typer.Argument(help="The user message.")],
        engine: Annotated[
            str,
            typer.Option(
                "--engine",
                "-e",
                help="Engine spec, e.g. local, openai:gpt-4o-mini, openai:MODEL@http://127.0.0.1:8080/v1",
            ),
        ] = "local",
        system: Annotated[str, typer.Option("--system", "-s", help="System message.")] = DEFAULT_SYSTEM,
        max_tokens: Annotated[int, typer.Option("--max-tokens", min=1)] = 256,
        temperature: Annotated[float, typer.Option("--temperature", min=0.0)] = 0.0,
        no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not read or write the cache.")] = False,
        cache: Annotated[Path | None, typer.Option("--cache", help="Cache file.")] = None,
    ) -> None:
        """Send one message to an engine; print the reply, then a usage line on stderr."""
        from dlpo.engines.base import run_sync

        cache_path = None if no_cache else (cache or default_cache_path())
        completion = run_sync(chat_once(engine, text, system, max_tokens, temperature, cache_path))
        typer.echo(completion.text)
        typer.echo(usage_line(completion), err=True)
