"""Word-level prompt diffs: escaped HTML with <ins>/<del>, and word change counts."""

from __future__ import annotations

import pytest

from dlpo.report.diffs import word_change_counts, word_diff_html


def test_insert_delete_and_equal_words():
    html = word_diff_html("Solve the problem. Be brief.", "Solve the problem carefully. Be brief.")
    assert "<del>problem.</del>" in html and "<ins>problem carefully.</ins>" in html
    assert html.startswith("Solve the ") and html.endswith("Be brief.")
    assert word_change_counts("Solve the problem. Be brief.", "Solve the problem carefully. Be brief.") == (
        1,
        2,
    )


def test_prompt_text_is_escaped():
    html = word_diff_html("Answer <b>now</b>.", 'Answer <script>alert("x")</script> & stop.')
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html and "&amp;" in html and "&lt;b&gt;now&lt;/b&gt;." in html


@pytest.mark.parametrize(
    "old,new",
    [("", "One."), ("One.", ""), ("a b c", "a b c"), ("a\n\nb", "a\nb c"), ("x y z", "z y x")],
)
def test_diff_reconstructs_the_new_prompt(old, new):
    import html as h
    import re

    rendered = word_diff_html(old, new)
    without_deleted = re.sub(r"<del>.*?</del>", "", rendered, flags=re.DOTALL)
    new_text = h.unescape(re.sub(r"</?ins>", "", without_deleted))
    assert new_text.split() == new.split()
    old_text = h.unescape(re.sub(r"</?del>", "", re.sub(r"<ins>.*?</ins>", "", rendered, flags=re.DOTALL)))
    assert old_text.split() == old.split()
