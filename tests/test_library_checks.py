"""The library refuses what the command line refuses (helper-213 F1, F2): an output whose name says another format, an
output in a state dir (over the sync ledger), a pull into a state dir bound to another target; and `sync_files`
validates by the lists `reference pull` saved in its state dir, as `register-batch sync` does."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from emulated import sync_options
from register_batch.api import RateLimiter, RegisterClient
from register_batch.commands.common import OPTIONS
from register_batch.emulator import start_emulator
from register_batch.errors import ConfigError, UnwritableOutput
from register_batch.export import export_trainees
from register_batch.generate import generate
from register_batch.jobs import convert_files
from register_batch.reference import PULLED_FILE, load_reference
from register_batch.reference.pull import pull_reference
from register_batch.sync import sync_files
from register_batch.sync.ledger import LEDGER_FILE, Ledger

SAMPLES = Path(__file__).parent.parent / "samples"
AS_OF = date(2026, 11, 28)
TOKEN = "library-checks-token"
IN_STATE_DIR = "(the sync ledger, its lock and the embedded emulator's data), which it could replace"
OUTSIDE = "name a file outside it"


@pytest.fixture
def synced(tmp_path):
    """(emulator, state dir): an extract synced with the library, its ledger in tmp_path/state."""
    from trainee_extracts import extract

    source = extract(tmp_path / "in.csv", 3)
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator:
        assert sync_files([str(source)], sync_options(emulator, tmp_path, TOKEN)).exit_code == 0
        yield emulator, tmp_path / "state"


def requests_to(emulator) -> int:
    return emulator.snapshot()["requests"]["total"]


def _ledger(state: Path) -> bytes:
    """A state dir's ledger, as a sync (not a dry run) leaves it: its bytes, to compare after."""
    ledger = Ledger(state, "embedded-emulator")
    ledger.start_run(dry_run=False)
    ledger.close()
    return (state / LEDGER_FILE).read_bytes()


@pytest.mark.parametrize("to", ["jsonl", "json", "register-csv"])
@pytest.mark.parametrize("name", [LEDGER_FILE, "bodies"])
def test_convert_files_into_a_state_dir_is_refused_and_leaves_the_ledger(tmp_path, to, name):
    """A register-csv named ledger.sqlite3 in the state dir replaced the sync ledger: the command line refused it,
    `convert_files` wrote it."""
    state = tmp_path / "state"
    before = _ledger(state)
    output = state / name
    with pytest.raises(UnwritableOutput, match="that is in the state dir") as caught:
        convert_files([SAMPLES / "extract.xml"], to=to, output=output, as_of=AS_OF)
    assert str(caught.value) == f"cannot write {output}: that is in the state dir {state} {IN_STATE_DIR}: {OUTSIDE}"
    assert (state / LEDGER_FILE).read_bytes() == before
    assert sorted(p.name for p in state.iterdir()) == [LEDGER_FILE]  # nor the output beside it


@pytest.mark.parametrize(
    ("to", "output", "said"),
    [
        (
            "register-csv",
            "held.xlsx",
            "an Excel workbook, but {to} register-csv writes CSV: give a name ending in "
            ".csv (Excel and LibreOffice Calc open a .csv file)",
        ),
        ("jsonl", "out.json", "JSON, but {to} jsonl writes JSON Lines: give a name ending in .jsonl"),
        (
            "json",
            "out.csv.gz",
            "a compressed file, but {to} json writes JSON: give a name ending in .json "
            "(register-batch writes it uncompressed; compress it once written)",
        ),
    ],
)
def test_convert_files_to_a_name_saying_another_format_is_a_config_error_before_anything_is_read(
    tmp_path, to, output, said
):
    """`-o held.xlsx --to register-csv` wrote CSV text that Excel refused to open: refused by the command line only.
    The input is not there: the name is refused before any input is looked at. The message names the setting as
    the library takes it (`to`), and as the command line words it (`--to`)."""
    with pytest.raises(ConfigError) as caught:
        convert_files([tmp_path / "not-there.xml"], to=to, output=tmp_path / output, as_of=AS_OF)
    message = f"'{tmp_path / output}' ends in {Path(output).suffix}, which says {said}"
    assert str(caught.value) == message.replace("{to}", "to")
    assert caught.value.worded(OPTIONS) == message.replace("{to}", "--to")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("to", ["register-csv", "hesa-xml", "json", "jsonl"])
def test_export_trainees_over_the_ledger_is_refused_before_any_request(synced, to):
    """`export_trainees(client, output=state/ledger.sqlite3)` replaced a synced state dir's ledger with the export:
    the next sync refused the state dir, and the trainee ids it held were gone."""
    emulator, state = synced
    ledger = state / LEDGER_FILE
    before, sent = ledger.read_bytes(), requests_to(emulator)
    with (
        RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(10_000, 60)) as client,
        pytest.raises(UnwritableOutput, match=f"that is in the state dir {state} "),
    ):
        export_trainees(client, to=to, output=ledger)
    assert ledger.read_bytes() == before
    assert requests_to(emulator) == sent  # refused before the first listing
    assert not [p for p in state.iterdir() if p.name.startswith(f".{LEDGER_FILE}")]  # no temporary file either


def test_export_trainees_to_a_name_saying_another_format_is_refused_before_any_request(synced, tmp_path):
    emulator, _state = synced
    sent = requests_to(emulator)
    with (
        RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(10_000, 60)) as client,
        pytest.raises(ConfigError, match=r"held\.xlsx' ends in \.xlsx, which says an Excel workbook, but to register"),
    ):
        export_trainees(client, to="register-csv", output=tmp_path / "held.xlsx")
    assert requests_to(emulator) == sent
    assert not (tmp_path / "held.xlsx").exists()


@pytest.mark.parametrize("which", ["output", "truth"])
def test_generate_into_a_state_dir_is_refused_and_leaves_the_ledger(tmp_path, which):
    """generate has no state dir of its own: any folder holding a sync ledger is refused, as the command line does."""
    state = tmp_path / "state"
    before = _ledger(state)
    output = state / LEDGER_FILE if which == "output" else tmp_path / "extract.xml"
    truth = state / "truth.json" if which == "truth" else tmp_path / "truth.json"
    with pytest.raises(UnwritableOutput, match=f"that is in the state dir {state} "):
        generate(output, count=2, defects=0.5, truth=truth, seed=1, as_of=AS_OF)
    assert (state / LEDGER_FILE).read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state"]
    assert sorted(p.name for p in state.iterdir()) == [LEDGER_FILE]


def test_generate_to_a_name_saying_another_format_is_a_config_error_naming_fmt(tmp_path):
    with pytest.raises(ConfigError) as caught:
        generate(tmp_path / "extract.ods", count=1, fmt="hesa-xml", seed=1, as_of=AS_OF)
    assert str(caught.value) == (
        f"'{tmp_path / 'extract.ods'}' ends in .ods, which says a spreadsheet, but fmt hesa-xml writes XML: give a "
        "name ending in .xml"
    )
    assert "but --format hesa-xml writes XML" in caught.value.worded(OPTIONS)
    assert list(tmp_path.iterdir()) == []


def test_generate_with_a_truth_file_named_for_another_format_is_a_config_error_naming_truth(tmp_path):
    with pytest.raises(ConfigError) as caught:
        generate(tmp_path / "extract.xml", count=2, defects=0.5, truth=tmp_path / "truth.csv", seed=1, as_of=AS_OF)
    assert str(caught.value) == (
        f"'{tmp_path / 'truth.csv'}' ends in .csv, which says CSV, but the truth file is JSON: give a name ending in "
        ".json"
    )
    assert "but the --truth file is JSON" in caught.value.worded(OPTIONS)
    assert list(tmp_path.iterdir()) == []


def test_pull_reference_into_a_state_dir_bound_to_another_target_is_refused_before_the_request(tmp_path):
    """The command line refused a pull into a state dir whose ledger is another target's (its validation would judge
    that target's records by these lists); `pull_reference` saved them."""
    state = tmp_path / "state"
    before = _ledger(state)  # bound to the embedded emulator, as a sync with no target leaves it
    with start_emulator(tokens=["t"], rate_limit=None) as emulator:
        with (
            RegisterClient(emulator.url, None, limiter=RateLimiter(10_000, 60)) as client,
            pytest.raises(ConfigError) as caught,
        ):
            pull_reference(client, state)
        assert str(caught.value).startswith(
            f"the state dir {state} belongs to target embedded-emulator, not {emulator.url}: "
        )
        assert requests_to(emulator) == 0
        assert not (state / PULLED_FILE).exists() and (state / LEDGER_FILE).read_bytes() == before
        # The embedded emulator's own pull (its ledger is bound to its identity, not its URL) is taken.
        with RegisterClient(emulator.url, None, limiter=RateLimiter(10_000, 60)) as client:
            saved = pull_reference(client, str(state), target_identity="embedded-emulator")
    assert saved == state / PULLED_FILE and saved.is_file()


def test_pull_reference_into_a_state_dir_named_past_what_the_file_system_takes_is_a_config_error(tmp_path):
    """review45 F1: looking for the state dir's ledger raised a bare OSError (File name too long) where the command
    line's own check said which state dir, as the state dir's lock does."""
    state = tmp_path / ("y" * 300)
    with start_emulator(tokens=["t"], rate_limit=None) as emulator:
        with (
            RegisterClient(emulator.url, None, limiter=RateLimiter(10_000, 60)) as client,
            pytest.raises(ConfigError, match=r"as the state dir .*longer than this file system takes"),
        ):
            pull_reference(client, state)
        assert requests_to(emulator) == 0


def test_sync_files_validates_by_the_lists_pulled_into_its_state_dir(tmp_path, register_csv_fixtures):
    """`register-batch sync` validated by the lists `reference pull` saved in the state dir; `sync_files` with the
    same state dir, and no `reference_path`, by the bundled ones: the same extract passed one and failed the other."""
    state = tmp_path / "state"
    state.mkdir()
    payload = json.loads(json.dumps(load_reference().api_payload()))
    payload["sex"]["entries"] = [e for e in payload["sex"]["entries"] if e["code"] != "11"]
    (state / PULLED_FILE).write_text(json.dumps({"payload": payload}), encoding="utf-8")
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator:
        options = sync_options(emulator, tmp_path, TOKEN, dry_run=True)
        synced = sync_files([register_csv_fixtures / "five_trainees.csv"], options)
    first = synced.results[0]
    assert [(issue.field, issue.code) for issue in first.issues] == [("sex", "invalid_code")]
    assert synced.exit_code == 1
    report = json.loads((tmp_path / "reports" / "report.json").read_text(encoding="utf-8"))
    assert report["reference"]["source"] == f"pulled {state / PULLED_FILE}"
