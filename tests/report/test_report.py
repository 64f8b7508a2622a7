"""The report of a scripted run: sections, embedded figures, values that match the run's files."""

from __future__ import annotations

import json
import re
from html import unescape

from dlpo.report import build_compare, load_run, write_report

from .runs import scripted_run


def test_run_report_matches_the_run(tmp_path):
    run = scripted_run(tmp_path / "run")
    html_path, md_path = write_report(run)
    assert html_path == run / "report.html" and md_path == run / "summary.md"
    html = html_path.read_text()
    result = json.loads((run / "result.json").read_text())
    data = load_run(run)
    assert len(data.steps) == result["steps"] == 4
    # self-contained: four PNG figures inline, nothing fetched from elsewhere
    assert len(re.findall(r'src="data:image/png;base64,[A-Za-z0-9+/=]{500,}"', html)) == 4
    assert not re.search(r'(src|href)="(https?:|//|file:)', html)
    for section in ("Result", "Curves", "Steps", "Prompt evolution", "Configuration"):
        assert f"<h2>{section}</h2>" in html
    # one steps-table row per step, with the decision of each step
    decisions = [
        e for e in map(json.loads, (run / "events.jsonl").read_text().splitlines()) if e["type"] == "decision"
    ]
    rows = re.findall(r'<tr class="(accepted|rejected|failed|skipped)">', html)

    def status(d: dict) -> str:
        if d.get("skipped"):
            return "skipped"
        return "failed" if d["failed"] else "accepted" if d["accepted"] else "rejected"

    assert rows == [status(d) for d in decisions]
    # the final table shows the test scores of result.json
    for which in ("start", "best", "last"):
        assert f"<td>{which}</td><td>{result[which]['step']}</td>" in html
        assert f"{100 * result[which]['test']:.1f}%" in html
    # one diff block per change of prompt, each with the measured sentence edits
    changes = sum(
        1
        for a, b in zip([data.start_prompt] + [s.prompt for s in data.steps], [s.prompt for s in data.steps])
        if a != b
    )
    assert html.count('<pre class="prompt diff">') == changes > 0
    assert html.count("sentence edits") >= changes
    config_text = unescape(html.split("<h2>Configuration</h2>")[1])
    assert '"batch_size": 3' in config_text and '"task": "sums"' in config_text
    md = md_path.read_text()
    assert (
        f"| best | {result['best']['step']} | {100 * result['best']['val']:.1f}% | {100 * result['best']['test']:.1f}% |"
        in md
    )
    assert result["best"]["prompt"] in md


def test_report_of_an_unfinished_run_and_out_folder(tmp_path):
    run = scripted_run(tmp_path / "run", stop_after=2)
    html_path, _ = write_report(run, tmp_path / "out")
    assert html_path == tmp_path / "out" / "report.html" and not (run / "report.html").exists()
    html = html_path.read_text()
    assert "unfinished" in html and html.count('<tr class="') == 2
    assert '<td class="">-</td>' in html  # no test score yet for start/last


def test_compare_two_runs(tmp_path):
    a = scripted_run(tmp_path / "sweep" / "a", preset="dlpo", seed=1)
    b = scripted_run(tmp_path / "sweep" / "b", preset="tgd", seed=2, steps=3)
    html_path, md_path = build_compare([tmp_path / "sweep"], tmp_path / "cmp")
    html, md = html_path.read_text(), md_path.read_text()
    assert len(re.findall(r'src="data:image/png;base64,', html)) == 2
    for run, steps in ((a, 4), (b, 3)):
        best = json.loads((run / "result.json").read_text())["best"]
        assert f"| {run.name} | sums | " in md and f"{100 * best['test']:.1f}%" in md
        assert f"<td>{run.name}</td>" in html
    assert "| a | sums | dlpo | 1 | 4 |" in md and "| b | sums | tgd | 2 | 3 |" in md


def test_report_shows_what_each_technique_did(tmp_path):
    run = scripted_run(tmp_path / "run")
    activity = json.loads((run / "result.json").read_text()).get("activity", {})
    html_path, md_path = write_report(run)
    html, md = html_path.read_text(), md_path.read_text()
    assert {"tsa", "tcl", "tregu", "tlr", "tlrd"} <= set(activity)  # the dlpo preset's techniques
    assert "<h2>What each technique did</h2>" in html and "## What each technique did" in md
    for name in activity:
        assert f"<td>{name}</td>" in html and f"| {name} |" in md
