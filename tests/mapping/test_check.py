"""`mappings check`: target codes exist in Register's lists; uncovered input codes are listed."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from register_batch.cli import cli
from register_batch.mapping import load_mapping
from register_batch.mapping.check import check_mappings
from register_batch.reference import load_reference


def notes_of(*user_files: Path) -> list[str]:
    """`mappings check`'s notes for the bundled files overlaid by these user files, as printed."""
    config = load_mapping(list(user_files))
    return [str(p) for p in check_mappings(config, load_reference()) if p.severity == "note"]


def test_bundled_mappings_translate_only_to_real_codes():
    problems = check_mappings(load_mapping(), load_reference())
    assert [p for p in problems if p.severity == "error"] == []


def not_in(list_name: str) -> str:
    """How `mappings check` says a translation's code is not in one of Register's lists."""
    return f"which is not in Register's {list_name} list (`register-batch reference show {list_name}` lists its codes)"


def test_a_bad_target_code_is_reported_with_its_file(tmp_path):
    user = tmp_path / "ours.yaml"
    user.write_text("codes:\n  sex:\n    translate:\n      M: '1'\n      '11': '10'\n")
    problems = check_mappings(load_mapping([user]), load_reference())
    texts = [str(p) for p in problems]
    assert f"{user}:4: sex: 'M' translates to '1', {not_in('sex')}" in texts
    assert any("'11' is itself a valid sex code" in t for t in texts)
    result = CliRunner().invoke(cli, ["mappings", "check", "--mapping", str(user)])
    assert result.exit_code == 1 and "error:" in result.output


def test_uncovered_codes_in_an_input(hesa_samples):
    result = CliRunner().invoke(cli, ["mappings", "check", str(hesa_samples / "itt_record_C21053.xml")])
    assert result.exit_code == 1
    assert "training_initiative: 'C' x1" in result.output and "known:" in result.output


def test_the_uncovered_codes_line_counts_codes_and_their_occurrences_apart(hesa_samples):
    """The heading of the uncovered codes counts the codes listed below it and, apart, how often they occur:
    one number, the occurrences, said `3 values` above a list of two codes."""
    inputs = [str(hesa_samples / "itt_record_C21053.xml"), str(hesa_samples / "itt_record_C22053.xml")]
    result = CliRunner().invoke(cli, ["mappings", "check", *inputs])
    assert result.exit_code == 1
    assert "Codes in the input that no list or mapping covers (2 codes, 3 occurrences):" in result.output
    assert "  training_route: '02' x2" in result.output and "  training_initiative: 'C' x1" in result.output


def test_the_summary_counts_code_translations_not_blocks(tmp_path, monkeypatch):
    """`Checked N code translations` counts translated codes (a block of two codes is two), and says how many
    blocks they came in: the count used to be the number of blocks, far below the translations checked."""
    monkeypatch.chdir(tmp_path)  # no pulled lists here
    user = tmp_path / "ours.yaml"
    user.write_text("codes:\n  sex:\n    translate:\n      M: '11'\n      F: '10'\n")
    bundled = load_mapping()
    translations = sum(len(block.translate) for block in bundled.codes)
    assert translations > len(bundled.codes)
    result = CliRunner().invoke(cli, ["mappings", "check", "--mapping", str(user)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        f"Checked {translations + 2} code translations in {len(bundled.codes) + 1} blocks (bundled mappings, {user}) "
        "against Register's code lists (bundled v2026.1)."
    )


def test_a_user_file_that_changes_a_bundled_translation_is_noted(tmp_path, monkeypatch):
    """Later files win code by code: said, so that a file written for another purpose changes nothing unseen."""
    monkeypatch.chdir(tmp_path)
    user = tmp_path / "ours.yaml"
    user.write_text(
        "codes:\n  sex:\n    translate:\n      '1': '10'\n      '2': '10'\n      M: '11'\n"
        "  training_route:\n    no_translation:\n      '01': decide by hand\n"
    )
    notes = notes_of(user)
    assert notes == [  # '2' is translated as the bundled file does, and M is new: neither is noted
        f"{user}:4: sex: '1': this file translates it to '10', the bundled mappings/codes/legacy.yaml (sex) "
        "translates it to '11'; this file wins",
        f"{user}:9: training_route: '01': this file lists it as untranslatable, the bundled mappings/codes/legacy.yaml "
        "(training_route) translates it to '11' when itt_qualification_aim is 001, 002, 003, 004, 007, 008 or 028, "
        "else '12'; this file wins",
    ]
    result = CliRunner().invoke(cli, ["mappings", "check", "--mapping", str(user)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "No problems found."
    assert load_mapping([user]).translations_for("sex").translate["1"][0].to == "10"  # and the file does win


def test_a_code_a_later_user_file_treats_again_is_noted_for_that_file_only(tmp_path, monkeypatch):
    """Later files win code by code: a site file's '1' -> '10', put back by the run's own file, does not win, so it
    is not said to; where the later file covers only some of the fields (disability1 of disability*), it does. The
    run's file wins over the site's: said too (two of the user's own files disagree)."""
    monkeypatch.chdir(tmp_path)
    site, run = tmp_path / "site.yaml", tmp_path / "run.yaml"
    site.write_text("codes:\n  sex: {translate: {'1': '10'}}\n  disability*: {translate: {'00': '96'}}\n")
    run.write_text("codes:\n  sex: {translate: {'1': '11'}}\n  disability1: {translate: {'00': '95'}}\n")
    assert notes_of(site, run) == [
        f"{site}:3: disability*: '00': this file translates it to '96', the bundled mappings/codes/legacy.yaml "
        "(disability*) translates it to '95'; this file wins",
        f"{run}:2: sex: '1': this file translates it to '11', {site} (sex), given before it, translates it to '10'; "
        "this file wins",
        f"{run}:3: disability1: '00': this file translates it to '95', {site} (disability*), given before it, "
        "translates it to '96'; this file wins",
    ]
    same = tmp_path / "same.yaml"  # the site's translation again in a later file: nothing said of the site's
    same.write_text("codes:\n  sex: {translate: {'1': '10'}}\n")
    assert not [note for note in notes_of(site, same) if "given before it" in note]
    config = load_mapping([site, run])
    assert config.translations_for("sex").translate["1"][0].to == "11"
    assert config.translations_for("disability2").translate["00"][0].to == "96"


def test_a_translation_with_other_conditions_is_noted_though_its_targets_are_the_same(tmp_path, monkeypatch):
    """The bundled route '01' is '11' for an undergraduate aim, else '12'; a file that keeps '11' for aim 001 alone
    sends a trainee with aim 002 as '12' instead: a change, though both "translate it to '11' or '12'"."""
    monkeypatch.chdir(tmp_path)
    user = tmp_path / "ours.yaml"
    user.write_text(
        "codes:\n  training_route:\n    translate:\n      '01':\n"
        "        - {to: '11', when: {itt_qualification_aim: ['001']}}\n        - {to: '12', note: postgraduate}\n"
    )
    notes = notes_of(user)
    assert notes == [
        f"{user}:4: training_route: '01': this file translates it to '11' when itt_qualification_aim is 001, else "
        "'12', the bundled mappings/codes/legacy.yaml (training_route) translates it to '11' when "
        "itt_qualification_aim is 001, 002, 003, 004, 007, 008 or 028, else '12'; this file wins",
    ]
    same = tmp_path / "same.yaml"  # the bundled conditions in another order, other notes: nothing changes
    same.write_text(
        "codes:\n  training_route:\n    translate:\n      '01':\n"
        "        - {to: '11', when: {itt_qualification_aim: ['028', '001', '002', '003', '004', '007', '008']}}\n"
        "        - {to: '12', note: ours}\n"
    )
    assert not [p for p in check_mappings(load_mapping([same]), load_reference()) if p.severity == "note"]


def test_two_blocks_of_one_file_that_disagree_are_noted_as_blocks_not_as_files(tmp_path, monkeypatch):
    """A later block of the same file (`sex:` after `se?:`) was said to win over the file itself, "given before it"."""
    monkeypatch.chdir(tmp_path)
    one = tmp_path / "one.yaml"
    one.write_text("codes:\n  se?: {translate: {'M': '11'}}\n  sex: {translate: {'M': '10'}}\n")
    assert notes_of(one) == [
        f"{one}:3: sex: 'M': this block translates it to '10', this file's block se?, before it, translates it to "
        "'11'; this block wins"
    ]


def test_a_block_naming_the_field_wins_over_a_pattern_block_of_the_same_file_written_after_it(tmp_path, monkeypatch):
    """review209 F3: within one file the later block won, so the exception (`disability1`) written before the
    general rule (`disability*`) was overridden by it, and only a note said so. The exact block wins, in either
    order; the pattern still applies to the other fields, and files still win by their order."""
    monkeypatch.chdir(tmp_path)
    one = tmp_path / "one.yaml"
    one.write_text(
        "codes:\n  disability1:\n    translate:\n      '97': '99'\n  disability*:\n    translate:\n      '97': '98'\n"
    )
    config = load_mapping([one])
    assert config.translations_for("disability1").translate["97"][0].to == "99"
    assert config.translations_for("disability2").translate["97"][0].to == "98"
    assert notes_of(one) == [
        f"{one}:4: disability1: '97': this block translates it to '99', this file's block disability*, after it, "
        "translates it to '98'; this block wins (it names disability1 exactly, and a pattern block of the same file "
        "gives way to it)"
    ]
    later = tmp_path / "later.yaml"
    later.write_text("codes:\n  disability*:\n    translate:\n      '97': '96'\n")
    assert load_mapping([one, later]).translations_for("disability1").translate["97"][0].to == "96"


def test_a_translation_to_a_route_register_refuses_is_an_error(tmp_path, monkeypatch):
    """Route 02 is in Register's training_route list but refused for every trainee (register-api.md §3.3 R9): a file
    that translates a local code to it passed `mappings check`, and every record it touched failed `validate`."""
    monkeypatch.chdir(tmp_path)
    user = tmp_path / "ours.yaml"
    user.write_text("codes:\n  training_route:\n    translate:\n      SD: '02'\n")
    texts = [str(p) for p in check_mappings(load_mapping([user]), load_reference()) if p.severity == "error"]
    # review161 F5: it cited "register-api.md §3.3 R9", a research note users do not have; it says what to do
    assert texts == [
        f"{user}:4: training_route: 'SD' translates to '02', which Register refuses for every trainee: it is in "
        "Register's training_route list, but no trainee may have it now, and it has no replacement; translate 'SD' to "
        "each trainee's current code (`register-batch reference show training_route` lists them; "
        "invalid_training_route in docs/rules.md says why)"
    ]
    result = CliRunner().invoke(cli, ["mappings", "check", "--mapping", str(user)])
    assert result.exit_code == 1, result.output
    assert "register-api" not in result.output


def test_translating_a_route_register_refuses_does_not_change_valid_data(tmp_path, monkeypatch):
    """docs/mappings.md Example 3: '02' -> '12' is the fix for a refused route, not a change of valid data."""
    monkeypatch.chdir(tmp_path)
    user = tmp_path / "routes.yaml"
    user.write_text("codes:\n  training_route:\n    translate:\n      '02': '12'\n")
    result = CliRunner().invoke(cli, ["mappings", "check", "--mapping", str(user)])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output and result.output.splitlines()[-1] == "No problems found."


def test_a_refused_route_in_the_input_is_on_the_to_do_list(hesa_samples, monkeypatch, tmp_path):
    """An extract with route 02 (School Direct fee-funded) was said to hold only codes Register's lists cover, and
    `mappings check` exited 0, while `validate` refused the record."""
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["mappings", "check", str(hesa_samples / "itt_record_C23053.xml")])
    assert result.exit_code == 1, result.output
    known = "(known: training route 02 (School Direct fee-funded)"
    assert f"  training_route: '02' x1, first at record 1, line 3  {known}" in result.output


def test_a_block_for_fields_without_a_code_list_is_refused_by_every_command(tmp_path, monkeypatch, hesa_samples):
    """`course_year` and `first_names` are Register fields, but no code list says what their codes may be: the check
    called such a block an error while validate, convert and sync applied it without a word (first names sent
    rewritten). Refused when the file is loaded, by every command alike."""
    monkeypatch.chdir(tmp_path)
    user = tmp_path / "ours.yaml"
    user.write_text("codes:\n  first_nam?s:\n    translate: {Callum: Cal}\n")
    expected = (
        f"register-batch: error: {user}:2: codes.first_nam?s: matches no field with a code list of Register's, so "
        "what it translates to could not be checked; a codes block is for coded fields (sex, course_subject_*, "
        "degrees_attributes.subject, ...: docs/mappings.md): correct other values in the SRS\n"
    )
    extract = str(hesa_samples / "itt_record_C23053.xml")
    for command in (
        ["mappings", "check"],
        ["validate", extract, "--report-dir", str(tmp_path / "reports")],
        ["convert", extract, "--to", "jsonl", "-o", str(tmp_path / "out.jsonl")],
    ):
        result = CliRunner().invoke(cli, [*command, "--mapping", str(user)])
        assert (result.exit_code, result.output) == (2, expected), command
    assert not (tmp_path / "out.jsonl").exists()


def test_a_degree_code_no_list_or_mapping_covers_is_on_the_to_do_list(hesa_samples, monkeypatch, tmp_path):
    """A degree's JACS subject is listed with its degree field, and a user's file translating it takes it off."""
    monkeypatch.chdir(tmp_path)
    extract = tmp_path / "jacs.xml"
    text = (hesa_samples / "itt_record_C23053.xml").read_text(encoding="utf-8")
    assert text.count("<F_DEGSBJ1>100251</F_DEGSBJ1>") == 1
    extract.write_text(text.replace("<F_DEGSBJ1>100251</F_DEGSBJ1>", "<F_DEGSBJ1>V100</F_DEGSBJ1>"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["mappings", "check", str(extract)])
    assert result.exit_code == 1, result.output
    # the line of the degree's <PREVIOUSQUALIFICATION>, as validate names it (review164 F2)
    assert "  degrees_attributes.subject: 'V100' x1, first at record 1, line 71" in result.output.splitlines()
    user = tmp_path / "ours.yaml"
    user.write_text("codes:\n  degrees_attributes.subject:\n    translate:\n      V100: '100302'\n")
    result = CliRunner().invoke(cli, ["mappings", "check", str(extract), "--mapping", str(user)])
    assert "degrees_attributes.subject" not in result.output


def test_no_problems_found_is_said_only_when_there_are_none(tmp_path, monkeypatch, hesa_samples):
    """Not under an error (exit 1), a warning (exit 0: translating a code Register accepts may be meant), or codes of
    the input that nothing covers."""
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    bad, valid = tmp_path / "bad.yaml", tmp_path / "valid.yaml"
    bad.write_text("codes:\n  sex:\n    translate:\n      M: '1'\n")
    valid.write_text("codes:\n  sex:\n    translate:\n      '11': '10'\n")
    for user, exit_code, severity in ((bad, 1, "error"), (valid, 0, "warning")):
        result = runner.invoke(cli, ["mappings", "check", "--mapping", str(user)])
        assert result.exit_code == exit_code, result.output
        assert result.output.splitlines()[-1].startswith(f"{severity}: {user}:4: sex: ")
    result = runner.invoke(cli, ["mappings", "check", str(hesa_samples / "itt_record_C21053.xml")])
    assert result.exit_code == 1 and "No problems found." not in result.output


def test_an_input_every_code_of_which_is_covered_is_said_to_be(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    extract = Path(__file__).resolve().parents[2] / "samples" / "extract.xml"
    result = CliRunner().invoke(cli, ["mappings", "check", str(extract)])
    assert result.exit_code == 0, result.output
    # Its C21053 codes the bundled tables translate are listed before, as no problem (review209 F4).
    assert result.output.splitlines()[1].startswith("Codes in the input that a bundled translation changed (")
    assert result.output.splitlines()[-2:] == [
        "Every code in the input is in Register's lists or translated by a mapping.",
        "No problems found.",
    ]


def test_a_degree_translation_to_a_code_not_in_its_list_is_an_error(tmp_path, monkeypatch):
    """A degree field's translations are checked against that field's list (degree_subject for the subject)."""
    monkeypatch.chdir(tmp_path)
    user = tmp_path / "ours.yaml"
    user.write_text("codes:\n  degrees_attributes.subject:\n    translate:\n      V100: '1003'\n      C100: '100346'\n")
    texts = [str(p) for p in check_mappings(load_mapping([user]), load_reference()) if p.severity == "error"]
    assert texts == [f"{user}:4: degrees_attributes.subject: 'V100' translates to '1003', {not_in('degree_subject')}"]


def test_a_code_the_next_file_treats_again_is_not_said_to_win_for_the_file_before(tmp_path, monkeypatch):
    """site.yaml's '1' -> '10' is undone by run.yaml, given right after it: only run.yaml's is noted."""
    monkeypatch.chdir(tmp_path)
    site, run = tmp_path / "site.yaml", tmp_path / "run.yaml"
    site.write_text("codes:\n  sex: {translate: {'1': '10'}}\n")
    run.write_text("codes:\n  sex: {translate: {'1': '11'}}\n")
    assert notes_of(site, run) == [
        f"{run}:2: sex: '1': this file translates it to '11', {site} (sex), given before it, translates it to '10'; "
        "this file wins"
    ]


def test_each_problem_names_the_line_its_code_is_written_on(tmp_path, monkeypatch):
    """review97 F4: a problem named the file and the block alone; in a file of a few hundred translations the user
    searched for the code. Each now names its line, as the loader's refusals do: under translate or no_translation,
    in block or flow style, with a quoted key, and a code brought in by a `<<` merge keeps the file alone."""
    monkeypatch.chdir(tmp_path)
    user = tmp_path / "ours.yaml"
    user.write_text(
        "# our SRS's codes\n"
        "codes:\n"
        "  disability1:\n"
        "    translate: &shared\n"
        "      D7: '88'\n"
        "  sex:\n"
        "    source: ours\n"
        "    translate:\n"
        "      <<: *shared\n"
        "      '1': '10'\n"
        "      M: '77'\n"
        "  training_route:\n"
        "    no_translation: {'01': decide by hand}\n"
    )
    texts = sorted(str(p) for p in check_mappings(load_mapping([user]), load_reference()) if p.origin == str(user))
    assert texts == [
        f"{user}: sex: 'D7' translates to '88', {not_in('sex')}",
        f"{user}:10: sex: '1': this file translates it to '10', the bundled mappings/codes/legacy.yaml (sex) "
        "translates it to '11'; this file wins",
        f"{user}:11: sex: 'M' translates to '77', {not_in('sex')}",
        f"{user}:13: training_route: '01': this file lists it as untranslatable, the bundled "
        "mappings/codes/legacy.yaml (training_route) translates it to '11' when itt_qualification_aim is 001, 002, "
        "003, 004, 007, 008 or 028, else '12'; this file wins",
        f"{user}:5: disability1: 'D7' translates to '88', {not_in('disability')}",
    ]
    result = CliRunner().invoke(cli, ["mappings", "check", "--mapping", str(user)])
    assert f"error: {user}:11: sex: 'M' translates to '77'" in result.output


def test_each_code_of_a_block_is_compared_with_the_bundled_translations(tmp_path, monkeypatch):
    """A code the bundled block does not treat (M) written before one it does ('1') does not hide the second."""
    monkeypatch.chdir(tmp_path)
    user = tmp_path / "ours.yaml"
    user.write_text("codes:\n  sex:\n    translate:\n      M: '11'\n      '1': '10'\n")
    assert notes_of(user) == [
        f"{user}:5: sex: '1': this file translates it to '10', the bundled mappings/codes/legacy.yaml (sex) "
        "translates it to '11'; this file wins"
    ]


def test_a_disability_translation_to_a_code_not_in_the_list_is_an_error(tmp_path, monkeypatch):
    """disability1 to disability9 share Register's disability list, for a block of one of them or of a pattern."""
    monkeypatch.chdir(tmp_path)
    user = tmp_path / "ours.yaml"
    user.write_text(
        "codes:\n  disability*:\n    translate:\n      D1: '5'\n  disability2:\n    translate:\n      D2: '6'\n"
    )
    texts = [str(p) for p in check_mappings(load_mapping([user]), load_reference()) if p.severity == "error"]
    assert texts == [
        f"{user}:4: disability*: 'D1' translates to '5', {not_in('disability')}",
        f"{user}:7: disability2: 'D2' translates to '6', {not_in('disability')}",
    ]


def test_a_pattern_over_fields_of_several_lists_is_checked_against_each_list(tmp_path, monkeypatch):
    """`s*` matches sex and study_mode: its translation applies to both, so a target one of them lacks is an error,
    and a code valid in either is translated away there. Only the first field's list was checked."""
    monkeypatch.chdir(tmp_path)
    user = tmp_path / "ours.yaml"
    user.write_text("codes:\n  s*:\n    translate:\n      X: '10'\n      '01': '11'\n")
    texts = sorted(str(p) for p in check_mappings(load_mapping([user]), load_reference()) if p.origin == str(user))
    assert texts == [
        f"{user}:4: s*: 'X' translates to '10', {not_in('study_mode')}",
        f"{user}:5: s*: '01' is itself a valid study_mode code; translating it changes valid data",
        f"{user}:5: s*: '01' translates to '11', {not_in('study_mode')}",
    ]


def test_a_translation_tested_on_two_fields_is_noted_with_both(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    user = tmp_path / "ours.yaml"
    user.write_text(
        "codes:\n  training_route:\n    translate:\n      '01':\n"
        "        - {to: '11', when: {study_mode: ['01'], itt_qualification_aim: ['001', '002']}}\n        - '12'\n"
    )
    [note] = notes_of(user)
    assert note.startswith(
        f"{user}:4: training_route: '01': this file translates it to '11' when itt_qualification_aim is 001 or 002 and "
        "study_mode is 01, else '12', the bundled"
    )


def test_uncovered_codes_without_a_tally_of_sources_seen(hesa_samples):
    """The tally of sources seen is for `mappings check INPUT`; a library caller may leave it out."""
    from register_batch.mapping.check import uncovered_codes

    found = uncovered_codes([str(hesa_samples / "itt_record_C21053.xml")], "auto", load_mapping(), load_reference())
    assert found[("training_initiative", "C")] == 1


def test_a_code_mapped_to_itself_undoes_the_bundled_translation_and_passes_the_check(tmp_path, monkeypatch):
    """mappings.md: to undo a bundled translation, map the code to itself (`"2": "2"`). The check took '2' for a
    translation's target, not in Register's sex list, so the file the docs recommend could never pass (exit 1)."""
    monkeypatch.chdir(tmp_path)
    user = tmp_path / "undo.yaml"
    user.write_text('codes:\n  sex:\n    source: s\n    translate:\n      "2": "2"\n')
    result = CliRunner().invoke(cli, ["mappings", "check", "--mapping", str(user)])
    assert result.exit_code == 0, result.output
    assert "error:" not in result.output and result.output.splitlines()[-1] == "No problems found."
    assert notes_of(user) == [
        f"{user}:5: sex: '2': this file leaves it untranslated, the bundled mappings/codes/legacy.yaml (sex) "
        "translates it to '10'; this file wins"
    ]


def test_a_when_testing_an_srs_spelling_of_a_coded_field_is_a_warning_beside_a_code_that_matches(tmp_path, monkeypatch):
    """review97 F1: a `when` testing the SRS's own route name beside Register's code: the name is no code of the lists,
    so a record with it fails as an invalid code; the `when` still matches route 19. A warning, never a refusal: the
    lists in use vary (review213 F1, F2). Refused only where no value can match (test_mapping_review213.py)."""
    monkeypatch.chdir(tmp_path)
    user = tmp_path / "ours.yaml"
    user.write_text(
        "codes:\n  course_subject_*:\n    translate:\n      Primary Teaching:\n"
        "        - {to: '100510', when: {training_route: ['EY Undergrad', '19']}}\n        - {to: '100511'}\n"
    )
    problems = [p for p in check_mappings(load_mapping([user]), load_reference()) if p.severity != "note"]
    assert [str(p) for p in problems] == [
        f"{user}:4: course_subject_*: 'Primary Teaching': `when` tests training_route for 'EY Undergrad', which is "
        "not in the bundled training_route list (Register's lists of 2026-08-22, DfE commit ce1126541): a record with "
        "it fails as an invalid code, so that value matches no record sent; if Register lists it now, run "
        "`register-batch reference pull`, else test the Register code"
    ]
    assert problems[0].severity == "warning"


def test_a_translation_to_nationality_xk_is_a_warning_unless_it_is_kosovos_qo(tmp_path, monkeypatch):
    """review126 F2: XK is the country code for the UK but Kosovan as a nationality (hesa-formats.md §2.3.4 pitfall):
    a user's file translating its own British code to XK passed `mappings check`, and its trainees were sent as
    Kosovan. The bundled QO -> XK is Kosovo's own code, and is no warning."""
    monkeypatch.chdir(tmp_path)
    user = tmp_path / "ours.yaml"
    user.write_text("codes:\n  nationality:\n    source: our SRS\n    translate:\n      UK: XK\n      KOS: XK\n")
    warnings = [str(p) for p in check_mappings(load_mapping([user]), load_reference()) if p.severity == "warning"]
    said = (
        "translates to 'XK', which is Kosovan in Register's nationality list, though it is the country code for the "
        "United Kingdom, not otherwise specified (docs/faq.md): translate British to GB"
    )
    assert warnings == [f"{user}:5: nationality: 'UK' {said}", f"{user}:6: nationality: 'KOS' {said}"]
    assert [p for p in check_mappings(load_mapping(), load_reference()) if p.severity != "note"] == []


def test_a_bundled_translations_problem_names_its_line_in_the_bundled_file(tmp_path):
    """review124 F4: the bundled legacy.yaml's blocks are at its top (`sex:`), not under `codes:`: its own problems,
    which matter when a pulled list drops a code it translates to (nightly-sync.md), had no line."""
    from register_batch.mapping.loader import bundled_mapping_dir
    from register_batch.reference import PULLED_FILE

    sex = load_reference().api_payload("sex")
    pulled = tmp_path / PULLED_FILE
    # Without male (11): a pulled list may not be empty (review139 F2).
    kept = [entry for entry in sex["entries"] if entry["code"] != "11"]
    pulled.write_text(json.dumps({"payload": {"sex": {**sex, "entries": kept}}}))
    lines = (bundled_mapping_dir() / "codes" / "legacy.yaml").read_text(encoding="utf-8").splitlines()
    male = lines.index('    "1": {to: "11", note: male}') + 1
    texts = [str(p) for p in check_mappings(load_mapping(), load_reference("v2026.1", pulled))]
    assert f"mappings/codes/legacy.yaml:{male}: sex: '1' translates to '11', {not_in('sex')}" in texts


def test_a_users_file_under_a_mappings_codes_folder_names_its_own_lines(tmp_path, monkeypatch):
    """review124 F4: a user's file whose path starts `mappings/codes/` (the bundled layout, a natural one for a
    project) was looked up in the bundled folder: no line, or the bundled file's line for a name it has there."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mappings" / "codes").mkdir(parents=True)
    ours = Path("mappings/codes/our.yaml")
    ours.write_text('codes:\n  sex:\n    source: srs\n    translate:\n      "Q": {to: "77"}\n')
    assert f"{ours}:5: sex: 'Q' translates to '77', {not_in('sex')}" in [
        str(p) for p in check_mappings(load_mapping([ours]), load_reference())
    ]
    named_as_bundled = Path("mappings/codes/legacy.yaml")
    named_as_bundled.write_text('# ours\n\ncodes:\n  sex:\n    source: srs\n    translate:\n      "1": {to: "77"}\n')
    texts = [str(p) for p in check_mappings(load_mapping([named_as_bundled]), load_reference())]
    assert f"{named_as_bundled}:7: sex: '1' translates to '77', {not_in('sex')}" in texts
    assert (
        f"{named_as_bundled}:7: sex: '1': this file translates it to '77', the bundled mappings/codes/legacy.yaml "
        "(sex) translates it to '11'; this file wins"
    ) in texts
