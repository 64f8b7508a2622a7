"""Helpers of the fault scenarios: launch the fit script, compare runs, count repeated calls."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from dlpo.runs.events import read_events, strip_volatile

FIT = Path(__file__).with_name("fit_proxy.py")
MODEL = "qwen2.5-0.5b"
TIMEOUT_S = float(os.environ.get("DLPO_FAULT_TIMEOUT", "45"))  # the client's per-request timeout
STALL_S = TIMEOUT_S + 5  # a stalled request is held past it
SECRET = "sk-fault-SECRET-4242"


def launch(run_dir: Path, base_url: str, *extra: str) -> subprocess.Popen:
    cmd = [
        sys.executable,
        str(FIT),
        str(run_dir),
        "--base-url",
        base_url,
        "--timeout",
        str(TIMEOUT_S),
        *extra,
    ]
    env = {**os.environ, "OPENAI_API_KEY": SECRET}
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def finish(proc: subprocess.Popen, limit_s: float = 900) -> dict[str, Any]:
    out, err = proc.communicate(timeout=limit_s)
    assert proc.returncode == 0, f"fit exited {proc.returncode}: {err[-3000:]}"
    return json.loads(out.strip().splitlines()[-1])


def comparable(result: dict[str, Any]) -> dict[str, Any]:
    d = dict(result)
    d.pop("run_dir", None)
    return strip_volatile([d])[0]


def stream(run_dir: Path) -> list[dict[str, Any]]:
    return strip_volatile(read_events(run_dir / "events.jsonl"))


def cached_wire_keys(run_dir: Path) -> set[str]:
    """The wire keys (see proxy.wire_key) of every response in a run's cache."""
    from .proxy import wire_key

    con = sqlite3.connect(run_dir / "cache.sqlite")
    try:
        rows = con.execute("SELECT request FROM responses").fetchall()
    finally:
        con.close()
    keys = set()
    for (raw,) in rows:
        r = json.loads(raw)
        seed = None if r["seed"] is None else r["seed"] + r["sample_index"]
        body = {"model": MODEL, "messages": r["messages"], "temperature": r["temperature"],
                "max_tokens": r["max_tokens"], "seed": seed, "stop": r["stop"] or None}  # fmt: skip
        keys.add(wire_key(body))
    return keys


def duplicates(keys: list[str]) -> int:
    """Calls the model completed more than once (a key seen n times counts n - 1)."""
    return len(keys) - len(set(keys))


def files_containing(folder: Path, needle: str) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


def format_table(rows: dict[str, dict[str, Any]]) -> str:
    head = ("scenario", "faults injected", "runs completed", "results identical", "calls repeated")
    lines = [head] + [
        (name, r["faults"], r["completed"], r["identical"], str(r["repeated"])) for name, r in rows.items()
    ]
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(head))]
    out = [" | ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)) for line in lines]
    out.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(out)
