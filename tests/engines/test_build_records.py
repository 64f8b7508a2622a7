"""Which llama-server build made each answer: the binary's id, kept by the cache, the ledger
(through a checkpoint) and the sweep tables, which warn when trials come from different builds."""

from __future__ import annotations

import hashlib
import stat

from dlpo.cache import ResponseCache
from dlpo.engines.base import Completion
from dlpo.engines.llama_server import build_id
from dlpo.experiments.table_notes import builds_note
from dlpo.training.records import usage_payload
from dlpo.usage import Ledger


def _script(path, body: str):
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


VERSION = 'echo "version: 0.5.0-dev (build 1, commit 0c1e570)"'


def test_build_id_of_a_setup_build_is_the_commit_and_its_source_and_flags(tmp_path):
    binary = _script(tmp_path / "llama-server", VERSION)
    (tmp_path / "llama-server.build").write_text("0.3.36-03e3e7086901\n-DGGML_AVX2=ON\n")
    assert build_id(binary) == "0c1e570/0.3.36-03e3e7086901"
    rebuilt = tmp_path / "again"
    rebuilt.mkdir()  # the same source and flags built elsewhere: other bytes, the same build
    copy = _script(rebuilt / "llama-server", VERSION + " # built in another directory")
    (rebuilt / "llama-server.build").write_text("0.3.36-03e3e7086901\n-DGGML_AVX2=ON\n")
    assert build_id(copy) == build_id(binary)


def test_build_id_of_another_binary_is_the_commit_and_the_binary_hash(tmp_path):
    binary = _script(tmp_path / "llama-server", VERSION)
    sha = hashlib.sha256(binary.read_bytes()).hexdigest()[:12]
    assert build_id(binary) == f"0c1e570/sha256-{sha}"
    other = _script(tmp_path / "other", VERSION + " # avx512")
    assert build_id(other) != build_id(binary)  # same version string, other binary
    (tmp_path / "llama-server.build").write_text("")  # an empty build file: the hash again
    assert build_id(binary) == f"0c1e570/sha256-{sha}"


def test_build_id_of_a_binary_that_does_not_say_its_version(tmp_path):
    silent = _script(tmp_path / "silent", "exit 1")
    assert build_id(silent).startswith("unknown/sha256-")
    data = tmp_path / "not-executable"
    data.write_bytes(b"\x7fELF")
    assert build_id(data) == "unknown/sha256-" + hashlib.sha256(b"\x7fELF").hexdigest()[:12]


def answer(build: str | None = None, cached: bool = False) -> Completion:
    return Completion("42", 10, 2, 0.1, cached=cached, extra={"build": build} if build else {})


def test_the_cache_keeps_the_build_that_made_an_answer(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    cache.put("k1", answer("abc/111111111111"))
    cache.put("k2", answer())
    assert cache.get("k1").extra == {"build": "abc/111111111111"}
    assert cache.get("k2").extra == {} and cache.get("k2").text == "42"


def test_the_ledger_records_builds_of_fresh_and_cached_answers_and_keeps_them_in_its_state():
    ledger = Ledger()
    ledger.record("forward", "local:a", answer("abc/111111111111"))
    ledger.record("forward", "local:a", answer("abc/222222222222", cached=True))
    ledger.record("backward", "local:b", answer())
    assert ledger.builds == {"local:a": {"abc/111111111111", "abc/222222222222"}}
    restored = Ledger()
    restored.load_state_dict(ledger.state_dict())
    assert restored.builds == ledger.builds
    assert usage_payload(restored)["builds"] == {"local:a": ["abc/111111111111", "abc/222222222222"]}
    old = Ledger()
    old.load_state_dict({"roles": {}})  # a checkpoint from before builds were recorded
    assert old.builds == {}


def trial(tid: str, builds):
    return {"id": tid, "builds": builds} if builds != "absent" else {"id": tid}


def test_tables_name_the_build_and_warn_when_trials_mix_builds():
    one = [trial("a", {"local:x": ["c/1"]}), trial("b", {"local:x": ["c/1"], "local:y": ["c/1"]})]
    assert builds_note(one) == "llama-server builds of the answers: `c/1` (2 trials).\n"
    mixed = builds_note([*one, trial("c", {"local:x": ["c/2"]})])
    assert "`c/2` (1 trials)" in mixed and "**Mixed builds:**" in mixed
    assert "**Mixed builds:**" in builds_note([*one, trial("old", "absent")])
    assert "Mixed" not in builds_note([trial("api", {}), trial("old", "absent")])
    assert "`none named` (1 trials)" in builds_note([trial("api", {})])
