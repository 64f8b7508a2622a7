"""A run's engine settings (timeout, retries, concurrency): from flags and config files into the
engines a run builds, against the scripted HTTP server; changeable on resume; absent from an
unset config.json."""

from __future__ import annotations

import pytest

from dlpo.cli.optimize import config_values
from dlpo.config_file import merge_with_flags, read_config_file
from dlpo.engines.base import ChatRequest
from dlpo.errors import ConfigError, EngineError
from dlpo.runs.resume import check_config
from dlpo.train import TrainConfig
from dlpo.training.session import _build_clients
from dlpo.usage import Ledger

REQ = ChatRequest.chat("sys", "hello", max_tokens=8)


def _config(server, model: str, **engine) -> TrainConfig:
    spec = f"openai:{model}@{server.base_url}"
    return TrainConfig.build(forward=spec, backward=spec, engine=engine)


async def test_run_engines_are_built_with_the_settings(fake_openai):
    model = fake_openai.plan("settings-ok", "500", "500")
    config = _config(fake_openai, model, max_retries=2, timeout=7.5, concurrency=3)
    forward, backward, owned = _build_clients(config, Ledger(), None, None, None)
    try:
        assert len(owned) == 1 and backward.engine is forward.engine  # one spec, one engine
        engine = owned[0]
        assert (engine.max_retries, engine.timeout, engine.concurrency) == (2, 7.5, 3)
        [c] = await forward.complete([REQ], role="forward")  # two 500s, then the third attempt
        assert c.text == "echo: hello" and fake_openai.hits[model] == 3
    finally:
        await owned[0].aclose()


async def test_fewer_retries_give_up_sooner(fake_openai):
    model = fake_openai.plan("settings-fail", "500", "500")
    forward, _, owned = _build_clients(_config(fake_openai, model, max_retries=1), Ledger(), None, None, None)
    try:
        with pytest.raises(EngineError):
            await forward.complete([REQ], role="forward")
        assert fake_openai.hits[model] == 2
    finally:
        await owned[0].aclose()


def test_unset_settings_stay_out_of_config_json():
    assert "engine" not in TrainConfig.build().to_json()
    assert TrainConfig.build(engine={"max_retries": 9}).to_json()["engine"]["max_retries"] == 9


def test_engine_settings_may_change_on_resume_but_other_keys_may_not():
    saved = TrainConfig.build(steps=2).to_json()
    check_config(saved, {**saved, "engine": {"max_retries": 10, "timeout": 600.0}})
    with pytest.raises(ConfigError, match="steps"):
        check_config(saved, {**saved, "steps": 3})


def test_bad_setting_is_one_line_naming_the_key():
    with pytest.raises(ConfigError, match=r"engine\.max_retries"):
        TrainConfig.build(engine={"max_retries": -1})


def test_flags_win_over_the_file_key_by_key(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("engine: {max_retries: 8, timeout: 60}\nsteps: 1\n")
    values = merge_with_flags({"retries": 3}, read_config_file(path), str(path))
    assert values["engine"] == {"max_retries": 3, "timeout": 60}
    assert TrainConfig.build(**values).engine.given() == {"timeout": 60.0, "max_retries": 3}


def test_unknown_engine_key_in_a_file_lists_the_engine_keys(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("engine: {retries: 3}\n")
    with pytest.raises(ConfigError) as err:
        read_config_file(path)
    text = str(err.value)
    assert "unknown key 'engine.retries'" in text
    assert "allowed keys: api_key_env, concurrency, max_retries, n_ctx, n_threads, slots, timeout" in text


def test_resume_flags_merge_with_the_saved_settings():
    base = TrainConfig.build(engine={"timeout": 60}).to_json()
    values = config_values({"retries": 9}, base=base)
    assert values == {"engine": {"timeout": 60.0, "max_retries": 9}}
