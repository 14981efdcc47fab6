"""A UKPRN a wrapper holds for the Students in it (`<Provider><F_UKPRN>…<Student>…`, or the root's): a layout the
reader takes (formats.md), where a record took its UKPRN from its own tags only, so another provider's records went
unchecked and were sent under the run's token (review96 F1; hesa-formats.md §5 item 11)."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from register_batch.cli import cli
from register_batch.errors import UnusableInput
from register_batch.mapping import load_mapping
from register_batch.readers import open_inputs

OURS, THEIRS = "10007713", "10099999"


def student(hesa_samples, husid: str, ukprn: str | None = None) -> str:
    """The C23053 sample's Student, with another HUSID, and its own F_UKPRN left out (None) or set."""
    text = (hesa_samples / "itt_record_C23053.xml").read_text()
    one = text[text.index("<Student>") : text.index("</Student>") + len("</Student>")]
    one = re.sub(r"<F_HUSID>\d+</F_HUSID>", f"<F_HUSID>{husid}</F_HUSID>", one)
    own = "" if ukprn is None else f"<F_UKPRN>{ukprn}</F_UKPRN>"
    return re.sub(r"<F_UKPRN>\d+</F_UKPRN>", own, one)


def document(body: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<ITTRecord>\n{body}\n</ITTRecord>\n'


def read_fields(path) -> list[tuple[str | None, list]]:
    return [
        (raw.fields.get("F_UKPRN"), raw.problems)
        for _info, records in open_inputs([str(path)], "auto", load_mapping())
        for raw in records
    ]


def test_each_student_takes_the_ukprn_of_the_provider_wrapper_it_is_in(hesa_samples, tmp_path):
    path = tmp_path / "wrapped.xml"
    path.write_text(
        document(
            f"<Provider><F_UKPRN>{OURS}</F_UKPRN>{student(hesa_samples, '0310261553101')}"
            f"{student(hesa_samples, '0310261553102')}</Provider>"
            f"<Provider><UKPRN>{THEIRS}</UKPRN>{student(hesa_samples, '0310261553103')}</Provider>"
        )
    )
    assert read_fields(path) == [(OURS, []), (OURS, []), (THEIRS, [])]


def test_a_ukprn_in_the_root_is_the_students_and_their_own_wins_when_the_same(hesa_samples, tmp_path):
    path = tmp_path / "root.xml"
    path.write_text(
        document(
            f"<F_UKPRN>{THEIRS}</F_UKPRN>{student(hesa_samples, '0310261553101')}"
            f"{student(hesa_samples, '0310261553102', THEIRS)}{student(hesa_samples, '0310261553103', OURS)}"
        )
    )
    [first, second, (third, problems)] = read_fields(path)
    assert (first, second, third) == ((THEIRS, []), (THEIRS, []), OURS)
    assert problems == [
        (
            "F_UKPRN",
            f"<F_UKPRN> {OURS} is not the UKPRN of the <ITTRecord> it is in ({THEIRS}): whose trainee is it? "
            "Give the record the one UKPRN",
        )
    ]


_LATE = "comes after <Student> records it holds"
_SECOND = f"is a second UKPRN ({THEIRS}, after {OURS})"


@pytest.mark.parametrize(
    ("layout", "refusal"),
    [
        (
            "<Provider>{one}{two}<F_UKPRN>{theirs}</F_UKPRN></Provider>",
            f"<F_UKPRN> in <Provider> {_LATE}, after record 2: ",
        ),
        ("{one}{two}<F_UKPRN>{theirs}</F_UKPRN>", f"<F_UKPRN> in <ITTRecord> {_LATE}, after record 2: "),
        (
            "<Provider><F_UKPRN>{ours}</F_UKPRN><F_UKPRN>{theirs}</F_UKPRN>{one}{two}</Provider>",
            f"<F_UKPRN> in <Provider> {_SECOND}, before the first record: ",
        ),
        (
            "<Provider><F_UKPRN>{ours}</F_UKPRN>{one}<F_UKPRN>{theirs}</F_UKPRN>{two}</Provider>",
            f"<F_UKPRN> in <Provider> {_SECOND}, after record 1: ",
        ),
        (
            "{one}<Provider>{two}{one}<F_UKPRN>{theirs}</F_UKPRN></Provider>{two}",
            f"<F_UKPRN> in <Provider> {_LATE}, after record 3: ",
        ),
    ],
    ids=[
        "after its students",
        "after the root's students",
        "a second before them",
        "a second between them",
        "in a wrapper freed before the next record",
    ],
)
def test_a_wrappers_ukprn_that_is_not_its_one_given_before_its_students_is_refused(
    hesa_samples, tmp_path, layout, refusal
):
    """Read as the file streams past, the Students before a late one would go unchecked; of two, the first was used
    without a word, and one between the Students applied to those after (review98 F4). The refusal says which
    records it follows, as a parse error between records does."""
    one, two = student(hesa_samples, "0310261553101"), student(hesa_samples, "0310261553102")
    path = tmp_path / "misplaced.xml"
    path.write_text(document(layout.format(one=one, two=two, ours=OURS, theirs=THEIRS)))
    with pytest.raises(UnusableInput, match=re.escape(refusal)) as caught:
        read_fields(path)
    assert caught.value.record is None and caught.value.line is not None


def test_validate_holds_back_another_providers_record_in_its_wrapper(hesa_samples, tmp_path):
    path = tmp_path / "two-providers.xml"
    path.write_text(
        document(
            f"<Provider><F_UKPRN>{OURS}</F_UKPRN>{student(hesa_samples, '0310261553101')}</Provider>"
            f"<Provider><F_UKPRN>{THEIRS}</F_UKPRN>{student(hesa_samples, '0310261553102')}</Provider>"
        )
    )
    result = CliRunner().invoke(
        cli, ["validate", str(path), "--as-of", "2026-11-28", "--ukprn", OURS, "--report-dir", str(tmp_path / "r")]
    )
    assert result.exit_code == 1, result.output
    report = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    assert [(i["record"], i["code"]) for i in report["issues"] if i["code"] == "other_provider_record"] == [
        (2, "other_provider_record")
    ]


def test_the_same_ukprn_again_in_a_wrapper_is_no_problem(hesa_samples, tmp_path):
    one, two = student(hesa_samples, "0310261553101"), student(hesa_samples, "0310261553102")
    path = tmp_path / "again.xml"
    path.write_text(document(f"<Provider><F_UKPRN>{OURS}</F_UKPRN>{one}<F_UKPRN>{OURS}</F_UKPRN>{two}</Provider>"))
    assert read_fields(path) == [(OURS, []), (OURS, [])]
