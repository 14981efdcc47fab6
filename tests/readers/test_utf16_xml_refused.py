"""A UTF-16 HESA XML extract is refused in XML's words (review171 F5).

An XmlWriter set to Unicode writes a correctly declared UTF-16 file. It was refused with the CSV message, "UTF-16 text
(Excel's 'Unicode Text'): save it again as 'CSV UTF-8' (or the XML as UTF-8)": a vendor was told about Excel. Real
XML, made by `generate` and written again as UTF-16, with and without a byte-order mark.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from register_batch.cli import cli

AS_OF = "2026-11-28"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def generated(path: Path) -> Path:
    code, out, _err = run(
        "generate", "--count", "2", "--ukprn", "10052198", "--seed", "5", "--as-of", AS_OF, "-o", str(path)
    )
    assert code == 0, out
    return path


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_xml_is_refused_in_xmls_words(tmp_path, encoding):
    """One line, exit 2, nothing checked; "utf-16" writes a byte-order mark, "utf-16-le" and "utf-16-be" none."""
    xml = generated(tmp_path / "g.xml")
    text = xml.read_text(encoding="utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"', 1)
    path = tmp_path / "u16.xml"
    path.write_bytes(text.encode(encoding))
    code, out, err = run("validate", str(path), "--as-of", AS_OF, "--report-dir", str(tmp_path / "r"))
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        f'register-batch: error: {path}: UTF-16 XML: write the extract as UTF-8 (encoding="UTF-8")'
    ]
