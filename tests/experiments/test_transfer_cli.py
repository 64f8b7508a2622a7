"""Transfer tables and the `dlpo sweep` command, with the toy engines."""

import json

import yaml

from dlpo.cli.app import main
from dlpo.experiments import toy
from dlpo.experiments.spec import parse_experiment
from dlpo.sweep import sweep

TOY, STRONG = "py:dlpo.experiments.toy:engine", "py:dlpo.experiments.toy:strong_engine"


def _data(a, b):
    return {
        "name": "toy",
        "tasks": [{"name": f"file:{a}", "options": {"scorer": "numeric"}}],
        "seeds": [0, 1],
        "engines": [{"name": "toy", "forward": TOY}],
        "methods": ["tgd"],
        "train": {"steps": 1, "batch_size": 2, "val_limit": 3, "test_limit": 4},
        "transfer": {
            "tasks": [{"name": f"file:{b}", "options": {"scorer": "numeric"}}],
            "forwards": [STRONG],
        },
    }


def test_transfer_table_other_task_and_forward_model(tmp_path):
    a, b = toy.write_task(tmp_path / "a.jsonl", seed=1), toy.write_task(tmp_path / "b.jsonl", seed=2)
    out = sweep(parse_experiment(_data(a, b)), tmp_path / "sw")
    rows = {(r["target"], r["forward"]): r for r in out.transfer}
    # target b with both forwards, and the source task with the strong forward
    assert set(rows) == {(f"file:{b}", TOY), (f"file:{b}", STRONG), (f"file:{a}", STRONG)}
    assert all(r["n"] == 2 for r in rows.values())
    assert rows[(f"file:{b}", STRONG)]["learned_mean"] == 1.0  # the strong toy never errs
    assert "| source task |" in out.files["transfer_md"].read_text()
    files = sorted((tmp_path / "sw" / "transfer").glob("*.json"))
    stamps = [f.stat().st_mtime_ns for f in files]
    sweep(parse_experiment(_data(a, b)), tmp_path / "sw")
    assert [f.stat().st_mtime_ns for f in files] == stamps  # never recomputed


def test_cli_sweep_writes_tables_and_reports_errors(tmp_path, capsys):
    a = toy.write_task(tmp_path / "a.jsonl")
    data = _data(a, a)
    del data["transfer"]
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(data))
    assert main(["sweep", str(path), "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "| tgd |" in out and (tmp_path / "out" / "results.csv").exists()
    # each trial is reported as it ends, with its test scores and what is left after it
    done = [line.strip() for line in out.splitlines() if line.strip().startswith("done tgd__")]
    assert len(done) == 2 and all(" s: test start " in d and ", best-val prompt " in d for d in done)
    assert "1 trial(s) to run" in out and "every trial is finished" in out
    assert main(["sweep", str(path), "--out", str(tmp_path / "out")]) == 0
    assert "done tgd__" not in capsys.readouterr().out  # nothing ran: finished trials are not re-reported
    assert len(json.loads((tmp_path / "out" / "results.json").read_text())["trials"]) == 2
    path.write_text(yaml.safe_dump({**data, "seedz": [1]}))
    assert main(["sweep", str(path)]) != 0
    assert "seedz: unknown key" in capsys.readouterr().err
