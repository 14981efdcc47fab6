"""Fuzzing every reader (issue 7): any bytes give records or one clean exit-2 line; never a traceback or a hang.

Hypothesis drives three sources of bytes: random bytes, realistic extracts mutated (DTDs, quotes, line ends,
encodings, truncation...), and either of them zipped or gzipped, or with the zip or gzip file itself
damaged; each under every `--format`. The library property is checked on many examples; the command line
(`validate`) on fewer.
`REGISTER_BATCH_FUZZ_EXAMPLES=N` raises the example counts for a longer run; `fuzz_readers.py` is the
coverage-guided long run (atheris), see docs/security.md.
"""

from __future__ import annotations

import gzip
import os
import zipfile

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from security_inputs import (
    AS_OF,
    READ_FORMATS,
    check_pipeline,
    check_reader,
    mutate,
    seeds,
    zipped,
)

from hangs import time_limit
from register_batch.cli import cli

SCALE = int(os.environ.get("REGISTER_BATCH_FUZZ_EXAMPLES", "0"))
FAST = settings(
    max_examples=SCALE or 150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SLOWER = settings(
    max_examples=SCALE // 5 or 30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
HANG = 20.0  # seconds any one small input may take before it counts as a hang

operations = st.lists(
    st.tuples(
        st.sampled_from(["flip", "byte", "insert", "delete", "truncate", "duplicate", "repeat"]),
        st.floats(0, 1),
        st.floats(0, 1),
        st.integers(0, 255),
    ),
    min_size=1,
    max_size=6,
)


@st.composite
def inputs(draw: st.DrawFn) -> tuple[str, bytes]:
    """(file name, bytes): random, or a mutated seed; plain, zipped or gzipped, or a zip or gzip file whose bytes are
    then damaged."""
    if draw(st.booleans()):
        name = draw(st.sampled_from(["input.xml", "input.csv", "input.dat"]))
        data = draw(st.binary(max_size=2048))
    else:
        name = draw(st.sampled_from(sorted(seeds())))
        data = mutate(seeds()[name], draw(operations))
    container = draw(st.sampled_from(["plain", "plain", "zip", "zip-damaged", "gzip", "gzip-damaged"]))
    if container == "plain":
        return name, data
    if container.startswith("gzip"):
        packed = gzip.compress(data, compresslevel=draw(st.sampled_from([0, 6])))
        return name + ".gz", mutate(packed, draw(operations)) if container == "gzip-damaged" else packed
    members = {name: data}
    if draw(st.booleans()):
        members["__MACOSX/._" + name] = b"\x00\x05\x16\x07"
    archive = zipped(members, compression=draw(st.sampled_from([zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])))
    if container == "zip-damaged":
        archive = mutate(archive, draw(operations))
    return "input.zip", archive


@FAST
@given(case=inputs(), fmt=st.sampled_from(READ_FORMATS))
@example(case=("input.csv", b'hesa_id,first_names,last_name\n1,"Ann\n2,Bob,Smith\n'), fmt="auto")
@example(case=("input.xml", b"<ITTRecord><Student><F_HUSID>&a;</F_HUSID></Student></ITTRecord>"), fmt="hesa-xml")
@example(case=("input.zip", b"PK\x03\x04" + b"\x00" * 26), fmt="auto")
@example(case=("input.xml", b"\r"), fmt="hesa-csv")  # a first line of nothing: a header of no cells
def test_any_bytes_give_records_or_one_clean_line(tmp_path, case, fmt):
    name, data = case
    path = tmp_path / name
    path.write_bytes(data)
    with time_limit(HANG):
        check_reader(path, fmt)


@SLOWER
@given(case=inputs(), fmt=st.sampled_from(READ_FORMATS))
def test_mapping_and_validation_survive_whatever_the_readers_yield(tmp_path, case, fmt):
    name, data = case
    path = tmp_path / name
    path.write_bytes(data)
    with time_limit(HANG):
        check_pipeline(path, fmt)


@SLOWER
@given(case=inputs(), fmt=st.sampled_from(READ_FORMATS))
def test_validate_exits_0_1_or_2_with_one_line_and_no_traceback(tmp_path, case, fmt):
    name, data = case
    path = tmp_path / name
    path.write_bytes(data)
    with time_limit(HANG):
        result = CliRunner().invoke(
            cli,
            ["validate", str(path), "--format", fmt, "--as-of", AS_OF.isoformat(), "--report-dir", str(tmp_path / "r")],
        )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    if result.exit_code == 2:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"register-batch: error: {path}"), result.stderr


@pytest.mark.parametrize("name", sorted(seeds()))
def test_every_seed_is_read(tmp_path, name):
    """The fuzz seeds themselves are usable extracts: mutations start from real structure."""
    path = tmp_path / name
    path.write_bytes(seeds()[name])
    outcome = check_reader(path, "auto")
    assert outcome.records, outcome.error
    zipped_path = tmp_path / "seed.zip"
    zipped_path.write_bytes(zipped({name: seeds()[name]}))
    assert check_reader(zipped_path, "auto").records == outcome.records
