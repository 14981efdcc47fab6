"""The HESA XML export writes a withdrawal Register holds whole as the WITHDRAWAL_* elements the HESA XML reader takes
inside a Student (formats.md, Withdrawals and deferrals), as it writes a deferral's DEFER_*. It wrote none, with a note:
a migration lead's rehearsal (export one environment, sync the file into another) brought every withdrawn trainee
back in training, 11 of 500 (review157 F2). A withdrawal Register holds without its reasons, trigger or future
interest (which the API needs now, register-api.md §3.9) still gets the note: written, it would read back refused. So
does one validate of the file would refuse (a reason's text with a line break, review160 F2), with why. A deferral
whose reason validate would refuse is written with its date only, which is all a deferral needs (§3.10), with a note.
Against the emulator over 127.0.0.1, the file validated and synced as a user would."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from lxml import etree

from emulated import AS_OF, sync_options
from register_batch.api import RateLimiter, RegisterClient
from register_batch.cli import cli
from register_batch.emulator import start_emulator
from register_batch.export import GRADUATION_NOTE, ExportResult, HesaXmlWriter, export_trainees, state_note
from register_batch.model import Issue, Severity
from register_batch.sync import sync_files
from trainee_extracts import extract

TOKEN = "export-withdrawals-token"
OTHER = "export-withdrawals-other-token"

# Three withdrawals Register holds whole: a plain one, one with another reason (its text), one with safeguarding
# concerns (their text) (register-api.md §3.9).
WITHDRAWALS = [
    {
        "withdrawal_date": "2026-01-15",
        "reasons": ["trainee_workload_issues", "does_not_want_to_become_a_teacher"],
        "trigger": "trainee",
        "future_interest": "no",
    },
    {
        "withdrawal_date": "2026-02-02",
        "reasons": ["had_to_withdraw_trainee_another_reason"],
        "trigger": "provider",
        "future_interest": "unknown",
        "another_reason": "Moved abroad; course closed",
    },
    {
        "withdrawal_date": "2026-03-03",
        "reasons": ["safeguarding_concerns"],
        "trigger": "provider",
        "future_interest": "yes",
        "safeguarding_concern_reasons": "Raised with the DSL",
    },
]
HELD = ("date", "reasons", "trigger", "future_interest", "another_reason", "safeguarding_concern_reasons")


def _withdrawal_held(trainee: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(trainee.get(f"withdrawal_{name}") for name in HELD)


def _validated(out: Path, tmp_path: Path) -> dict[str, Any]:
    """`register-batch validate` of the exported file, as a user runs it: exit 0, and its report."""
    run = CliRunner().invoke(
        cli, ["validate", str(out), "--as-of", AS_OF.isoformat(), "--report-dir", str(tmp_path / "validated")]
    )
    assert run.exit_code == 0, run.output
    return json.loads((tmp_path / "validated" / "report.json").read_text(encoding="utf-8"))


def test_withdrawals_register_holds_round_trip_through_hesa_xml_into_another_register(tmp_path: Path) -> None:
    out = tmp_path / "held.xml"
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as source:
        assert sync_files([str(extract(tmp_path / "in.csv", 8))], sync_options(source, tmp_path, TOKEN)).exit_code == 0
        with RegisterClient(source.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
            trainees = list(client.iter_trainees(academic_cycle=2025))
            for trainee, withdrawal in zip(trainees, WITHDRAWALS, strict=False):
                client.withdraw(trainee["trainee_id"], withdrawal)
            client.defer(trainees[3]["trainee_id"], {"defer_date": "2026-02-01", "defer_reason": "health"})
            held = {t["hesa_id"]: t for t in client.iter_trainees(academic_cycle=2025)}
            result = export_trainees(client, to="hesa-xml", output=out, academic_cycle=2025)
        withdrawn = {hesa_id: t for hesa_id, t in held.items() if t["state"] == "withdrawn"}
        assert len(withdrawn) == 3
        # No note says a withdrawn trainee reads as one in training: the file says the withdrawal.
        assert not [n for n in result.notes if "reads as a trainee in training" in n.message], result.notes

        students = {s.findtext("F_HUSID"): s for s in etree.parse(str(out)).iter("Student")}
        plain, another, safeguarding = (students[t["hesa_id"]] for t in trainees[:3])
        assert plain.findtext("WITHDRAWAL_DATE") == "2026-01-15"
        assert plain.findtext("WITHDRAWAL_REASONS") == "trainee_workload_issues;does_not_want_to_become_a_teacher"
        assert (plain.findtext("WITHDRAWAL_TRIGGER"), plain.findtext("WITHDRAWAL_FUTURE_INTEREST")) == ("trainee", "no")
        # The texts only where Register holds one: no NULL element for the others.
        assert plain.find("WITHDRAWAL_ANOTHER_REASON") is None
        assert plain.find("WITHDRAWAL_SAFEGUARDING_CONCERN_REASONS") is None
        assert another.findtext("WITHDRAWAL_ANOTHER_REASON") == "Moved abroad; course closed"
        assert safeguarding.findtext("WITHDRAWAL_SAFEGUARDING_CONCERN_REASONS") == "Raised with the DSL"
        assert not [s for h, s in students.items() if h not in withdrawn and s.find("WITHDRAWAL_DATE") is not None]

        # validate of the file: clean, no error and no warning on any Student.
        assert _validated(out, tmp_path)["issues"] == []

        # The file synced back into the Register it came from: nothing to send, nothing said of the withdrawals.
        back = sync_files([str(out)], sync_options(source, tmp_path, TOKEN, report_dir=tmp_path / "back"))
        assert back.exit_code == 0 and back.actions == {"unchanged": 8}, back.summary_line()
        assert not [r for r in back.results if r.warnings()], [r.warnings() for r in back.results]

    # Synced into a fresh Register: the trainees come out withdrawn, as the source held them (and the deferral).
    ukprn = trainees[0]["ukprn"]  # the same provider's account, in another environment
    with start_emulator(tokens=[OTHER], ukprns={OTHER: ukprn}, rate_limit=None, as_of=AS_OF) as fresh:
        options = sync_options(fresh, tmp_path / "fresh", OTHER)
        moved = sync_files([str(out)], options)
        assert moved.exit_code == 0, moved.summary_line()
        assert moved.summary_line().startswith("8 records: 8 created (3 then withdrawn, 1 then deferred)."), (
            moved.summary_line()
        )
        with RegisterClient(fresh.url, OTHER, limiter=RateLimiter(1000, 1)) as client:
            landed = {t["hesa_id"]: t for t in client.iter_trainees(academic_cycle=2025)}
    assert {h: t["state"] for h, t in landed.items() if t["state"] in ("withdrawn", "deferred")} == {
        **{hesa_id: "withdrawn" for hesa_id in withdrawn},
        trainees[3]["hesa_id"]: "deferred",
    }
    for hesa_id, trainee in withdrawn.items():
        assert _withdrawal_held(landed[hesa_id]) == _withdrawal_held(trainee)


def test_a_withdrawal_held_without_its_reasons_trigger_or_future_interest_stays_a_note(tmp_path: Path) -> None:
    """One Register holds from before the API needed them: written, the Student would read back refused (a
    withdrawal without reasons), so nothing of it is written, and the note says why the Student reads in training."""
    trainee = {
        "trainee_id": "t1",
        "state": "withdrawn",
        "first_names": "Ann",
        "withdrawal_date": "2024-01-15",
        "withdrawal_reasons": None,
        "withdrawal_trigger": None,
        "withdrawal_future_interest": None,
    }
    assert state_note(trainee, "hesa-xml") == (
        "withdrawn in Register without the reasons, trigger and future interest a withdrawal needs: the HESA XML "
        "export writes no withdrawal for it, so the Student reads as a trainee in training (the json and jsonl exports "
        "hold the state and its dates; `--status withdrawn` exports only those)"
    )
    whole = {**trainee, "withdrawal_reasons": ["trainee_workload_issues"], "withdrawal_trigger": "trainee"}
    assert "withdrawn in Register without the future interest a withdrawal needs:" in str(state_note(whole, "hesa-xml"))
    assert state_note({**whole, "withdrawal_future_interest": "no"}, "hesa-xml") is None
    writer = HesaXmlWriter(tmp_path / "one.xml")
    writer.write(trainee)
    writer.close()
    [student] = etree.parse(str(tmp_path / "one.xml")).iter("Student")
    assert [e.tag for e in student if e.tag.startswith("WITHDRAWAL_")] == []


IN_TRAINING = (
    "the HESA XML export writes no withdrawal for it, so the Student reads as a trainee in training (the json and "
    "jsonl exports hold the state and its dates; `--status withdrawn` exports only those)"
)


def _two_withdrawn_and_exported(
    tmp_path: Path, out: Path, reason: str, second: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], ExportResult]:
    """Two trainees synced into an emulator, the first withdrawn for another reason (`reason`, its text), the second
    with `second` (or not withdrawn), then exported to HESA XML (`out`): the two as listed, and the export's result."""
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as source:
        assert sync_files([str(extract(tmp_path / "in.csv", 2))], sync_options(source, tmp_path, TOKEN)).exit_code == 0
        with RegisterClient(source.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
            trainees = list(client.iter_trainees(academic_cycle=2025))
            client.withdraw(trainees[0]["trainee_id"], {**WITHDRAWALS[1], "another_reason": reason})
            if second is not None:
                client.withdraw(trainees[1]["trainee_id"], second)
            return trainees, export_trainees(client, to="hesa-xml", output=out, academic_cycle=2025)


def test_a_withdrawal_validate_would_refuse_is_not_written_and_the_student_reads_back_in_training(
    tmp_path: Path,
) -> None:
    """A reason's text typed in Register's service with a line break (a multi-line text box) is refused on reading
    back (control_character). Written as WITHDRAWAL_*, it made validate and sync of the file refuse the whole Student,
    so a rehearsal's sync into another Register lost the trainee and exited 1 (review160 F2). The withdrawal is not
    written: the Student reads back clean, in training, and the note says why. A whole withdrawal beside it still is."""
    out = tmp_path / "held.xml"
    [broken, whole], result = _two_withdrawn_and_exported(tmp_path, out, "Moved abroad\nsecond line", WITHDRAWALS[1])
    said = [note for note in result.notes if note.message != GRADUATION_NOTE]  # its degree's, beside
    assert [str(note) for note in said if note.trainee_id == broken["trainee_id"]] == [
        f"trainee {broken['trainee_id']}: withdrawn in Register, but its withdrawal's another_reason holds a line "
        f"break, which validate refuses (control_character): {IN_TRAINING}"
    ]
    assert not [note for note in said if note.trainee_id == whole["trainee_id"]], said
    students = {s.findtext("F_HUSID"): s for s in etree.parse(str(out)).iter("Student")}
    assert [e.tag for e in students[broken["hesa_id"]] if e.tag.startswith("WITHDRAWAL_")] == []
    assert students[whole["hesa_id"]].findtext("WITHDRAWAL_ANOTHER_REASON") == "Moved abroad; course closed"

    assert _validated(out, tmp_path)["issues"] == []

    # Synced into a fresh Register: the trainee is created, in training; the other one withdrawn.
    with start_emulator(tokens=[OTHER], ukprns={OTHER: broken["ukprn"]}, rate_limit=None, as_of=AS_OF) as fresh:
        moved = sync_files([str(out)], sync_options(fresh, tmp_path / "fresh", OTHER))
        assert moved.exit_code == 0, moved.summary_line()
        assert moved.summary_line().startswith("2 records: 2 created (1 then withdrawn)."), moved.summary_line()
        with RegisterClient(fresh.url, OTHER, limiter=RateLimiter(1000, 1)) as client:
            landed = {t["hesa_id"]: t["state"] for t in client.iter_trainees(academic_cycle=2025)}
    assert landed[whole["hesa_id"]] == "withdrawn"
    assert landed[broken["hesa_id"]] not in ("withdrawn", "deferred"), landed


def test_a_withdrawal_validate_refuses_is_not_written_and_the_note_names_the_rule(tmp_path: Path) -> None:
    """So too a reason's text starting with `=` (spreadsheet_formula), which validate of the file refused the whole
    Student for (review82 F2's check, made of a withdrawal): the withdrawal is left out, and the note says why."""
    out = tmp_path / "held.xml"
    [first, _second], result = _two_withdrawn_and_exported(tmp_path, out, "=see the SRS", None)
    assert [str(note) for note in result.notes if note.message != GRADUATION_NOTE] == [
        f"trainee {first['trainee_id']}: withdrawn in Register, but its withdrawal's another_reason starts with `=`, "
        f"as a spreadsheet formula does, which validate refuses (spreadsheet_formula): {IN_TRAINING}"
    ]
    assert _validated(out, tmp_path)["issues"] == []


# What a deferred trainee's note says when its reason is left out (state_note).
REASON_LEFT_OUT = (
    "the HESA XML export writes the deferral with its date only (DEFER_REASON NULL), so the Student reads back "
    "deferred without the reason (the json and jsonl exports hold it; `--status deferred` exports only those)"
)


def test_a_deferral_reason_validate_would_refuse_is_left_out_and_the_student_reads_back_deferred(
    tmp_path: Path,
) -> None:
    """A defer_reason typed in Register's service with a line break was written as DEFER_REASON, and validate and sync
    of the file refused the whole Student: a rehearsal's sync into another Register lost the trainee, and a sync
    back into its own said it invalid, every run. A deferral needs only its date (register-api.md §3.10), so the
    export writes it without the reason, with a note saying why: the Student reads back deferred, syncs back
    unchanged (a blank reason is no difference) and creates the trainee deferred elsewhere. Leaving the whole deferral
    out, as a refused withdrawal is, would make every sync of the file warn sync_state_differs."""
    out = tmp_path / "held.xml"
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as source:
        assert sync_files([str(extract(tmp_path / "in.csv", 2))], sync_options(source, tmp_path, TOKEN)).exit_code == 0
        with RegisterClient(source.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
            broken, whole = list(client.iter_trainees(academic_cycle=2025))
            reason = "Family illness\nback in spring"
            client.defer(broken["trainee_id"], {"defer_date": "2026-02-01", "defer_reason": reason})
            client.defer(whole["trainee_id"], {"defer_date": "2026-02-02", "defer_reason": "health"})
            result = export_trainees(client, to="hesa-xml", output=out, academic_cycle=2025)
        said = [note for note in result.notes if note.message != GRADUATION_NOTE]  # its degree's, beside
        assert [str(note) for note in said] == [
            f"trainee {broken['trainee_id']}: deferred in Register, but its deferral's defer_reason holds a line "
            f"break, which validate refuses (control_character): {REASON_LEFT_OUT}"
        ]
        students = {s.findtext("F_HUSID"): s for s in etree.parse(str(out)).iter("Student")}
        deferred = {h: (s.findtext("DEFER_DATE"), s.findtext("DEFER_REASON")) for h, s in students.items()}
        assert deferred == {broken["hesa_id"]: ("2026-02-01", "NULL"), whole["hesa_id"]: ("2026-02-02", "health")}

        assert _validated(out, tmp_path)["issues"] == []

        # Synced back into the Register it came from: nothing to send, and no warning of the reason it leaves out.
        back = sync_files([str(out)], sync_options(source, tmp_path, TOKEN, report_dir=tmp_path / "back"))
        assert back.exit_code == 0 and back.actions == {"unchanged": 2}, back.summary_line()
        assert not [r for r in back.results if r.warnings()], [r.warnings() for r in back.results]

    # Synced into a fresh Register: both created deferred, the one on its date without the reason.
    with start_emulator(tokens=[OTHER], ukprns={OTHER: broken["ukprn"]}, rate_limit=None, as_of=AS_OF) as fresh:
        moved = sync_files([str(out)], sync_options(fresh, tmp_path / "fresh", OTHER))
        assert moved.exit_code == 0, moved.summary_line()
        assert moved.summary_line().startswith("2 records: 2 created (2 then deferred)."), moved.summary_line()
        with RegisterClient(fresh.url, OTHER, limiter=RateLimiter(1000, 1)) as client:
            landed = {t["hesa_id"]: t for t in client.iter_trainees(academic_cycle=2025)}
    held = {h: (t["state"], t["defer_date"], t["defer_reason"]) for h, t in landed.items()}
    assert held == {
        broken["hesa_id"]: ("deferred", "2026-02-01", None),
        whole["hesa_id"]: ("deferred", "2026-02-02", "health"),
    }


def test_a_deferral_note_names_each_rule_its_reason_is_refused_by() -> None:
    """What the note says of a reason refused by other rules, by what it holds, not the text (notes are printed); a
    deferral whose reason is not refused gets no note (written whole)."""
    trainee = {"trainee_id": "t1", "state": "deferred", "defer_date": "2026-02-01", "defer_reason": "x"}
    refused = [
        Issue(
            input="export",
            code="spreadsheet_formula",
            severity=Severity.ERROR,
            message="",
            field="defer_reason",
            value="=see",
        ),
        Issue(
            input="export",
            code="lost_letter",
            severity=Severity.ERROR,
            message="",
            field="defer_reason",
            value="Ma?gorzata",
        ),
    ]
    assert state_note(trainee, "hesa-xml", refused) == (
        "deferred in Register, but its deferral's defer_reason starts with `=`, as a spreadsheet formula does, which "
        "validate refuses (spreadsheet_formula); its deferral's defer_reason has a `?` where a letter should be, "
        f"which validate refuses (lost_letter): {REASON_LEFT_OUT}"
    )
    assert state_note(trainee, "hesa-xml") is None


def test_a_deferred_or_withdrawn_student_refused_for_another_reason_is_not_said_to_read_back_so(tmp_path: Path) -> None:
    """A deferred trainee whose reason validate refuses and whose first_names has a lost letter: its deferral note
    said the Student "reads back deferred", and the next note that validate refuses the Student (review164 F6). So
    too a withdrawn one, "reads as a trainee in training". Each now says only what is true: what is written, and that
    the Student is refused all the same, as the note after it says why."""
    out = tmp_path / "held.xml"
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as source:
        assert sync_files([str(extract(tmp_path / "in.csv", 2))], sync_options(source, tmp_path, TOKEN)).exit_code == 0
        with RegisterClient(source.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
            deferred, withdrawn = list(client.iter_trainees(academic_cycle=2025))
            for trainee in (deferred, withdrawn):
                client.update_trainee(trainee["trainee_id"], {"first_names": "Ma?gorzata"})
            client.defer(deferred["trainee_id"], {"defer_date": "2026-02-01", "defer_reason": "Family illness\nback"})
            client.withdraw(withdrawn["trainee_id"], {**WITHDRAWALS[1], "another_reason": "Moved abroad\nsecond line"})
            result = export_trainees(client, to="hesa-xml", output=out, academic_cycle=2025)
    said = [note for note in result.notes if note.message != GRADUATION_NOTE]
    for trainee, state in ((deferred, "deferred"), (withdrawn, "withdrawn")):
        [held, refused] = [note.message for note in said if note.trainee_id == trainee["trainee_id"]]
        assert held.startswith(f"{state} in Register, but its "), held
        assert refused.startswith("validate and sync of this file refuse it: lost_letter (first_names)"), refused
        assert "reads back" not in held and "reads as" not in held, held
        assert "validate and sync of this file refuse the Student for another reason (the next note)" in held, held


@pytest.mark.parametrize(
    ("to", "trainee"),
    [
        ("hesa-xml", {"trainee_id": "t1", "state": "withdrawn", "withdraw_date": "2026-02-01"}),  # lacks its reasons
        ("register-csv", {"trainee_id": "t1", "state": "deferred", "defer_date": "2026-02-01"}),
    ],
    ids=["withdrawal-lacking-values", "register-csv"],
)
def test_a_state_note_of_a_student_refused_anyway_does_not_say_it_reads_back_in_training(to, trainee) -> None:
    """review164 F6's other branches: a withdrawal the export cannot write for want of its values, and a Register CSV
    row's state, said "reads as a trainee in training" of a Student (a row) validate refuses for another reason."""
    note = state_note(trainee, to, refused_anyway=True)
    assert note is not None
    assert "reads as a trainee in training" not in note, note
    assert "validate and sync of this file refuse it for another reason (the next note" in note, note
    assert "reads as a trainee in training" in str(state_note(trainee, to))
