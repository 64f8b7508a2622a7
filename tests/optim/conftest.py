"""Fixtures for the optimizer tests; the helpers live in `optim_helpers`."""

from __future__ import annotations

import pytest
from optim_helpers import make_task

from dlpo.tasks.base import Task


@pytest.fixture
def task() -> Task:
    return make_task()
