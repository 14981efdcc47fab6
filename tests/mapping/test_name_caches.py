"""review184 F5: the caches of a record's tag names were bounded in entries only; with tags of 45,000 characters each
could hold 256 records' worth of them (hundreds of MB). Names longer than a HESA extract's, in all, empty the cache
before theirs is kept: it holds one such entry at most."""

from __future__ import annotations

from register_batch.mapping import apply


def test_a_records_long_tag_names_are_not_remembered_and_its_usual_ones_are():
    apply._strangers.cache_clear()
    apply._place.cache_clear()
    none: frozenset[str] = frozenset()
    usual = ("F_HUSID", "F_SURNAME", "F_NATON")
    assert apply._strangers(usual, frozenset({"F_HUSID"}), none, frozenset({"F_SURNAME"})) == ("F_NATON",)
    assert apply._place("F_HUSID", frozenset({"F_HUSID"})) == ("F_HUSID", 1)
    assert apply._strangers.cache_info().currsize == 1 and apply._place.cache_info().currsize == 1
    for n in range(3):  # three records, each with its own long tags
        long_tags = tuple(f"F_{n}_{m}_{'A' * 20_000}" for m in range(3))
        assert apply._strangers(long_tags, none, none, none) == long_tags
        assert apply._place(long_tags[0], frozenset({long_tags[0]})) == (long_tags[0], 1)
        assert apply._strangers.cache_info().currsize == 1 and apply._place.cache_info().currsize == 1
    assert apply._strangers(usual, frozenset({"F_HUSID"}), none, frozenset({"F_SURNAME"})) == ("F_NATON",)
    assert apply._strangers.cache_info().currsize == 2  # the usual names kept again, beside the last long ones
