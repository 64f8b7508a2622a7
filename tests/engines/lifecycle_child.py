"""A process that starts a managed llama-server, reports its pids and port on stdout (one JSON line),
then ends the way the test asks: `exit` (normal end, no explicit close), `close`, `raise`, or `wait`
(an in-flight request that never finishes, until the test signals or kills this process)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from dlpo.engines.base import ChatRequest
from dlpo.engines.local_engine import LocalEngine


def children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(p) for p in text.split()]


async def main(mode: str) -> None:
    engine = LocalEngine("qwen2.5-0.5b", slots=1, ctx_per_slot=512)
    await engine.complete([ChatRequest.chat("Reply briefly.", "Hi", max_tokens=2)])
    server = engine.server
    assert server is not None and server.pid is not None
    info = {
        "watchdog": server.pid,
        "server": children(server.pid),
        "port": server.base_url.split(":")[-1].split("/")[0],
    }
    print(json.dumps(info), flush=True)
    if mode == "close":
        await engine.aclose()
    elif mode == "raise":
        raise RuntimeError("boom")
    elif mode == "wait":
        long = ChatRequest.chat("You are verbose.", "Write a very long story.", max_tokens=4000)
        await asyncio.gather(engine.complete([long]), asyncio.sleep(600))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
