"""`dlpo models` and `dlpo chat` through the real entry point (chat talks to the fake server)."""

from __future__ import annotations

import pytest

from dlpo.cli.app import main


def test_models_lists_every_model_with_a_status(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DLPO_MODEL_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for name in ("qwen2.5-0.5b", "qwen2.5-1.5b"):
        line = next(line for line in out.splitlines() if name in line)
        assert any(s in line for s in ("installed", "partial", "missing"))
        assert "assembled" not in line  # nothing is assembled in an empty cache dir
    assert "491 MB" in out and "1.12 GB" in out


def test_models_prepare_rejects_unknown_choice(capsys):
    assert main(["models", "prepare", "--which", "gigantic"]) == 2
    err = capsys.readouterr().err
    assert "--which 'gigantic'" in err and "all, small, none" in err and len(err.strip().splitlines()) == 1


def test_models_prepare_none_does_nothing(tmp_path, capsys):
    assert main(["models", "prepare", "--which", "none", "--cache-dir", str(tmp_path)]) == 0
    assert list(tmp_path.iterdir()) == [] and capsys.readouterr().out == ""


def test_chat_prints_reply_and_usage_then_hits_the_cache(fake_openai, tmp_path, capsys):
    spec = f"openai:{fake_openai.plan('m-cli')}@{fake_openai.base_url}"
    cache = tmp_path / "cache.sqlite"
    assert main(["chat", "--engine", spec, "--cache", str(cache), "hi there"]) == 0
    out = capsys.readouterr()
    assert out.out.strip() == "echo: hi there"
    assert "tokens: 11 prompt + 3 completion" in out.err and "cached: no" in out.err
    assert main(["chat", "--engine", spec, "--cache", str(cache), "hi there"]) == 0
    assert "cached: yes" in capsys.readouterr().err
    assert fake_openai.hits["m-cli"] == 1
    assert main(["chat", "--engine", spec, "--no-cache", "hi there"]) == 0
    assert fake_openai.hits["m-cli"] == 2


def test_chat_bad_spec_is_one_line(capsys):
    assert main(["chat", "--engine", "gpt4", "--no-cache", "hi"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: bad engine spec 'gpt4'") and "\n" not in err


def test_chat_server_error_exit_code(fake_openai, capsys):
    spec = f"openai:{fake_openai.plan('m-cli401', '401')}@{fake_openai.base_url}"
    assert main(["chat", "--engine", spec, "--no-cache", "hi"]) == 2  # a bad key is an input error
    assert "401 Unauthorized" in capsys.readouterr().err


@pytest.mark.model
def test_models_prepare_small_on_the_real_packages(small_model_path, capsys):
    assert main(["models", "prepare", "--which", "small", "--quiet"]) == 0
    assert f"qwen2.5-0.5b: {small_model_path} (sha256 verified)" in capsys.readouterr().out
