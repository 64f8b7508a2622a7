"""Shared by the examples: run sizes (full by default, tiny with DLPO_EXAMPLE_SMALL=1, as in CI) and
the run folder (`--run-dir`, default a folder under runs/)."""

from __future__ import annotations

import argparse
import os
from typing import Any


def small() -> bool:
    return os.environ.get("DLPO_EXAMPLE_SMALL") == "1"


def sizes(full: dict[str, Any], tiny: dict[str, Any]) -> dict[str, Any]:
    return tiny if small() else full


def args(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--run-dir", default=None, help="Run folder (default: runs/<example>-<time>).")
    return parser.parse_args()
