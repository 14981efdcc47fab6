"""`Checker.batch_issues()`: the findings across records, once, after the whole walk. Asked for a second time, before
the walk's end, or of a closed checker, it raised nothing (an empty answer: every duplicate silently lost) or a bare
ValueError of its temporary file; now it says why (BatchIssuesUnavailable, a RegisterBatchError)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from register_batch.errors import ConfigError
from register_batch.validation import BatchIssuesUnavailable, Checker

DEFECTS = str(Path(__file__).parents[2] / "samples" / "defects.xml")
AS_OF = date(2026, 11, 28)


def _codes(pairs) -> list[tuple[int, str]]:
    return [(index, issue.code) for index, issue in pairs]


def _all_at_once() -> list[tuple[int, str]]:
    with Checker(as_of=AS_OF) as checker:
        for _record in checker.records([DEFECTS]):
            pass
        return _codes(checker.batch_issues())


def test_a_second_read_of_the_batch_issues_is_refused_not_empty():
    """A caller counting first and listing after got the duplicates once, then none, with no word of it."""
    first = _all_at_once()
    assert any(code.startswith("duplicate_") for _index, code in first)
    with Checker(as_of=AS_OF) as checker:
        list(checker.records([DEFECTS]))
        assert _codes(checker.batch_issues()) == first
        with pytest.raises(BatchIssuesUnavailable, match=r"read already.*list\(checker\.batch_issues\(\)\)"):
            checker.batch_issues()


def test_the_batch_issues_asked_for_before_the_walk_ends_are_refused_and_the_walk_goes_on():
    """Asked for with one record still to come, they missed it (its duplicate) and closed the temporary file, so the
    walk then died with `ValueError: write to closed file`."""
    with Checker(as_of=AS_OF) as checker:
        walk = checker.records([DEFECTS])
        next(walk)
        with pytest.raises(BatchIssuesUnavailable, match=r"before records\(\) was walked to its end"):
            checker.batch_issues()
        for _record in walk:
            pass
        assert _codes(checker.batch_issues()) == _all_at_once()


def test_a_walk_after_the_batch_issues_were_read_is_refused():
    with Checker(as_of=AS_OF) as checker:
        list(checker.records([DEFECTS]))
        list(checker.batch_issues())
        with pytest.raises(BatchIssuesUnavailable, match="read already"):
            next(checker.records([DEFECTS]))


def test_the_batch_issues_of_a_closed_checker_are_refused():
    with Checker(as_of=AS_OF) as checker:
        list(checker.records([DEFECTS]))
    with pytest.raises(BatchIssuesUnavailable, match="closed Checker") as refused:
        checker.batch_issues()
    assert isinstance(refused.value, ConfigError) and refused.value.exit_code == 2


def test_a_walk_of_a_closed_checkers_records_is_refused_in_words():
    """review88 F2: records() or rows() of a Checker used after its `with` block (or closed during a walk) failed with
    a bare ValueError (write to closed file) from its freed duplicate finder."""
    with Checker(as_of=AS_OF) as checker:
        pass
    for walk in (lambda: list(checker.records([DEFECTS])), lambda: list(checker.rows([{"hesa_id": "1"}]))):
        with pytest.raises(BatchIssuesUnavailable, match=r"records of a closed Checker .*use a new Checker"):
            walk()
    with Checker(as_of=AS_OF) as other:
        walking = other.records([DEFECTS])
        next(walking)
        other.close()
        with pytest.raises(BatchIssuesUnavailable, match="closed Checker"):
            next(walking)


def test_the_batch_issues_asked_for_before_the_walk_has_begun_are_refused_and_the_walk_goes_on():
    """review119 F5: a walk asked for (records() called) but not yet begun counted as none: the batch issues were
    `[]`, and the walk then failed with "was read already", blaming a second read the caller never made."""
    with Checker(as_of=AS_OF) as checker:
        walk = checker.records([DEFECTS])
        with pytest.raises(BatchIssuesUnavailable, match=r"before records\(\) was walked to its end"):
            checker.batch_issues()
        for _record in walk:
            pass
        assert _codes(checker.batch_issues()) == _all_at_once()


def test_the_batch_issues_of_a_checker_that_has_walked_nothing_are_refused():
    """review119 F5: a new checker answered an empty list, as if a batch had been walked and held no duplicate."""
    with Checker(as_of=AS_OF) as checker:
        with pytest.raises(BatchIssuesUnavailable, match=r"before records\(\) was walked to its end"):
            checker.batch_issues()
        list(checker.rows([], name="none"))
        assert list(checker.batch_issues()) == []  # an empty batch walked to its end: nothing across its records


def test_a_walk_asked_for_and_dropped_unbegun_does_not_hold_back_the_batch_issues():
    with Checker(as_of=AS_OF) as checker:
        checker.records([DEFECTS])  # asked for, never walked, dropped
        list(checker.records([DEFECTS]))
        assert _codes(checker.batch_issues()) == _all_at_once()
