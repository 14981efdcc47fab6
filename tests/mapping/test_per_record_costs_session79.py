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


def strangers_asked(monkeypatch) -> list[tuple[str, ...]]:
    """The tags each call of mapping's `_strangers` (a Student's tags looked at one by one) is given, from now on."""
    looked: list[tuple[str, ...]] = []
    strangers = apply._strangers

    def counted(names, *rest):
        looked.append(names)
        return strangers(names, *rest)

    monkeypatch.setattr(apply, "_strangers", counted)
    return looked


def test_a_student_whose_tags_are_all_known_is_not_looked_at_tag_by_tag(tmp_path, monkeypatch):
    looked = strangers_asked(monkeypatch)
    assert checked_issues(generated(tmp_path / "clean.xml")) == []
    assert looked == []  # every tag of every Student, its degrees' and placements' is one the field map reads or knows


def test_a_student_with_a_tag_nobody_knows_is_still_told_its_misspelling(tmp_path, monkeypatch):
    path = generated(tmp_path / "misspelt.xml", count=1)
    path.write_text(path.read_text(encoding="utf-8").replace("F_NATION>", "F_NATON>"), encoding="utf-8")
    looked = strangers_asked(monkeypatch)
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


def test_a_student_whose_tags_were_each_found_plain_is_not_joined_again_in_another_order(tmp_path, monkeypatch):
    """The reader's look for tags in a namespace or read by another name (_joined, then a test of each tag) is paid
    by the Students with a tag not yet found plain, not by each new order of tags found plain already."""
    from register_batch.mapping import load_mapping
    from register_batch.readers import hesa_xml, open_inputs

    path = generated(tmp_path / "three.xml", count=3)
    text = path.read_text(encoding="utf-8")
    third = text.index("<Student>", text.index("<Student>", text.index("<Student>") + 1) + 1)
    head, tail = text[:third], text[third:]
    # the third Student's F_UKPRN before its F_ITTKEY: the same tags in another order
    ittkey = tail[tail.index("<F_ITTKEY>") : tail.index("</F_ITTKEY>") + len("</F_ITTKEY>")]
    ukprn = tail[tail.index("<F_UKPRN>") : tail.index("</F_UKPRN>") + len("</F_UKPRN>")]
    tail = tail.replace(ittkey, "\x00", 1).replace(ukprn, ittkey, 1).replace("\x00", ukprn, 1)
    path.write_text(head + tail, encoding="utf-8")
    monkeypatch.setattr(hesa_xml, "_PLAIN_NAMES", set())  # the names found plain so far: this test's Students find them
    joined: list[int] = []
    join = hesa_xml._joined
    monkeypatch.setattr(hesa_xml, "_joined", lambda tags: joined.append(len(tags)) or join(tags))
    ((_info, records),) = open_inputs([str(path)], "auto", load_mapping())
    first, _second = next(records), next(records)
    before_third = len(joined)
    third_record = next(records)
    assert list(third_record.fields)[:2] == ["F_UKPRN", "F_ITTKEY"]
    assert third_record.fields.keys() == first.fields.keys()
    assert before_third >= 1 and len(joined) == before_third  # the third Student: no join, no test of each tag
    assert not third_record.problems and third_record.written is None


def test_a_student_with_every_initiative_tag_is_answered_by_the_plan_without_a_look_per_initiative(tmp_path):
    """_said_initiatives of a Student with F_INITIATIVES1 and F_INITIATIVES2 (NULL or not: every HESA Student) is the
    plan's own set, with no set made per record; one without a tag is still looked at initiative by initiative."""
    from register_batch.mapping import load_mapping
    from register_batch.readers import open_inputs

    path = generated(tmp_path / "two.xml", count=2)
    text = path.read_text(encoding="utf-8")
    second = text.index("<Student>", text.index("<Student>") + 1)
    tail = text[second:]
    tag = tail[tail.index("<F_INITIATIVES2>") : tail.index("</F_INITIATIVES2>") + len("</F_INITIATIVES2>")]
    path.write_text(text[:second] + tail.replace(tag, "", 1), encoding="utf-8")
    mapping = load_mapping()
    mapper = apply.Mapper(mapping)
    ((info, records),) = open_inputs([str(path)], "auto", mapping)
    whole, lacking = list(records)
    fmap = mapping.fields["hesa"]
    layout, _conflict = mapper._layout(whole.fields, fmap)
    plan = mapper._plan(fmap, *(layout or (None, None)))
    assert apply._said_initiatives(plan, whole) is plan.every_initiative
    assert plan.every_initiative == {"training_initiative", "additional_training_initiative"}
    assert apply._said_initiatives(plan, lacking) == {"training_initiative"}
    assert mapper.map(whole, info.format).untagged == frozenset()
    assert mapper.map(lacking, info.format).untagged == {"additional_training_initiative"}
