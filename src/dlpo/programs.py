"""Programs: a user function that calls the forward model any number of times with named prompts.

    async def two_step(prompts, example, llm):
        quantities = await llm("extract", example.input)
        return await llm("answer", f"{example.input}\\n\\nQuantities:\\n{quantities}")

    task = dlpo.Task.from_records(rows, input="question", target="answer",
                                  program=two_step, prompts={"extract": "...", "answer": "..."})

`llm(name, text)` sends `text` as the user message with the prompt called `name` as the system
message (greedy, through the run's cache and ledger) and returns the reply; a synchronous program
calls it the same way without `await` (it runs in a worker thread). Every call is recorded in the
example's trace. The single system prompt of a plain task is the one-prompt, one-call special case.

A set of named prompts travels through the run as one text, `render_prompts` ("### name" headers),
so the run folder, checkpoints, best-prompt tracking and reports work unchanged; `parse_prompts`
reads it back. How each prompt is optimized: `optim.prompt_group`.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dlpo.engines.base import ChatRequest
from dlpo.errors import ConfigError
from dlpo.tasks.base import Example
from dlpo.tasks.metric import MetricError

_HEADER = re.compile(r"^### (\S+)[ \t]*$", re.MULTILINE)
Program = Callable[..., Any]


def render_prompts(prompts: Mapping[str, str]) -> str:
    """One text holding every named prompt, in order: "### name" then the prompt, per prompt."""
    return "\n\n".join(f"### {name}\n{text.strip()}" for name, text in prompts.items())


def parse_prompts(text: str) -> dict[str, str]:
    """The named prompts of a `render_prompts` text (a text without headers is one prompt, "system")."""
    heads = list(_HEADER.finditer(text))
    if not heads or text[: heads[0].start()].strip():
        return {"system": text}
    out = {}
    for k, head in enumerate(heads):
        end = heads[k + 1].start() if k + 1 < len(heads) else len(text)
        out[head.group(1)] = text[head.end() : end].strip()
    return out


def check_prompts(prompts: Mapping[str, str]) -> dict[str, str]:
    if not prompts:
        raise ConfigError("a program needs at least one named prompt (prompts={'name': 'text', ...})")
    bad = [n for n in prompts if not re.fullmatch(r"[A-Za-z0-9_.-]+", str(n))]
    if bad:
        raise ConfigError(f"prompt names may use letters, digits, '_', '-' and '.' only: {bad}")
    return {str(k): str(v) for k, v in prompts.items()}


@dataclass(frozen=True)
class Call:
    """One model call of a program: the prompt's name, the user text, the reply."""

    prompt: str
    input: str
    output: str
    finish_reason: str = "stop"


class ProgramError(MetricError):
    """A program raised, hung or returned something that is not text (exit code 2)."""

    def __str__(self) -> str:
        where = f" during {self.where}" if self.where else ""
        return (
            f"program {self.problem} on example {self.example_id!r}{where}; fix the program, or pass "
            "on_error='score_zero' to score such examples 0 and go on"
        )


class ProgramLLM:
    """The `llm` a program is given: `await llm(name, text)` from async code, `llm(name, text)` from
    a synchronous program (which runs in a worker thread)."""

    def __init__(
        self,
        client: Any,
        prompts: Mapping[str, str],
        role: str,
        max_tokens: int,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.client, self.prompts, self.role, self.max_tokens, self.loop = (
            client,
            prompts,
            role,
            max_tokens,
            loop,
        )
        self.calls: list[Call] = []
        self._loop_thread = threading.get_ident()

    async def ask(self, name: str, text: str, *, max_tokens: int | None = None) -> str:
        if name not in self.prompts:
            raise KeyError(f"no prompt named {name!r} (prompts: {', '.join(self.prompts)})")
        request = ChatRequest.chat(
            self.prompts[name], str(text), temperature=0.0, max_tokens=max_tokens or self.max_tokens, seed=0
        )
        [reply] = await self.client.complete([request], role=self.role)
        self.calls.append(Call(name, str(text), reply.text, reply.finish_reason))
        return reply.text

    def __call__(self, name: str, text: str, *, max_tokens: int | None = None) -> Any:
        coro = self.ask(name, text, max_tokens=max_tokens)
        if threading.get_ident() == self._loop_thread:
            return coro  # an async program awaits it
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()


async def run_program(
    program: Program,
    prompts: Mapping[str, str],
    example: Example,
    client: Any,
    *,
    role: str,
    max_tokens: int,
    timeout: float,
    on_error: str,
) -> tuple[str, tuple[Call, ...], str | None]:
    """(output, trace, problem): the program's output on `example` and its calls; on failure with
    `on_error="score_zero"`, an empty output and the problem (else `ProgramError`)."""
    llm = ProgramLLM(client, prompts, role, max_tokens, asyncio.get_running_loop())
    try:
        try:
            if inspect.iscoroutinefunction(program):
                out = await asyncio.wait_for(program(prompts, example, llm), timeout)
            else:
                out = await asyncio.wait_for(asyncio.to_thread(program, prompts, example, llm), timeout)
                if inspect.isawaitable(out):
                    out = await asyncio.wait_for(out, timeout)
        except TimeoutError:
            raise ProgramError(example.id, f"took longer than {timeout:g} s") from None
        except MetricError:
            raise
        except Exception as exc:  # user code: reported in one line, never a crash
            if _is_engine_error(exc):
                raise
            detail = " ".join(str(exc).split()) or "(no message)"
            raise ProgramError(example.id, f"raised {type(exc).__name__}: {detail[:200]}") from exc
        if not isinstance(out, str):
            raise ProgramError(example.id, f"returned {type(out).__name__} {str(out)[:60]!r} (expected text)")
        return out, tuple(llm.calls), None
    except ProgramError as err:
        if on_error == "score_zero":
            return "", tuple(llm.calls), f"program error: {err.problem}"
        raise


def _is_engine_error(exc: BaseException) -> bool:
    from dlpo.errors import DlpoError

    return isinstance(exc, DlpoError)


def trace_text(calls: Sequence[Call], output: str, target: str) -> str:
    """A program's trace as the critic reads it: every call, the one of prompt `target` marked."""
    lines = [f"The program called the model {len(calls)} time(s); the prompt under review is '{target}'."]
    for k, c in enumerate(calls, 1):
        mark = " (the prompt under review)" if c.prompt == target else ""
        lines.append(
            f"[call {k}: prompt '{c.prompt}'{mark}]\ninput: {c.input.strip()}\nreply: {c.output.strip()}"
        )
    lines.append(f"[final output]\n{output.strip()}")
    return "\n".join(lines)
