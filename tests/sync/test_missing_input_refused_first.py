"""review151 F6: `sync` with an input that is not there (a mistyped name) says so and nothing else: it starts no
embedded emulator, makes no state dir (a folder shaped for personal data, that security.md asks users to delete) and
prints no `Target:` line that reads as if a run began, whatever the target."""

from __future__ import annotations

import gzip
import os
import zipfile
from pathlib import Path

import pytest

from cli_runs import run_cli
from emulated import OWN_COLUMNS
from register_batch.emulator.server import start_emulator
from register_batch.readers.detect import JSON_GIVEN, SAVE_AS_CSV, UTF16, UTF16_XML, UTF32

TOKEN = "missing-input-token"
# The start of an Excel 97-2003 workbook (an OLE2 compound file's header).
XLS = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16) + b">\x00\x03\x00\xfe\xff\t\x00\x06\x00" + bytes(486)
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
HEADER = "provider_trainee_id,first_names,last_name,date_of_birth\r\n"
BLANK_FIRST = "the first line is blank: a CSV's header must be its first line (delete the lines above it)"
TWO_BOMS = (
    "the file starts with two UTF-8 byte-order marks (a tool added one to a file that had one): save it again as UTF-8"
)


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    env.update(HOME=str(tmp_path / "home"), REGISTER_BATCH_RATE_DIR="off")
    return env


def _left(tmp_path: Path) -> list[str]:
    """What the run left in its folder, besides what the test put there."""
    return sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.name not in {"home", "token"})


@pytest.mark.parametrize(
    "given,said",
    [
        ("nosuch.xml", "nosuch.xml: no such file"),
        ("extracts", "extracts: is a folder, not a file: give the extracts in it, e.g. extracts/*.xml"),
        # review153 F5: an empty file, and a zip with no extract in it, are said before anything starts too
        ("empty.xml", "empty.xml: the file is empty"),
        ("notes.zip", "notes.zip: the zip file holds no .xml or .csv extract (only 'readme.txt')"),
        # fix-carry's note: a zip of nothing (its end record alone), and any file of a kind no reader takes
        ("nothing.zip", "nothing.zip: an empty zip file: it holds no extract; zip the extract itself"),
        ("extract.pdf", "extract.pdf: a PDF document, not an extract: give the HESA XML or CSV file itself"),
        # review158 F3: the same inside a gzip file or a zip's member, and text no reader takes from its first bytes
        ("empty.csv.gz", "empty.csv.gz: the file is empty"),
        ("doc.pdf.gz", "doc.pdf.gz: a PDF document, not an extract: give the HESA XML or CSV file itself"),
        ("book.xls.gz", f"book.xls.gz: an Excel 97-2003 workbook (.xls), not an extract: {SAVE_AS_CSV}"),
        ("empty.zip.gz", "empty.zip.gz: an empty zip file: it holds no extract; zip the extract itself"),
        ("emptymember.zip", "emptymember.zip:extract.csv: the file is empty"),
        ("xlsinzip.zip", f"xlsinzip.zip:book.csv: an Excel 97-2003 workbook (.xls), not an extract: {SAVE_AS_CSV}"),
        ("u16.csv", f"u16.csv: {UTF16}"),
        ("u16nobom.csv", f"u16nobom.csv: {UTF16}"),
        ("u32.csv", f"u32.csv: {UTF32}"),
        ("u16.csv.gz", f"u16.csv.gz: {UTF16}"),
        ("second.zip", f"second.zip:b.xml: {UTF16_XML}"),  # each member looked at, not the first alone
        ("twobom.csv", f"twobom.csv, line 1: {TWO_BOMS}"),
        # review160 F1: what reading refuses from the same first bytes as it tells their format: Excel's "CSV UTF-8"
        # of an empty sheet (a byte-order mark alone), whitespace alone, a blank first line, NULs, JSON
        ("bom.csv", "bom.csv: the file is empty"),
        ("ws.csv", "ws.csv: the file is empty"),
        ("bomzip.zip", "bomzip.zip:extract.csv: the file is empty"),
        ("commas.csv", f"commas.csv, line 1: {BLANK_FIRST}"),
        ("bin.xml", "bin.xml: binary content: not a HESA XML or CSV extract"),
        ("report.json", f"report.json: {JSON_GIVEN}"),
    ],
)
def test_sync_with_no_target_and_no_such_input_starts_nothing_and_says_only_the_error(tmp_path, given, said):
    (tmp_path / "extracts").mkdir()
    (tmp_path / "empty.xml").touch()
    with zipfile.ZipFile(tmp_path / "notes.zip", "w") as notes:
        notes.writestr("readme.txt", "the extract is to follow")
    zipfile.ZipFile(tmp_path / "nothing.zip", "w").close()
    (tmp_path / "extract.pdf").write_bytes(PDF)
    gzipped = {"empty.csv.gz": b"", "doc.pdf.gz": PDF, "book.xls.gz": XLS, "empty.zip.gz": (tmp_path / "nothing.zip")}
    for name, content in gzipped.items():
        (tmp_path / name).write_bytes(gzip.compress(content if isinstance(content, bytes) else content.read_bytes()))
    with zipfile.ZipFile(tmp_path / "emptymember.zip", "w") as emptymember:
        emptymember.writestr("extract.csv", b"")
    with zipfile.ZipFile(tmp_path / "xlsinzip.zip", "w") as xlsinzip:
        xlsinzip.writestr("book.csv", XLS)
    (tmp_path / "u16.csv").write_bytes(HEADER.encode("utf-16"))  # Excel's "Unicode Text": a byte-order mark first
    (tmp_path / "u16nobom.csv").write_bytes(HEADER.encode("utf-16-le"))
    (tmp_path / "u32.csv").write_bytes(HEADER.encode("utf-32"))
    (tmp_path / "u16.csv.gz").write_bytes(gzip.compress(HEADER.encode("utf-16")))
    with zipfile.ZipFile(tmp_path / "second.zip", "w") as second:
        second.writestr("a.csv", f"{HEADER}1,Jade,Smith,2000-01-01\r\n")
        second.writestr("b.xml", '<?xml version="1.0" encoding="UTF-16"?><ITTRecord/>'.encode("utf-16"))
    (tmp_path / "twobom.csv").write_bytes(b"\xef\xbb\xbf" + HEADER.encode("utf-8-sig"))
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf")
    (tmp_path / "ws.csv").write_bytes(b"   \r\n\n\t")
    with zipfile.ZipFile(tmp_path / "bomzip.zip", "w") as bomzip:
        bomzip.writestr("extract.csv", b"\xef\xbb\xbf\r\n")
    (tmp_path / "commas.csv").write_bytes(f",,,\r\n{HEADER}".encode())
    (tmp_path / "bin.xml").write_bytes(b"\x89\x00\x01\x02" * 64)
    (tmp_path / "report.json").write_text('[{"provider_trainee_id": "1", "first_names": "Jade", "last_name": "Smith"}]')
    before = _left(tmp_path)
    done = run_cli(["sync", given, "--state-dir", "state/fresh"], tmp_path, _env(tmp_path))
    assert (done.returncode, done.stdout, done.stderr) == (2, "", f"register-batch: error: {said}\n")
    # no state/fresh/register/register.sqlite3, token, sync.lock
    assert _left(tmp_path) == before
    assert "extract.pdf" in before and "state" not in before


@pytest.mark.parametrize(
    "args",
    [
        # two of the template's columns: too few to tell the format by, read as the format given
        ["two.csv", "--format", "register-csv"],
        # the user's own column names: told as Register's CSV only with the mapping file that names them
        ["own.csv", "--mapping", "own.yaml"],
    ],
)
def test_sync_lets_through_what_reading_reads_with_the_format_and_mappings_given(tmp_path, args):
    """review160 F1's early check tells the format as reading does: with the format given it does not tell it, and
    it tells it with the user's mappings, so nothing reading would read is refused before the run."""
    (tmp_path / "two.csv").write_text("provider_trainee_id,first_names\r\nA1,Jade\r\n")
    (tmp_path / "own.csv").write_text("Student Number,Given,Family,date_of_birth\r\nA1,Jade,Smith,2000-01-01\r\n")
    (tmp_path / "own.yaml").write_text(OWN_COLUMNS)
    done = run_cli(["sync", *args, "--dry-run", "--state-dir", "state"], tmp_path, _env(tmp_path))
    assert "cannot tell the format" not in done.stderr
    assert done.stdout.startswith("Target: embedded Register emulator at "), (done.stdout, done.stderr)
    assert "1 record: 1 invalid" in done.stdout  # read: its record is invalid (too few columns), not refused unread


def test_sync_to_a_real_target_says_the_missing_input_before_any_target_line(tmp_path):
    token = tmp_path / "token"
    token.write_text(TOKEN)
    token.chmod(0o600)
    with start_emulator(tokens=[TOKEN], rate_limit=None) as emulator:
        args = ["sync", "present.xml", "nosuch.xml", "--target", emulator.url, "--token-file", str(token)]
        (tmp_path / "present.xml").write_text("<ITTRecord/>")
        done = run_cli([*args, "--state-dir", "state"], tmp_path, _env(tmp_path))
    assert (done.returncode, done.stdout, done.stderr) == (2, "", "register-batch: error: nosuch.xml: no such file\n")
    assert _left(tmp_path) == ["present.xml"]


@pytest.mark.parametrize("fmt", ["register-csv", "hesa-csv", "hesa-xml"])
@pytest.mark.parametrize(
    ("content", "name"),
    [(b"\xef\xbb\xbf", "bom.csv"), (b"   \r\n\n\t", "ws.csv"), (b"\xef\xbb\xbf \r\n", "bomws.xml")],
    ids=["a byte-order mark alone", "whitespace alone", "both"],
)
def test_sync_with_the_format_given_refuses_a_blank_file_before_it_starts_anything(tmp_path, fmt, content, name):
    """review160 F1's early check told a file that is a byte-order mark or whitespace alone empty only when it told
    its format: with `--format` given, the embedded emulator started, its state dir was made and a `Target:` line
    printed before reading refused the file (as "no XML element found" or "the first line is blank"). It is refused
    first, in the one line said without `--format`, whatever the target: no request is sent to a real one."""
    (tmp_path / name).write_bytes(content)
    said = f"register-batch: error: {name}: the file is empty\n"
    before = _left(tmp_path)
    done = run_cli(["sync", name, "--format", fmt, "--state-dir", "state/fresh"], tmp_path, _env(tmp_path))
    assert (done.returncode, done.stdout, done.stderr) == (2, "", said)
    assert _left(tmp_path) == before  # no embedded emulator's data, no state dir
    token = tmp_path / "token"
    token.write_text(TOKEN)
    token.chmod(0o600)
    with start_emulator(tokens=[TOKEN], rate_limit=None) as emulator:
        args = ["sync", name, "--format", fmt, "--target", emulator.url, "--token-file", str(token)]
        done = run_cli([*args, "--state-dir", "state"], tmp_path, _env(tmp_path))
        asked = emulator.snapshot()["requests"]["total"]
    assert (done.returncode, done.stdout, done.stderr, asked) == (2, "", said, 0)
    assert _left(tmp_path) == before
