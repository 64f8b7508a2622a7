"""Human-prompt baseline: named prompts, BBH CoT prompt files, and a run folder like fit's."""

import json
import os
from pathlib import Path

import pytest

from dlpo.baselines.human import COT_PROMPT, bbh_cot_prompt, human_recipe, resolve_prompt
from dlpo.errors import ConfigError
from dlpo.experiments import toy
from dlpo.tasks.registry import load_task
from dlpo.train import fit
from dlpo.training.config import TrainConfig

DATA = Path(os.environ.get("DLPO_DATA_DIR", Path(__file__).resolve().parents[2].parent / "shared" / "data"))


def test_named_prompts(tmp_path):
    task = load_task(f"file:{toy.write_task(tmp_path / 's.jsonl')}", scorer="numeric")
    assert resolve_prompt("start", task, "x") == task.initial_prompt
    assert resolve_prompt("cot", task, "x") == COT_PROMPT
    assert resolve_prompt("text:Be exact.", task, "x") == "Be exact."
    with pytest.raises(ConfigError, match="unknown human prompt"):
        resolve_prompt("cott", task, "x")
    with pytest.raises(ConfigError, match="bbh"):
        resolve_prompt("bbh-cot", task, "gsm8k")


@pytest.mark.skipif(not (DATA / "bbh" / "cot-prompts" / "object_counting.txt").exists(), reason="no BBH data")
def test_bbh_cot_prompt_drops_the_canary():
    text = bbh_cot_prompt("bbh:object_counting", DATA)
    assert "canary" not in text and text.startswith("Questions that involve enumerating objects")
    assert "Let's think step by step." in text


def test_human_run_evaluates_one_prompt(tmp_path):
    path = toy.write_task(tmp_path / "s.jsonl", n=20)
    cfg = TrainConfig.build(
        task=f"file:{path}",
        task_options={"scorer": "numeric"},
        recipe=human_recipe(),
        val_limit=3,
        test_limit=5,
        method_options={"prompt": "cot"},
    )
    e = toy.ToyEngine()
    r = fit(cfg, run_dir=tmp_path / "run", forward_engine=e)
    assert r.best.prompt == COT_PROMPT == r.start.prompt == r.last.prompt
    saved = json.loads((tmp_path / "run" / "result.json").read_text())
    assert saved["best"]["test"] == r.best.test and 0.0 <= r.best.test <= 1.0
    assert r.usage["total"]["calls"] == 8
