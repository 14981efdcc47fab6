"""Mistakes a user makes writing a mapping file: each is refused in one line naming the file and the key path,
never read as something else without a word (from the mapping-file review)."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from register_batch.cli import cli
from register_batch.errors import ConfigError
from register_batch.mapping import load_mapping

MISTAKES = [
    # A misspelt section of a field map changed nothing, and nothing said so.
    ("fields:\n  hesa:\n    trainees:\n      sex: F_SEXID\n", "fields.hesa", "unknown key 'trainees'"),
    (
        "fields:\n  hesa:\n    degrees:\n      feilds:\n        subject: F_DEGSBJ2\n",
        "fields.hesa.degrees",
        "unknown key 'feilds'",
    ),
    (
        "fields:\n  register-csv:\n    degrees:\n      subject: our degree subject\n",
        "fields.register-csv.degrees",
        "unknown key 'subject'",
    ),
    # A misspelt `when` was dropped: the translation then applied to every record.
    (
        "codes:\n  training_route:\n    translate:\n      '02': {to: '12', whn: {itt_qualification_aim: '001'}}\n",
        "codes.training_route.translate.02",
        "unknown key(s) whn",
    ),
    # A `when` on a field Register does not have could never match: the fallback applied to every record.
    (
        "codes:\n  training_route:\n    translate:\n      '01':\n"
        "        - {to: '11', when: {itt_qualification_am: ['001']}}\n        - '12'\n",
        "codes.training_route.translate.01[0].when.itt_qualification_am",
        "not a Register API v2026.1 trainee field",
    ),
    ("codes:\n  sex:\n    translate:\n      M: {to: '11', note: {a: b}}\n", "codes.sex.translate.M.note", "text"),
    ("codes:\n  sex:\n    source: {a: b}\n", "codes.sex.source", "expected text"),
    # Wrong shapes were internal errors (exit 70) instead of a message about the file.
    ("codes:\n  sex:\n    no_translation: ['M']\n", "codes.sex.no_translation", "of old code to reason"),
    ("codes:\n  sex:\n    translate: ['M']\n", "codes.sex.translate", "of old code to new code"),
    ("codes:\n  - sex\n", "codes", "expected a mapping"),
    ("fields:\n  - hesa\n", "fields", "expected a mapping"),
    ("codes:\n  training_route:\n    translate:\n      '02': {to: '12', when: x}\n", "when", "expected"),
    # A section written as a list, or a value left empty, where the file wants a mapping or a name.
    ("fields:\n  hesa:\n    trainee: [F_ITTKEY]\n", "fields.hesa.trainee", "expected a mapping of API field"),
    ("fields:\n  hesa:\n    trainee:\n      sex:\n", "fields.hesa.trainee.sex", "got nothing"),
    ("fields:\n  hesa: [trainee]\n", "fields.hesa", "sections (trainee, degrees, placements,"),
    ("fields:\n  hesa: F_ITTKEY\n", "fields.hesa", "got 'F_ITTKEY'"),
    ("fields:\n  hesa:\n    degrees: [group]\n", "fields.hesa.degrees", "with group and/or fields"),
    ("fields:\n  hesa:\n    placements: F_PLMNTSCH\n", "fields.hesa.placements", "group and/or fields and/or"),
    ("fields:\n  hesa:\n    vintages:\n      C21053: [F_X]\n", "fields.hesa.vintages.C21053", "expected {any_of:"),
    # A field Register does not have, in each section of a field map: named in the user's file, not the merged map.
    ("fields:\n  hesa:\n    withdrawal:\n      reason: F_RSNEND\n", "fields.hesa.withdrawal", "'reason' is not a"),
    ("fields:\n  hesa:\n    deferral:\n      date: F_DEFERDATE\n", "fields.hesa.deferral", "'date' is not a"),
    ("fields:\n  register-csv:\n    provider:\n      ukprn_id: ukprn\n", "fields.register-csv.provider", "'ukprn_id'"),
    (
        "fields:\n  hesa:\n    degrees:\n      fields:\n        class: F_DEGCLSS\n",
        "fields.hesa.degrees.fields",
        "'class'",
    ),
    (
        "fields:\n  hesa:\n    placements:\n      fields:\n        school: F_X\n",
        "fields.hesa.placements.fields",
        "'school'",
    ),
    (
        "fields:\n  hesa:\n    vintages:\n      C21053:\n        trainee:\n          end_date: F_ENDDATE\n",
        "fields.hesa.vintages.C21053.trainee",
        "'end_date' is not a",
    ),
    # A code block that is not a block, or has a misspelt key.
    ("codes:\n  sex: '11'\n", "codes.sex", "expected translate/no_translation entries, got '11'"),
    ("codes:\n  sex:\n", "codes.sex", "expected translate/no_translation entries, got nothing"),
    (
        "codes:\n  sex:\n    translates:\n      M: '11'\n",
        "codes.sex",
        "unknown key(s) translates; a block has only source, translate and no_translation",
    ),
    # A `when` that lists nothing, or not codes, could never match.
    (
        "codes:\n  training_route:\n    translate:\n      '02': {to: '12', when: {itt_qualification_aim: []}}\n",
        "codes.training_route.translate.02.when.itt_qualification_aim",
        "expected a code or a list of codes, got []",
    ),
    (
        "codes:\n  training_route:\n    translate:\n      '02': {to: '12', when: {itt_qualification_aim: {a: b}}}\n",
        "codes.training_route.translate.02.when.itt_qualification_aim",
        "expected a code or a list of codes",
    ),
    (
        "codes:\n  training_route:\n    translate:\n      '02': {to: '12', when: {itt_qualification_aim: }}\n",
        "codes.training_route.translate.02.when.itt_qualification_aim",
        "got nothing",
    ),
    # An untranslatable code without its reason: the reason is the error every record with the code gets.
    ("codes:\n  sex:\n    no_translation:\n      M:\n", "codes.sex.no_translation.M", "expected the reason"),
    ("codes:\n  sex:\n    no_translation:\n      M: [a]\n", "codes.sex.no_translation.M", "got ['a']"),
    # An empty list of alternatives was taken: the code went untranslated, a bundled translation of it undone.
    ("codes:\n  sex:\n    translate:\n      '1': []\n", "codes.sex.translate.1", "got an empty list"),
    # An alternative after one with no `when` (the fallback, which always matches) was never used, without a word;
    # `mappings check` even described it as the translation "else".
    (
        "codes:\n  training_route:\n    translate:\n      '01':\n"
        "        - {to: '12'}\n        - {to: '11', when: {itt_qualification_aim: ['001']}}\n",
        "codes.training_route.translate.01[1]",
        "never used: the alternative before it has no `when`",
    ),
    ("codes:\n  sex:\n    translate:\n      M: ['11', '10']\n", "codes.sex.translate.M[1]", "never used"),
    # An empty source name was taken: the field was read as blank for every record (`required` on each).
    ("fields:\n  hesa:\n    trainee:\n      sex: ''\n", "fields.hesa.trainee.sex", "an empty source name (got '')"),
    ("fields:\n  hesa:\n    trainee:\n      sex: [F_SEXID, ' ']\n", "fields.hesa.trainee.sex", "empty source name"),
    # An empty code was counted as a translation, and matched nothing: a blank value is missing, not a code.
    ("codes:\n  sex:\n    translate:\n      '': '10'\n", "codes.sex.translate", "'' is not a code"),
    ("codes:\n  sex:\n    no_translation:\n      '': why\n", "codes.sex.no_translation", "'' is not a code"),
    # A block for fields without a code list: `mappings check` called it an error, while validate, convert and sync
    # rewrote the values (`first_names` sent as "Cal") without a word.
    (
        "codes:\n  first_names:\n    source: x\n    translate:\n      Callum: Cal\n",
        "codes.first_names",
        "matches no field with a code list of Register's",
    ),
    ("codes:\n  course_year:\n    translate:\n      '26': '2026'\n", "codes.course_year", "no field with a code list"),
    # A code both translated and untranslatable in one block: the translation was dropped without a word.
    (
        "codes:\n  sex:\n    translate:\n      M: '11'\n    no_translation:\n      M: not a code of ours\n",
        "codes.sex",
        "'M' is under both translate and no_translation",
    ),
]


@pytest.mark.parametrize("text,where,problem", MISTAKES)
def test_a_mistake_in_a_mapping_file_is_refused_with_its_key_path(refusal, text, where, problem):
    user, message = refusal(text)
    assert re.match(rf"{re.escape(user)}:\d+: ", message) and where in message and problem in message
    assert "\n" not in message


@pytest.mark.parametrize("text,where,problem", MISTAKES)
def test_a_mistake_in_a_mapping_file_is_one_line_and_exit_2_from_the_command(tmp_path, text, where, problem):
    """What a person editing the file sees: the one line, no traceback, and exit 2 (a problem with the settings)."""
    user = tmp_path / "ours.yaml"
    user.write_text(text)
    result = CliRunner().invoke(cli, ["mappings", "check", "--mapping", str(user)])
    assert result.exit_code == 2, result.output
    [line] = result.output.splitlines()
    assert re.match(rf"register-batch: error: {re.escape(str(user))}:\d+: ", line) and where in line and problem in line


@pytest.mark.parametrize("text", ["- fields\n- codes\n", "fields\n", "'12'\n"])
def test_a_mapping_file_that_is_not_a_mapping_at_the_top_level_is_refused(refusal, text):
    """A list, or `fields` written without its colon: the whole file is the wrong shape."""
    user, message = refusal(text)
    assert message == f"{user}: a mapping file must be a YAML mapping at the top level"


@pytest.mark.parametrize("text", ["", "# our SRS's mappings: none yet\n", "---\n"])
def test_an_empty_mapping_file_changes_nothing_and_is_listed(tmp_path, text):
    """A file with nothing in it yet (or comments only) is read as no change, and is listed with the files used."""
    user = tmp_path / "ours.yaml"
    user.write_text(text)
    bundled, config = load_mapping(), load_mapping([user])
    assert config.files == [str(user)] and len(config.sha256) == 1
    assert config.codes == bundled.codes and config.fields == bundled.fields and config.named_sources == []


@pytest.mark.parametrize("char", ["\x07", "\x0c", "\x01"])
def test_a_control_character_in_a_mapping_file_is_refused_in_one_line_naming_its_line(tmp_path, char):
    """A form feed or bell pasted in from a word processor was refused in two lines, at `"<file>", position 63` (a
    count of bytes); a note in UTF-8 on a line before it (`é`) made that count no help in finding it."""
    user = tmp_path / "ours.yaml"
    user.write_text(f"# our SRS's codes, café\ncodes:\n  sex:\n    translate:\n      M: '1{char}1'\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["mappings", "check", "--mapping", str(user)])
    assert result.exit_code == 2
    [line] = result.output.splitlines()  # the reason is libyaml's ("control characters") or PyYAML's ("special")
    assert line.startswith(f"register-batch: error: {user}:5: not valid YAML (character U+{ord(char):04X}: ")
    assert line.endswith(" characters are not allowed)")


def test_a_mapping_file_that_cannot_be_read_is_refused_naming_it(tmp_path):
    missing, folder = tmp_path / "ours.yaml", tmp_path / "mappings"
    folder.mkdir()
    for path in (missing, folder):
        with pytest.raises(ConfigError) as caught:
            load_mapping([path])
        assert str(caught.value).startswith(f"{path}: cannot read mapping file (")
    result = CliRunner().invoke(cli, ["mappings", "check", "--mapping", str(missing)])
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        f"register-batch: error: {missing}: cannot read mapping file (No such file or directory) (set by --mapping)"
    ]


@pytest.mark.parametrize(
    "text,line,key",
    [
        ("codes:\n  sex:\n    translate:\n      M: '11'\n      'M': '10'\n", 5, "'M'"),
        ("codes:\n  sex:\n    translate: {M: '11'}\n  sex:\n    translate: {F: '10'}\n", 4, "'sex'"),
        (
            "fields:\n  hesa:\n    trainee:\n      provider_trainee_id: F_ITTKEY\n"
            "      provider_trainee_id: F_OWNSTU\n",
            5,
            "",
        ),
    ],
)
def test_a_key_written_twice_is_refused_not_last_one_wins(refusal, text, line, key):
    """Plain YAML keeps the last of two equal keys silently; a mapping file says which line to fix."""
    user, message = refusal(text)
    assert message.startswith(f"{user}:{line}: ") and "written twice" in message and key in message
    assert "not valid YAML" not in message  # it is valid YAML; the loader refuses it (review58 F6)


def test_merge_keys_may_still_override_what_they_bring_in(tmp_path):
    user = tmp_path / "ours.yaml"
    user.write_text(
        "codes:\n  sex: &ours\n    source: our SRS\n    translate: {M: '11'}\n"
        "  nationality:\n    <<: *ours\n    translate: {NOR: 'NO'}\n"
    )
    config = load_mapping([user])
    [nationality] = [t for t in config.codes if t.pattern == "nationality" and t.origin == str(user)]
    assert nationality.source == "our SRS" and set(nationality.translate) == {"NOR"}


def test_the_documented_sections_and_when_tests_still_load(tmp_path):
    user = tmp_path / "ours.yaml"
    user.write_text(
        "fields:\n  hesa:\n    trainee:\n      provider_trainee_id: F_ITTKEY\n"
        "    degrees:\n      fields:\n        subject: [F_DEGSBJ2, F_DEGSBJ1]\n"
        "    placements:\n      fields:\n        urn: F_PLMNTSCH\n        postcode: F_PLMNTPC\n"
        "    provider:\n      ukprn: F_UKPRN\n"
        "  register-csv:\n    ignored: [srs notes]\n"
        "codes:\n  training_route:\n    translate:\n      '01':\n"
        "        - {to: '11', note: undergraduate, when: {itt_qualification_aim: ['001', '002']}}\n"
        "        - {to: '12', note: }\n"
    )
    config = load_mapping([user])
    [route] = [t for t in config.codes if t.origin == str(user)]
    assert [a.to for a in route.translate["01"]] == ["11", "12"]
    assert route.translate["01"][0].when == {"itt_qualification_aim": frozenset({"001", "002"})}
    assert config.fields["hesa"].placement_fields == {"urn": ("F_PLMNTSCH",), "postcode": ("F_PLMNTPC",)}


def _samples():
    from pathlib import Path

    return Path(__file__).resolve().parents[2] / "samples"


def test_mappings_check_names_a_mapped_tag_or_column_no_record_has(tmp_path):
    """A misspelt tag (HESA XML ignores tags it does not know) or a column the export lacks made the field blank in
    every record without a word; with the provider's UKPRN, the check of whose records they are went with it."""
    from click.testing import CliRunner

    from register_batch.cli import cli

    user = tmp_path / "ours.yaml"
    user.write_text(
        "fields:\n  hesa:\n    trainee:\n      provider_trainee_id: F_ITKEY\n"
        "      application_id: [F_OURAPP, F_APPLYAPPLICATIONID]\n"  # one of a list is enough
        "    provider:\n      ukprn: F_UKPRNX\n"
        "    degrees:\n      fields:\n        subject: F_DEGSBJ1\n"  # in the degree groups
        "  register-csv:\n    trainee:\n      provider_trainee_id: Student Number\n"
    )
    runner = CliRunner()
    result = runner.invoke(cli, ["mappings", "check", str(_samples() / "extract.xml"), "--mapping", str(user)])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if "no record of the input has" in line]
    assert lines == [
        f"error: {user}:4: fields.hesa.trainee.provider_trainee_id: no record of the input has F_ITKEY, so the field "
        "is read as blank for every record; did you mean F_ITTKEY? Correct the name, or remove the entry",
        f"error: {user}:7: fields.hesa.provider.ukprn: no record of the input has F_UKPRNX, so the field is "
        "read as blank for every record; did you mean F_UKPRN? Correct the name, or remove the entry",
    ]
    result = runner.invoke(cli, ["mappings", "check", str(_samples() / "register.csv"), "--mapping", str(user)])
    assert result.exit_code == 1 and "fields.register-csv.trainee.provider_trainee_id" in result.output
    assert "has student number," in result.output

    good = tmp_path / "good.yaml"
    good.write_text("fields:\n  hesa:\n    trainee:\n      provider_trainee_id: F_ITTKEY\n")
    for sample in ("extract.xml", "extract.csv"):
        result = runner.invoke(cli, ["mappings", "check", str(_samples() / sample), "--mapping", str(good)])
        assert result.exit_code == 0 and "no record of the input" not in result.output


def test_mappings_check_names_a_withdrawal_or_deferral_tag_no_record_has(tmp_path):
    user = tmp_path / "ours.yaml"
    user.write_text(
        "fields:\n  hesa:\n    withdrawal:\n      withdrawal_date: [F_ENDDATEX, F_ENDDATEY]\n"
        "    deferral:\n      defer_date: F_DEFERDATEX\n"
    )
    result = CliRunner().invoke(cli, ["mappings", "check", str(_samples() / "extract.xml"), "--mapping", str(user)])
    assert result.exit_code == 1
    named = [line.split(": ")[2] for line in result.output.splitlines() if "no record of the input has" in line]
    assert named == ["fields.hesa.withdrawal.withdrawal_date", "fields.hesa.deferral.defer_date"]
    assert (
        f"error: {user}:4: fields.hesa.withdrawal.withdrawal_date: no record of the input has F_ENDDATEX or "
        "F_ENDDATEY, so the field is read as blank for every record; correct the name, or remove the entry"
    ) in result.output.splitlines()


def test_reading_a_degree_or_placement_field_from_another_tag_keeps_the_numbered_columns(tmp_path):
    """Mapping a degree's subject from F_DEGSBJ2 made F_DEGSBJ1_1 an unknown column of a HESA-named CSV, and the
    whole file was refused."""
    from register_batch.readers import open_inputs

    user = tmp_path / "ours.yaml"
    user.write_text(
        "fields:\n  hesa:\n    degrees:\n      fields:\n        subject: [F_DEGSBJ2, F_DEGSBJ1]\n"
        "    placements:\n      fields:\n        urn: F_PLMNTSCHOOL\n"
    )
    config = load_mapping([user])
    [(info, records)] = list(open_inputs([str(_samples() / "extract.csv")], "auto", config))
    rows = list(records)
    assert info.format == "hesa-csv" and len(rows) == 12 and "F_DEGSBJ1_1" in rows[0].fields


@pytest.mark.parametrize(
    "text,where",
    [
        ("fields:\n  hesa:\n    vintages: [C21053]\n", "fields.hesa.vintages"),
        ("fields:\n  hesa:\n    vintages:\n      V: {any_of: F_X}\n", "fields.hesa.vintages.V.any_of"),
        ("fields:\n  hesa:\n    vintages:\n      V: {anyof: [F_X]}\n", "fields.hesa.vintages.V"),
        ("fields:\n  register-csv:\n    ignored: srs notes\n", "fields.register-csv.ignored"),
        ("fields:\n  hesa:\n    known_tags: F_OURNOTES\n", "fields.hesa.known_tags"),  # read letter by letter
        ("fields:\n  register-csv:\n    template: provider_trainee_id\n", "fields.register-csv.template"),
        ("fields:\n  hesa:\n    known_tags: &a [x, x]\n    ignored: [*a, *a]\n", "fields.hesa.ignored"),
        ("fields:\n  hesa:\n    placements:\n      columns: {a: b}\n", "fields.hesa.placements.columns"),
        ("fields:\n  hesa:\n    degrees:\n      group: [A]\n", "fields.hesa.degrees.group"),
    ],
)
def test_the_other_sections_of_a_field_map_are_checked_too(refusal, text, where):
    """known_tags, ignored, template and vintages were taken as they came: a wrong shape was an internal error."""
    user, message = refusal(text)
    assert re.match(rf"{re.escape(user)}:\d+: {re.escape(where)}: ", message)


def test_a_wrong_value_built_of_nested_anchors_is_refused_in_a_short_line(tmp_path):
    """The refusal quoted the value in full: nested anchors (a "billion laughs") written out are gigabytes."""
    names = ["ethnicity", "nationality", "email", "first_names", "last_name", "itt_aim", "fund_code", "study_mode"]
    levels = ["      sex: &l0 [x, x, x, x, x, x, x, x, x]\n"]
    for n, name in enumerate(names, start=1):
        levels.append(f"      {name}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]\n")
    user = tmp_path / "ours.yaml"
    user.write_text("fields:\n  hesa:\n    trainee:\n" + "".join(levels))
    with pytest.raises(ConfigError) as caught:
        load_mapping([user])
    assert "fields.hesa.trainee.ethnicity" in str(caught.value) and len(str(caught.value)) < 400
    shown = str(caught.value).split(", got ", 1)[1]  # the start of the value, cut short where it is said to be
    assert shown.startswith("[['x', 'x', 'x', ") and shown.endswith("...") and len(shown) == 160


def test_a_short_wrong_value_is_quoted_whole(refusal):
    user, message = refusal("fields:\n  hesa:\n    trainee:\n      sex: {F_SEXID: F_SEX}\n")
    assert message == (
        f"{user}:4: fields.hesa.trainee.sex: expected a column/tag name or a list of them, got {{'F_SEXID': 'F_SEX'}}"
    )


def test_a_users_known_tags_add_to_the_bundled_ones(tmp_path):
    """A column the SRS adds to a HESA-named CSV, listed under `known_tags`, is read without complaint, and so are the
    bundled known tags (F_TITLE, F_RECID, ...) that no field is mapped from: the user's list adds to the bundled one."""
    from register_batch.readers import open_inputs

    lines = (_samples() / "extract.csv").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "extract.csv"
    path.write_text("\n".join([f"{lines[0]},F_OURNOTES", *(f"{line},call back" for line in lines[1:])]) + "\n")
    user = tmp_path / "ours.yaml"
    user.write_text("fields:\n  hesa:\n    known_tags: [F_OURNOTES]\n")
    [(info, records)] = list(open_inputs([str(path)], "auto", load_mapping([user])))
    assert info.format == "hesa-csv" and len(list(records)) == len(lines) - 1


def test_a_tag_a_users_vintage_reads_is_a_known_column_of_a_hesa_csv(tmp_path):
    """A column only an older collection's layout reads (C21053's end date from the SRS's own column) is not refused
    as a column register-batch does not know."""
    from register_batch.readers import open_inputs

    lines = (_samples() / "extract.csv").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "extract.csv"
    path.write_text("\n".join([f"{lines[0]},F_OURENDDATE", *(f"{line}," for line in lines[1:])]) + "\n")
    user = tmp_path / "ours.yaml"
    user.write_text(
        "fields:\n  hesa:\n    vintages:\n      C21053:\n        trainee:\n          itt_end_date: F_OURENDDATE\n"
    )
    [(info, records)] = list(open_inputs([str(path)], "auto", load_mapping([user])))
    assert info.format == "hesa-csv" and len(list(records)) == len(lines) - 1


def test_placement_fields_a_user_maps_for_registers_csv_are_read(tmp_path):
    """The bundled map reads Register's CSV placements from three URN columns, which win over placement fields: a
    user's `placements.fields` was never read (from the review of this session's features)."""
    from register_batch.generate import generate
    from register_batch.validation.runner import Checker

    path = tmp_path / "register.csv"
    generate(path, count=1, fmt="register-csv", seed=41, academic_cycle=2026)
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text(f"{lines[0]},our school urn,our school name\n{lines[1]},136000,Our School\n", encoding="utf-8")
    overlay = tmp_path / "ours.yaml"
    overlay.write_text(
        "fields:\n  register-csv:\n    placements:\n      fields: {urn: our school urn, name: our school name}\n"
    )
    with Checker(mapping=load_mapping([overlay])) as checker:
        [record] = checker.records([str(path)])
    assert record.data["placements_attributes"] == [{"urn": "136000", "name": "Our School"}]


def test_placement_columns_a_user_maps_for_registers_csv_are_read(tmp_path):
    """`placements.columns` names the URN columns instead of Register's three: the CSV's own is read, not refused as
    a column the template does not have."""
    from register_batch.generate import generate
    from register_batch.validation.runner import Checker

    path = tmp_path / "register.csv"
    generate(path, count=1, fmt="register-csv", seed=41, academic_cycle=2026)
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text(f"{lines[0]},our school urn\n{lines[1]},136000\n", encoding="utf-8")
    overlay = tmp_path / "ours.yaml"
    overlay.write_text("fields:\n  register-csv:\n    placements:\n      columns: [our school urn]\n")
    [record] = Checker(mapping=load_mapping([overlay])).records([str(path)])
    assert record.data["placements_attributes"] == [{"urn": "136000", "name": "Placement 1"}]


@pytest.mark.parametrize(
    "encoding",
    ["cp1252", "utf-16"],  # Notepad's "ANSI" with an é in a note; its "Unicode", with a byte-order mark
)
def test_a_mapping_file_that_is_not_utf8_is_refused_naming_the_file(tmp_path, encoding):
    """Was an `internal error` (exit 70): UnicodeDecodeError escaped the loader."""
    user = tmp_path / "ours.yaml"
    user.write_bytes("codes:\n  sex:\n    source: SRS café codes\n    translate:\n      M: '11'\n".encode(encoding))
    with pytest.raises(ConfigError) as caught:
        load_mapping([user])
    assert re.fullmatch(
        rf"{re.escape(str(user))}:\d+: not UTF-8 text \(its byte \d+, 0x[0-9A-F]{{2}}, is not UTF-8\); save the "
        "mapping file as UTF-8",
        str(caught.value),
    )


def test_a_wrong_mapping_built_of_nested_anchors_is_refused_in_a_short_line_too(tmp_path):
    """As the test above with a list, but the value a mapping of anchored lists: reprlib kept six levels of six
    items, and the one line was 78 KB."""
    levels = ["      x0: &l0 [x, x, x, x, x, x, x, x, x]\n"]
    for n in range(1, 10):
        levels.append(f"      x{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]\n")
    user = tmp_path / "ours.yaml"
    user.write_text("fields:\n  hesa:\n    trainee:\n      first_names:\n" + "".join("  " + level for level in levels))
    with pytest.raises(ConfigError) as caught:
        load_mapping([user])
    assert "fields.hesa.trainee.first_names" in str(caught.value) and len(str(caught.value)) < 400


@pytest.mark.parametrize(
    "pattern",
    ["sexx", "ethnicty", "degrees_attributes.subjct", "degree_subject", "course_subjet_*"],
)
def test_a_code_block_for_a_field_register_does_not_have_is_refused(refusal, pattern):
    """A misspelt block key (`sexx:`) translated nothing: `validate` and `sync` then reported the SRS's own code as
    invalid, with no word about the block (only `mappings check` said it matched nothing), so the migration lead
    saw the mapping they had just added not work. It is refused like a misspelt field-map key."""
    user, message = refusal(f"codes:\n  {pattern}:\n    translate:\n      M: '11'\n")
    assert message.startswith(f"{user}:2: codes.{pattern}: ") and "no Register API v2026.1 field" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "pattern", ["sex", "disability*", "course_subject_?", "degrees_attributes.*", "degrees_attributes.grade"]
)
def test_a_code_block_for_a_field_or_pattern_register_has_still_loads(tmp_path, pattern):
    user = tmp_path / "ours.yaml"
    user.write_text(f"codes:\n  {pattern}:\n    translate:\n      M: '11'\n")
    assert load_mapping([user]).codes[-1].pattern == pattern


def test_validate_refuses_a_misspelt_code_block_before_it_reads_the_extract(tmp_path, hesa_samples):
    user = tmp_path / "typo.yaml"
    user.write_text("codes:\n  sexx:\n    source: our SRS\n    translate:\n      M: '11'\n")
    reports = tmp_path / "reports"
    result = CliRunner().invoke(
        cli,
        ["validate", str(hesa_samples / "itt_record_C23053.xml"), "--mapping", str(user), "--report-dir", str(reports)],
    )
    assert result.exit_code == 2, result.output
    assert f"{user}:2: codes.sexx: " in result.output
    assert not reports.exists()


@pytest.mark.parametrize("second", ["the same name", "a link to it"])
def test_a_mapping_file_given_twice_is_refused_naming_it(tmp_path, second):
    """Read twice, its translations were counted twice ("50 code translations ... (m.yaml, m.yaml)"), and a file
    meant for the second place (another mapping) was not read at all."""
    user = tmp_path / "ours.yaml"
    user.write_text("codes:\n  sex:\n    source: our SRS\n    translate:\n      M: '11'\n")
    other = tmp_path / "theirs.yaml"
    other.write_text("codes:\n  sex:\n    source: their SRS\n    translate:\n      F: '10'\n")
    again = user
    if second == "a link to it":
        again = tmp_path / "linked.yaml"
        again.symlink_to(user)
    with pytest.raises(ConfigError) as refused:
        load_mapping([user, other, again])
    also = "" if again == user else f" (also as {user})"
    assert str(refused.value) == (
        f"{again} is given twice as a mapping file{also}: give each once, in the order they apply (where two files "
        "map the same field or code, the later one wins)"
    )
    assert load_mapping([user, other]).files == [str(user), str(other)]  # each once, in order


def test_validate_refuses_a_mapping_file_given_twice_before_it_reads_the_extract(tmp_path, hesa_samples):
    user = tmp_path / "ours.yaml"
    user.write_text("codes:\n  sex:\n    source: our SRS\n    translate:\n      M: '11'\n")
    reports = tmp_path / "reports"
    extract = str(hesa_samples / "itt_record_C23053.xml")
    twice = ["--mapping", str(user), "--mapping", str(user)]
    result = CliRunner().invoke(cli, ["validate", extract, *twice, "--report-dir", str(reports)])
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [
        f"register-batch: error: {user} is given twice as a mapping file: give each once, in the order they apply "
        "(where two files map the same field or code, the later one wins)"
    ]
    assert not reports.exists()


def test_load_mapping_takes_any_iterable_of_paths_but_not_one_path_bare(tmp_path):
    """A generator is read once for all (its files were checked for repeats, then none was left to load); one path
    given bare is refused as the library's other path arguments are."""
    user = tmp_path / "ours.yaml"
    user.write_text("codes:\n  sex:\n    translate:\n      M: '11'\n")
    assert load_mapping(path for path in [user]).files == [str(user)]
    for bare in (user, str(user)):
        with pytest.raises(ConfigError) as caught:
            load_mapping(bare)
        assert str(caught.value) == f'mapping files must be a list of paths, e.g. ["{user}"], not a single path'


@pytest.mark.parametrize(
    "text,said",
    [
        (
            "fields:\n  hesa:\n    trainees:\n      sex: F_SEXID\n",
            "fields.hesa: unknown key 'trainees'; use one of trainee, degrees, placements, withdrawal, deferral, "
            "provider, ignored, known_tags, vintages, template (docs/mappings.md)",
        ),
        (
            "fields:\n  hesa:\n    trainee:\n      gender: F_SEXID\n",
            "fields.hesa.trainee: 'gender' is not a Register API v2026.1 field",
        ),
        (
            "codes:\n  training_route:\n    translate:\n      '02': {to: '12', when: {itt_qualification_aim: [[a]]}}\n",
            "codes.training_route.translate.02.when.itt_qualification_aim: expected a code or a list of codes, "
            "got [['a']]",
        ),
        ("cods: {}\nfeilds: {}\n", "unknown top-level key(s) cods, feilds; expected 'fields' and/or 'codes'"),
        ("fields:\n  - hesa\n", "fields: expected a mapping of input family (hesa, register-csv) to field map"),
        ("fields:\n  hesa-csv: {}\n", "fields.hesa-csv: unknown input family; use one of hesa, register-csv"),
        (
            "codes:\n  sex:\n    translate:\n      M: {note: male}\n",
            "codes.sex: translation of 'M' must be a code or {to: code, note, when}",
        ),
        (
            "codes:\n  sex:\n    translate:\n      M: {to: '11', whn: a, nte: b}\n",
            "codes.sex.translate.M: unknown key(s) whn, nte; a translation has only to, note and when",
        ),
        (
            "codes:\n  sex:\n    translates: {}\n    sources: x\n",
            "codes.sex: unknown key(s) sources, translates; a block has only source, translate and no_translation",
        ),
    ],
)
def test_a_refusal_reads_as_one_sentence_after_the_file_and_key(refusal, text, said):
    user, message = refusal(text)
    assert re.sub(r":\d+: ", ": ", message, count=1) == f"{user}: {said}"


ON_ITS_LINE = [
    # The line of the key a problem names, not of the section holding it.
    ("# our SRS\nfields:\n  hesa:\n    trainee:\n      surname: F_SURNAME\n", 5, "fields.hesa.trainee: 'surname'"),
    ("fields:\n  hesa:\n    trainee:\n      last_name: F_SURNAME\n    trainees:\n", 5, "unknown key 'trainees'"),
    ("codes:\n  sex:\n    source: ours\n    translates:\n      M: '11'\n", 4, "unknown key(s) translates"),
    # A value's own key; an alternative of a list by its place in it.
    ("fields:\n  hesa:\n    trainee:\n      first_names: F_FNAMES\n      sex:\n", 5, "trainee.sex: expected"),
    ("codes:\n  sex:\n    translate:\n      M:\n        - '11'\n        - '10'\n", 6, "translate.M[1]: never"),
    # A key with a dot in it, quoted or not.
    ("codes:\n  degrees_attributes.subject:\n    translate:\n      '1': []\n", 4, "subject.translate.1: expected"),
]


@pytest.mark.parametrize("text,line,said", ON_ITS_LINE)
def test_a_mistake_in_a_mapping_file_names_the_line_it_is_on(refusal, text, line, said):
    """`file:line:` as editors and terminals go to it: in a file of a few hundred lines, a key path alone left the
    user searching for `trainee:` among the sections of two input families."""
    user, message = refusal(text)
    assert message.startswith(f"{user}:{line}: ") and said in message


def test_a_mistake_under_a_merge_key_is_named_at_the_key_written_in_the_file(refusal):
    """A block brought in by `<<:` is written once and used in many places: the line of the key that brought it."""
    user, message = refusal(
        "codes:\n  sex: &ours\n    translate:\n      M: '11'\n  disability*:\n    <<: *ours\n    translates: {}\n"
    )
    assert message.startswith(f"{user}:7: codes.disability*: unknown key(s) translates")


def test_the_warning_for_a_source_no_record_has_names_the_line_of_the_mapping(tmp_path):
    """validate's report names where in the mapping file the misspelt source is, as `mappings check` does."""
    from register_batch.mapping import load_mapping

    user = tmp_path / "ours.yaml"
    user.write_text("# ours\nfields:\n  hesa:\n    trainee:\n      first_names: F_FNAMES\n      sex: F_SEXX\n")
    config = load_mapping([user])
    lines = {named.key: named.place for named in config.named_sources}
    assert lines == {
        "fields.hesa.trainee.first_names": f"{user}:5",
        "fields.hesa.trainee.sex": f"{user}:6",
    }
    CliRunner().invoke(
        cli, ["validate", str(_samples() / "extract.xml"), "--mapping", str(user), "--report-dir", str(tmp_path / "r")]
    )
    issues = json.loads((tmp_path / "r" / "report.json").read_text())["issues"]
    [said] = [issue["message"] for issue in issues if issue["code"] == "mapped_source_missing"]
    assert said.startswith(f"{user}:6 maps fields.hesa.trainee.sex to F_SEXX, which no record of this input has")


@pytest.mark.parametrize(
    ("files", "said"),
    [
        (
            {
                "fields.yaml": "fields:\n  register-csv:\n    trainee:\n      sex: gender\n",
                "later.yaml": "fields:\n  register-csv:\n    ignored: [Tutor, Gender]\n",
            },
            "later.yaml:3: fields.register-csv.ignored[1]: 'gender' is read by fields.yaml:4 (sex)",
        ),
        (
            {
                "fields.yaml": "fields:\n  register-csv:\n    trainee:\n      nationality: nationality\n",
                "later.yaml": "fields:\n  register-csv:\n    ignored: [nationality]\n",
            },
            "later.yaml:3: fields.register-csv.ignored[0]: 'nationality' is read by fields.yaml:4 (nationality)",
        ),
    ],
    ids=["the user's own column", "a template column the user maps"],
)
def test_a_column_both_ignored_and_read_is_refused_naming_both(tmp_path, monkeypatch, files, said):
    """review97 F2: an ignored column is dropped before it is read: a field a user's file maps to it was blank for
    every record, with a "no record has it, a misspelt column?" message. (A template column only the bundled map
    reads may be ignored: it is then not sent, as test_csv.py's ignored application_id shows.)"""
    monkeypatch.chdir(tmp_path)
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_mapping(list(files))
    assert str(refused.value).startswith(said), str(refused.value)
    assert str(refused.value).endswith(
        "an ignored column is dropped before it is read, so that field would be blank for every record; remove it "
        "from `ignored`"
    )


@pytest.mark.parametrize("block", ["withdrawal_future_interest", "future_interest", "withdrawal_*"])
def test_a_codes_block_for_a_withdrawal_field_says_such_values_are_not_translated(tmp_path, monkeypatch, block):
    """review97 F3: a block named as validate's issue names the field (`withdrawal_future_interest`) was refused as
    "matches no Register API v2026.1 field", which it is; the reason (mapping files translate no withdrawal or
    deferral values) was said nowhere."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "yn.yaml").write_text(f"codes:\n  {block}:\n    translate: {{Y: 'yes', N: 'no'}}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_mapping(["yn.yaml"])
    assert "a withdrawal's or deferral's values are not translated by mapping files" in str(refused.value)


@pytest.mark.parametrize(
    ("family", "reads", "column"),
    [
        ("register-csv", "    placements:\n      columns: [School A, School B]\n", "school b"),
        ("hesa", "    vintages:\n      C21053:\n        trainee:\n          itt_end_date: [MYEND]\n", "MYEND"),
    ],
    ids=["placement columns", "a layout's entry"],
)
def test_an_ignored_column_read_as_placements_or_in_a_layout_is_refused_too(
    tmp_path, monkeypatch, family, reads, column
):
    """review100 F3: the clash check missed what a file reads through `placements.columns` or `vintages`."""
    monkeypatch.chdir(tmp_path)
    ignored = "[School B]" if family == "register-csv" else "[MYEND]"
    (tmp_path / "ign.yaml").write_text(f"fields:\n  {family}:\n    ignored: {ignored}\n", encoding="utf-8")
    (tmp_path / "map.yaml").write_text(f"fields:\n  {family}:\n{reads}", encoding="utf-8")
    with pytest.raises(ConfigError, match=f"ign.yaml:3: fields.{family}.ignored\\[0\\]: '{column}' is read by"):
        load_mapping(["ign.yaml", "map.yaml"])
