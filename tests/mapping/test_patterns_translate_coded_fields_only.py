"""A `codes` block key that is a pattern translates only the fields with a code list it matches (review117 F2).

Loading refuses a block that matches no coded field (docs/mappings.md "Code translations"), but one matching a coded
field and uncoded ones (`course_*`: course_subject_1-3 and course_age_range, and course_year; `*`: every field) also
rewrote the uncoded ones: course_year NK was sent as 13918, and a last name NK refused by a code's reason.
"""

from __future__ import annotations

from register_batch.mapping import Mapper, load_mapping
from register_batch.model import SourceRef
from register_batch.readers.base import RawRecord


def mapped(tmp_path, mapping: str, fields: dict[str, str]):
    user = tmp_path / "ours.yaml"
    user.write_text(mapping)
    raw = RawRecord(source=SourceRef(input="x", record=1, line=2), fields=fields)
    return Mapper(load_mapping([user])).map(raw, "register-csv")


def test_a_pattern_translates_the_coded_fields_it_matches_and_leaves_course_year_alone(tmp_path):
    record = mapped(
        tmp_path,
        "codes:\n  course_*:\n    source: SRS writes NK\n    translate:\n      NK: '13918'\n",
        {"course_age_range": "NK", "course_year": "NK"},
    )
    assert record.data["course_age_range"] == "13918"
    assert record.data["course_year"] == "NK"
    assert [(issue.code, issue.field) for issue in record.issues] == [("legacy_code_translated", "course_age_range")]


def test_a_star_block_refusing_a_code_refuses_it_in_coded_fields_not_in_names(tmp_path):
    record = mapped(
        tmp_path,
        "codes:\n  '*':\n    no_translation:\n      NK: 'not known: leave it blank'\n",
        {"sex": "NK", "last_name": "NK", "previous_last_name": "NK", "application_id": "NK"},
    )
    assert [(issue.code, issue.field) for issue in record.issues] == [("untranslatable_code", "sex")]
    assert record.data["last_name"] == "NK"


def test_the_merged_translations_of_an_uncoded_field_are_none(tmp_path):
    user = tmp_path / "ours.yaml"
    user.write_text("codes:\n  '*':\n    translate:\n      NK: '99'\n")
    config = load_mapping([user])
    assert config.translations_for("course_year") is None
    assert config.translations_for("first_names") is None
    assert config.translations_for("degrees_attributes.graduation_year") is None
    assert config.translations_for("sex") is not None
