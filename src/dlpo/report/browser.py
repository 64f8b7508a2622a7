"""Render a report in headless Chromium: a screenshot and the page's console errors.

Used by the report's browser test and by `benchmarks`/docs to look at a report; not needed to write
one. Chromium's `--enable-logging=stderr` prints console messages as `CONSOLE(...)` lines and
uncaught exceptions as "Uncaught ..."; those are returned as `console_errors`.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")
_CONSOLE = re.compile(r"CONSOLE\(\d+\)|Uncaught|console error|Failed to load resource", re.IGNORECASE)


def find_chromium() -> str | None:
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass(frozen=True)
class Rendered:
    screenshot: Path
    console_errors: list[str]
    returncode: int


def render(
    html_file: str | Path,
    screenshot: str | Path,
    *,
    width: int = 1280,
    height: int = 2000,
    timeout_s: float = 90.0,
    chromium: str | None = None,
) -> Rendered:
    """Load `html_file` headless with networking off and save a PNG screenshot."""
    exe = chromium or find_chromium()
    if exe is None:
        raise FileNotFoundError("no chromium executable on PATH")
    screenshot = Path(screenshot).resolve()
    with tempfile.TemporaryDirectory(prefix="dlpo-chromium-") as profile:
        cmd = [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            f"--screenshot={screenshot}",
            f"--window-size={width},{height}",
            Path(html_file).resolve().as_uri(),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
    errors = [line for line in proc.stderr.splitlines() if _CONSOLE.search(line)]
    return Rendered(screenshot, errors, proc.returncode)


def png_colour_count(path: str | Path, sample_rows: int = 400) -> int:
    """Distinct pixel colours of an 8-bit RGB/RGBA PNG (rows sampled evenly), decoded with zlib only.
    A blank page has 1 colour; a report with figures has hundreds."""
    data = Path(path).read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG")
    pos, idat, width = 8, b"", 0
    height = bit_depth = colour_type = 0
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height = int.from_bytes(body[:4], "big"), int.from_bytes(body[4:8], "big")
            bit_depth, colour_type = body[8], body[9]
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    if bit_depth != 8 or colour_type not in (2, 6):
        raise ValueError(f"{path}: only 8-bit RGB/RGBA PNGs are supported")
    bpp = 3 if colour_type == 2 else 4
    raw, stride = zlib.decompress(idat), width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        _unfilter(f, line, prev, bpp)
        rows.append(bytes(line))
        prev = line
    step = max(1, height // sample_rows)
    colours = {row[i : i + bpp] for row in rows[::step] for i in range(0, stride, bpp)}
    return len(colours)


def _unfilter(f: int, line: bytearray, prev: bytearray, bpp: int) -> None:
    for i in range(len(line)):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if f == 1:
            line[i] = (line[i] + a) & 0xFF
        elif f == 2:
            line[i] = (line[i] + b) & 0xFF
        elif f == 3:
            line[i] = (line[i] + (a + b) // 2) & 0xFF
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
