"""Resume: a run stopped after step k (or killed mid-step, also with SIGKILL in a real process)
and resumed ends with the same prompts, scores and event stream as an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dlpo.errors import ConfigError
from dlpo.runs.events import read_events, strip_volatile
from dlpo.train import afit

from .scripted_setup import engines, make_config, make_task

SCRIPT = Path(__file__).with_name("fit_script.py")


def comparable(result) -> dict:
    d = result.to_dict() if not isinstance(result, dict) else dict(result)
    d.pop("run_dir")
    return strip_volatile([d])[0]


def stream(run_dir: Path) -> list[dict]:
    return strip_volatile(read_events(run_dir / "events.jsonl"))


def request_set(engine) -> set:
    return {r.to_dict().__repr__() for r in engine.requests}


async def uninterrupted(tmp_path, preset="dlpo", steps=5):
    fwd, bwd = engines()
    result = await afit(
        make_config(preset, steps=steps),
        run_dir=tmp_path / "full",
        task=make_task(),
        forward_engine=fwd,
        backward_engine=bwd,
    )
    return result, fwd, bwd


@pytest.mark.parametrize("preset,k", [("dlpo", 2), ("tgd", 1), ("dlpo", 4)])
async def test_stop_after_step_then_resume(tmp_path, preset, k):
    full, _, _ = await uninterrupted(tmp_path, preset)
    fwd, bwd = engines()
    part = await afit(
        make_config(preset, steps=5),
        run_dir=tmp_path / "r",
        task=make_task(),
        forward_engine=fwd,
        backward_engine=bwd,
        stop_after=k,
    )
    assert part.stopped == "requested" and part.steps == k
    assert not (tmp_path / "r" / "result.json").exists()
    fwd2, bwd2 = engines()
    resumed = await afit(resume=tmp_path / "r", task=make_task(), forward_engine=fwd2, backward_engine=bwd2)
    assert resumed.stopped is None
    assert comparable(resumed) == comparable(full)
    assert stream(tmp_path / "r") == stream(tmp_path / "full")
    # nothing done before the stop is asked again
    assert not request_set(fwd) & request_set(fwd2) and not request_set(bwd) & request_set(bwd2)


class Kill(Exception):
    pass


@pytest.mark.parametrize("at", ["gradient", "candidate", "validation", "test"])
async def test_crash_mid_step_then_resume(tmp_path, at):
    """A crash at the 2nd `at` event (mid-step: after some of the step's calls were made)."""
    full, ffwd, fbwd = await uninterrupted(tmp_path)
    seen = []

    def crash(event):
        seen.append(event["type"])
        if seen.count(at) == 2 or (at == "test" and event["type"] == "test"):
            raise Kill()

    fwd, bwd = engines()
    with pytest.raises(Kill):
        await afit(
            make_config(steps=5),
            run_dir=tmp_path / "r",
            task=make_task(),
            forward_engine=fwd,
            backward_engine=bwd,
            on_event=crash,
        )
    fwd2, bwd2 = engines()
    resumed = await afit(resume=tmp_path / "r", task=make_task(), forward_engine=fwd2, backward_engine=bwd2)
    assert comparable(resumed) == comparable(full)
    assert stream(tmp_path / "r") == stream(tmp_path / "full")
    for first, second, whole in ((fwd, fwd2, ffwd), (bwd, bwd2, fbwd)):
        assert not request_set(first) & request_set(second)  # no call made twice
        assert request_set(first) | request_set(second) == request_set(whole)


def test_sigkill_mid_run_then_resume(tmp_path):
    """Kill a real process running a (slowed) scripted fit with SIGKILL mid-step, resume it in a
    new process, compare with an uninterrupted run in a third process."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(Path.cwd() / "src"), os.environ.get("PYTHONPATH")])),
    }

    def script(run_dir: Path, *extra: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, str(SCRIPT), str(run_dir), *extra],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    full = script(tmp_path / "full")
    out, err = full.communicate(timeout=120)
    assert full.returncode == 0, err
    victim = script(tmp_path / "r", "--delay", "0.1")  # ~1 s between the poll hit and step 3's end
    events = tmp_path / "r" / "events.jsonl"
    deadline = time.time() + 60
    while time.time() < deadline:  # wait until step 3 has started, then kill
        if events.exists() and any(e["type"] == "gradient" and e["step"] == 3 for e in read_events(events)):
            break
        time.sleep(0.01)
    else:
        victim.kill()
        pytest.fail("the scripted run never reached step 3")
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    assert victim.returncode == -signal.SIGKILL
    assert not (tmp_path / "r" / "result.json").exists()
    ckpt = json.loads((tmp_path / "r" / "checkpoint.json").read_text())
    assert ckpt["step"] >= 2 and not ckpt["finished"]  # killed mid-run (normally mid-step 3)
    resumed = script(tmp_path / "r", "--resume")
    rout, rerr = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, rerr
    assert comparable(json.loads(rout)) == comparable(json.loads(out))
    assert stream(tmp_path / "r") == stream(tmp_path / "full")
    # the resumed process found the killed process's finished calls in the cache and charged them
    # as replayed calls: what the work cost alone is the uninterrupted run's, to the token
    usage, whole = json.loads(rout)["usage"]["total"], json.loads(out)["usage"]["total"]
    assert usage["replayed"] > 0 and usage["calls"] < whole["calls"]
    assert usage["cache_hits"] == whole["cache_hits"]
    for key in ("requests", "calls_alone", "tokens_alone"):
        assert usage[key] == whole[key], key


async def test_resume_refuses_changed_config_and_non_runs(tmp_path):
    fwd, bwd = engines()
    await afit(
        make_config(steps=2),
        run_dir=tmp_path / "r",
        task=make_task(),
        forward_engine=fwd,
        backward_engine=bwd,
        stop_after=1,
    )
    with pytest.raises(ConfigError, match="differs from the saved one in batch_size, recipe.lr"):
        await afit(
            make_config(
                steps=2,
                batch_size=2,
                recipe={"name": "dlpo", "techniques": ["tlrd", "tsa", "tcl", "tregu"], "lr": 2},
            ),
            resume=tmp_path / "r",
            task=make_task(),
            forward_engine=fwd,
            backward_engine=bwd,
        )
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="is not a dlpo run directory"):
        await afit(resume=tmp_path / "empty", task=make_task(), forward_engine=fwd, backward_engine=bwd)
    # a raised budget is allowed on resume
    result = await afit(
        make_config(steps=2, budget={"max_calls": 10_000}),
        resume=tmp_path / "r",
        task=make_task(),
        forward_engine=fwd,
        backward_engine=bwd,
    )
    assert result.steps == 2 and result.stopped is None
