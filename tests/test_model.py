"""The domain model as library users get it: issues, their plain-value form, and the typed request bodies."""

from __future__ import annotations

import dataclasses
import pickle

import pytest
from pydantic import ValidationError

from register_batch.model import (
    DEFERRAL_FIELDS,
    DEGREE_FIELDS,
    PLACEMENT_FIELDS,
    TRAINEE_FIELDS,
    WITHDRAWAL_FIELDS,
    Deferral,
    Degree,
    Issue,
    Placement,
    Severity,
    SourceRef,
    Trainee,
    TraineeRecord,
    Withdrawal,
    issue_from_values,
    issue_values,
    make_issue,
)

FULL_ISSUE = {
    "input": "extract.xml",
    "record": 3,
    "line": 41,
    "row": 40,
    "provider_trainee_id": "P-1",
    "hesa_id": "2412345678901",
    "field": "degrees_attributes[0].grade",
    "value": "99",
    "code": "invalid_code",
    "severity": Severity.ERROR,
    "message": "grade is not a valid code",
}


def test_make_issue_gives_the_issue_pydantic_would_build():
    assert make_issue(**FULL_ISSUE) == Issue(**FULL_ISSUE)
    minimal = {"input": "a.csv", "code": "no_rows", "severity": Severity.WARNING, "message": "empty"}
    made = make_issue(**minimal)
    assert made == Issue(**minimal)
    assert (made.record, made.line, made.field, made.value, made.hesa_id, made.provider_trainee_id) == (None,) * 6


def test_make_issue_validates_what_is_not_already_the_fields_type():
    # A severity given as text is taken, as Issue(...) takes it; a number where text belongs is refused.
    made = make_issue(**{**FULL_ISSUE, "severity": "warning"})
    assert made.severity is Severity.WARNING and not made.is_error
    for name in ("input", "code", "message", "provider_trainee_id", "hesa_id", "field", "value"):
        with pytest.raises(ValidationError):
            make_issue(**{**FULL_ISSUE, name: 12})
    for name in ("record", "line", "row"):
        with pytest.raises(ValidationError):
            make_issue(**{**FULL_ISSUE, name: "three"})


def test_an_issue_is_frozen_and_says_whether_it_is_an_error():
    issue = make_issue(**FULL_ISSUE)
    assert issue.is_error
    with pytest.raises(ValidationError):
        issue.code = "other"  # type: ignore[misc]
    assert not make_issue(**{**FULL_ISSUE, "severity": Severity.WARNING}).is_error


def test_issue_values_are_plain_and_make_the_same_issue_again():
    issue = make_issue(**FULL_ISSUE)
    values = issue_values(issue)
    assert values == (
        "extract.xml",
        3,
        41,
        40,
        "P-1",
        "2412345678901",
        "degrees_attributes[0].grade",
        "99",
        "invalid_code",
        "error",
        "grade is not a valid code",
    )
    assert pickle.loads(pickle.dumps(values)) == values
    assert issue_from_values(values) == issue
    assert issue_from_values(values).severity is Severity.ERROR
    assert issue_from_values(values, 7) == make_issue(**{**FULL_ISSUE, "record": 7})
    warning = make_issue(input="a.csv", code="c", severity=Severity.WARNING, message="m")
    assert issue_from_values(issue_values(warning)) == warning


def test_trainee_to_api_leaves_out_what_is_not_given_and_keeps_the_lists():
    trainee = Trainee(
        first_names="Ada",
        last_name="Lovelace",
        sex="10",
        degrees_attributes=[Degree(uk_degree="083", grade="02", subject="100425")],
        placements_attributes=[Placement(urn="100000")],
    )
    assert trainee.to_api() == {
        "first_names": "Ada",
        "last_name": "Lovelace",
        "sex": "10",
        "degrees_attributes": [{"uk_degree": "083", "grade": "02", "subject": "100425"}],
        "placements_attributes": [{"urn": "100000"}],
    }
    assert Trainee().to_api() == {"degrees_attributes": [], "placements_attributes": []}


def test_each_body_has_the_fields_its_list_names_and_refuses_any_other():
    # The lists are what mappings, the emulator and export go by; the models are what a library user builds.
    assert tuple(Trainee.model_fields) == (*TRAINEE_FIELDS, "degrees_attributes", "placements_attributes")
    for model, names in (
        (Degree, DEGREE_FIELDS),
        (Placement, PLACEMENT_FIELDS),
        (Withdrawal, WITHDRAWAL_FIELDS),
        (Deferral, DEFERRAL_FIELDS),
    ):
        assert tuple(model.model_fields) == names
    with pytest.raises(ValidationError):
        Trainee(trainee_id="abc")
    for model, known in ((Degree, "grade"), (Placement, "urn"), (Withdrawal, "trigger"), (Deferral, "defer_date")):
        assert model(**{known: "x"}).model_dump()[known] == "x"
        with pytest.raises(ValidationError):
            model(unknown="x")


def test_withdrawal_reasons_default_to_an_empty_list_of_its_own():
    first, second = Withdrawal(), Withdrawal()
    first.reasons.append("family_reasons")
    assert second.reasons == [] and Withdrawal().model_dump()["reasons"] == []
    assert Deferral().model_dump() == {"defer_date": None, "defer_reason": None}


def test_a_source_ref_is_a_value():
    source = SourceRef("extract.xml", 2, 30)
    assert source == SourceRef("extract.xml", 2, 30) and {source: 1}[SourceRef("extract.xml", 2, 30)] == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        source.record = 3  # type: ignore[misc]


def _record(data=None):
    return TraineeRecord(
        source=SourceRef("extract.xml", 2, 30),
        data={"provider_trainee_id": "P-2", "hesa_id": "2400000000002"} if data is None else data,
    )


def test_a_records_issue_carries_where_it_came_from_and_who_it_is():
    record = _record()
    assert (record.hesa_id, record.provider_trainee_id, record.has_errors) == ("2400000000002", "P-2", False)
    warning = record.issue("old_code", "an old code", field="sex", value=1, severity=Severity.WARNING)
    assert record.issues == [warning] and not record.has_errors
    assert warning == make_issue(
        input="extract.xml",
        record=2,
        line=30,
        provider_trainee_id="P-2",
        hesa_id="2400000000002",
        field="sex",
        value="1",
        code="old_code",
        severity=Severity.WARNING,
        message="an old code",
    )
    error = record.issue("missing", "last_name is missing")
    assert error.is_error and (error.field, error.value) == (None, None)
    assert record.issues == [warning, error] and record.has_errors


def test_a_record_with_no_ids_has_none_and_its_trainee_body_is_checked():
    record = _record({"last_name": "Lovelace", "degrees_attributes": [{"grade": "02"}]})
    assert (record.hesa_id, record.provider_trainee_id) == (None, None)
    assert record.trainee().to_api() == {
        "last_name": "Lovelace",
        "degrees_attributes": [{"grade": "02"}],
        "placements_attributes": [],
    }
    with pytest.raises(ValidationError):
        _record({"last_name": "Lovelace", "not_a_field": "x"}).trainee()


def test_issues_made_for_a_whole_run_stay_small():
    """A sync keeps every record's issues for its result (RecordResult.issues): each issue built its own set of its
    ten field names, two thirds of its 1.1 KB; one set serves them all, and a copy with a change is an issue of its
    own."""
    import tracemalloc

    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        issues = [make_issue(**{**FULL_ISSUE, "record": n}) for n in range(10_000)]
        size = (tracemalloc.get_traced_memory()[0] - before) / len(issues)
    finally:
        tracemalloc.stop()
    assert size < 600, size
    changed = issues[0].model_copy(update={"message": "other"})
    assert (changed.message, issues[0].message, issues[1].message) == (
        "other",
        FULL_ISSUE["message"],
        FULL_ISSUE["message"],
    )
    assert pickle.loads(pickle.dumps(issues[0])) == issues[0] == Issue(**{**FULL_ISSUE, "record": 0})
