"""Session 79 (issue 6, benchmarks): work validate did for every record that one look can spare, findings unchanged.

A HESA XML Student's tags were each looked for a tag nobody knows (misspelt_tag) through a tuple of the tags and the
cache of `_strangers`, keyed on that tuple: every tag compared by its text with the cached tuple's, some 10 µs a
record. A record whose tags are all ones the field map reads or HESA knows now ends at one set look-up a tag. The
too_long rule called `_as_measured` for each text value, which measures only an application_id otherwise than as it
is written.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from click.testing import CliRunner

from register_batch.cli import cli
from register_batch.mapping import apply
from register_batch.validation import rules
from register_batch.validation.runner import Checker
from valid_trainee import validated, with_changes

AS_OF = "2026-11-28"


def generated(path: Path, count: int = 4) -> Path:
    result = CliRunner().invoke(
        cli, ["generate", "--count", str(count), "--seed", "3", "--as-of", AS_OF, "-o", str(path)]
    )
    assert result.exit_code == 0, result.output
    return path


def checked_issues(path: Path) -> list[tuple[str, str | None]]:
    with Checker(fmt="auto", as_of=date.fromisoformat(AS_OF)) as checker:
        return [(issue.code, issue.field) for record in checker.records([path]) for issue in record.issues]


def test_a_student_whose_tags_are_all_known_is_not_looked_at_tag_by_tag(tmp_path, monkeypatch):
    looked: list[tuple[str, ...]] = []
    strangers = apply._strangers

    def counted(names, *rest):
        looked.append(names)
        return strangers(names, *rest)

    monkeypatch.setattr(apply, "_strangers", counted)
    assert checked_issues(generated(tmp_path / "clean.xml")) == []
    assert looked == []  # every tag of every Student, its degrees' and placements' is one the field map reads or knows


def test_a_student_with_a_tag_nobody_knows_is_still_told_its_misspelling(tmp_path, monkeypatch):
    path = generated(tmp_path / "misspelt.xml", count=1)
    path.write_text(path.read_text(encoding="utf-8").replace("F_NATION>", "F_NATON>"), encoding="utf-8")
    looked: list[tuple[str, ...]] = []
    strangers = apply._strangers

    def counted(names, *rest):
        looked.append(names)
        return strangers(names, *rest)

    monkeypatch.setattr(apply, "_strangers", counted)
    assert ("misspelt_tag", "nationality") in checked_issues(path)
    assert len(looked) == 1 and "F_NATON" in looked[0]  # the Student's own tags; its degrees' are all known


def test_too_long_measures_only_an_application_id_otherwise_than_as_written(monkeypatch):
    measured: list[str] = []
    as_measured = rules._as_measured

    def counted(field, value, facts):
        measured.append(field)
        return as_measured(field, value, facts)

    monkeypatch.setattr(rules, "_as_measured", counted)
    record = validated(with_changes(application_id="00012345", first_names="A" * 61), fmt="hesa-xml")
    too_long = [(i.field, i.message) for i in record.issues if i.code == "too_long"]
    assert too_long == [("first_names", "first_names is too long (maximum is 60 characters)")]
    assert measured == ["application_id"]
