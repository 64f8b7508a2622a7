import pytest

from dlpo.engines.local_engine import LocalEngine, default_slots
from dlpo.engines.openai_engine import OpenAIEngine
from dlpo.engines.spec import (
    DEFAULT_BACKWARD,
    DEFAULT_FORWARD,
    EngineConfig,
    build_engine,
    config_from_mapping,
    parse_engine_spec,
)
from dlpo.errors import ConfigError


@pytest.mark.parametrize(
    ("spec", "kind", "model", "base_url"),
    [
        ("local:qwen2.5-0.5b", "local", "qwen2.5-0.5b", None),
        ("local:qwen2.5-1.5b", "local", "qwen2.5-1.5b", None),
        ("local:/models/x.gguf", "local", "/models/x.gguf", None),
        ("local:~/m.gguf", "local", "~/m.gguf", None),
        ("openai:gpt-4o-mini", "openai", "gpt-4o-mini", None),
        ("openai:qwen2.5@http://127.0.0.1:8080/v1", "openai", "qwen2.5", "http://127.0.0.1:8080/v1"),
        ("openai:qwen2.5:0.5b@https://h.example/v1", "openai", "qwen2.5:0.5b", "https://h.example/v1"),
        ("  openai:m  ", "openai", "m", None),
    ],
)
def test_good_specs(spec, kind, model, base_url):
    config = parse_engine_spec(spec)
    assert (config.kind, config.model, config.base_url) == (kind, model, base_url)
    assert parse_engine_spec(config.spec()) == config  # round trip


def test_bare_local_depends_on_role():
    assert parse_engine_spec("local", role="forward").spec() == DEFAULT_FORWARD
    assert parse_engine_spec("local", role="backward").spec() == DEFAULT_BACKWARD
    assert parse_engine_spec("local", role="optimizer").spec() == DEFAULT_BACKWARD


@pytest.mark.parametrize(
    ("spec", "why"),
    [
        ("", "empty"),
        ("gpt-4o", "expected '<kind>:<model>'"),
        ("vllm:foo", "unknown engine kind 'vllm'"),
        ("local:qwen9-70b", "unknown local model 'qwen9-70b'"),
        ("openai:", "missing the model"),
        ("openai:m@ftp://host", "must start with http"),
        ("openai:@http://127.0.0.1/v1", "missing model name"),
    ],
)
def test_bad_specs_list_accepted_forms(spec, why):
    with pytest.raises(ConfigError) as err:
        parse_engine_spec(spec)
    message = str(err.value)
    assert why in message
    assert "openai:<model>@http://host:port/v1" in message and "local:/path/to/model.gguf" in message


def test_settings_are_validated_with_key_names():
    with pytest.raises(ConfigError, match="concurrency"):
        parse_engine_spec("openai:m", concurrency=0)
    with pytest.raises(ConfigError, match="colour: Extra inputs"):
        config_from_mapping({"kind": "openai", "model": "m", "colour": "red"}, where="run.yaml: forward")
    with pytest.raises(ConfigError, match="run.yaml: forward: kind"):
        config_from_mapping({"kind": "hf", "model": "m"}, where="run.yaml: forward")


def test_build_engine_kinds_and_settings():
    engine = build_engine("openai:m@http://127.0.0.1:9/v1")
    assert isinstance(engine, OpenAIEngine) and engine.cache_id == "openai:m@http://127.0.0.1:9/v1"
    engine = build_engine(EngineConfig(kind="openai", model="m", concurrency=3, timeout=7, max_retries=1))
    assert (engine.concurrency, engine.timeout, engine.max_retries) == (3, 7.0, 1)
    local = build_engine(
        {"kind": "local", "model": "qwen2.5-0.5b", "n_ctx": 2048, "n_threads": 1, "slots": 2, "timeout": 30}
    )
    assert isinstance(local, LocalEngine) and local.cache_id == "local:qwen2.5-0.5b"
    assert (local.options.ctx_per_slot, local.options.threads, local.options.slots) == (2048, 1, 2)
    assert local.timeout == 30.0
    assert build_engine("local:qwen2.5-0.5b").slots == default_slots()  # half the cores, 1-4
    assert build_engine("local", role="backward").cache_id == "local:qwen2.5-1.5b"
    with pytest.raises(ConfigError, match="unknown local model"):
        build_engine({"kind": "local", "model": "nope"})


def test_building_loads_nothing(monkeypatch, tmp_path):
    """Building a local engine neither starts a server nor assembles a model."""
    monkeypatch.setenv("DLPO_MODEL_DIR", str(tmp_path))
    engine = build_engine("local:qwen2.5-0.5b")
    assert engine.server is None
    assert list(tmp_path.iterdir()) == []


def test_local_for_both_roles_is_two_engines():
    from dlpo.engines.spec import same_engine

    assert not same_engine("local", "local")  # 0.5B answers, 1.5B critiques
    assert same_engine("local:qwen2.5-1.5b", "local")
    assert same_engine("openai:m@http://127.0.0.1:9/v1", "openai:m@http://127.0.0.1:9/v1")
    assert not same_engine("openai:a", "openai:b")


def test_default_slots_are_half_the_cores_from_one_to_four():
    assert [default_slots(n) for n in (1, 2, 3, 4, 6, 8, 64)] == [1, 1, 1, 2, 3, 4, 4]
