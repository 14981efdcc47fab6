"""Whose records these are: one provider's trainees must never go to Register under another provider's token.

Register files every trainee a token sends under the token's own provider (register-api.md §1.2: the provider
is the authenticated one); the HESA record's F_UKPRN is not an API field (hesa-formats.md §1.3, §5 item 11).
An extract that holds two providers' records (a vendor's combined file, a partner's file merged in) would put
the second provider's trainees in the first one's account, which nobody can undo by hand. So the UKPRN of
every record is remembered (four bytes each) and, at the end of the batch, records that cannot be shown to
belong to the run's provider are errors, which keeps them out of `sync` and `convert --skip-invalid`.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from register_batch.errors import ConfigError
from register_batch.mapping.loader import bundled_mapping_dir
from register_batch.model import UKPRN_FORM, Issue, Severity, TraineeRecord, make_issue
from register_batch.textyaml import load_text_yaml
from register_batch.tokens import quoted_setting
from register_batch.validation.catalogue import describe, in_a_mapping_file
from register_batch.validation.duplicates import Identity
from register_batch.validation.facts import cycle_label, cycle_of, parse_date
from register_batch.wording import counted

# The setting an issue names, said for each caller: the command line's option, and the settings file's key and a
# library call's argument, which a vendor's user sees the issue with and has no --ukprn (review182 F3).
_UKPRN_SAID = "--ukprn (`ukprn` in register-batch.toml or a library call)"
_UKPRN_SAID_ALSO = "--ukprn, or `ukprn` in register-batch.toml or a library call"
describe(
    "several_providers",
    scope="batch",
    fields=("ukprn",),
    message="ukprn '<value>' (F_UKPRN): the inputs hold records of <n> providers (<UKPRN: records, ...>), and "
    f"Register files every trainee a token sends under that token's provider: give yours with {_UKPRN_SAID}, and the "
    "other providers' records are held back",
    source="hesa-formats.md §5 item 11 (route records to the right provider's credentials); register-api.md §1.2",
    fix=f"Give the UKPRN of the provider whose token you use ({_UKPRN_SAID_ALSO}): its records go, the others are "
    "reported as other_provider_record. Send each other provider's records with "
    "that provider's own token.",
)
describe(
    "other_provider_record",
    scope="batch",
    fields=("ukprn",),
    message=f"ukprn '<value>' (F_UKPRN) is not <ukprn>, the provider this run sends for ({_UKPRN_SAID_ALSO}): "
    "Register would file this trainee under <ukprn>, in another provider's place",
    source="hesa-formats.md §5 item 11 (route records to the right provider's credentials); register-api.md §1.2",
    fix="Send the record with its own provider's token. The eight training partners whose HESA records Register "
    "moved under their accredited provider for trainees starting in 2024 to 2025 or later go with that provider's "
    "token by themselves; if the "
    "UKPRN is another training partner of yours, give the record training_partner_ukprn with that UKPRN (a column "
    "mapped in a mapping file: --mapping, or `mapping_files` in a library call) and it goes with yours.",
)

describe(
    "invalid_ukprn",
    scope="mapping",
    fields=("ukprn",),
    message="F_UKPRN '<value>' is not a UKPRN (8 digits starting with 1), so whose record this is cannot be told: "
    "it is held back",
    source="hesa-formats.md §1.3 (F_UKPRN, e.g. 10007713), §5 item 11; glossary.md (UKPRN)",
    fix="Correct F_UKPRN in the extract. A spreadsheet turns 10052198 into 1.0052198E7 or 10052198.0: keep the "
    "column as text.",
)

describe(
    "training_partner_from_ukprn",
    scope="mapping",
    fields=("training_partner_ukprn",),
    message="F_UKPRN <partner> is a training partner Register files under <accredited provider> for trainees "
    "starting in 2024 to 2025 or later: the record names it as training_partner_ukprn, as Register's HESA import did[; "
    "training_partner_urn '<urn>' is left out, as Register would use it instead]",
    source="hesa-formats.md §5 item 11 (8 training partner pairs, from the 2024 cycle); register-api.md §3.1 "
    "(training_partner_ukprn is used only without training_partner_urn)",
    fix="Nothing to do if the partner trains the trainee. If the training partner is another one, map a column "
    f"to training_partner_ukprn {in_a_mapping_file()}: the UKPRN the record names wins. A training_partner_urn "
    "(F_SDLEAD, or a column mapped to it) is never sent with such a record, as Register's HESA import ignored it.",
    severity=Severity.WARNING,
)

SHOWN = 5  # providers named in a several_providers message
PARTNERS_FILE = ("providers", "training-partners.yaml")


@dataclass(frozen=True, slots=True)
class TrainingPartners:
    """Training partners whose HESA records Register files under an accredited provider (hesa-formats.md §5 item 11).

    From the 2024 to 2025 cycle, Register's HESA import filed the records of eight former accredited providers under
    the accredited provider each now partners, naming the partner as the trainee's training partner. Their SRS
    extracts still carry the partner's F_UKPRN: without the pairs, such a record would be held back as another
    provider's under the accredited provider's token, and filed in the wrong account under the partner's own.
    """

    from_start_year: int
    accredited: dict[str, str]  # training partner UKPRN -> accredited provider UKPRN

    def filed_under(self, accredited: str) -> str:
        """What such a partner is, for messages: "a training partner Register files under 10000571 for trainees
        starting in 2024 to 2025 or later" ("from 2024 to 2025" read as a range that a 2026 trainee is outside of)."""
        return (
            f"a training partner Register files under {accredited} for trainees starting in "
            f"{cycle_label(self.from_start_year)} or later"
        )

    def accredited_provider(self, ukprn: str | None, data: dict[str, Any]) -> str | None:
        """The provider a record of `ukprn` is filed under instead, or None when it stays the record's own.

        The start year is the trainee start date's cycle, else the ITT start date's, as Register's import took it
        (`trainee_start_date.presence || itt_start_date`); a record with neither date valid is not moved.
        """
        accredited = self.accredited.get(ukprn) if ukprn is not None else None
        if accredited is None:
            return None
        start = parse_date(data.get("trainee_start_date")) or parse_date(data.get("itt_start_date"))
        if start is None or cycle_of(start) < self.from_start_year:
            return None
        return accredited


@cache
def training_partners() -> TrainingPartners:
    """The bundled pairs, mappings/providers/training-partners.yaml (read once, checked: a wrong one misfiles)."""
    path = bundled_mapping_dir().joinpath(*PARTNERS_FILE)
    doc = load_text_yaml(path, unique_keys=True)
    accredited: dict[str, str] = {}
    for partner, entry in doc["partners"].items():
        provider = entry["accredited_provider"]
        if not (UKPRN_FORM.fullmatch(partner) and UKPRN_FORM.fullmatch(provider)):
            raise ValueError(f"{path}: partners.{partner}: not a pair of UKPRNs ({partner!r}, {provider!r})")
        accredited[partner] = provider
    return TrainingPartners(from_start_year=int(doc["from_start_year"]), accredited=accredited)


def name_training_partner(record: TraineeRecord) -> None:
    """Send a listed partner's record as Register's HESA import filed it: the partner as its training partner.

    Said in a warning, as every translation is. A URN (F_SDLEAD) is dropped because Register uses
    `training_partner_ukprn` only when no `training_partner_urn` key is sent (register-api.md §3.1). A record that
    names a training partner by UKPRN already keeps it.
    """
    partner = record.ukprn
    data = record.data
    partners = training_partners()
    accredited = partners.accredited_provider(partner, data)
    if accredited is None or "training_partner_ukprn" in data:
        return
    urn = data.pop("training_partner_urn", None)
    data["training_partner_ukprn"] = partner
    record.issue(
        "training_partner_from_ukprn",
        f"F_UKPRN {partner} is {partners.filed_under(accredited)}: the record names it as training_partner_ukprn, "
        "as Register's HESA import did"
        + (f"; training_partner_urn '{urn}' is left out, as Register would use it instead" if urn else ""),
        field="training_partner_ukprn",
        value=partner,
        severity=Severity.WARNING,
    )


def moved_why(moved: dict[str, tuple[str, int]]) -> str:
    """Why records of listed training partners (ProviderCheck.moved) are another provider's than their F_UKPRN says,
    for a message that names that provider: without it, "by F_UKPRN they are 10007851's" of records whose F_UKPRN
    is 10007146 reads as a contradiction. Empty when there are none."""
    partners = training_partners()
    return "; ".join(
        f"F_UKPRN {partner} is {partners.filed_under(provider)}"
        for partner, (provider, _records) in sorted(moved.items())[:SHOWN]
    )


def checked_ukprn(value: Any) -> str | None:
    """A provider's UKPRN as given (`--ukprn`, `ukprn` in register-batch.toml, a number in TOML), or ConfigError."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    if not isinstance(value, str | int) or isinstance(value, bool) or not UKPRN_FORM.fullmatch(text):
        raise ConfigError(f"ukprn {quoted_setting(value)} is not a UKPRN (8 digits starting with 1, e.g. 10052198)")
    return text


class ProviderCheck:
    """Remembers each record's provider while streaming; `issues()` reports the records of the wrong one.

    `ukprn` is the provider the run sends for (None: not given, and then the batch must hold one provider).
    """

    def __init__(self, ukprn: str | None = None) -> None:
        self.ukprn = checked_ukprn(ukprn)
        self._numbers: dict[str, int] = {}  # key() -> its number in `_of`
        self._of = array("i")  # per record in batch order: its key's number, -1 for none or the run's own
        self.own = 0  # records of the run's own UKPRN
        self.unchecked = 0  # records without a UKPRN, or of a training partner declared as such

    @staticmethod
    def key(record: TraineeRecord) -> str | None:
        """The UKPRN of the provider a record is filed under, unless it needs no check; None then.

        A listed training partner's record from the 2024 cycle is its accredited provider's: the key is then that
        provider's UKPRN, a space and the partner's (F_UKPRN), so that messages can say why. A record naming its
        own F_UKPRN as `training_partner_ukprn` is declared a partner's that goes with the token's provider. A record
        whose cells do not line up with its input's columns has no UKPRN (the mapper gives it none: its F_UKPRN cell
        holds another column's value), so it is not counted as any provider's.
        """
        ukprn = record.ukprn
        if ukprn is None:
            return None
        accredited = training_partners().accredited_provider(ukprn, record.data)
        if accredited is not None:
            return f"{accredited} {ukprn}"
        if ukprn == record.data.get("training_partner_ukprn"):
            return None
        return ukprn

    def add(self, key: str | None) -> None:
        """Remember the next record's `key()` (records arrive in batch order)."""
        if key is None:
            self._of.append(-1)
            self.unchecked += 1
        elif key[:8] == self.ukprn:
            self._of.append(-1)
            self.own += 1
        else:
            self._of.append(self._numbers.setdefault(key, len(self._numbers)))

    def _providers(self) -> list[str]:
        """The other providers the records are filed under, each once, in UKPRN order."""
        return sorted({key[:8] for key in self._numbers})

    def _records_per_key(self) -> Counter[int]:
        """Records of another provider than the run's, by their key's number."""
        return Counter(number for number in self._of if number >= 0)

    def moved(self) -> dict[str, tuple[str, int]]:
        """The listed training partners whose records the run files under their accredited provider: partner
        UKPRN -> (accredited provider UKPRN, records). A partner has one key: its pair's."""
        per_key = self._records_per_key()
        return {
            partner: (provider, per_key[number])
            for key, number in self._numbers.items()
            for provider, _, partner in [key.partition(" ")]
            if partner
        }

    def sole_provider(self) -> str | None:
        """Without a UKPRN given, the one provider the records are filed under, when they name exactly one (a listed
        training partner's records count as their accredited provider's); else None. What the token must be, as
        --ukprn would say (SyncRun.check_provider)."""
        providers = self._providers()
        return providers[0] if self.ukprn is None and len(providers) == 1 else None

    def none_of_the_run(self) -> ConfigError | None:
        """With a UKPRN given, when every record is another provider's: the error to stop with (the setting, or the
        inputs, is wrong: a setup mistake, not a data one); else None. Records it cannot tell (no UKPRN) leave it to
        them."""
        if self.ukprn is None or self.own or self.unchecked or not self._numbers:
            return None
        providers = self._providers()
        found = ", ".join(providers[:SHOWN]) + (" and more" if len(providers) > SHOWN else "")
        why = moved_why(self.moved())
        return ConfigError.naming(
            "no record of the inputs is provider {ukprn_given}'s, the UKPRN this run sends for: by F_UKPRN they are "
            "{found}'s{why}. The ukprn setting{where_given} or the inputs are wrong: nothing was sent",
            said={"where_given": ""},  # a library caller's `ukprn`; the command line's three places
            ukprn_given=self.ukprn,
            found=found,
            why=f" ({why})" if why else "",
        )

    def issues(self, identity: Callable[[int], Identity]) -> Iterator[tuple[int, Issue]]:
        """(batch index, issue) for each record of a provider other than the run's, in batch order."""
        providers = self._providers()
        if not providers or (self.ukprn is None and len(providers) == 1):
            return
        keys = {number: key for key, number in self._numbers.items()}
        if self.ukprn is None:
            counts: Counter[str] = Counter()
            for number, records in self._records_per_key().items():
                counts[keys[number][:8]] += records
            ranked = sorted(providers, key=lambda ukprn: (-counts[ukprn], ukprn))
            listed = ", ".join(f"{ukprn}: {counted(counts[ukprn], 'record')}" for ukprn in ranked[:SHOWN])
            if len(ranked) > SHOWN:
                listed += f" and {len(ranked) - SHOWN:,} more"
        partners = training_partners()
        for index, number in enumerate(self._of):
            if number < 0:
                continue
            provider, _, partner = keys[number].partition(" ")
            ukprn = partner or provider  # as the record gives it
            whose = f"ukprn '{ukprn}' (F_UKPRN)" + (f" is {partners.filed_under(provider)}" if partner else "")
            if self.ukprn is None:
                code = "several_providers"
                message = (
                    f"{whose}: the inputs hold records of {len(providers):,} providers ({listed}), and Register "
                    "files every trainee a token sends under that token's provider: give yours with "
                    f"{_UKPRN_SAID}, and the other providers' records are held back"
                )
            else:
                code = "other_provider_record"
                message = (
                    f"{whose}{', not' if partner else ' is not'} {self.ukprn}, the provider this run sends for "
                    f"({_UKPRN_SAID_ALSO}): Register would file this trainee under {self.ukprn}, in another provider's "
                    "place"
                )
            name, record, line, row, provider_id, hesa_id = identity(index)
            yield (
                index,
                make_issue(
                    input=name,
                    record=record,
                    line=line,
                    row=row,
                    provider_trainee_id=provider_id,
                    hesa_id=hesa_id,
                    field="ukprn",
                    value=ukprn,
                    code=code,
                    severity=Severity.ERROR,
                    message=message,
                ),
            )
