"""Fixtures of the fault-injection suite: one real model server and one fault proxy per module,
and the summary table the scenarios fill (printed at the end of the module)."""

from __future__ import annotations

import os

import pytest

from .proxy import FaultProxy
from .upstream import Upstream


@pytest.fixture(scope="module")
def upstream(request, small_model_path, tmp_path_factory):
    """The module's model server: one slot (deterministic) unless the module sets `SLOTS`."""
    # DLPO_FAULT_THREADS=1 helps on a machine whose cores are busy with other work
    threads = int(os.environ.get("DLPO_FAULT_THREADS", "2"))
    slots = int(getattr(request.module, "SLOTS", os.environ.get("DLPO_FAULT_SLOTS", "1")))
    server = Upstream(small_model_path, tmp_path_factory.mktemp("upstream"), parallel=slots, threads=threads)
    try:
        server.start()
    except RuntimeError as exc:
        server.stop()
        pytest.fail(str(exc))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def proxy(upstream):
    """One proxy for the module, so every run's config (which names the base URL) is the same."""
    from .scenario import STALL_S

    fault_proxy = FaultProxy(upstream.port, stall_s=STALL_S, max_tokens_cap=64).start()
    yield fault_proxy
    fault_proxy.stop()


@pytest.fixture(scope="module")
def table():
    return {}
