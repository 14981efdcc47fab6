"""Trainees as Register lists them, reduced to what a sync reads: a tuple of values each, not a dict of 80 keys.

A sync lists every trainee of the extract's academic cycles (register-api.md §2.3) and holds them all while it
plans: Register's trainee has about 80 keys, and each degree and placement its uuids and timestamps (§3.6-§3.8),
about 7 KB of Python objects a trainee, so a nightly run of 40,000 trainees held 280 MB of them. A
`ListedTrainee` keeps only the keys planning reads (`KEYS`: the writable fields, the trainee's id and state, its
withdrawal and deferral, its degrees and placements with the keys compared and their ids), as a tuple in a fixed
order; values that repeat from trainee to trainee (codes, the course's dates) are shared (`sys.intern`).

It reads like the dict it was made from for every key it keeps, an absent key included (`get` gives the default,
`[]` raises KeyError). Reading a key it does not keep raises `NotKept`: planning that starts to read another of
Register's keys must add it to `KEYS`, rather than take every trainee's value for None.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar

from register_batch.model import DEGREE_FIELDS, HELD_DEFERRAL, HELD_WITHDRAWAL, TRAINEE_FIELDS

# The withdrawal and deferral Register holds (§3.6): compared with a record's once Register has withdrawn or deferred
# the trainee (plan._state_held_otherwise).
HELD_STATE_KEYS = (*HELD_WITHDRAWAL.values(), *HELD_DEFERRAL.values(), "reinstate_date")
# What Register derives rather than takes (register/derived.py), which another client's partial update can leave
# wrong (compare.derived_drift).
DERIVED_KEYS = ("course_education_phase", "diversity_disclosure", "disability_disclosure")


class _Absent:
    """A key the trainee's dict did not have (`get` gives the default for it, as the dict's did)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<absent>"


_ABSENT = _Absent()
# Values one trainee has alone (ids, names, contact details, dates of birth): not worth sharing.
_OWN = frozenset(
    {
        "trainee_id",
        "degree_id",
        "placement_id",
        "hesa_id",
        "provider_trainee_id",
        "application_id",
        "first_names",
        "middle_names",
        "last_name",
        "previous_last_name",
        "email",
        "ni_number",
        "date_of_birth",
    }
)


class NotKept(KeyError):
    """A key a listed trainee (degree, placement) does not keep was read: add it to the class's KEYS."""


class _Kept(Mapping[str, Any]):
    """A read-only mapping over a tuple of the values of `KEYS`, absent keys included (as `_ABSENT`)."""

    __slots__ = ("_values",)
    KEYS: ClassVar[tuple[str, ...]] = ()
    _INDEX: ClassVar[dict[str, int]] = {}
    _PLAN: ClassVar[tuple[tuple[str, bool], ...]] = ()  # each key, and whether its text values are shared
    _nested: Callable[[list[Any]], tuple[Any, ...]] = tuple  # the values, as kept

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._INDEX = {key: place for place, key in enumerate(cls.KEYS)}
        cls._PLAN = tuple((key, key not in _OWN) for key in cls.KEYS)

    def __init__(self, item: Mapping[str, Any]) -> None:
        # One pass, no call per key: a listing of 40,000 trainees makes 150,000 of these.
        get, intern = item.get, sys.intern
        self._values: tuple[Any, ...] = self._nested(
            [
                intern(value) if shared and type(value) is str else value
                for key, shared in self._PLAN
                for value in (get(key, _ABSENT),)
            ]
        )

    def _not_kept(self, key: object) -> NotKept:
        return NotKept(f"{type(self).__name__} does not keep {key!r} (register_batch/sync/listed.py)")

    # get, [] and `in` are read for every field of every trainee planned: each one look-up, no further call.
    def __getitem__(self, key: str) -> Any:
        try:
            value = self._values[self._INDEX[key]]
        except KeyError:
            raise self._not_kept(key) from None
        if value is _ABSENT:
            raise KeyError(key)
        return value

    def get(self, key: str, default: Any = None) -> Any:
        try:
            value = self._values[self._INDEX[key]]
        except KeyError:
            raise self._not_kept(key) from None
        return default if value is _ABSENT else value

    def __contains__(self, key: object) -> bool:
        place = self._INDEX.get(key) if isinstance(key, str) else None
        if place is None:
            raise self._not_kept(key)
        return self._values[place] is not _ABSENT

    def __iter__(self) -> Iterator[str]:
        return (key for key, value in zip(self.KEYS, self._values, strict=True) if value is not _ABSENT)

    def __len__(self) -> int:
        return sum(value is not _ABSENT for value in self._values)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict(self)!r})"


class ListedDegree(_Kept):
    """A degree of a listed trainee (§3.7): the keys sync/compare.py compares, and its id."""

    __slots__ = ()
    # Every field, other_grade too: an update is checked with the degrees Register holds (merged.py).
    KEYS = (*DEGREE_FIELDS, "degree_id")


class ListedPlacement(_Kept):
    """A placement of a listed trainee (§3.8): what identifies it, and its id."""

    __slots__ = ()
    KEYS = ("urn", "name", "placement_id")


def _items(value: Any, kind: type[_Kept]) -> Any:
    """A listed trainee's degrees or placements, each reduced; anything else (null, damage) as it came."""
    if type(value) is list and all(type(item) is dict or isinstance(item, Mapping) for item in value):
        return tuple([kind(item) for item in value])
    return value


class ListedTrainee(_Kept):
    """A trainee as Register listed it (§3.6), reduced to what planning reads."""

    __slots__ = ()
    KEYS = (*TRAINEE_FIELDS, "trainee_id", "state", "degrees", "placements", *HELD_STATE_KEYS, *DERIVED_KEYS)

    def _nested(self, values: list[Any]) -> tuple[Any, ...]:
        for key, kind in (("degrees", ListedDegree), ("placements", ListedPlacement)):
            place = self._INDEX[key]
            values[place] = _items(values[place], kind)
        return tuple(values)

    @classmethod
    def of(cls, trainee: Mapping[str, Any]) -> ListedTrainee:
        """`trainee` reduced (a ListedTrainee already is)."""
        return trainee if type(trainee) is ListedTrainee else cls(trainee)
