"""A user's field map's source names, as report.html shows them (review165 F4): the summary box's causes (a source no
record has) and the Source column. A name holding a bidi override (U+202E) reversed the rest of the paragraph, and of
the cell, as the page showed it raw; the input's file name beside it, and every value, had its invisible characters
named. The source names are shown so too, and HTML in them is escaped, as before."""

from __future__ import annotations

from pathlib import Path

import lxml.html
from click.testing import CliRunner

from register_batch.cli import cli

SAMPLE = Path(__file__).parents[2] / "samples" / "extract.xml"
NAME = "<img src=x onerror=alert(1)>\u202e"
SHOWN = "<IMG SRC=X ONERROR=ALERT(1)><U+202E>"  # the page's text, once its HTML is read: a HESA tag is upper-cased


def test_a_source_name_with_a_bidi_override_is_named_in_the_summary_box_and_the_source_column(tmp_path):
    ours = tmp_path / "ours.yaml"
    ours.write_text(f'fields:\n  hesa:\n    withdrawal:\n      withdrawal_date: "{NAME}"\n', encoding="utf-8")
    result = CliRunner().invoke(
        cli,
        ["validate", str(SAMPLE), "--mapping", str(ours), "--report-dir", str(tmp_path / "r"), "--as-of", "2026-11-28"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    text = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert "\u202e" not in text
    page = lxml.html.fromstring(text)
    [box] = page.find_class("status")
    assert f"no record has {SHOWN} (for withdrawal_date)" in box.text_content()
    assert not page.xpath("//img")  # escaped, as before
    sources = [code.text_content() for code in page.xpath("//td//code") if "ONERROR" in code.text_content()]
    assert sources and set(sources) == {SHOWN}, sources
