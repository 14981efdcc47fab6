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
from collections.abc import Callable, Iterator
from typing import Any

from register_batch.errors import ConfigError
from register_batch.model import UKPRN_FORM, Issue, Severity, TraineeRecord, make_issue
from register_batch.validation.catalogue import describe
from register_batch.validation.duplicates import Identity
from register_batch.wording import counted

describe(
    "several_providers",
    scope="batch",
    fields=("ukprn",),
    message="ukprn '<value>' (F_UKPRN): the inputs hold records of <n> providers (<UKPRN: records, ...>), and "
    "Register files every trainee a token sends under that token's provider: give yours with --ukprn, and the "
    "other providers' records are held back",
    source="hesa-formats.md §5 item 11 (route records to the right provider's credentials); register-api.md §1.2",
    fix="Give the UKPRN of the provider whose token you use (--ukprn, or `ukprn` in register-batch.toml): its "
    "records go, the others are reported as other_provider_record. Send each other provider's records with "
    "that provider's own token.",
)
describe(
    "other_provider_record",
    scope="batch",
    fields=("ukprn",),
    message="ukprn '<value>' (F_UKPRN) is not <ukprn>, the provider this run sends for (--ukprn): Register would "
    "file this trainee under <ukprn>, in another provider's place",
    source="hesa-formats.md §5 item 11 (route records to the right provider's credentials); register-api.md §1.2",
    fix="Send the record with its own provider's token. If that UKPRN is a training partner of yours (Register "
    "moved some partners' HESA records under their accredited provider from 2024/25), give the record "
    "training_partner_ukprn with that UKPRN (a column mapped in a --mapping file) and it goes with yours.",
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

SHOWN = 5  # providers named in a several_providers message


def checked_ukprn(value: Any) -> str | None:
    """A provider's UKPRN as given (`--ukprn`, `ukprn` in register-batch.toml, a number in TOML), or ConfigError."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    if not isinstance(value, str | int) or isinstance(value, bool) or not UKPRN_FORM.fullmatch(text):
        raise ConfigError(f"ukprn {str(value)!r} is not a UKPRN (8 digits starting with 1, e.g. 10052198)")
    return text


class ProviderCheck:
    """Remembers each record's provider while streaming; `issues()` reports the records of the wrong one.

    `ukprn` is the provider the run sends for (None: not given, and then the batch must hold one provider).
    """

    def __init__(self, ukprn: str | None = None) -> None:
        self.ukprn = checked_ukprn(ukprn)
        self._numbers: dict[str, int] = {}  # UKPRN -> its number in `_of`
        self._of = array("i")  # per record in batch order: its UKPRN's number, -1 for none or the run's own
        self.own = 0  # records of the run's own UKPRN
        self.unchecked = 0  # records without a UKPRN, or of a training partner declared as such

    @staticmethod
    def key(record: TraineeRecord) -> str | None:
        """The UKPRN a record is of, unless it needs no check: none given, or a training partner's declared as such.

        A record of a training partner whose HESA data Register moved under its accredited provider carries the
        partner's F_UKPRN; naming the partner in `training_partner_ukprn` says it goes with the provider's token.
        """
        ukprn = record.ukprn
        if ukprn is None or ukprn == record.data.get("training_partner_ukprn"):
            return None
        return ukprn

    def add(self, key: str | None) -> None:
        """Remember the next record's `key()` (records arrive in batch order)."""
        if key is None or key == self.ukprn:
            self._of.append(-1)
            if key is None:
                self.unchecked += 1
            else:
                self.own += 1
            return
        self._of.append(self._numbers.setdefault(key, len(self._numbers)))

    def none_of_the_run(self) -> str | None:
        """With a UKPRN given, when every record is another provider's: what to say (the setting, or the inputs, is
        wrong: a setup mistake, not a data one); else None. Records it cannot tell (no UKPRN) leave it to them."""
        if self.ukprn is None or self.own or self.unchecked or not self._numbers:
            return None
        found = ", ".join(sorted(self._numbers)[:SHOWN]) + (" and more" if len(self._numbers) > SHOWN else "")
        return (
            f"no record of the inputs is provider {self.ukprn}'s, the UKPRN this run sends for: their F_UKPRN is "
            f"{found}. The ukprn setting (--ukprn, register-batch.toml or $REGISTER_BATCH_UKPRN) or the inputs are "
            "wrong: nothing was sent"
        )

    def issues(self, identity: Callable[[int], Identity]) -> Iterator[tuple[int, Issue]]:
        """(batch index, issue) for each record of a provider other than the run's, in batch order."""
        if not self._numbers or (self.ukprn is None and len(self._numbers) == 1):
            return
        names = {number: ukprn for ukprn, number in self._numbers.items()}
        if self.ukprn is None:
            counts = [0] * len(names)
            for number in self._of:
                if number >= 0:
                    counts[number] += 1
            ranked = sorted(names, key=lambda n: (-counts[n], names[n]))
            listed = ", ".join(f"{names[n]}: {counted(counts[n], 'record')}" for n in ranked[:SHOWN])
            if len(ranked) > SHOWN:
                listed += f" and {len(ranked) - SHOWN:,} more"
        for index, number in enumerate(self._of):
            if number < 0:
                continue
            ukprn = names[number]
            if self.ukprn is None:
                code = "several_providers"
                message = (
                    f"ukprn '{ukprn}' (F_UKPRN): the inputs hold records of {len(names):,} providers ({listed}), and "
                    "Register files every trainee a token sends under that token's provider: give yours with "
                    "--ukprn, and the other providers' records are held back"
                )
            else:
                code = "other_provider_record"
                message = (
                    f"ukprn '{ukprn}' (F_UKPRN) is not {self.ukprn}, the provider this run sends for (--ukprn): "
                    f"Register would file this trainee under {self.ukprn}, in another provider's place"
                )
            name, record, line, provider_id, hesa_id = identity(index)
            yield (
                index,
                make_issue(
                    input=name,
                    record=record,
                    line=line,
                    provider_trainee_id=provider_id,
                    hesa_id=hesa_id,
                    field="ukprn",
                    value=ukprn,
                    code=code,
                    severity=Severity.ERROR,
                    message=message,
                ),
            )
