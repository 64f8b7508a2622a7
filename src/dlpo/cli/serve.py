"""`dlpo serve`: the embedded models as persistent OpenAI-compatible endpoints.

One managed llama-server per model (parallel slots, loopback only), started once and shared by
every sweep, notebook or other tool that points an `openai:MODEL@URL` spec at it; a run that uses
them pays no model start-up and shares the server's prompt cache. The servers stop on Ctrl-C or
SIGTERM (and with this process, whatever ends it).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Annotated

import typer

from dlpo.cli.models import WHICH_HELP, CacheDir, _selected

Opt = typer.Option


def serve(
    which: Annotated[str, Opt("--which", help=WHICH_HELP)] = "all",
    slots: Annotated[
        int | None,
        Opt("--slots", min=1, help="Parallel slots per model (half the cores, 1-4; 1 = bit-exact)."),
    ] = None,
    ctx: Annotated[int, Opt("--ctx", min=256, help="Context tokens per slot.")] = 4096,
    threads: Annotated[int | None, Opt("--threads", min=1, help="CPU threads (default: every core).")] = None,
    port: Annotated[
        int | None,
        Opt("--port", min=1, max=65535, help="First port (next models: +1, +2); default free ports."),
    ] = None,
    host: Annotated[str, Opt("--host", help="Address to listen on (loopback by default).")] = "127.0.0.1",
    as_json: Annotated[bool, Opt("--json", help="Print the endpoints as one JSON line.")] = False,
    cache_dir: CacheDir = None,
) -> None:
    """Start the embedded models as OpenAI-compatible servers and print the engine specs to use."""
    from dlpo.engines.llama_server import LlamaServer, ServerOptions
    from dlpo.engines.local_engine import default_slots
    from dlpo.engines.models import ensure_model
    from dlpo.errors import ConfigError

    names = _selected(which)
    if not names:
        raise ConfigError("--which none: nothing to serve")
    slots = slots or default_slots()
    options = ServerOptions(slots=slots, ctx_per_slot=ctx, threads=threads)
    servers: list[LlamaServer] = []
    try:
        for i, name in enumerate(names):
            path: Path = ensure_model(name, cache_dir, progress=False)
            server = LlamaServer(path, name, options, host=host, port=None if port is None else port + i)
            servers.append(server)
            server.start()
        specs = {s.alias: f"openai:{s.alias}@{s.base_url}" for s in servers}
        if as_json:
            typer.echo(json.dumps(specs))
        else:
            for alias, spec in specs.items():
                typer.echo(f"{alias}: {spec}")
            if len(specs) >= 2:
                forward, backward = list(specs.values())[:2]
                typer.echo(f"use: dlpo optimize --forward {forward} --backward {backward}")
            typer.echo(f"{slots} slot(s) per model; Ctrl-C stops the servers.")
        _wait_for_interrupt(servers)
    finally:
        for server in servers:
            server.stop()


def _wait_for_interrupt(servers: list) -> None:
    """Block until Ctrl-C/SIGTERM (raised as KeyboardInterrupt by the CLI) or a server dies."""
    from dlpo.errors import EngineError

    stop = threading.Event()
    while not stop.wait(1.0):
        dead = [s.alias for s in servers if not s.running]
        if dead:
            raise EngineError(f"llama-server for {', '.join(dead)} exited; stopping the others")


def register(app: typer.Typer) -> None:
    app.command(
        "serve",
        epilog="Examples: `dlpo serve` (both models, free ports); `dlpo serve --which small --slots 1 --port 8080`.",
    )(serve)
