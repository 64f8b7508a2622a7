"""Experiment files: shorthands, clear errors, stable trial ids, and the shipped experiments."""

from pathlib import Path

import pytest

from dlpo.errors import ConfigError
from dlpo.experiments.spec import load_experiment, parse_experiment
from dlpo.experiments.trials import expand

ROOT = Path(__file__).resolve().parents[2]
BASE = {"name": "x", "tasks": ["demo"], "engines": ["local:qwen2.5-0.5b"], "methods": ["tgd"]}


def test_shorthands_expand():
    spec = parse_experiment({**BASE, "methods": ["tgd", "apo", "human:cot", "dlpo"], "seeds": [0, 1]})
    kinds = [(m.name, m.method, m.preset, m.prompt) for m in spec.methods]
    assert kinds == [
        ("tgd", "tgd", "tgd", None),
        ("apo", "apo", None, None),
        ("human:cot", "human", None, "cot"),
        ("dlpo", "tgd", "dlpo", None),
    ]
    trials = expand(spec)
    assert len(trials) == 2 + 2 + 1 + 2  # human runs once
    assert len({t.id for t in trials}) == len(trials)
    assert [t.id for t in expand(spec)] == [t.id for t in trials]  # stable


def test_changed_settings_change_the_trial_id():
    a = expand(parse_experiment({**BASE, "train": {"steps": 2}}))[0].id
    b = expand(parse_experiment({**BASE, "train": {"steps": 3}}))[0].id
    assert a != b and a.split("-")[0] == b.split("-")[0]


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({**BASE, "metods": []}, "metods: unknown key; allowed: name, description, methods"),
        (
            {**BASE, "methods": [{"name": "a", "presset": "tgd"}]},
            r"methods.0.presset: unknown key; allowed: name, method",
        ),
        ({**BASE, "methods": ["tgd", "tgd"]}, "duplicate method"),
        ({**BASE, "compare": [["tgd", "apo"]]}, "compare: unknown method 'apo'"),
        (
            {**BASE, "methods": [{"name": "a", "method": "apo", "preset": "dlpo"}]},
            "only apply to method 'tgd'",
        ),
    ],
)
def test_errors_name_the_key(data, match):
    with pytest.raises(ConfigError, match=match):
        parse_experiment(data)


def test_bad_train_key_fails_at_expansion():
    with pytest.raises(ConfigError, match="stepz"):
        expand(parse_experiment({**BASE, "train": {"stepz": 2}}))


def test_yaml_error_has_a_line(tmp_path):
    p = tmp_path / "e.yaml"
    p.write_text("name: x\nmethods: [tgd\n")
    with pytest.raises(ConfigError, match="line"):
        load_experiment(p)


@pytest.mark.parametrize(
    "name", ["ablation", "compare_demo", "compare_gsm8k", "compare_tickets", "compare_bbh"]
)
def test_shipped_experiments_expand(name):
    spec = load_experiment(ROOT / "experiments" / f"{name}.yaml")
    assert len(expand(spec)) >= 3
