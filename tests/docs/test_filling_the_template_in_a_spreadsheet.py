"""docs/formats.md, "I fill in Register's CSV template in a spreadsheet" (review172 F2, F9 and its BOM point).

The steps name the HUSID column, whose last digits a General column loses for good; they say a CSV keeps no cell
formats (LibreOffice's default import changed the codes of a file that passed validate), so the workbook is kept and a
CSV copy saved for each upload; and that Excel's "CSV UTF-8" writes a byte-order mark, which Register's upload page may
take as part of the first header (an inference: hesa-formats.md §3.2 item 2), so the file to upload there is the one
`convert --to register-csv` writes. This test runs that command on such a file and checks it writes no mark.
"""

from __future__ import annotations

import csv
import shlex
from pathlib import Path

from click.testing import CliRunner

from register_batch.cli import cli

FORMATS = Path(__file__).resolve().parents[2] / "docs" / "formats.md"
AS_OF = "2026-11-28"


def page() -> str:
    return FORMATS.read_text(encoding="utf-8")


def section() -> str:
    text = page().split("#### I fill in Register's CSV template in a spreadsheet")[1].split("\n#")[0]
    return " ".join(text.split())


def test_the_steps_name_the_husid_column_and_keep_the_workbook():
    words = section()
    step = "1. Format the code columns (`sex`, `ethnicity`, `training_route`, `degree_grade`, every column of a code)"
    assert f"{step} and `hesa_id` as Text" in words
    assert "`2.60117E+12`" in words
    assert "Keep your own copy as a workbook (`.xlsx`): a CSV keeps no cell formats" in words
    assert 'For each upload, save a copy as "CSV UTF-8 (Comma delimited)"' in words


def test_the_byte_order_mark_is_named_as_an_inference_and_the_upload_file_has_none(tmp_path):
    words = section()
    assert 'Excel\'s "CSV UTF-8" starts the file with a byte-order mark' in words
    assert "(an inference from Register's code, hesa-formats.md §3.2 item 2, not tested)" in words
    # the command the page gives, run on the template filled in and saved as Excel's "CSV UTF-8" does
    [command] = [line for line in words.split("`") if line.startswith("register-batch convert trainees.csv")]
    assert command == "register-batch convert trainees.csv --to register-csv -o upload.csv"
    generated = tmp_path / "generated.csv"
    args = ["generate", "--count", "3", "--format", "register-csv", "-o", str(generated), "--seed", "172"]
    assert CliRunner().invoke(cli, [*args, "--as-of", AS_OF], catch_exceptions=False).exit_code == 0
    with generated.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    with (tmp_path / "trainees.csv").open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows(rows)
    assert (tmp_path / "trainees.csv").read_bytes()[:3] == b"\xef\xbb\xbf"
    argv = shlex.split(command)[1:]
    argv = [str(tmp_path / arg) if arg.endswith(".csv") else arg for arg in argv]
    result = CliRunner().invoke(cli, argv, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "upload.csv").read_bytes().startswith(b"provider_trainee_id,")
    # as the page says of every register-csv output
    assert "UTF-8 without a byte-order mark, as Register's" in " ".join(page().split())


def test_reference_template_is_said_to_keep_a_file_already_there():
    assert "It never writes over a file already there, which may be one you filled in" in section()
