"""Fixtures for task tests: the shared benchmark data folder and the reference split lists."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def shared_data_dir() -> Path | None:
    env = os.environ.get("DLPO_DATA_DIR")
    candidate = Path(env) if env else REPO.parent / "shared" / "data"
    return candidate if (candidate / "splits" / "split_indices.json").exists() else None


@pytest.fixture(scope="session")
def data_dir() -> Path:
    found = shared_data_dir()
    if found is None:
        pytest.skip("benchmark data not found: set DLPO_DATA_DIR or provide <repo>/../shared/data")
    return found


@pytest.fixture(scope="session")
def reference_splits(data_dir: Path) -> dict:
    return json.loads((data_dir / "splits" / "split_indices.json").read_text(encoding="utf-8"))
