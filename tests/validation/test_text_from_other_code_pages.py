"""garbled_text for text saved in Mac Roman or Windows-1250 and read as Windows-1252 (review53 F3).

Excel for Mac's "CSV (Macintosh)" writes Mac Roman, where é ë ü are the bytes Windows-1252 shows as Ž ‘ Ÿ; a Central
European Windows writes Windows-1250, where Ł ł ś are £ ³ œ. The file reads without an error and every value looks
like text, so without this check Register would store `Zo‘ RenŽe` for `Zoë Renée` (design.md: bad input, wrong
encoding). Real names of many languages, with their own dashes, apostrophes and letters such as œ and š, are left
alone.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from register_batch.cli import cli
from register_batch.validation.rules import single_byte_read_as_windows_1252
from valid_trainee import VALID, validated, with_changes

FIXTURES = Path(__file__).parents[1] / "fixtures"


def garbled(data: dict) -> list[tuple[str | None, str | None, str, str]]:
    return [(i.field, i.value, i.severity.value, i.message) for i in validated(data).issues if i.code == "garbled_text"]


def message(field: str, value: str, pages: str, says: str) -> str:
    return (
        f"{field} reads as {pages} text read as Windows-1252 ({value!r} for {says}): Register would store it garbled; "
        "save the file as 'CSV UTF-8'"
    )


def read_as_windows_1252(raw: bytes) -> str:
    """The bytes as the CSV reader reads a Windows-1252 file: the five bytes it leaves undefined as Latin-1."""
    return "".join(bytes([b]).decode("cp1252", "ignore") or chr(b) for b in raw)


MAC, CE, DOS = "Mac Roman", "Windows-1250", "MS-DOS (code page 850)"


@pytest.mark.parametrize(
    "written,codec,pages,says",
    [
        ("Zoë Renée", "mac_roman", MAC, "'Zoë Renée'"),
        ("José", "mac_roman", MAC, "'José'"),
        ("Siobhán", "mac_roman", MAC, "'Siobhán'"),
        ("Anaïs", "mac_roman", MAC, "'Anaïs'"),
        ("Muñoz", "mac_roman", MAC, "'Muñoz'"),
        ("López", "mac_roman", MAC, "'López'"),
        ("Núñez", "mac_roman", MAC, "'Núñez'"),
        ("Jäger", "mac_roman", MAC, "'Jäger'"),
        ("JOSÉ", "mac_roman", MAC, "'JOSÉ'"),  # capitals are other bytes: É is ƒ, Ü is †, Ö is …
        ("MÜLLER", "mac_roman", MAC, "'MÜLLER'"),
        ("ÖZTÜRK", "mac_roman", MAC, "'ÖZTÜRK'"),
        ("François", "mac_roman", MAC, "'François'"),  # ç is a byte Windows-1252 leaves undefined
        ("Łukasz", "cp1250", CE, "'Łukasz'"),
        ("Michał", "cp1250", CE, "'Michał'"),
        ("Małgorzata", "cp1250", CE, "'Małgorzata'"),
        # a byte that is a letter in both code pages: both readings are named
        ("Müller", "mac_roman", f"{MAC} or {CE}", "'Müller' or 'Mźller'"),
        ("Łukasz Wiśniewski", "cp1250", CE, "'Łukasz Wiśniewski'"),  # œ (ś) beside a sign no name has there (£)
        # Excel's "CSV (MS-DOS)" (review81 F2): read only where no other code page reads a name
        ("José", "cp850", DOS, "'José'"),  # é is ‚
        ("Renée", "cp850", DOS, "'Renée'"),
        ("Bénédicte", "cp850", DOS, "'Bénédicte'"),
        ("Siân", "cp850", DOS, "'Siân'"),  # â is ƒ
        ("María", "cp850", DOS, "'María'"),  # í is ¡
        ("López", "cp850", DOS, "'López'"),  # ó is ¢
        ("Jesús", "cp850", DOS, "'Jesús'"),  # ú is £
        ("Müller", "cp850", DOS, "'Müller'"),  # ü is 0x81, which Windows-1252 leaves undefined
        ("JOSÉ", "cp850", DOS, "'JOSÉ'"),  # É is 0x90, another
        ("Zoë", "cp850", MAC, "'Zoâ'"),  # ë is ‰, which Mac Roman reads as â: an error all the same
    ],
)
def test_a_name_saved_in_another_code_page_is_garbled_text(written, codec, pages, says):
    value = read_as_windows_1252(written.encode(codec))
    assert value != written
    assert garbled(with_changes(last_name=value)) == [
        ("last_name", value, "error", message("last_name", value, pages, says))
    ]


@pytest.mark.parametrize(
    "written,codec,pages,says",
    [
        ("Noël", "mac_roman", MAC, "'Noël'"),
        ("Zoë", "mac_roman", MAC, "'Zoë'"),
        ("Håkan", "mac_roman", MAC, "'Håkan'"),
        ("Martínez Zoë", "mac_roman", MAC, "'Martínez Zoë'"),  # í (’) is no evidence at all
        ("Środa", "cp1250", CE, "'Środa'"),
        ("Wiśniewski", "cp1250", f"{MAC} or {CE}", "'Wiúniewski' or 'Wiśniewski'"),
        # MS-DOS's á is a no-break space, which a name may have between its words (Mary Ann), not inside one
        ("Seán", "cp850", DOS, "'Seán'"),
        ("Ciarán", "cp850", DOS, "'Ciarán'"),
        ("Sánchez", "cp850", DOS, "'Sánchez'"),  # after a capital too (review84 F3)
        ("Pádraig", "cp850", DOS, "'Pádraig'"),
    ],
)
def test_a_name_whose_only_signs_a_real_name_may_have_is_a_warning(written, codec, pages, says):
    """Zo‘ is Zoë saved as Mac Roman, but Sa‘id may be written so (an ʿayn): the record is still sent (review55 F1)."""
    value = read_as_windows_1252(written.encode(codec))
    assert garbled(with_changes(last_name=value)) == []
    issues = validated(with_changes(last_name=value)).issues
    assert [(i.code, i.field, i.severity.value, i.message) for i in issues if i.code == "possibly_garbled_text"] == [
        (
            "possibly_garbled_text",
            "last_name",
            "warning",
            f"last_name may be {pages} text read as Windows-1252 ({value!r} for {says}): if the file was saved as "
            "'CSV UTF-8', or is XML, it is the value as written; if not, save it as 'CSV UTF-8'",
        )
    ]


def test_the_review_example_as_the_first_name():
    assert garbled(with_changes(first_names="Zo‘ RenŽe")) == [
        (
            "first_names",
            "Zo‘ RenŽe",
            "error",
            "first_names reads as Mac Roman text read as Windows-1252 ('Zo‘ RenŽe' for 'Zoë Renée'): Register would "
            "store it garbled; save the file as 'CSV UTF-8'",
        )
    ]


def test_a_placement_name_is_checked_as_well():
    data = copy.deepcopy(VALID)
    data["placements_attributes"][0]["name"] = "Ecole Saint-AndrŽ"
    [(field, _value, severity, text)] = garbled(data)
    assert (field, severity) == ("placements_attributes[0].name", "error")
    assert "('Ecole Saint-AndrŽ' for 'Ecole Saint-André')" in text


REAL_NAMES = [
    # French: œ before u or i is a letter of its own; ë, ï, é as they are
    *("Cœur", "Sœur", "Bœuf", "Œuvre", "Lœillet", "Lætitia", "François", "Hélène", "Chloé", "Noël", "Anaïs", "Brontë"),
    # German, Scandinavian, Icelandic
    *("Müller", "MÜLLER", "Jäger", "Schröder", "Straße", "Jürgen Groß", "Åsa", "Søren", "Øystein", "Þóra", "Ævar"),
    # Polish, Czech, Turkish, Vietnamese, written right
    *("Łukasz", "Wiśniewski", "Michał", "Kašpar", "Šimon", "Žaneta", "Pšenička", "KAŠPAR", "Dvořák", "Štěpán"),
    *("Şükrü Öztürk", "Yılmaz", "Çağlar", "ÖZTÜRK", "Nguyễn Thị Thu Hương", "Trương"),
    # Irish and others with ’ (Mac Roman í, so never evidence alone) and dashes and quotes between names
    *("O’Neill", "D’Arcy", "d’Arcy", "d‘Arcy", "Ó Briain", "Ní Bhriain", "Seán", "Siobhán", "Isma’il", "Sa’id"),
    *("Smith–Jones", "SMITH–JONES", "Jean–Luc", "Renée “Bob” Smith", "Zoë O’Neill", "Anne-Marie", "L'HAŸ"),
    # Spanish and Portuguese, the ordinal of Mª (María)
    *("Mª José", "Mª", "Núñez", "Peña", "João", "Conceição"),
    # an ellipsis after a name cut short; signs without letters beside them
    *("Christopher…", "JO…", "£", "Î€", "€ 5"),
    # ‘ for the Arabic ʿayn and the Hawaiian ʻokina, œ and Œ beyond French, a dash between lowercase letters, a
    # school's name with ‘ for its apostrophe (review55 F1: each was a garbled_text error, so the record was not sent)
    *("Sa‘id", "Ja‘far", "Mas‘ud", "Ya‘qub", "Mu‘min", "Keali‘i", "Lili‘uokalani", "Ka‘ahumanu", "Ni‘ihau"),
    *("Phœbe", "Lœtitia", "Œdipe", "Œrsted", "Œhlenschläger", "ŒHLENSCHLÄGER", "St Mary‘s"),
    # a no-break space between names; Ž, which MS-DOS reads as Ä, starting a Czech name (review81 F2)
    *("Mary\u00a0Ann", "Jean\u00a0Luc", "Žofie", "ŽANETA"),
    # a capital after a dash or a no-break space, which a code page reads as two lowercase letters (review84 F1)
    *("Hansen–Ødegaard", "Smith–Šimon", "Inês–Þór", "Jana\u00a0Šárka", "Aled\u00a0Škoda", "Berg—Øyen", "Kim–Žofie"),
]
# (A dash between two lowercase letters, Al–amin, is still garbled_text: Mu–oz is Muñoz saved as Mac Roman, a far
# commoner name than one written with a dash in place of a hyphen.)


@pytest.mark.parametrize("name", REAL_NAMES)
def test_real_names_of_many_languages_are_not_garbled_text(name):
    assert single_byte_read_as_windows_1252(name) == []
    assert garbled(with_changes(last_name=name)) == []
    assert not [i for i in validated(with_changes(last_name=name)).issues if i.severity.value == "error"]


def test_validate_reports_mac_roman_and_windows_1250_names_in_a_csv(tmp_path):
    """Through `register-batch validate`: a register-csv saved as Mac Roman (LF line ends: not refused as a whole) and
    one saved as Windows-1250 (CRLF) are read as Windows-1252; each garbled name is an error on its record."""
    text = (FIXTURES / "register_csv" / "five_trainees.csv").read_text(encoding="utf-8")
    assert ",Spencer,Murphy," in text and ",Adrianne,Koelpin," in text
    found = {}
    for codec, first, last in (("mac_roman", "Zoë Renée", "Müller"), ("cp1250", "Łukasz", "Koelpin")):
        extract = tmp_path / f"{codec}.csv"
        changed = text.replace(",Spencer,Murphy,", f",{first},{last},")
        extract.write_bytes(changed.replace("\n", "\r\n" if codec == "cp1250" else "\n").encode(codec))
        result = CliRunner().invoke(
            cli,
            ["validate", str(extract), "--as-of", "2026-11-28", "--report-dir", str(tmp_path / codec)],
            catch_exceptions=False,
        )
        assert result.exit_code == 1, result.output
        report = json.loads((tmp_path / codec / "report.json").read_text(encoding="utf-8"))
        found[codec] = [(i["record"], i["field"], i["value"], i["code"]) for i in report["issues"]]
    assert found == {
        "mac_roman": [
            (1, "first_names", "Zo‘ RenŽe", "garbled_text"),
            (1, "last_name", "MŸller", "garbled_text"),
        ],
        "cp1250": [(1, "first_names", "£ukasz", "garbled_text")],
    }


def test_validate_reports_the_names_of_a_csv_saved_as_ms_dos(tmp_path):
    """review81 F2: Excel's "CSV (MS-DOS)" writes code page 850, read as Windows-1252: José was sent as Jos‚ with no
    word, Seán with a no-break space inside it. Now an error (the record is not sent) and a warning."""
    text = (FIXTURES / "register_csv" / "five_trainees.csv").read_text(encoding="utf-8")
    assert ",Spencer,Murphy," in text and ",Adrianne,Koelpin," in text
    changed = text.replace(",Spencer,Murphy,", ",José,Murphy,").replace(",Adrianne,Koelpin,", ",Seán,Koelpin,")
    extract = tmp_path / "dos.csv"
    extract.write_bytes(changed.replace("\n", "\r\n").encode("cp850"))
    result = CliRunner().invoke(
        cli,
        ["validate", str(extract), "--as-of", "2026-11-28", "--report-dir", str(tmp_path / "r")],
        catch_exceptions=False,
    )
    assert result.exit_code == 1, result.output
    report = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    found = [(i["record"], i["field"], i["value"], i["code"], i["severity"]) for i in report["issues"]]
    assert found == [
        (1, "first_names", "Jos‚", "garbled_text", "error"),
        (2, "first_names", "Se\u00a0n", "possibly_garbled_text", "warning"),
    ]
    assert "MS-DOS (code page 850) text read as Windows-1252 ('Jos‚' for 'José')" in report["issues"][0]["message"]


@pytest.mark.parametrize(
    "name",
    [
        "van\u00a0der Merwe",
        "de\u00a0la Cruz",
        "María\u00a0de\u00a0la Cruz",
        "van\u00a0den\u00a0Berg",
        "Mêl\u00a0le\u00a0Roux",
    ],
)
def test_a_no_break_space_beside_a_lowercase_particle_is_a_space_not_an_ms_dos_letter(name):
    """review84 F5: a no-break space keeps a particle with the name after it (pasted from Word or a web page); it was
    taken for an MS-DOS á inside a word ('vanáder Merwe')."""
    assert [i.code for i in validated(with_changes(last_name=name)).issues] == []


@pytest.mark.parametrize("name", ["Se\u00a0n", "Hern\u00a0ndez", "Gran\u00a0das"])
def test_a_no_break_space_inside_a_word_is_still_said_to_be_an_ms_dos_letter(name):
    assert [i.code for i in validated(with_changes(last_name=name)).issues] == ["possibly_garbled_text"]
