"""The run's screen and report name the llama-server builds that answered it."""

from __future__ import annotations

import dataclasses
import io

from dlpo.report import load_run, write_report
from dlpo.report.builds import builds_line


def test_builds_line_names_each_models_builds_and_flags_a_model_answered_by_two():
    assert builds_line(None) is None and builds_line({}) is None and builds_line({"openai:x": []}) is None
    one = builds_line({"local:b": ["c/2"], "local:a": ["c/1", "c/1"]})
    assert one == "llama-server builds: local:a c/1; local:b c/2"
    assert builds_line({"local:a": ["c/1"]}, quote="`") == "llama-server builds: local:a `c/1`"
    two = builds_line({"local:a": ["c/2", "c/1"]}, quote="`")
    assert two is not None and two.startswith(
        "llama-server builds: local:a `c/1` + `c/2` (more than one build"
    )


class StampedEngine:
    """A scripted engine whose answers say which build made them, as `LocalEngine`'s do."""

    def __init__(self, inner, build: str) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.build = inner, build

    @property
    def cache_id(self) -> str:
        return self.inner.cache_id

    async def complete(self, requests):  # type: ignore[no-untyped-def]
        out = await self.inner.complete(requests)
        return [dataclasses.replace(c, extra={**c.extra, "build": self.build}) for c in out]

    async def aclose(self) -> None:
        return None


def test_the_optimize_screen_and_the_report_show_the_builds(tmp_path):
    from rich.console import Console
    from train.scripted_setup import engines, make_config, make_task

    from dlpo.cli.optimize import print_result
    from dlpo.train import fit

    forward, backward = engines()
    result = fit(
        make_config("tgd", steps=2),
        run_dir=tmp_path / "run",
        task=make_task(),
        forward_engine=StampedEngine(forward, "abc1234/0.3.36-aaaaaaaaaaaa"),
        backward_engine=backward,
    )
    expected = "llama-server builds: scripted:fwd abc1234/0.3.36-aaaaaaaaaaaa"
    assert builds_line(result.usage["builds"]) == expected
    screen = io.StringIO()
    print_result(Console(file=screen, width=200), result)
    assert expected in screen.getvalue()
    html_path, md_path = write_report(result.run_dir)
    assert "- llama-server builds: scripted:fwd `abc1234/0.3.36-aaaaaaaaaaaa`" in md_path.read_text()
    assert f'<p class="meta">{expected}</p>' in html_path.read_text()
    assert load_run(result.run_dir).usage["builds"] == {"scripted:fwd": ["abc1234/0.3.36-aaaaaaaaaaaa"]}


def test_a_run_without_builds_shows_no_builds_line(tmp_path):
    from .runs import scripted_run

    run = scripted_run(tmp_path / "run", steps=1)
    _, md_path = write_report(run)
    assert "llama-server builds" not in md_path.read_text()
