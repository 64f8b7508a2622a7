"""A real one-step run on the local 0.5B model (forward and backward), and its report."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.model


def test_report_of_a_real_one_step_run(tmp_path, tiny_local_config):
    from dlpo.report import load_run, write_report
    from dlpo.train import fit

    config = tiny_local_config(steps=1, forward_max_tokens=48)
    result = fit(config, run_dir=tmp_path / "run")
    html_path, md_path = write_report(result.run_dir)
    run = load_run(result.run_dir)
    html = html_path.read_text()
    assert len(run.steps) == 1 and run.finished
    assert len(re.findall(r'src="data:image/png;base64,', html)) == 4
    assert f"<td>best</td><td>{result.best.step}</td>" in html
    assert run.steps[0].status in html and run.usage["total"]["calls"] > 0
    md = md_path.read_text()
    assert f"model calls {run.usage['total']['calls']}," in md
    # the report names the build of the one local model's answers (the server's own build id)
    (build,) = result.usage["builds"]["local:qwen2.5-0.5b"]
    assert f"- llama-server builds: local:qwen2.5-0.5b `{build}`" in md
