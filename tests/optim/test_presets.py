import pytest
from optim_helpers import scripted_client

from dlpo.errors import ConfigError
from dlpo.optim.acceptance import AlwaysAccept, SimulatedAnnealing
from dlpo.optim.presets import PRESETS, TECHNIQUES, Recipe, build_optimizer, recipe_from_dict, resolve_recipe
from dlpo.optim.schedules import LinearDecay
from dlpo.optim.variable import Prompt


async def score(_: str) -> float:
    return 0.5


def test_preset_names():
    assert set(PRESETS) == {"tgd", "dlpo", "textgrad", *TECHNIQUES}


def test_dlpo_resolves_to_paper_best():
    r = resolve_recipe("dlpo")
    assert set(r.techniques) == {"tlrd", "tsa", "tcl", "tregu"} and r.acceptance == "annealing"
    opt, scheds = build_optimizer(r, Prompt("p"), scripted_client(lambda q: "")[0], score_fn=score, seed=1)
    assert [t.name for t in opt.techniques] == ["tcl", "tregu", "tlr"]  # TLRD implies TLR's budget
    assert isinstance(opt.acceptance, SimulatedAnnealing) and opt.acceptance.hard_margin == 0.3
    assert len(scheds) == 1 and isinstance(scheds[0].schedule, LinearDecay) and opt.lr == 4


def test_tgd_is_nothing_and_always_accept():
    opt, scheds = build_optimizer(
        resolve_recipe("tgd"), Prompt("p"), scripted_client(lambda q: "")[0], score_fn=None, seed=0
    )
    assert (
        opt.techniques == [] and isinstance(opt.acceptance, AlwaysAccept) and scheds == [] and opt.lr is None
    )


@pytest.mark.parametrize(
    "name,expected",
    [
        ("tlr", ["tlr"]),
        ("tdo", ["tdo"]),
        ("tmnt", ["tmnt"]),
        ("tcl", ["tcl"]),
        ("tregu", ["tregu"]),
        ("tsa", []),
        ("tlrd", ["tlr"]),
    ],
)
def test_single_technique_presets(name, expected):
    r = resolve_recipe(name)
    assert r.techniques == [name]
    opt, scheds = build_optimizer(r, Prompt("p"), scripted_client(lambda q: "")[0], score_fn=score, seed=0)
    assert [t.name for t in opt.techniques] == expected
    assert (opt.acceptance.name == "annealing") == (name == "tsa")
    assert bool(scheds) == (name == "tlrd")


def test_user_combination_and_overrides():
    r = resolve_recipe(techniques="tmnt, TDO", dropout=0.5, lr=None)
    assert r.techniques == ["tdo", "tmnt"] and r.name == "tdo+tmnt" and r.dropout == 0.5 and r.lr == 4
    assert resolve_recipe(techniques=[]).name == "tgd"
    assert resolve_recipe("tgd", acceptance="greedy").acceptance == "greedy"


@pytest.mark.parametrize(
    "kwargs,needle",
    [
        ({"preset": "adam"}, "allowed: tgd"),
        ({"techniques": ["tlr", "nesterov"]}, "nesterov"),
        ({"dropout": 1.5}, "dropout"),
        ({"lr": 0}, "lr"),
        ({"hard_margin": -1}, "hard_margin"),
        ({"learning_rate": 3}, "learning_rate"),
        ({"preset": "tsa", "acceptance": "always"}, "annealing"),
    ],
)
def test_bad_values_raise_config_error_naming_the_key(kwargs, needle):
    with pytest.raises(ConfigError, match=needle):
        resolve_recipe(**kwargs)


def test_recipe_roundtrip_through_dict():
    r = resolve_recipe("dlpo", t_decay=1.75)
    assert recipe_from_dict(r.model_dump()) == r
    with pytest.raises(ConfigError, match="extra"):
        recipe_from_dict({**r.model_dump(), "extra": 1})
    assert isinstance(r, Recipe)


def test_needs_score_fn():
    with pytest.raises(ConfigError, match="score_fn"):
        build_optimizer(
            resolve_recipe("tcl"), Prompt("p"), scripted_client(lambda q: "")[0], score_fn=None, seed=0
        )
