"""Task names, data resolution order and the one error that lists every place looked at."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlpo.errors import ConfigError, DataError
from dlpo.tasks import datadir
from dlpo.tasks.registry import list_tasks, load_task, task_names


def test_unknown_name_suggests_the_closest(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(DataError, match=r"unknown task 'gsm8'\. Did you mean 'gsm8k'\?.*math500"):
        load_task("gsm8")
    with pytest.raises(DataError, match=r"Did you mean 'bbh:object_counting'\?.*word_sorting"):
        load_task("bbh:objekt_counting")
    with pytest.raises(DataError, match="Known tasks: demo"):
        load_task("zzz")


def test_bad_mgsm_language_and_bad_option(data_dir: Path) -> None:
    with pytest.raises(ConfigError, match="unknown language 'xx'; choose from bn, de"):
        load_task("mgsm:en,xx", data_dir=data_dir)
    with pytest.raises(ConfigError, match="unknown option 'colour'"):
        load_task("gsm8k", data_dir=data_dir, colour="red")


def test_reference_scorer_for_llm_judged_bbh_task_is_refused(data_dir: Path) -> None:
    with pytest.raises(ConfigError, match="no string-based reference scorer.*strict scorer 'choice'"):
        load_task("bbh:snarks", data_dir=data_dir, scorer="reference")


def test_missing_data_lists_every_place(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(datadir.ENV_VAR, str(tmp_path / "nowhere"))
    monkeypatch.setattr(datadir, "hub_installed", lambda: False)
    with pytest.raises(DataError) as info:
        load_task("gsm8k", data_dir=tmp_path)
    message = str(info.value)
    assert f"1) --data-dir {tmp_path}: gsm8k/train.jsonl not found" in message
    assert f"2) $DLPO_DATA_DIR {tmp_path / 'nowhere'}: no such folder" in message
    assert "3) Hugging Face hub (openai/gsm8k): the `datasets` package is not installed" in message
    assert "pass --data-dir DIR" in message and "dlpo[hf]" in message


def test_biggsm_is_not_on_the_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(datadir.ENV_VAR, raising=False)
    with pytest.raises(DataError, match="Hugging Face hub: biggsm is not published there"):
        load_task("biggsm")


def test_env_var_is_used_when_no_data_dir(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    monkeypatch.setenv(datadir.ENV_VAR, str(data_dir))
    assert len(load_task("bbh:navigate").test) == 150


def test_data_dir_wins_over_env(monkeypatch: pytest.MonkeyPatch, data_dir: Path, tmp_path: Path) -> None:
    monkeypatch.setenv(datadir.ENV_VAR, str(tmp_path))
    root = datadir.resolve("gsm8k", ("gsm8k/train.jsonl",), data_dir)
    assert root.path == data_dir


def test_hub_failure_becomes_one_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """With `datasets` 'installed' but offline, the download error joins the list of places."""
    from dlpo.tasks import hub

    monkeypatch.delenv(datadir.ENV_VAR, raising=False)
    monkeypatch.setattr(datadir, "hub_installed", lambda: True)

    def offline(*_args, **_kwargs):
        raise ConnectionError("Couldn't reach 'openai/gsm8k' on the Hub (LocalEntryNotFoundError)")

    monkeypatch.setattr(hub, "_load", offline)
    with pytest.raises(DataError, match=r"3\) Hugging Face hub \(openai/gsm8k\): Couldn't reach"):
        load_task("gsm8k")


def test_hub_records_feed_the_same_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    from dlpo.tasks import hub

    monkeypatch.delenv(datadir.ENV_VAR, raising=False)
    monkeypatch.setattr(datadir, "hub_installed", lambda: True)
    rows = [{"input": f"q{i}", "target": "Yes" if i % 2 else "No"} for i in range(120)]
    monkeypatch.setattr(
        hub, "_load", lambda path, config, split: rows if (path, config) == (hub.BBH_ID, "navigate") else []
    )
    task = load_task("bbh:navigate")
    assert (len(task.train), len(task.val), len(task.test)) == (50, 50, 20)
    assert "lukaemon/bbh" in task.source


def test_list_tasks_covers_every_name(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(datadir.ENV_VAR, raising=False)
    infos = {info.name: info for info in list_tasks(data_dir)}
    assert len([n for n in infos if n.startswith("bbh:")]) == 27
    assert {"demo", "gsm8k", "gsm8k:textgrad", "biggsm", "mgsm", "mgsm:sw", "math", "math500"} <= set(infos)
    assert infos["demo"].data == "builtin" and infos["gsm8k"].data == "local"
    assert (infos["bbh:snarks"].train, infos["bbh:snarks"].val, infos["bbh:snarks"].test) == (50, 50, 78)
    assert infos["bbh:snarks"].reference_scorer is None
    assert list(infos) == task_names()


def test_listed_sizes_equal_loaded_sizes(data_dir: Path) -> None:
    for info in list_tasks(data_dir):
        task = load_task(info.name, data_dir=data_dir)
        assert (len(task.train), len(task.val), len(task.test)) == (info.train, info.val, info.test), (
            info.name
        )
        assert task.answer_type == info.answer_type and task.scorer_name == info.scorer


def test_list_tasks_without_data(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(datadir.ENV_VAR, raising=False)
    monkeypatch.setattr(datadir, "hub_installed", lambda: False)
    infos = {info.name: info for info in list_tasks()}
    assert infos["gsm8k"].data == "missing" and infos["demo"].data == "builtin"
