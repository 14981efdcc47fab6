"""An API token pasted into a mapping file (review162 F1): as a translation's target code, a block's `source:` note, a
tag name in a field map, or a key, it was quoted in the loader's and `mappings check`'s error lines and written to
report.json, issues.csv and report.html (a `legacy_code_translated` warning, an `invalid_code` error, a
`mapped_source_missing` warning), the reports people mail to their SRS vendor. The file is refused as it is read, in
one line naming the file, the line and the key path, and the token is shown nowhere, as a settings file's is not."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_runs import run_cli
from register_batch.errors import ConfigError
from register_batch.mapping import load_mapping

TOKEN = "sandbox_" + "9d" * 32
HEX = TOKEN.partition("_")[2]
SAMPLE = Path(__file__).parents[2] / "samples" / "extract.xml"
ADVICE = "a mapping file names fields, columns, tags and codes; give the token in REGISTER_API_TOKEN or a --token-file"

# (mapping file, its line holding the token, what the refusal names there): the review's table, and more.
PLACES = {
    "translation target": ("codes:\n  sex:\n    translate:\n      '1': '{T}'\n", 4, "codes.sex.translate.1"),
    "source note": ("codes:\n  sex:\n    source: {T}\n    translate:\n      '1': '10'\n", 3, "codes.sex.source"),
    "tag name": (
        "fields:\n  hesa:\n    trainee:\n      provider_trainee_id: {T}\n",
        4,
        "fields.hesa.trainee.provider_trainee_id",
    ),
    "key under codes": ("codes:\n  {T}:\n    translate:\n      '1': '10'\n", 2, "a key of codes"),
    "key under fields": ("fields:\n  {T}: {{}}\n", 2, "a key of fields"),
    "top-level key": ("codes: {{}}\n{T}:\n", 2, "a top-level key"),
    "in a list": ("fields:\n  hesa:\n    ignored:\n      - F_NOTE\n      - {T}\n", 5, "fields.hesa.ignored[1]"),
    "inside a note": (
        "codes:\n  sex:\n    translate:\n      '1':\n        to: '10'\n        note: 'token: Bearer {T}.'\n",
        6,
        "codes.sex.translate.1.note",
    ),
    "a key written twice": (
        "codes:\n  sex:\n    translate:\n      {T}: '10'\n      {T}: '11'\n",
        5,
        "a key written twice",
    ),
    # Wrapped over two lines by an editor (review165 F2): YAML reads the line break as a space, in a plain, a quoted
    # or a folded (`>`) scalar, and neither half is a token.
    "wrapped in a note": (
        "codes:\n  sex:\n    source: our SRS {T_40}\n      {T40_}\n    translate:\n      '1': '10'\n",
        3,
        "codes.sex.source",
    ),
    "wrapped in quotes": (
        "codes:\n  sex:\n    translate:\n      '1':\n        to: '10'\n        note: \"our {T_4}\n          {T4_}\"\n",
        6,
        "codes.sex.translate.1.note",
    ),
    "wrapped, folded": (
        "codes:\n  sex:\n    source: >\n      our SRS's {T_20}\n      {T20_50}\n      {T50_} x\n"
        "    translate:\n      '1': '10'\n",
        3,
        "codes.sex.source",
    ),
}


# The token's parts, as an editor wrapping it splits it: `T_40` its first 40 characters, `T40_` the rest.
PIECES = {
    "T_40": TOKEN[:40], "T40_": TOKEN[40:], "T_4": TOKEN[:4], "T4_": TOKEN[4:],
    "T_20": TOKEN[:20], "T20_50": TOKEN[20:50], "T50_": TOKEN[50:],
}  # fmt: skip


def shows_it(*texts: str) -> bool:
    """Whether any 24 of the token's hex digits are there, in either case (a tag name is upper-cased)."""
    return any(HEX[:24] in text.lower() or HEX[-24:] in text.lower() for text in texts)


def refusal(path: Path, line: int, where: str) -> str:
    return f"{path}:{line}: {where} holds an API token ({len(TOKEN)} characters; not shown): {ADVICE}"


@pytest.mark.parametrize("place", list(PLACES))
def test_a_token_in_a_mapping_file_is_refused_and_shown_nowhere(tmp_path, env, place):
    written, line, where = PLACES[place]
    mapping = tmp_path / "ours.yaml"
    mapping.write_text(written.format(T=TOKEN, **PIECES))
    reports = tmp_path / "reports"
    for command in (
        ["validate", "--mapping", str(mapping), str(SAMPLE), "--report-dir", str(reports)],
        ["mappings", "check", "--mapping", str(mapping)],
        ["mappings", "check", "--mapping", str(mapping), str(SAMPLE)],
    ):
        done = run_cli(command, tmp_path, env)
        assert done.returncode == 2, (command, done.stdout, done.stderr)
        assert done.stderr.strip().splitlines()[-1] == f"register-batch: error: {refusal(mapping, line, where)}"
        assert not shows_it(done.stdout, done.stderr)
    written_files = [p for p in tmp_path.rglob("*") if p.is_file() and p != mapping]
    assert not any(shows_it(p.read_text(errors="replace")) for p in written_files)


def test_a_token_in_a_mapping_file_is_refused_for_a_library_caller(tmp_path):
    mapping = tmp_path / "ours.yaml"
    mapping.write_text(PLACES["translation target"][0].format(T=TOKEN))
    with pytest.raises(ConfigError) as refused:
        load_mapping([mapping])
    assert str(refused.value) == refusal(mapping, 4, "codes.sex.translate.1")


def test_a_token_reached_through_an_anchor_twice_is_named_once_where_written(tmp_path):
    """An alias repeats a value without writing it again: the place named is where it is written."""
    mapping = tmp_path / "ours.yaml"
    mapping.write_text(
        f"codes:\n  sex:\n    source: &s {TOKEN}\n    translate:\n      '1': '10'\n  ethnicity:\n    source: *s\n"
    )
    with pytest.raises(ConfigError) as refused:
        load_mapping([mapping])
    assert str(refused.value) == refusal(mapping, 3, "codes.sex.source")


@pytest.mark.parametrize(
    "written",
    [
        "codes:\n  sex:\n    source: our codes\n    translate:\n      'M': {{to: '11', note: !{T} x}}\n",
        "codes:\n  sex:\n    source: our codes\n    translate:\n      'M': {{to: '11', note: !!{T} x}}\n",
    ],
    ids=["a YAML tag", "a YAML tag with !!"],
)
def test_a_token_written_as_a_yaml_tag_is_not_quoted_by_the_yaml_error(tmp_path, env, written):
    """YAML's error quotes a tag it has no constructor for (review165 F3): the file is refused, as every YAML mistake
    is, without showing the token, and saying why it is not shown."""
    mapping = tmp_path / "ours.yaml"
    mapping.write_text(written.format(T=TOKEN))
    with pytest.raises(ConfigError) as refused:
        load_mapping([mapping])
    assert str(refused.value) == (
        f"{mapping}:5: not valid YAML, and holds an API token ({len(TOKEN)} characters; not shown): {ADVICE}"
    )
    done = run_cli(["mappings", "check", "--mapping", str(mapping)], tmp_path, env)
    assert done.returncode == 2 and "not valid YAML, and holds an API token (72 characters; not shown)" in done.stderr
    assert not shows_it(done.stdout, done.stderr)
