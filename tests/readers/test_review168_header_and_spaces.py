"""A data officer filling Register's bulk-add template in Excel (review168): a column name typed near the template's
is refused with the column it was meant for (F3), and every cell with spaces around is named, not only the first
(F8). Each file is made in the test from the samples."""

from __future__ import annotations

import csv
import html
import io
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from register_batch.cli import cli
from register_batch.errors import UnusableInput
from register_batch.mapping import load_mapping
from register_batch.readers import open_inputs

SAMPLES = Path(__file__).parents[2] / "samples"
AS_OF = "2026-11-28"


def refused(path: Path, fmt: str = "auto") -> str:
    """The error line reading `path` stops with."""
    with pytest.raises(UnusableInput) as caught:
        for _info, records in open_inputs([str(path)], fmt, load_mapping([])):
            list(records)
    return str(caught.value)


def with_header(tmp_path: Path, sample: str, *renames: tuple[str, str]) -> Path:
    """The sample with some of its header's names written otherwise."""
    header, *rows = (SAMPLES / sample).read_text(encoding="utf-8").splitlines()
    names = header.split(",")
    for old, new in renames:
        names[names.index(old)] = new
    path = tmp_path / f"renamed-{sample}"
    path.write_text("\n".join([",".join(names), *rows]) + "\n", encoding="utf-8")
    return path


# F3: a near-miss column name is told the column it was meant for.


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("First Names", "first_names"),
        ("first-names", "first_names"),
        ("firstnames", "first_names"),
        ("first_name", "first_names"),  # a letter off
        ("Date of birth", "date_of_birth"),
        ("HESA ID", "hesa_id"),
        ("e-mail", "email"),
    ],
)
def test_a_register_csv_header_near_a_template_column_says_which_it_meant(tmp_path, typed, meant):
    """Register refuses these too, so the file is refused; but "remove the column or list it under ignored" would
    throw away every trainee's value. The column meant is said first, beside the name."""
    path = with_header(tmp_path, "register.csv", (meant, typed))
    message = refused(path)
    assert message.startswith(
        f"{path}, line 1: unknown column header {typed!r} (did you mean {meant}?) for register-csv: correct a "
        "misspelt name, or remove the column"
    )


def test_every_near_miss_header_is_told_its_column_in_the_one_line(tmp_path):
    """The line names every unknown header at once, each near miss with its column, and one that is near nothing
    without."""
    path = with_header(
        tmp_path, "register.csv", ("first_names", "First Names"), ("date_of_birth", "Date of birth"), ("sex", "Notes")
    )
    message = refused(path)
    assert "\n" not in message
    assert message.startswith(
        f"{path}, line 1: unknown column headers 'First Names' (did you mean first_names?), 'Date of birth' (did "
        "you mean date_of_birth?), 'Notes' for register-csv: correct a misspelt name"
    )


def test_no_column_the_file_has_is_suggested(tmp_path):
    """`first_name` beside `first_names` is a column of the user's own (or a repeat), not a misspelling of one the
    file lacks; and two near misses of one column are told it once."""
    header, *rows = (SAMPLES / "register.csv").read_text(encoding="utf-8").splitlines()
    kept = tmp_path / "kept.csv"
    kept.write_text("\n".join([f"{header},first_name", *(f"{row},x" for row in rows)]) + "\n", encoding="utf-8")
    assert "unknown column header 'first_name' for register-csv" in refused(kept)
    twice = with_header(tmp_path, "register.csv", ("first_names", "First Names"), ("last_name", "firstnames"))
    assert "headers 'First Names' (did you mean first_names?), 'firstnames' for register-csv" in refused(twice)


def test_no_column_whose_field_the_users_map_reads_from_another_is_suggested(tmp_path):
    """review172 F6: with mappings.md's Example 4 (`provider_trainee_id: student number`), `Provider Trainee No` was
    told "did you mean provider_trainee_id?"; renamed so, the column was read by nothing beside `Student Number`, and
    `convert` dropped its values unsaid. A column the map still reads is suggested as before."""
    mapping = tmp_path / "srsmap.yaml"
    mapping.write_text("fields:\n  register-csv:\n    trainee:\n      provider_trainee_id: student number\n")
    path = with_header(
        tmp_path, "register.csv", ("provider_trainee_id", "Student Number"), ("first_names", "First Names")
    )
    header, *rows = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([f"{header},Provider Trainee No", *(f"{row},x" for row in rows)]) + "\n")
    with pytest.raises(UnusableInput) as caught:
        for _info, records in open_inputs([str(path)], "auto", load_mapping([mapping])):
            list(records)
    assert str(caught.value).startswith(
        f"{path}, line 1: unknown column headers 'First Names' (did you mean first_names?), 'Provider Trainee No' for "
        "register-csv: correct a misspelt name"
    )
    # without the map, the template's column is the one meant
    assert "'Provider Trainee No' (did you mean provider_trainee_id?)" in refused(path)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("F_SURNAM", "F_SURNAME"), ("f surname", "F_SURNAME"), ("F-FNAMES", "F_FNAMES"), ("Sur Name", "F_SURNAME")],
)
def test_a_hesa_csv_header_near_a_hesa_tag_says_which_it_meant(tmp_path, typed, meant):
    """A HESA-named CSV's column is read with or without its F_ (`SURNAME`); one near a tag is told the tag."""
    path = with_header(tmp_path, "extract.csv", (meant, typed))
    assert f"unknown column header {typed!r} (did you mean {meant}?) for hesa-csv: correct" in refused(path)


def test_a_numbered_hesa_column_near_a_groups_tag_is_told_its_numbered_name(tmp_path):
    """A degree's second row's class, misspelt, is meant for F_DEGCLSS_2, not the first row's bare F_DEGCLSS."""
    path = tmp_path / "extract.csv"
    path.write_text("F_HUSID,F_DEGCLSS_1,F_DEGCLS_2\n2601200000017,01,02\n", encoding="utf-8")
    message = refused(path, "hesa-csv")
    assert "unknown column header 'F_DEGCLS_2' (did you mean F_DEGCLSS_2?) for hesa-csv" in message


# F8: untrimmed_values names every cell with spaces around (up to ten), in issues.csv and report.html too.


def padded(tmp_path: Path, cells: int) -> tuple[Path, list[tuple[int, str, str]]]:
    """The Register CSV sample with a space after the last name of the first `cells` rows (then the first names):
    the file and each padded cell's (line, column, cell)."""
    header, *rows = (SAMPLES / "register.csv").read_text(encoding="utf-8").splitlines()
    parsed = [next(csv.reader([row])) for row in rows]
    names = header.split(",")
    places = []
    for n in range(cells):
        column = "last_name" if n < len(parsed) else "first_names"
        row = parsed[n % len(parsed)]
        index = names.index(column)
        row[index] = f"{row[index]} "
        places.append((n % len(parsed) + 2, column, row[index]))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([names, *parsed])
    path = tmp_path / "padded.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path, sorted(places)


def validate(path: Path, code: int = 0) -> Path:
    """`register-batch validate PATH`, exiting with `code`: its report folder."""
    reports = path.parent / "reports"
    result = CliRunner().invoke(
        cli, ["validate", str(path), "--as-of", AS_OF, "--report-dir", str(reports)], catch_exceptions=False
    )
    assert result.exit_code == code, result.output
    return reports


def test_every_untrimmed_value_is_named_in_issues_csv_and_report_html(tmp_path):
    """review168 F8: of three padded cells only the first was named; someone uploading through Register's page had
    to find the others alone."""
    path, places = padded(tmp_path, 3)
    reports = validate(path)
    [row] = [
        r
        for r in csv.DictReader(io.StringIO(reports.joinpath("issues.csv").read_text("utf-8-sig")))
        if r["code"] == "untrimmed_values"
    ]
    shown = "; ".join(f"line {line}, {column} {cell!r}" for line, column, cell in places)
    assert row["message"].startswith(f"3 values have spaces around ({shown}): register-batch trims them")
    page = html.unescape(reports.joinpath("report.html").read_text("utf-8"))
    assert f"3 values have spaces around ({shown}): register-batch trims them" in page


def test_more_than_ten_untrimmed_values_are_named_ten_and_counted(tmp_path):
    path, places = padded(tmp_path, 14)
    reports = validate(path)
    [row] = [
        r
        for r in csv.DictReader(io.StringIO(reports.joinpath("issues.csv").read_text("utf-8-sig")))
        if r["code"] == "untrimmed_values"
    ]
    shown = "; ".join(f"line {line}, {column} {cell!r}" for line, column, cell in places[:10])
    assert row["message"].startswith(f"14 values have spaces around ({shown}; and 4 more): register-batch")
    page = html.unescape(reports.joinpath("report.html").read_text("utf-8"))
    assert f"({shown}; and 4 more)" in page


def test_a_long_untrimmed_value_is_shown_by_its_ends(tmp_path):
    """The spaces are at a value's ends: a long one's middle is left out, so the ten places fit the message report.html
    shows in full."""
    header, first, *rows = (SAMPLES / "register.csv").read_text(encoding="utf-8").splitlines()
    email = first.split(",")[9]
    long = f"{'x' * 80}{email} "
    path = tmp_path / "long.csv"
    path.write_text("\n".join([header, first.replace(email, long), *rows]) + "\n", encoding="utf-8")
    reports = validate(path)
    [issue] = [i for i in _issues(reports) if i["code"] == "untrimmed_values"]
    assert issue["message"].startswith(f"1 value has spaces around (line 2, email {'x' * 10 + '…' + long[-10:]!r})")


def _issues(reports: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(reports.joinpath("issues.csv").read_text("utf-8-sig"))))


def test_the_places_named_fit_the_message_report_html_shows_in_full(tmp_path):
    """report.html shows a message's first 500 characters: with long column names and values, fewer than ten places
    are named, the rest counted, and every one named is on the page."""
    rows = list(csv.reader((SAMPLES / "register.csv").read_text(encoding="utf-8").splitlines()))
    header = rows[0]
    for row in rows[1:]:
        for column in ("email", "additional_training_initiative", "pg_apprenticeship_start_date"):
            index = header.index(column)
            row[index] = f"{row[index] or 'x' * 30} "  # an invalid code where blank: the file's errors are no matter
    path = tmp_path / "long-names.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        csv.writer(out).writerows(rows)
    reports = validate(path, code=1)
    [issue] = [i for i in _issues(reports) if i["code"] == "untrimmed_values"]
    message = issue["message"]
    named = re.findall(r"line \d+, [a-z_]+ ", message)
    more = re.search(r"; and (\d+) more\)", message)
    assert len(message) <= 500 and len(named) >= 5 and more is not None
    assert len(named) + int(more[1]) == 3 * (len(rows) - 1)
    assert message in html.unescape(reports.joinpath("report.html").read_text("utf-8"))
