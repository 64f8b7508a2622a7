"""The report renders in headless Chromium with no console errors, and the screenshot is not blank.
Skipped where no chromium is installed (CI installs Debian's chromium)."""

from __future__ import annotations

import pytest

from dlpo.report import write_report
from dlpo.report.browser import find_chromium, png_colour_count, render

from .runs import scripted_run

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(find_chromium() is None, reason="no chromium executable installed"),
]


def test_report_renders_without_console_errors(tmp_path):
    html_path, _ = write_report(scripted_run(tmp_path / "run"))
    shot = render(html_path, tmp_path / "report.png")
    assert shot.returncode == 0 and shot.screenshot.stat().st_size > 10_000
    assert shot.console_errors == []
    assert png_colour_count(shot.screenshot) > 100  # text, badges, diff colours, four figures


def test_the_checks_can_fail(tmp_path):
    """A blank page has ~1 colour, and a script error shows up as a console error."""
    page = tmp_path / "bad.html"
    page.write_text("<html><body><script>undefinedFunction();</script></body></html>")
    shot = render(page, tmp_path / "bad.png", width=400, height=300)
    assert png_colour_count(shot.screenshot) <= 2
    assert any("undefinedFunction" in line for line in shot.console_errors)
