"""Records of another provider (F_UKPRN) never pass as the run's: hesa-formats.md §5 item 11.

Register files every trainee under the provider of the token that sends it, so an extract holding two
providers' records would put one provider's trainees in the other's account. Validation holds them back:
`several_providers` when no UKPRN is given and the batch holds more than one, `other_provider_record` for
records of a UKPRN other than `--ukprn`.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from register_batch.cli import cli
from register_batch.errors import ConfigError
from register_batch.generate import generate
from register_batch.jobs import convert_files, validate_files
from register_batch.mapping import load_mapping
from register_batch.validation.catalogue import CATALOGUE
from register_batch.validation.providers import ProviderCheck, training_partners
from register_batch.validation.runner import Checker

AS_OF = date(2026, 11, 28)
OURS, THEIRS = "10052198", "10011911"


def one_provider_extract(path: Path, ukprn: str, *, count: int, seed: int, fmt: str = "hesa-xml") -> Path:
    """A clean generated extract whose every record is `ukprn`'s."""
    generate(path, count=count, fmt=fmt, seed=seed, academic_cycle=2026, as_of=AS_OF, ukprn=ukprn)
    return path


@pytest.fixture(scope="module")
def extracts(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("providers")
    return {
        "ours": one_provider_extract(folder / "ours.xml", OURS, count=6, seed=11),
        "theirs": one_provider_extract(folder / "theirs.xml", THEIRS, count=3, seed=12),
        "ours_csv": one_provider_extract(folder / "ours.csv", OURS, count=4, seed=13, fmt="hesa-csv"),
    }


def provider_issues(report_dir: Path) -> list[dict]:
    issues = json.loads((report_dir / "report.json").read_text())["issues"]
    return [i for i in issues if i["code"] in ("several_providers", "other_provider_record")]


def test_one_providers_files_together_pass(extracts, tmp_path):
    result = validate_files([str(extracts["ours"]), str(extracts["ours_csv"])], as_of=AS_OF, report_dir=tmp_path)
    assert result.report.summary.errors == 0
    assert provider_issues(tmp_path) == []


def test_two_providers_without_ukprn_hold_back_every_record(extracts, tmp_path):
    result = validate_files([str(extracts["ours"]), str(extracts["theirs"])], as_of=AS_OF, report_dir=tmp_path)
    found = provider_issues(tmp_path)
    assert result.exit_code == 1 and result.report.summary.valid == 0
    assert [(i["input"].rsplit("/", 1)[-1], i["record"], i["value"]) for i in found] == [
        *(("ours.xml", n, OURS) for n in range(1, 7)),
        *(("theirs.xml", n, THEIRS) for n in range(1, 4)),
    ]
    assert {i["code"] for i in found} == {"several_providers"} and {i["field"] for i in found} == {"ukprn"}
    assert f"2 providers ({OURS}: 6 records, {THEIRS}: 3 records)" in found[0]["message"]
    # Said for a library caller too, who has no --ukprn (review182 F3).
    assert "give yours with --ukprn (`ukprn` in register-batch.toml or a library call)" in found[0]["message"]


def test_with_ukprn_only_the_other_providers_records_are_errors(extracts, tmp_path):
    result = validate_files(
        [str(extracts["theirs"]), str(extracts["ours"])], as_of=AS_OF, report_dir=tmp_path, ukprn=OURS
    )
    found = provider_issues(tmp_path)
    assert [(i["code"], i["record"], i["value"]) for i in found] == [
        ("other_provider_record", n, THEIRS) for n in range(1, 4)
    ]
    assert found[0]["line"] is not None and found[0]["hesa_id"]
    assert f"is not {OURS}, the provider this run sends for" in found[0]["message"]
    assert result.report.summary.valid == 6 and result.report.summary.invalid == 3


def test_a_single_other_providers_extract_is_refused_record_by_record_with_ukprn(extracts, tmp_path):
    validate_files([str(extracts["theirs"])], as_of=AS_OF, report_dir=tmp_path / "alone")
    assert provider_issues(tmp_path / "alone") == []  # one provider, none named: nothing to compare with
    validate_files([str(extracts["theirs"])], as_of=AS_OF, report_dir=tmp_path / "named", ukprn=OURS)
    assert len(provider_issues(tmp_path / "named")) == 3


def test_a_declared_training_partners_record_goes_with_the_providers_token(tmp_path):
    """From 2024/25 Register moved some training partners' HESA records under their accredited provider: a record
    whose F_UKPRN is also its training_partner_ukprn says so, and is not another provider's."""
    path = one_provider_extract(tmp_path / "partner.csv", THEIRS, count=2, seed=14, fmt="hesa-csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[0] += ",PARTNER_UKPRN"
    lines[1] += f",{THEIRS}"  # the first record names the partner, the second does not
    lines[2] += ","
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    overlay = tmp_path / "partner.yaml"
    overlay.write_text("fields:\n  hesa:\n    trainee:\n      training_partner_ukprn: PARTNER_UKPRN\n")
    validate_files([str(path)], as_of=AS_OF, report_dir=tmp_path / "r", ukprn=OURS, mapping_files=(overlay,))
    assert [i["record"] for i in provider_issues(tmp_path / "r")] == [2]


def test_two_processes_report_the_same_as_one(extracts, tmp_path):
    inputs = [str(extracts["ours"]), str(extracts["theirs"]), str(extracts["ours_csv"])]
    for jobs in (1, 2):
        validate_files(inputs, as_of=AS_OF, report_dir=tmp_path / str(jobs), jobs=jobs)
    assert len(provider_issues(tmp_path / "1")) == 13
    assert (tmp_path / "1" / "issues.csv").read_bytes() == (tmp_path / "2" / "issues.csv").read_bytes()


def test_convert_skip_invalid_leaves_the_other_providers_records_out(extracts, tmp_path):
    result = convert_files(
        [str(extracts["ours"]), str(extracts["theirs"])],
        to="jsonl",
        output=tmp_path / "out.jsonl",
        as_of=AS_OF,
        skip_invalid=True,
        ukprn=OURS,
    )
    assert (result.written, result.skipped) == (6, 3)
    assert "ukprn" not in (tmp_path / "out.jsonl").read_text()  # never sent: not an API field


def test_registers_csv_has_no_ukprn_unless_a_mapping_names_a_column(tmp_path):
    path = tmp_path / "register.csv"
    generate(path, count=2, fmt="register-csv", seed=15, academic_cycle=2026, as_of=AS_OF)  # no UKPRN column
    with Checker() as checker:
        assert [r.ukprn for r in checker.records([str(path)])] == [None, None]
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text(
        "\n".join([lines[0] + ",ukprn", lines[1] + f",{THEIRS}", lines[2] + f",{OURS}"]) + "\n", encoding="utf-8"
    )
    overlay = tmp_path / "ukprn.yaml"
    overlay.write_text("fields:\n  register-csv:\n    provider:\n      ukprn: ukprn\n")
    checker = Checker(mapping=load_mapping([overlay]), as_of=AS_OF, ukprn=OURS)
    assert [r.ukprn for r in checker.records([str(path)])] == [THEIRS, OURS]
    assert [(index, issue.code) for index, issue in checker.batch_issues()] == [(0, "other_provider_record")]


def test_a_mapping_may_only_name_ukprn_under_provider(tmp_path):
    overlay = tmp_path / "bad.yaml"
    overlay.write_text("fields:\n  hesa:\n    provider:\n      urn: F_UKPRN\n")
    with pytest.raises(ConfigError, match=r"fields.hesa.provider: 'urn'"):
        load_mapping([overlay])


@pytest.mark.parametrize("bad", ["1234", "1005219X", "20052198", "100521980"])
def test_a_ukprn_that_is_not_one_is_refused_up_front(bad, tmp_path):
    with pytest.raises(ConfigError, match=r"is not a UKPRN \(8 digits starting with 1"):
        Checker(ukprn=bad)
    result = CliRunner().invoke(cli, ["validate", "x.xml", "--ukprn", bad, "--report-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"register-batch: error: ukprn '{bad}' is not a UKPRN (8 digits starting with 1, e.g. 10052198) "
        "(set by --ukprn)"
    ]


def test_the_ukprn_setting_comes_from_the_config_file_or_the_environment(extracts, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("register-batch.toml").write_text(f"ukprn = {OURS}\n")  # a TOML number is taken as the digits
    inputs = [str(extracts["ours"]), str(extracts["theirs"])]
    result = CliRunner().invoke(cli, ["validate", *inputs, "--as-of", "2026-11-28", "--report-dir", "a"])
    assert result.exit_code == 1, result.output
    assert {i["code"] for i in provider_issues(Path("a"))} == {"other_provider_record"}
    monkeypatch.setenv("REGISTER_BATCH_UKPRN", THEIRS)  # the environment before the file
    CliRunner().invoke(cli, ["validate", *inputs, "--as-of", "2026-11-28", "--report-dir", "b"])
    assert {i["value"] for i in provider_issues(Path("b"))} == {OURS}


def test_generate_writes_the_ukprn_given_and_nothing_else_changes(tmp_path):
    drawn = one_provider_extract(tmp_path / "drawn.csv", OURS, count=3, seed=16, fmt="hesa-csv")
    generate(tmp_path / "seeded.csv", count=3, fmt="hesa-csv", seed=16, academic_cycle=2026, as_of=AS_OF)
    seeded = (tmp_path / "seeded.csv").read_text()
    ukprn = seeded.splitlines()[1].split(",")[1]
    assert ukprn != OURS and drawn.read_text() == seeded.replace(ukprn, OURS)


def test_generate_given_an_empty_ukprn_writes_the_seeds_own(tmp_path):
    """An empty UKPRN (`--ukprn "$UKPRN"` with the variable unset) is none given, as everywhere checked_ukprn reads
    one: the file is the one the seed alone gives, not one whose every F_UKPRN is NULL."""
    generate(tmp_path / "none.xml", count=2, seed=16, academic_cycle=2026, as_of=AS_OF)
    generate(tmp_path / "empty.xml", count=2, seed=16, academic_cycle=2026, as_of=AS_OF, ukprn="")
    written = (tmp_path / "empty.xml").read_text()
    assert "<F_UKPRN>NULL</F_UKPRN>" not in written
    assert written == (tmp_path / "none.xml").read_text()


def test_a_spreadsheet_mangled_ukprn_is_an_error_of_its_own_not_another_provider(tmp_path):
    """Excel turns 10052198 into 1.0052198E7 or 10052198.0, or pads it: such a record's provider cannot be told, so
    it is held back as invalid_ukprn, and is not counted as a second provider (which would hold back every record)."""
    path = one_provider_extract(tmp_path / "excel.csv", OURS, count=5, seed=17, fmt="hesa-csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    for n, mangled in enumerate(("1.0052198E7", "10052198.0", "010052198"), start=1):
        assert f",{OURS}," in lines[n]
        lines[n] = lines[n].replace(f",{OURS},", f",{mangled},", 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for ukprn in (None, OURS):
        folder = tmp_path / str(ukprn)
        result = validate_files([str(path)], as_of=AS_OF, report_dir=folder, ukprn=ukprn)
        issues = json.loads((folder / "report.json").read_text())["issues"]
        found = [(i["record"], i["field"], i["value"], i["code"]) for i in issues if i["field"] == "ukprn"]
        assert found == [
            (1, "ukprn", "1.0052198E7", "invalid_ukprn"),
            (2, "ukprn", "10052198.0", "invalid_ukprn"),
            (3, "ukprn", "010052198", "invalid_ukprn"),
        ]
        assert (result.report.summary.valid, result.report.summary.invalid) == (2, 3)
    message = next(i["message"] for i in issues if i["code"] == "invalid_ukprn")
    assert message == (
        "F_UKPRN '1.0052198E7' is not a UKPRN (8 digits starting with 1), so whose record this is cannot be told: "
        "it is held back"
    )


@pytest.mark.parametrize("bad", ["1٠٠٥٢١٩٨", "１００５２１９８", 10052198.0, True, [OURS]])
def test_a_ukprn_of_other_digits_or_types_is_refused(bad):
    """`\\d` takes any script's digits; a float or a list is no UKPRN either, whatever str() makes of it."""
    with pytest.raises(ConfigError, match=r"is not a UKPRN \(8 digits starting with 1"):
        Checker(ukprn=bad)


def test_a_ukprn_given_as_a_number_or_with_spaces_is_the_digits():
    for given in (int(OURS), f" {OURS}\n"):
        with Checker(ukprn=given) as checker:
            assert checker.providers.ukprn == OURS


def test_a_ukprn_refused_up_front_leaves_no_temporary_file_open(tmp_path, monkeypatch):
    """The Checker's duplicate finder spools to a temporary file: made before the UKPRN was checked, a refused one
    left it open with no Checker to close it (a library caller's service held a file per bad request until GC)."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    opened = []
    real = tempfile.TemporaryFile
    monkeypatch.setattr(tempfile, "TemporaryFile", lambda *a, **k: opened.append(real(*a, **k)) or opened[-1])
    with pytest.raises(ConfigError, match="is not a UKPRN"):
        Checker(ukprn="1234")
    assert [f for f in opened if not f.closed] == []


# Training partners whose HESA records Register files under their accredited provider (hesa-formats.md §5 item 11):
# the University of Bolton's records under Bath Spa University's, for trainees starting in 2024 to 2025 or later.
BOLTON, BATH_SPA = "10006841", "10000571"


def bodies(path: Path, ukprn: str | None, tmp_path: Path) -> list[dict]:
    """The request bodies `convert` writes for an extract's valid records."""
    out = tmp_path / f"{path.stem}-{ukprn}.jsonl"
    convert_files([str(path)], to="jsonl", output=out, as_of=AS_OF, skip_invalid=True, ukprn=ukprn)
    return [json.loads(line)["data"] for line in out.read_text().splitlines()]


def test_the_bundled_pairs_are_registers_eight():
    partners = training_partners()
    assert partners.from_start_year == 2024 and len(partners.accredited) == 8
    assert partners.accredited[BOLTON] == BATH_SPA
    assert not set(partners.accredited) & set(partners.accredited.values())  # no partner is itself moved


@pytest.mark.parametrize("partner, accredited", [("10006841", "1000057"), ("1000684", "10000571")])
def test_a_pairs_file_with_a_pair_that_is_not_two_ukprns_is_refused(partner, accredited, tmp_path, monkeypatch):
    """A mistyped UKPRN in the pairs would move a partner's records under no provider, or leave them unmoved."""
    (tmp_path / "providers").mkdir()
    pairs = tmp_path / "providers" / "training-partners.yaml"
    pairs.write_text(f'from_start_year: 2024\npartners:\n  "{partner}": {{accredited_provider: "{accredited}"}}\n')
    monkeypatch.setattr("register_batch.validation.providers.bundled_mapping_dir", lambda: tmp_path)
    training_partners.cache_clear()
    try:
        with pytest.raises(ValueError) as refused:
            training_partners()
    finally:
        training_partners.cache_clear()
    assert str(refused.value) == (f"{pairs}: partners.{partner}: not a pair of UKPRNs ('{partner}', '{accredited}')")


def test_a_listed_partners_record_goes_with_its_accredited_providers_token(tmp_path):
    path = one_provider_extract(tmp_path / "bolton.xml", BOLTON, count=6, seed=21)
    result = validate_files([str(path)], as_of=AS_OF, report_dir=tmp_path / "r", ukprn=BATH_SPA)
    assert provider_issues(tmp_path / "r") == [] and result.report.summary.errors == 0
    sent = bodies(path, BATH_SPA, tmp_path)
    assert len(sent) == 6
    assert {body["training_partner_ukprn"] for body in sent} == {BOLTON}  # as Register's HESA import named it
    assert not any("training_partner_urn" in body for body in sent)  # the URN would win over the UKPRN (§3.1)
    warned = [
        i
        for i in json.loads((tmp_path / "r" / "report.json").read_text())["issues"]
        if i["code"] == "training_partner_from_ukprn"
    ]
    assert len(warned) == 6  # a translation, said as every one is
    assert all(i["severity"] == "warning" and i["field"] == "training_partner_ukprn" for i in warned)
    assert {i["value"] for i in warned} == {BOLTON}
    with_urn = [i for i in warned if "training_partner_urn" in i["message"]]
    assert with_urn and len(with_urn) < 6  # the generator gives most records a lead school, some "not applicable"
    urn = with_urn[0]["message"].split("training_partner_urn '")[1].split("'")[0]
    assert with_urn[0]["message"] == (
        f"F_UKPRN {BOLTON} is a training partner Register files under {BATH_SPA} for trainees starting in 2024 "
        "to 2025 or later: the record names it as training_partner_ukprn, as Register's HESA import did; "
        f"training_partner_urn '{urn}' is left out, as Register would use it instead"
    )


def test_under_the_partners_own_token_such_a_record_is_another_providers(tmp_path):
    path = one_provider_extract(tmp_path / "bolton.xml", BOLTON, count=2, seed=22)
    for jobs in (1, 2):
        validate_files([str(path)], as_of=AS_OF, report_dir=tmp_path / str(jobs), ukprn=BOLTON, jobs=jobs)
    found = provider_issues(tmp_path / "1")
    assert [(i["code"], i["value"]) for i in found] == [("other_provider_record", BOLTON)] * 2
    assert found[0]["message"] == (
        f"ukprn '{BOLTON}' (F_UKPRN) is a training partner Register files under {BATH_SPA} for trainees starting "
        f"in 2024 to 2025 or later, not {BOLTON}, the provider this run sends for (--ukprn, or `ukprn` in "
        f"register-batch.toml or a library call): Register would file this trainee under {BOLTON}, in another "
        "provider's place"
    )
    assert (tmp_path / "1" / "issues.csv").read_bytes() == (tmp_path / "2" / "issues.csv").read_bytes()


def test_a_partners_record_from_before_2024_stays_its_own(tmp_path):
    path = tmp_path / "bolton-2023.xml"
    generate(path, count=3, fmt="hesa-xml", seed=23, academic_cycle=2023, as_of=AS_OF, ukprn=BOLTON)
    validate_files([str(path)], as_of=AS_OF, report_dir=tmp_path / "own", ukprn=BOLTON)
    assert provider_issues(tmp_path / "own") == []
    assert not any("training_partner_ukprn" in body for body in bodies(path, BOLTON, tmp_path))
    validate_files([str(path)], as_of=AS_OF, report_dir=tmp_path / "bath", ukprn=BATH_SPA)
    assert [i["code"] for i in provider_issues(tmp_path / "bath")] == ["other_provider_record"] * 3


def test_without_a_ukprn_a_partners_records_count_as_their_accredited_providers(tmp_path):
    bath = one_provider_extract(tmp_path / "bath.xml", BATH_SPA, count=2, seed=24)
    bolton = one_provider_extract(tmp_path / "bolton.xml", BOLTON, count=2, seed=25)
    validate_files([str(bath), str(bolton)], as_of=AS_OF, report_dir=tmp_path / "one")
    assert provider_issues(tmp_path / "one") == []  # one account: Bath Spa's
    earlier = tmp_path / "bolton-2023.xml"
    generate(earlier, count=1, fmt="hesa-xml", seed=26, academic_cycle=2023, as_of=AS_OF, ukprn=BOLTON)
    validate_files([str(bolton), str(earlier)], as_of=AS_OF, report_dir=tmp_path / "two")
    found = provider_issues(tmp_path / "two")
    assert [(i["code"], i["value"]) for i in found] == [("several_providers", BOLTON)] * 3  # two accounts
    assert found[0]["message"].startswith(
        f"ukprn '{BOLTON}' (F_UKPRN) is a training partner Register files under {BATH_SPA} for trainees starting "
        f"in 2024 to 2025 or later: the inputs hold records of 2 providers ({BATH_SPA}: 2 records, {BOLTON}: 1 record)"
    )


def test_a_partners_record_is_moved_by_its_trainee_start_date_else_its_itt_start_date(tmp_path):
    """Register's HESA import took `trainee_start_date.presence || itt_start_date` (hesa-formats.md §5 item 11):
    a trainee starting on 1 August 2024, the first day of the 2024 cycle, is Bath Spa's even if the ITT course
    started in 2023; without a trainee start date the ITT start date says; without either, the record stays its own
    F_UKPRN's, here another provider's than the run's."""
    path = one_provider_extract(tmp_path / "bolton.csv", BOLTON, count=4, seed=31, fmt="hesa-csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    itt, trainee = header.index("F_ITTSTARTDATE"), header.index("F_TRAINEESTARTDATE")
    starts = [("2023-09-04", "2024-08-01"), ("2024-08-01", ""), ("2024-07-31", ""), ("", "")]
    for n, (itt_start, trainee_start) in enumerate(starts, start=1):
        cells = lines[n].split(",")
        cells[itt], cells[trainee] = itt_start, trainee_start
        lines[n] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    validate_files([str(path)], as_of=AS_OF, report_dir=tmp_path / "r", ukprn=BATH_SPA)
    found = provider_issues(tmp_path / "r")
    assert [(i["code"], i["record"], i["value"]) for i in found] == [
        ("other_provider_record", 3, BOLTON),
        ("other_provider_record", 4, BOLTON),
    ]
    assert found[0]["message"].startswith(f"ukprn '{BOLTON}' (F_UKPRN) is not {BATH_SPA}, the provider this run")


def bolton_body_with(tmp_path: Path, field: str, value: str, *, seed: int) -> dict:
    """The body `convert` sends for one Bolton record (2026 start) whose extract has a column mapped to `field`."""
    path = one_provider_extract(tmp_path / "bolton.csv", BOLTON, count=1, seed=seed, fmt="hesa-csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text(f"{lines[0]},OUR_COLUMN\n{lines[1]},{value}\n", encoding="utf-8")
    overlay = tmp_path / "partner.yaml"
    overlay.write_text(f"fields:\n  hesa:\n    trainee:\n      {field}: OUR_COLUMN\n")
    out = tmp_path / "out.jsonl"
    convert_files([str(path)], to="jsonl", output=out, as_of=AS_OF, ukprn=BATH_SPA, mapping_files=(overlay,))
    return json.loads(out.read_text())["data"]


def test_a_partner_the_record_names_itself_is_kept(tmp_path):
    body = bolton_body_with(tmp_path, "training_partner_ukprn", "10099999", seed=27)
    assert body["training_partner_ukprn"] == "10099999"


def test_the_warnings_fix_advises_only_what_names_the_records_partner(tmp_path):
    """A column mapped to training_partner_urn is left out like F_SDLEAD (Register's HESA import ignored the URN of
    such a record), so the fix must not advise mapping one: only a training_partner_ukprn column wins."""
    body = bolton_body_with(tmp_path, "training_partner_urn", "136000", seed=28)
    assert "training_partner_urn" not in body and body["training_partner_ukprn"] == BOLTON
    fix = CATALOGUE["training_partner_from_ukprn"].fix
    assert "map a column to training_partner_ukprn in a mapping file (--mapping, or `mapping_files`" in fix
    assert "or training_partner_urn" not in fix


def test_the_messages_say_the_pairing_holds_for_later_cycles_too(tmp_path):
    """A trainee starting in 2026 is moved as one starting in 2024 is: "starting from 2024 to 2025" read as a range
    that ends before 2026, on the very records it was said of."""
    path = tmp_path / "bolton-2026.xml"
    generate(path, count=1, fmt="hesa-xml", seed=29, academic_cycle=2026, as_of=AS_OF, ukprn=BOLTON)
    validate_files([str(path)], as_of=AS_OF, report_dir=tmp_path / "r", ukprn=BOLTON)
    issues = json.loads((tmp_path / "r" / "report.json").read_text())["issues"]
    said = {
        i["code"]: i["message"] for i in issues if i["code"] in ("training_partner_from_ukprn", "other_provider_record")
    }
    assert len(said) == 2
    for message in said.values():
        assert f"under {BATH_SPA} for trainees starting in 2024 to 2025 or later" in message
        assert "from 2024 to 2025" not in message
    assert "from 2024 to 2025" not in CATALOGUE["other_provider_record"].fix


# A vendor's combined extract of seven providers, as (UKPRN, records): more than the five a message names.
SEVEN = [
    ("10000001", 1),
    ("10000002", 3),
    ("10000003", 1),
    ("10000004", 2),
    ("10000005", 1),
    ("10000006", 1),
    ("10000007", 2),
]


def test_seven_providers_messages_name_the_five_with_most_records_and_count_the_rest(tmp_path):
    paths = [
        str(one_provider_extract(tmp_path / f"{ukprn}.csv", ukprn, count=count, seed=30 + n, fmt="hesa-csv"))
        for n, (ukprn, count) in enumerate(SEVEN)
    ]
    validate_files(paths, as_of=AS_OF, report_dir=tmp_path / "r")
    found = provider_issues(tmp_path / "r")
    assert [i["value"] for i in found] == [ukprn for ukprn, count in SEVEN for _ in range(count)]
    assert {i["code"] for i in found} == {"several_providers"}
    assert (
        "the inputs hold records of 7 providers (10000002: 3 records, 10000004: 2 records, 10000007: 2 records, "
        "10000001: 1 record, 10000003: 1 record and 2 more)"
    ) in found[0]["message"]


def checked(ukprn: str | None, providers: list[tuple[str, int]]) -> ProviderCheck:
    """A ProviderCheck that has seen `providers`' records, each provider's together."""
    check = ProviderCheck(ukprn)
    for provider, count in providers:
        for _ in range(count):
            check.add(provider)
    return check


def test_a_ukprn_no_record_of_seven_providers_has_names_five_of_them_and_more():
    check = checked(OURS, SEVEN)
    assert check.sole_provider() is None
    assert str(check.none_of_the_run()) == (
        f"no record of the inputs is provider {OURS}'s, the UKPRN this run sends for: by F_UKPRN they are 10000001, "
        "10000002, 10000003, 10000004, 10000005 and more's. The ukprn setting or the inputs are wrong: nothing was "
        "sent"
    )


def test_five_providers_are_all_named_with_no_more_to_count():
    five = SEVEN[:5]
    assert "by F_UKPRN they are 10000001, 10000002, 10000003, 10000004, 10000005's. " in (
        str(checked(OURS, five).none_of_the_run())
    )
    issues = list(checked(None, five).issues(lambda index: ("mixed.csv", index + 1, None, None, None, None)))
    assert [(index, issue.record, issue.value) for index, issue in issues][:2] == [
        (0, 1, "10000001"),
        (1, 2, "10000002"),
    ]
    assert (
        "the inputs hold records of 5 providers (10000002: 3 records, 10000004: 2 records, 10000001: 1 record, "
        "10000003: 1 record, 10000005: 1 record), and Register"
    ) in issues[0][1].message


def test_without_a_ukprn_a_record_without_f_ukprn_is_no_provider_of_the_count():
    check = checked(None, [(OURS, 2), (THEIRS, 1)])
    check.add(None)  # its provider cannot be told: it is left to its own invalid_ukprn, or sent with the token's
    check.add(OURS)
    issues = list(check.issues(lambda index: ("mixed.csv", index + 1, None, None, None, None)))
    assert [(index, issue.value) for index, issue in issues] == [(0, OURS), (1, OURS), (2, THEIRS), (4, OURS)]
    assert f"records of 2 providers ({OURS}: 3 records, {THEIRS}: 1 record)" in issues[0][1].message
