"""Run the rule catalogue over records, and stream whole inputs through read -> map -> validate."""

from __future__ import annotations

import dataclasses
import os
import weakref
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date
from itertools import chain
from typing import Any

from register_batch.arguments import checked_kind
from register_batch.errors import ConfigError
from register_batch.fs import StrPath
from register_batch.mapping import Mapper, MappingConfig, load_mapping
from register_batch.mapping.apply import MISSING, SourceWatch, family_of
from register_batch.mapping.loader import CodeTranslation, refuse_dead_tests
from register_batch.model import Issue, Severity, SourceRef, TraineeRecord, make_issue
from register_batch.readers import InputInfo, RawRecord, XmlPart, check_format, csv_layout, open_inputs
from register_batch.readers.csv import read_mappings
from register_batch.reference import ReferenceData, load_reference
from register_batch.validation import nested, resaved, rules  # noqa: F401  (registers the rules)
from register_batch.validation.catalogue import Rule, describe, follow_ups, in_a_mapping_file, rules_for
from register_batch.validation.duplicates import DuplicateFinder, Parts
from register_batch.validation.facts import PRIMARY_SUBJECT, Facts, as_of_or_today
from register_batch.validation.providers import ProviderCheck, name_training_partner
from register_batch.validation.resaved import SPREADSHEET_FORMATS, iso_dates
from register_batch.validation.rules import no_disability_sent_once
from register_batch.wording import printable

describe(
    "legacy_code_translated",
    scope="mapping",
    fields=("*",),
    message="<field>: legacy code '<old>' translated to '<new>' (<meaning>); <source> (<file:line>, the mapping file "
    "that translated it; the bundled file's name for a bundled translation)[. Register's CSV upload does not "
    "translate codes: it takes '<old>' as written, and a code not in its lists fails the row, and with it the whole "
    "file. To upload the file, write '<new>' in it (as `register-batch convert --to register-csv` does); `sync` sends "
    "'<new>'] (the part in brackets for a Register CSV)",
    source="the mapping file that translated it, named in the message (a bundled translation's: "
    "mappings/codes/legacy.yaml, from hesa-formats.md §2.3, §5 items 14-23); a Register CSV's upload: §3.3 (same "
    "mapper as the API, no legacy translation), §2.1, §3.4 (all or nothing)",
    fix="Nothing to do if the translation is right; update the SRS to the current code to silence it. A Register CSV "
    "to upload through Register's web page must hold the current code: write it in the file, or let "
    "`register-batch convert --to register-csv` write the file; `sync` sends the translated code.",
    severity=Severity.WARNING,
)
describe(
    "nationality_uk_country_code",
    scope="mapping",
    fields=("nationality",),
    message="nationality 'XK' is Kosovan in Register's nationality list, but HESA's nationality codes have no XK "
    "(Kosovo is QO): XK is HESA's country code for the United Kingdom, not otherwise specified, and Register would "
    "record the trainee as Kosovan. Write GB for a British trainee, QO for a Kosovan one [or, for a code a mapping "
    "file translates to XK: nationality '<code>' is translated to 'XK' by a mapping file: XK is Kosovan in "
    "Register's nationality list, though it is the country code for the United Kingdom, not otherwise specified, and "
    "Register would record the trainee as Kosovan. If '<code>' is your SRS's code for British, translate it to GB]",
    source="hesa-formats.md §2.3.4 (pitfall: XK is the UK in the country list, Kosovan in the nationality list), "
    "§5 item 21 (country XK is the UK); HESA extracts only: in a Register CSV, XK is Register's own code for Kosovan",
    fix="For a British trainee, correct F_NATION to GB in the SRS (XK is a country code: F_DEGCTRY's), or the mapping "
    "file's translation to GB. For a Kosovan trainee, write QO, HESA's code for Kosovo, which register-batch sends as "
    "XK.",
    severity=Severity.WARNING,
)
describe(
    "untranslatable_code",
    scope="mapping",
    fields=("*",),
    message="<Register's own error for the code: <field> has invalid reference data value of '<value>'. Valid "
    "values are … / Example values include …, or for a degree's subject or UK grade <field> must be entered if "
    "specifying a previous UK degree or non-UK degree, or iqts_country must be blank off the iQTS route> <field>: "
    "<why the code has no v2026.1 equivalent>[. Register's CSV upload fails the row, and with it the whole file] (the "
    "part in brackets for a Register CSV)",
    source="mappings/codes/legacy.yaml (hesa-formats.md §2.3, §5 items 14-23), or the mapping file's no_translation; "
    "Register's answer: register-api.md §5.1-§5.2 (api_inclusion), §3.3 R8, R9 (route 02 refused), §3.7 (degree "
    "type, country, subject, UK grade)",
    fix="Decide the right current code for the trainee and correct the SRS, or add a translation "
    f"{in_a_mapping_file()}.",
    api=True,  # Register refuses the record for it (validation.answers); where it does not: the code below
)
describe(
    "untranslatable_code_register_takes",
    scope="mapping",
    fields=("*",),
    message="<field>: <why the code has no v2026.1 equivalent>[. Register itself accepts '<value>' (a code of its "
    "<list> list): its CSV upload takes the row as written / . Register's own answer is none: its CSV upload takes "
    "the row and drops the code without a word / . Register's own answer is none: with funding_method C it records "
    "the veterans' initiative in its place, and its CSV upload takes the row] (the part in brackets for a Register "
    "CSV)",
    source="the mapping file's no_translation (mappings/codes/legacy.yaml's: disability 08, hesa-formats.md §2.3.3); "
    "Register takes the record: register-api.md §5.3 (an unknown disability is dropped), §3.7 (an unknown "
    "institution is Other UK institution; a non-UK degree's grade, the other locale's degree type and a country "
    "beside an institution are dropped), §3.3 R19 (funding_method C replaces the initiative), §5.1 (a code of its "
    "list is taken)",
    fix="Register would take the record, without the code or with its own in its place, but register-batch holds it "
    "back until you decide the code: correct the SRS to the right current code for the trainee, or add a translation "
    f"{in_a_mapping_file()}.",
)
describe(
    "translation_unmatched",
    scope="mapping",
    fields=("*",),
    message="<field>: <file:line> translates '<value>' only when <a `when`>[, or when <another>], and this record "
    "meets none of these, so it is left as written, which is not in Register's <list> list: add a last alternative "
    "without a `when` for the other records, or correct the fields it tests",
    source="the mapping file named (docs/mappings.md: a `when` is an exact match on the record's other fields, as "
    "translated); register-api.md §5.1 (codes must be in Register's lists)",
    fix="Add an alternative without a `when` as the last of the code's translations in the file named, for the "
    "records the others do not pick out, or correct the fields its `when`s test; the code's own error says what "
    "Register answers.",
    severity=Severity.WARNING,
)
describe(
    "no_translation_now_listed",
    scope="mapping",
    fields=("*",),
    message="<field>: '<code>' is sent as written: the pulled lists in use hold it, so the bundled note refusing it "
    '("<why>") is out of date. Register will judge it',
    source="mappings/codes/legacy.yaml's no_translation, written for the bundled lists; a code `reference pull` "
    "brought that those lack is one Register lists since",
    fix="Nothing to do: the code is sent. Should Register refuse it, leave it blank or correct it in the SRS.",
    severity=Severity.WARNING,
)
describe(
    "malformed_record",
    scope="mapping",
    fields=("*",),
    message="<what is wrong with the record's structure>",
    source="hesa-formats.md §1.2, §3.2",
    fix="Correct the record in the extract (a tag given twice, or more or fewer cells than columns).",
)
describe(
    "legacy_withdrawal_not_sent",
    scope="mapping",
    fields=("withdrawal_date",),
    message="F_RSNEND '<code>' (<meaning>) with F_ENDDATE <date> says the trainee left, but Register records a "
    "withdrawal only with reasons, a trigger and future interest, which HESA did not collect: add the "
    "withdrawal_* columns to withdraw the trainee in Register[. F_ENDDATE <date> is read as the leaving date, not as "
    "the expected end date, so itt_end_date is blank: give the expected end date in F_EXPECTEDENDDATE]",
    source="hesa-formats.md §2.3.19 (no RSNEND to v2026.1 reasons table exists); §1.3 (C21053's F_ENDDATE is the "
    "end date and the leaving date)",
    fix="Give withdrawal_date, withdrawal_reasons, withdrawal_trigger and withdrawal_future_interest for the "
    "trainee (a HESA-named CSV or Register CSV column each, or a field map for your extract). Give a C21053 "
    "leaver F_EXPECTEDENDDATE too: without it the record has no expected end date (itt_end_date can't be blank), or, "
    "with the withdrawal columns, sends the leaving date as the end date (leaving_date_sent_as_end_date).",
    severity=Severity.WARNING,
)
describe(
    "leaving_date_sent_as_end_date",
    scope="mapping",
    fields=("itt_end_date",),
    message="F_RSNEND '<code>' (<meaning>) says the trainee left, so F_ENDDATE <date> is the date they left, and with "
    "no F_EXPECTEDENDDATE it is read as itt_end_date too: Register's expected end date for the course becomes <date>. "
    "Give the expected end date in F_EXPECTEDENDDATE to keep it",
    source="hesa-formats.md §1.3 (C21053's F_ENDDATE is the end date and the leaving date); register-api.md §3.2 "
    "(itt_end_date is required, so it is sent for the withdrawal to be sent)",
    fix="Add F_EXPECTEDENDDATE with the course's expected end date to the trainee's C21053 Student (or row): it is "
    "read before F_ENDDATE, the record stays C21053, and the trainee is still withdrawn. Or read itt_end_date from "
    "your SRS's own tag with a field map (docs/mappings.md).",
    severity=Severity.WARNING,
)
describe(
    "layout_conflict",
    scope="mapping",
    fields=("itt_start_date", "trainee_start_date", "itt_end_date"),
    message="read by the <layout> layout, as <it fills F_ITTSTARTDATE | F_RECID is <id> | its start date is in "
    "F_COMDATE, not in F_ITTSTARTDATE or F_TRAINEESTARTDATE>, though <F_RECID <id> says the <layout> layout | it "
    "fills F_COMDATE too, the <layout> layout's start date | it fills F_TREFNO, the C21053 layout's>[: <tag> <date> is "
    "not read as <field> (<field> is <tag>'s <date> | <field> is blank (<tags>: no value))]",
    source="hesa-formats.md §5 items 8-9 (the layout from the tags present and F_RECID; the dates by layout), §1.1 "
    "(Register's own samples carry F_RECID 16053 in every layout), §1.6 (what each collection added and removed)",
    fix="Make the record's F_RECID and the tags it fills agree: the start dates in the tags of the collection it is "
    "of (F_ITTSTARTDATE and F_TRAINEESTARTDATE from C23053 on, F_ITTCOMDATE or F_COMDATE before), and F_RECID that "
    "collection's (24053). A template kept from an older collection is the usual cause: update its record id, or "
    "leave the old collection's tags empty. The record is read as the message says, in XML and CSV alike.",
    severity=Severity.WARNING,
)
describe(
    "legacy_deferral_not_sent",
    scope="mapping",
    fields=("study_mode",),
    message="study_mode '<code>' (<meaning>) made the old HESA import defer the trainee, but Register stores it as "
    "a study mode only and records a deferral only with a date, which HESA did not collect: add the defer_date "
    "column to defer the trainee in Register",
    source="hesa-formats.md §1.5, §2.3.8, §5 item 25 (map_state_from_hesa.rb: F_MODE 63/64 meant deferred)",
    fix="Give defer_date (and optionally defer_reason) for the trainee (a HESA-named CSV column each, or a field "
    "map for your extract), or correct the study mode if the trainee is studying.",
    severity=Severity.WARNING,
)
describe(
    "mapped_source_missing",
    scope="file",
    fields=("*",),
    message="<mapping file>[:<line>] maps <key> to <tag or column>, which no record of this input has[, nor <tags>, "
    "which its <collection> records read instead]: the field is blank in every record[ but its <collection> ones, "
    "which read it from <tags>] (a misspelt tag or column?)",
    source="docs/mappings.md (a misspelt source name matches nothing; HESA XML ignores tags it does not know; an "
    "older collection's own tags for a field, where a user's file keeps them, are read instead in its records)",
    fix="Correct the name in the mapping file (`register-batch mappings check INPUT` names every such source), or "
    "remove the entry if this extract does not have that field.",
    severity=Severity.WARNING,
)
describe(
    "mapped_source_misspelt",
    scope="mapping",
    fields=("*",),
    message="<mapping file>[:<line>] reads <field> from <tag or column>, which this record lacks, but it has <tag>, "
    "which nothing reads: a misspelt tag? The field is blank until the mapping file names it as the extract does (or "
    "lists <tag> under `fields: <family>: ignored:` if it holds something else)",
    source="docs/mappings.md (a misspelt source name matches nothing, and HESA XML ignores tags it does not know: "
    "the field would be blank, a leaver's withdrawal not sent; a source no record has is no mistake by itself, as a "
    "nightly extract may have no leaver, but one beside a tag nothing reads that differs by a few letters is)",
    fix="Correct the source's name in the mapping file to the tag or column the extract has (`register-batch "
    "mappings check --mapping FILE INPUT` checks every source against an extract), or list the tag under "
    "`fields: <family>: ignored:` if it holds something else. The record is not sent until then.",
)
describe(
    "misspelt_tag",
    scope="mapping",
    fields=("*",),
    message="<tag> is not a HESA tag (or, for WITHDRAWAL_REASONS, DEFER_REASON and the like, not a tag "
    "register-batch reads); did you mean <tag it reads>, which this record (or this <group>) lacks? Nothing reads "
    "<tag>, so its "
    "value is not sent (<field> is blank) until the extract spells it <tag it reads> (or a mapping file lists <tag> "
    "under `fields: hesa: ignored:` if it is a tag of the SRS's own), each tag in angle brackets as XML writes it",
    source="hesa-formats.md §1.3 (HESA's tags; HESA XML ignores tags it does not know, so a misspelt one's value would "
    "be left out without a word, while a HESA-named CSV refuses the same misspelt column); only for a record that "
    "lacks the tag and holds the other, with a value, a letter or two from it (the same length, or one letter more or "
    "less), and is no tag of any collection HESA's; not for a tag that holds the whole of the one it lacks "
    "(F_SDEMPLOYER beside F_SDEMPLOY), nor the stem of a numbered tag the record has (F_SBJCA beside F_SBJCA1). A "
    "warning (review173 F3): an extract may leave out an empty element (formats.md) and carry tags of the SRS's own",
    fix="Correct the tag's name in the SRS's extract (`register-batch mappings check INPUT` lists every one), or, if "
    "it is a tag of the SRS's own holding something else, list it under `fields: hesa: ignored:` in a mapping file. "
    "The record is sent without the value (an optional field as absent; a required field lacking gets its own "
    "error).",
    severity=Severity.WARNING,
)
describe(
    "misspelt_state_tag",
    scope="mapping",
    fields=("*",),
    message="<tag> is not a tag register-batch reads; did you mean <tag it reads>, which this record lacks? Nothing "
    "reads <tag>, so the record would be sent without its <field> (a leaver or a deferral sent as a trainee in "
    "training); it is not sent until the extract spells it <tag it reads> (or a mapping file lists <tag> under "
    "`fields: hesa: ignored:` if it is a tag of the SRS's own), each tag in angle brackets as XML writes it",
    source="docs/formats.md (register-batch's own withdrawal and deferral tags in HESA XML: WITHDRAWAL_DATE, "
    "DEFER_DATE); HESA XML ignores a tag it does not know. As misspelt_tag, but an error (review177 F1): without its "
    "date the record reads as a trainee in training and nothing else would say so. Only for a record without the "
    "date that holds, with a value of four digits or more, a tag one or two letters from it that begins as it does, "
    "an F_ before it aside (WITHDRAWL_DATE, WITHDRAW_DATE, DEFERDATE, F_DEFERDATE; not an SRS's OFFER_DATE); three "
    "letters off (DEFERRAL_DATE, as an SRS's DEFER_ENDDATE is) and a tag near another withdrawal or deferral tag are "
    "misspelt_tag's warning (review178 F1, review179 F1, F2)",
    fix="Correct the tag's name in the SRS's extract (`register-batch mappings check INPUT` lists every one), or, if "
    "it is a tag of the SRS's own holding something else, list it under `fields: hesa: ignored:` in a mapping file.",
)
describe(
    "same_content",
    scope="file",
    fields=(),
    message="<input> has the same content as <earlier input> (SHA-256 <first 12 digits>…): each of its records is "
    "there too, and is reported a duplicate of itself",
    source="design.md (each input's sha256 in report.json; in-file duplicates)",
    fix="Leave one of the two files out (a copy saved next to the extract, or the extract and a zip of it).",
    severity=Severity.WARNING,
)
describe(
    "missing_columns",
    scope="file",
    fields=(),
    message="the header lacks N of the template's columns (...): they are read as blank, and Register's own CSV "
    "upload would reject this file",
    source="hesa-formats.md §3.2 item 6",
    fix="Use the full v2026.1 template header (`register-batch reference template -o FILE` writes it).",
    severity=Severity.WARNING,
)
describe(
    "blank_header",
    scope="file",
    fields=(),
    message="column N has a blank header (a comma after the last column name): register-batch reads past it, but "
    'Register\'s CSV upload refuses the file ("The selected CSV file has structural issues")',
    source="hesa-formats.md §3.2 item 5",
    fix="Remove the comma after the last column name (and any empty column) before uploading the file to Register.",
    severity=Severity.WARNING,
)
describe(
    "extra_columns",
    scope="file",
    fields=(),
    message="the header has N columns that Register's template does not (...): register-batch reads them, but "
    "Register's CSV upload refuses a file with extra columns",
    source="hesa-formats.md §3.2 item 6 (headers.sort == ALL_HEADERS.keys.sort)",
    fix="Nothing to do for `validate` and `sync`. To upload the file through Register's web page, remove those "
    "columns (middle_names, training_partner_ukprn, the withdrawal and deferral columns are register-batch's own).",
    severity=Severity.WARNING,
)
describe(
    "untrimmed_values",
    scope="file",
    fields=(),
    message="N values have spaces around (line N, <column> '<cell>'; ...; and N more): register-batch trims them, but "
    "Register's CSV upload does not, so it finds no code or date written so (and keeps the spaces in a name)",
    source="hesa-formats.md §3.3 (import_row.rb: no strip; exact code lookups), §5 item 26",
    fix="Remove the spaces before uploading the file to Register (`register-batch convert --to register-csv` writes "
    "the values trimmed).",
    severity=Severity.WARNING,
)
describe(
    "null_values",
    scope="file",
    fields=(),
    message="N cells are NULL (first: line N, <column>): register-batch reads NULL as no value, but Register's CSV "
    "upload takes it as written, as an unknown code (failing the row, and with it the whole file) or the text NULL in "
    "a name",
    source="hesa-formats.md §3.3 (attributes.transform_values!(&:presence): only a blank cell is nil), §5 item 31",
    fix="Nothing to do for `validate` and `sync`. To upload the file through Register's web page, leave those cells "
    "blank (`register-batch convert --to register-csv` writes them blank).",
    severity=Severity.WARNING,
)
describe(
    "untrimmed_header",
    scope="file",
    fields=(),
    message="the header has N column names with spaces around (' hesa_id ', ...): register-batch trims them, but "
    "Register's CSV import does not, so it would read no value from those columns (every row lacking hesa_id, ...)",
    source="hesa-formats.md §3.3 (the import parses again without strip: headers with surrounding spaces pass "
    "validation but do not resolve on import; an inference from the code)",
    fix="Remove the spaces around the column names before uploading the file to Register (`register-batch "
    "reference template -o FILE` writes the template's names).",
    severity=Severity.WARNING,
)
describe(
    "stray_quote",
    scope="file",
    fields=(),
    message="N cells have a double quote (\") where Register's CSV upload allows none (first: line N, <column>): "
    "register-batch reads each as part of the value (or drops the quote a cell opens with and the one closing it: "
    '"Bud" Kim is read as Bud Kim), but Register refuses the whole file ("The selected file must be a CSV"); remove '
    'the quote, or put the whole cell in double quotes with each quote in it doubled ("")',
    source='hesa-formats.md §3.2 item 4 (CSVSafe.new(...).read: a CSV::MalformedCSVError, Ruby\'s "Illegal quoting" '
    'or "Any value after quoted field isn\'t allowed", refuses the file)',
    fix="Remove the quote (in a name it is almost always a typo), or put the whole cell in double quotes with each "
    'quote in it doubled (""); `register-batch convert --to register-csv` writes such cells quoted so.',
    severity=Severity.WARNING,
)
describe(
    "too_large_for_upload",
    scope="file",
    fields=(),
    message="the file is N bytes: Register's CSV upload refuses a file over 1 MB (\"The selected file must be "
    'smaller than 1MB"); `register-batch convert --to register-csv` splits its trainees into files that fit',
    source="hesa-formats.md §3.2 item 3 (validate_file.rb: file.size > 1.megabyte)",
    fix="To upload through Register's web page, run `register-batch convert --to register-csv` on it and upload each "
    "part; `sync` sends the trainees through the API, where the size does not matter.",
    severity=Severity.WARNING,
)


# Cross-field findings (register-api.md §3.3) reported on a field even when the mapping reported its legacy code
# untranslatable (TraineeRecord.reported): each says what another field of this record requires of the field, which the
# code's reason in mappings/codes/legacy.yaml (one text per code, whatever the record) cannot say, and which a
# replacement chosen without it would still fail. R3 and R4: the early-years route's subject 100510 and age range 13920
# (a legacy age range 99801 on route 19 is told only that it is refused); R5: a repeated subject (101085 in two subject
# fields, each told to use 100511, stays a duplicate). Any other finding on such a field would tell the same cause
# twice, so is left out: the rules about the value alone (invalid_code, required, ...), and R2 where the code's reason
# names its 100511 already (the bundled 101085, a primary subject); a user's untranslatable subject's reason does not
# (review44 F5), and a replacement chosen from it would fail R2 on the next run.
_REPORTED_BESIDE_THE_MAPPING = frozenset(
    {
        "early_years_subject_required",
        "early_years_age_range_required",
        "age_range_reserved_for_early_years",
        "duplicate_course_subject",
    }
)
_PRIMARY_SUBJECT_RULE = "primary_subject_required"


def _reported_beside_the_mapping(record: TraineeRecord, code: str, field: str) -> bool:
    """Whether a cross-field finding on a field whose legacy code the mapping could not translate is reported too
    (_REPORTED_BESIDE_THE_MAPPING): R2 only where that code's reason does not name primary teaching (100511)."""
    if code in _REPORTED_BESIDE_THE_MAPPING:
        return True
    if code != _PRIMARY_SUBJECT_RULE:
        return False
    return not any(
        issue.field == field and issue.code == "untranslatable_code" and PRIMARY_SUBJECT in issue.message
        for issue in record.issues
    )


def _waiting_for_a_route_code(entry: Rule) -> Rule:
    """The rule, or, for a funding rule that turns on the route, one skipped while the route is no route code
    (rules.WAIT_FOR_A_ROUTE_CODE: its advice would be wrong; the route's own error says what to mend first)."""
    if entry.code not in rules.WAIT_FOR_A_ROUTE_CODE or entry.check is None:
        return entry
    return dataclasses.replace(entry, check=rules.once_the_route_is_a_code(entry.check))


class Validator:
    """Applies every rule of the catalogue to a record, as of a given date.

    `translation` is the mapping's `Mapper.translation`, for the follow-up rules that name a legacy code.
    """

    def __init__(
        self,
        reference: ReferenceData,
        as_of: date | None = None,
        *,
        api_only: bool = False,
        translation: Callable[[str], CodeTranslation | None] | None = None,
    ):
        self.reference = reference
        self.as_of = as_of_or_today(as_of)
        self.translation = translation
        self._made: dict[tuple[str, str, str], str] = {}  # _made_by's words, per (field, code read, code made)

        def pick(scope: str) -> list[Rule]:
            if api_only:  # what Register answers, the emulator's own
                return [r for r in rules_for(scope) if r.api]
            # A rule about codes only a pull brings: with other lists it has nothing to find (review210 F4).
            kept = [r for r in rules_for(scope) if r.only_with is None or r.only_with(reference)]
            return [_waiting_for_a_route_code(r) for r in kept]

        self._trainee = pick("trainee")
        self._degree = pick("degree")
        self._placement = pick("placement")
        self._withdrawal = pick("withdrawal")
        self._deferral = pick("deferral")

        # What the per-record loop calls: (check, code, severity), without attribute look-ups per rule.
        def calls(entries: list[Rule]) -> tuple[tuple[Any, str, Severity], ...]:
            return tuple((entry.check, entry.code, entry.severity) for entry in entries)

        self._trainee_checks = calls(self._trainee)
        self._nested_checks = (
            ("degrees_attributes", calls(self._degree)),
            ("placements_attributes", calls(self._placement)),
        )
        self._withdrawal_checks = calls(self._withdrawal)
        self._deferral_checks = calls(self._deferral)
        # The cycle's findings left out while the start date is not YYYY-MM-DD (rules.WAIT_FOR_THE_START_DATE); none
        # for the emulator, which answers as Register does.
        self._waiting_for_the_start_date = frozenset() if api_only else rules.WAIT_FOR_THE_START_DATE
        self._follow_ups: tuple[tuple[Any, str, Severity, frozenset[str]], ...] = tuple(
            (entry.check, entry.code, entry.severity, entry.follows)
            for entry in follow_ups()
            if entry.api or not api_only
        )

    def check(self, record: TraineeRecord, fmt: str | None = None) -> TraineeRecord:
        """Append the record's issues to `record.issues`; returns the record. `fmt`: the format of the input it was
        read from, which some hints are worded for (Facts.input_format)."""
        before = len(record.issues)  # the mapping's
        if before and record.misaligned:
            # A row whose cells do not line up with the header's columns (cut in two by a line break, extra commas:
            # the reader names no field) has its values under other fields' names: every rule would report the
            # shift, not the data (one cut row gave 35 errors beside its 2). Its own error says what to mend; the
            # rules judge the record once it is whole.
            return record
        data = record.data
        facts = Facts.of(data, self.as_of, self.reference)
        facts.input_format = fmt
        if record.withdrawal and isinstance(trigger := record.withdrawal.get("trigger"), str):
            facts.withdrawal_trigger = trigger
        if record.withdrawal and record.deferral:  # only defer_date_after_withdrawal asks
            left = str(record.withdrawal.get("withdrawal_date") or "")
            facts.withdrawal_on = nested.withdrawal_kept_day(left, self.as_of)
        reported = record.reported
        # A code the mapping translated is named as the extract has it (its legacy_code_translated warning says
        # which), not as translated: that is the value to look for in the SRS.
        read_as = {i.field: i.value for i in record.issues if i.code == "legacy_code_translated"} if before else None
        for check, code, severity in self._trainee_checks:
            findings = check(data, facts)
            if findings:
                if code in self._waiting_for_the_start_date and rules.start_cycle_misread(data):
                    continue  # asked only of a finding: a clean record pays nothing for it
                for field, value, message, *item in findings:
                    if field not in reported or _reported_beside_the_mapping(record, code, field):
                        if read_as and field in read_as and value == data.get(field):
                            written = read_as[field]
                            if code == "invalid_code" and written is not None:
                                message += self._made_by(field, written, value)
                            value = written
                        # A finding about one degree (catalogue.Item) names its line; None: the record's
                        line = record.item_line(*item[0]) if item else None
                        record.issue(code, message, field=field, value=value, severity=severity, line=line)
        for key, checks in self._nested_checks:
            items = data.get(key)
            if not items:
                continue
            for index, item in enumerate(items):
                for check, code, severity in checks:
                    findings = check(item, facts)
                    if findings:
                        for field, value, message in findings:
                            label = f"{key}[{index}].{field}"
                            if label not in reported:
                                if read_as and label in read_as and value == item.get(field):
                                    value = read_as[label]
                                line = record.item_line(key, index)  # the degree's, where the input gives it
                                record.issue(code, message, field=label, value=value, severity=severity, line=line)
        for body, checks in ((record.withdrawal, self._withdrawal_checks), (record.deferral, self._deferral_checks)):
            if body:
                for check, code, severity in checks:
                    findings = check(body, facts)
                    if findings:
                        for field, value, message in findings:
                            record.issue(code, message, field=field, value=value, severity=severity)
        if record.issues and self._follow_ups:  # a clean record stops here
            self._follow_up(record, facts)
        return record

    def _made_by(self, field: str, written: str, made: str) -> str:
        """What an invalid_code error adds after Register's words when the code is what a user's mapping file
        translated the extract's `written` to: the file's line that made it, not the extract, is to be corrected
        (review161 F3: `FT: 1`, unquoted, made every full-time trainee's study mode `1`). Once per code: only a record
        with the error asks."""
        key = (field, written, made)
        said = self._made.get(key)
        if said is None:
            translation = self.translation(field) if self.translation else None
            place = translation.written_at(written) if translation else None
            said = self._made[key] = (
                f" '{made}' is what {place} translates '{written}' to: correct that translation" if place else ""
            )
        return said

    def _follow_up(self, record: TraineeRecord, facts: Facts) -> None:
        """Run the follow-up rules on the record's issues, each finding right after the issue it explains: the
        mapping's too (F_UKPRN's invalid_ukprn, which spreadsheet_error_hint follows: review158 F1)."""
        issues = record.issues
        found = issues[:]
        facts.date_order = rules.row_date_order(found)  # which reading of an ambiguous date to give first
        issues.clear()
        for issue in found:
            issues.append(issue)
            for check, code, severity, follows in self._follow_ups:
                if issue.code in follows and (findings := check(issue, facts, self.translation)):
                    for field, value, message in findings:  # about the issue's field: on its line
                        record.issue(code, message, field=field, value=value, severity=severity, line=issue.line)

    def check_body(
        self,
        data: dict[str, Any],
        read_by: Mapper | None = None,
        *,
        deferral: dict[str, Any] | None = None,
        withdrawal: dict[str, Any] | None = None,
    ) -> list[Issue]:
        """Issues for one request body (as the emulator validates `POST /trainees`). Text of spaces only is no value,
        as Rails' `blank?` has it (register-api.md §3.2): `first_names: "  "` can't be blank, and a code sent as ""
        is not an unknown code. The readers make a blank cell None already. With `read_by`, its legacy codes are
        translated first, as reading the body from a file would (disability 00 is 95). With `deferral` or
        `withdrawal`, the record's deferral (`defer_date`, `defer_reason`) or withdrawal (`withdrawal_date`, `reasons`
        as a list, ...) is checked too, as a file's DEFER_* or WITHDRAWAL_* values are."""
        record = TraineeRecord(
            source=SourceRef(input="request"),
            data=_blanks_as_none(data),
            deferral=_blanks_as_none(deferral) if deferral else None,
            withdrawal=_blanks_as_none(withdrawal) if withdrawal else None,
        )
        if read_by is not None:
            read_by.translate(record)
        return self.check(record).issues


def _blanks_as_none(data: dict[str, Any]) -> dict[str, Any]:
    """A body's text of spaces only as None, in nested degrees and placements too; a blank email as "": Register checks
    its format as well (EmailFormatValidator skips only nil), so it gets both of Register's messages."""

    def blank(item: Any) -> bool:
        return isinstance(item, str) and not item.strip()

    def value(key: str, item: Any) -> Any:
        if blank(item):
            return "" if key == "email" else None
        if isinstance(item, list):
            return [_blanks_as_none(x) if isinstance(x, dict) else x for x in item]
        return item

    return {key: value(key, item) for key, item in data.items()}


# The formats `Checker.rows` reads rows as: a CSV format's, whose columns the rows are keyed by.
ROW_FORMATS = ("register-csv", "hesa-csv")


class BatchIssuesUnavailable(ConfigError):
    """`Checker.batch_issues()` asked for when it has nothing true to say: a second time (the findings across records
    are made once, and what they are made from is freed as they are read), before `records()` has been walked to its
    end (they would miss the records still to come), or once the checker is closed. A walk of `records()` continued
    after it is refused the same way. Nothing is lost by it that a caller has not had: read the findings once, into a
    list if you need them twice."""


class Checker:
    """Streams inputs through read -> map -> validate, and finds duplicates across the whole batch.

    Iterate `records(paths)`, or `rows(...)` for records your code holds; afterwards `inputs` describes each input and
    `batch_issues()` gives the
    findings across records (duplicates; records of a provider other than `ukprn`'s) as (batch index, issue), once
    (BatchIssuesUnavailable otherwise). The duplicate finder keeps a temporary file until `batch_issues()` has been
    read to its end: use the checker as a context manager (or call `close()`) so that a walk left early, or an input
    that cannot be read, frees it.
    """

    def __init__(
        self,
        *,
        fmt: str = "auto",
        mapping: MappingConfig | None = None,
        reference: ReferenceData | None = None,
        as_of: date | None = None,
        ukprn: str | None = None,
    ):
        self.providers = ProviderCheck(ukprn)  # first: a UKPRN it refuses leaves no temporary file open behind it
        check_format(fmt)  # here, not at the first walk: a caller's mistake is named where it was made
        self.fmt = fmt
        checked_kind("mapping", mapping, MappingConfig, "register_batch.mapping.load_mapping()")
        checked_kind("reference", reference, ReferenceData, "register_batch.reference.load_reference()")
        self.mapping = mapping or load_mapping()
        self.reference = reference or load_reference()
        refuse_dead_tests(self.mapping)  # a `when` that never matches, whatever the lists (review213 F1)
        self.mapper = Mapper(self.mapping, self.reference)
        self.validator = Validator(self.reference, as_of, translation=self.mapper.translation)
        self._disability_identities = self.reference.code_list("disability").identities
        self.inputs: list[InputInfo] = []
        self.sources = SourceWatch(self.mapping)
        self._finished: set[int] = set()  # id() of the inputs finish_inputs() has seen
        self._walks = 0  # walks of records() or rows() asked for and not over (from the call: review119 F5)
        self._walked = False  # a walk of the records has ended (read to its end, or closed): there is a batch
        self._batch_read = False  # batch_issues() has begun to be read: the duplicate finder is spent
        self._closed = False
        self.duplicates = DuplicateFinder()
        # Each record's academic cycle, by batch index (0: none, or the record is invalid), and its input (an index of
        # `_cycle_inputs`): the records by input and cycle, what `export --academic-cycle` needs (review134 F4).
        self._cycle_at = array("i")
        self._input_at = array("i")
        self._cycle_inputs: dict[str, int] = {}

    @property
    def as_of(self) -> date:
        return self.validator.as_of

    def close(self) -> None:
        """Free the duplicate finder's temporary file (`batch_issues()` has nothing to say afterwards)."""
        self._closed = True
        self.duplicates.close()

    def __enter__(self) -> Checker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def raw_records(
        self,
        paths: Iterable[StrPath],
        *,
        select: Callable[[int], bool] | None = None,
        part: XmlPart | None = None,
    ) -> Iterator[tuple[InputInfo, RawRecord]]:
        """Every raw record of every input, in input order (the inputs are listed in `self.inputs`).

        `select(batch index)` tells the readers (HESA XML, CSV) which records to read in full;
        the others keep their source reference and no fields (a parallel run checks them elsewhere).
        `part` reads part of a single HESA XML input (see `XmlChunks`).
        """
        try:
            before = 0
            fmt = "hesa-xml" if part is not None else self.fmt  # a part's file was found to be HESA XML already
            for info, raw_records in open_inputs(paths, fmt, self.mapping):  # which checks and lists the paths
                self.inputs.append(info)
                info.part = part
                if select is not None:
                    info.select = lambda number, offset=before: select(offset + number - 1)
                for raw in raw_records:
                    yield info, raw
                before += info.records
        finally:
            self._walked = True  # a parallel run's walk too, which reads raw records and tallies them itself

    def check(self, info: InputInfo, raw: RawRecord) -> TraineeRecord:
        """Map and validate one raw record."""
        record = self.mapper.map(raw, info.format, info.states_shown)
        if not info.sources_known and raw.fields:
            self._watch_sources(info, raw, record)
        if record.ukprn is not None:
            name_training_partner(record)  # before the rules: it changes what is sent (hesa-formats.md §5 item 11)
        if not record.misaligned:  # values under other fields' names are not judged (Validator.check)
            no_disability_sent_once(record, self._disability_identities)  # so too (register-api.md §5.3)
        if record.vintage:
            info.vintages[record.vintage] = info.vintages.get(record.vintage, 0) + 1
        checked = self.validator.check(record, info.format)
        if info.format in SPREADSHEET_FORMATS:  # possibly_swapped_date's evidence (review224 F1)
            checked.swappable = iso_dates(checked.data)
        return checked

    def widen_can_say(self, records: Iterable[TraineeRecord]) -> None:
        """Let each record say what its input has the columns or tags for (TraineeRecord.can_say), once every
        record is read: in HESA XML an absent tag is no value (hesa-formats.md §1.4), so a Student without the
        WITHDRAWAL_* tags of its file's other Students says it has no withdrawal, as a blank CSV cell does."""
        widen = self.widener()
        for record in records:
            widen(record)

    def widener(self) -> Callable[[TraineeRecord], None]:
        """`widen_can_say` for one record at a time, once every record is read (for records read back later). Not
        what a Student without its training initiative tags says: sync decides that from the ledger and whether the
        file has the tag at all (review202 F1, review205: TraineeRecord.untagged, sync/initiatives.py)."""
        shown: dict[str, set[str]] = {}
        for info in self.inputs:
            shown.setdefault(info.path, set()).update(info.states_shown)
        formats = {info.path: info.format for info in self.inputs}
        can_say = self.mapper.can_say

        def widen(record: TraineeRecord) -> None:
            states = shown.get(record.source.input)
            own = record.can_say or {}
            if states and not states <= own.keys():
                record.can_say = {**can_say(formats[record.source.input], states), **own}

        return widen

    def _watch_sources(self, info: InputInfo, raw: RawRecord, record: TraineeRecord) -> None:
        """Note which mapped sources the record shows first; stop looking once nothing more can be learnt."""
        new = self.sources.seen(raw, info.format, info.sources_seen, record.vintage)
        if new:
            info.sources_seen |= new
            record.sources_seen = new  # a helper process's finding goes back with the record's result
        everything = self.sources.everything[family_of(info.format)]
        # The named sources' own bits: the others (SourceWatch._Elsewhere) matter only while one of them is unseen.
        if info.format != "hesa-xml" or info.sources_seen & everything == everything:
            info.sources_known = True  # a CSV's records all have its header's columns

    def finish_inputs(self) -> list[InputInfo]:
        """The inputs read, each given a warning for every source a user's field map names that none of its
        records has, where the field was blank in the records that read it (SourceWatch.unseen), and one when it
        is a copy of an input before it; once each."""
        first_with: dict[str, str] = {}  # sha256 -> the first input with that content
        cycles = self._records_by_cycle()
        for info in self.inputs:
            if not info.records:
                continue
            copied = first_with.setdefault(info.sha256, info.path) if info.sha256 else info.path
            if id(info) in self._finished:
                continue
            self._finished.add(id(info))
            info.cycles = dict(sorted(cycles.get(info.path, {}).items()))
            if copied != info.path:
                info.issues.append(_same_content(info, copied))
            for unseen in self.sources.unseen({family_of(info.format): info.sources_seen}):
                named = unseen.named
                written = " or ".join(named.names)
                info.issues.append(
                    make_issue(
                        input=info.path,
                        line=1,
                        field=named.key.rsplit(".", 1)[-1],
                        value=written,
                        code=MISSING,
                        severity=Severity.WARNING,
                        message=(
                            f"{named.place} maps {named.key} to {written}, which no record of this input has"
                            f"{unseen.nor}: the field is blank in every record{unseen.but} (a misspelt tag or column?)"
                        ),
                    )
                )
        return self.inputs

    def tally(self, record: TraineeRecord) -> None:
        """Count a checked record into the checks across records (each record once, in batch order)."""
        if self._batch_read or self._closed:  # _still_counting's refusals, tested here first: once per record
            self._still_counting()
        entry = DuplicateFinder.entry(record)
        self.duplicates.add_entry(entry)
        self._count_cycle(entry[5], entry[-1][0], invalid=record.has_errors)
        self.providers.add(ProviderCheck.key(record))

    def _still_counting(self) -> None:
        """Refuse a record counted once the findings across records are read, or the checker closed (review88 F2)."""
        if self._batch_read:
            raise _read_already()
        if self._closed:
            raise _walked_closed()

    def tally_result(self, parts: Parts, source: SourceRef, provider: str | None, *, invalid: bool = False) -> None:
        """`tally()` for a record checked in another process, from its duplicates entry (as `DuplicateFinder.parts`)
        and provider key, where this process has it (`source`), and whether its own checks found an error
        (`invalid`)."""
        self._still_counting()
        self.duplicates.add_parts(parts, source.record)
        self._count_cycle(parts[3], source.input, invalid=invalid)
        self.providers.add(provider)

    def _count_cycle(self, own_cycle: int, input_name: str, *, invalid: bool) -> None:
        """Note the academic cycle Register holds a record's trainee in: that of its trainee_start_date, else its
        itt_start_date (register-api.md §2.3, §4; the entry's `cycle_of(own_start)`, which the sync lists by too); none
        for an invalid record (it is not sent, and its dates may be any year). In batch order, as the entries."""
        self._cycle_at.append(0 if invalid else own_cycle)
        self._input_at.append(self._cycle_inputs.setdefault(input_name, len(self._cycle_inputs)))

    def _records_by_cycle(self) -> dict[str, dict[int, int]]:
        """The valid records by input and academic cycle (`_count_cycle`; an error across records, read from
        `batch_issues`, makes a record invalid too)."""
        names = list(self._cycle_inputs)
        found: dict[str, dict[int, int]] = {}
        for cycle, place in zip(self._cycle_at, self._input_at, strict=True):
            if cycle:
                counts = found.setdefault(names[place], {})
                counts[cycle] = counts.get(cycle, 0) + 1
        return found

    def records(self, paths: Iterable[StrPath]) -> Iterator[TraineeRecord]:
        """Every record of every input, mapped and validated, in input order."""
        return self._counted(self._records(paths))

    def _records(self, paths: Iterable[StrPath]) -> Iterator[TraineeRecord]:
        check, tally = self.check, self.tally
        for info, raw in self.raw_records(paths):
            record = check(info, raw)
            tally(record)
            yield record

    def _counted(self, walk: Iterator[TraineeRecord]) -> Iterator[TraineeRecord]:
        """`walk` counted as under way from now, when it is asked for, not from its first record: batch_issues()
        asked for in between answered none (review119 F5). Over once read to its end or closed; one dropped before it
        began, when it is freed (a generator not begun runs no `finally`)."""
        over = [False]

        def end() -> None:
            if not over[0]:
                over[0] = True
                self._walks -= 1

        def counted() -> Iterator[TraineeRecord]:
            try:
                yield from walk
            finally:
                end()
                self._walked = True

        self._walks += 1
        records = counted()
        weakref.finalize(records, end)
        return records

    def rows(
        self, rows: Iterable[Mapping[str, str | None]], *, fmt: str = "register-csv", name: str = "<records>"
    ) -> Iterator[TraineeRecord]:
        """Records your own code holds (rows from an SRS's database), mapped and validated as a file's are, without
        a file: each row a mapping keyed by `fmt`'s CSV columns (register-csv: Register's bulk-add template; hesa-csv:
        HESA's names), read by the CSV reader's code (readers/csv.py `read_mappings`), so the record is the one that
        row written as a CSV would give. Values are text as your code holds it, trimmed: None or blank is no value, and
        a CSV cell's conventions do not apply (a name `'Ofa` is that name; in register-csv a surname `Null` too). In
        hesa-csv NULL, in any case, is no value, as HESA writes one (hesa-formats.md §1.4). One record per row, its
        SourceRef `name` and the row's number from 1 (no line); `name` is also the input's path in `inputs`. The
        records count towards `batch_issues()` and `finish_inputs()` as a file's do.

        ConfigError for another `fmt`, a row that is not a mapping, or a key or value that is not a str (None for no
        value); UnusableInput, naming the row, for a key that is no column of `fmt` (as a CSV header's is refused).
        """
        if fmt not in ROW_FORMATS:
            raise ConfigError(
                f"fmt {fmt!r} is no format rows are read as: they are keyed by the columns of "
                f"{' or '.join(ROW_FORMATS)}"
            ).marking(fmt="fmt")
        if not isinstance(name, str):
            raise ConfigError(f"the name of rows is text (str), not of type {type(name).__name__}")
        if isinstance(rows, Mapping):  # iterated, its keys would be taken for rows
            raise ConfigError(
                "rows are an iterable of mappings, one per record, not one mapping given bare: put it in a list"
            )
        if isinstance(rows, (str, bytes, os.PathLike)):
            raise ConfigError(
                f"rows are an iterable of mappings, one per record, not of type {type(rows).__name__}: to read a file, "
                "give its path to records()"
            )
        if not isinstance(rows, Iterable):  # None, a number: a TypeError once walked (review88 F3)
            raise ConfigError(f"rows are an iterable of mappings, one per record, not {type(rows).__name__}")
        return self._counted(self._rows(rows, fmt, printable(name)))  # its name shown as a file's is, on one line

    def _rows(self, rows: Iterable[Mapping[str, str | None]], fmt: str, name: str) -> Iterator[TraineeRecord]:
        check, tally = self.check, self.tally
        info = InputInfo(path=name, format=fmt)
        self.inputs.append(info)
        for raw in read_mappings(rows, info, csv_layout(fmt, self.mapping)):
            record = check(info, raw)
            tally(record)
            yield record

    def batch_issues(self) -> Iterator[tuple[int, Issue]]:
        """Findings across records as (batch index, issue): duplicates, then other providers' records (each run
        in batch order), made one at a time. Once, after `records()` has been walked to its end
        (BatchIssuesUnavailable otherwise, rather than a partial or empty answer)."""
        self._check_batch_issues_available()
        return self._batch_issues()

    def _batch_issues(self) -> Iterator[tuple[int, Issue]]:
        self._check_batch_issues_available()  # again: two asked for before either was read
        self._batch_read = True
        cycle_at = self._cycle_at
        try:
            for index, issue in chain(self.duplicates.issues(), self.providers.issues(self.duplicates.identity)):
                if issue.severity is Severity.ERROR and index < len(cycle_at):
                    cycle_at[index] = 0  # invalid: not counted in its cycle (_records_by_cycle)
                yield index, issue
        finally:
            self.duplicates.close()

    def _check_batch_issues_available(self) -> None:
        if self._batch_read:
            raise _read_already()
        if self._closed:
            raise BatchIssuesUnavailable(
                "batch_issues() of a closed Checker (its close() was called, or its `with` block has ended): the "
                "findings across records were freed with it; read them before"
            )
        if self._walks or not self._walked:  # one under way, or none asked for yet (review119 F5)
            raise BatchIssuesUnavailable(
                "batch_issues() asked for before records() was walked to its end: the findings across records "
                "need every record; walk on to the end (or close the walk, for the records read so far) first"
            )


def _walked_closed() -> BatchIssuesUnavailable:
    """A walk of a closed Checker's records (review88 F2: a bare ValueError from its freed duplicate finder)."""
    return BatchIssuesUnavailable(
        "records of a closed Checker (its close() was called, or its `with` block has ended): what it finds across "
        "records was freed with it; use a new Checker for each batch"
    )


def _read_already() -> BatchIssuesUnavailable:
    return BatchIssuesUnavailable(
        "batch_issues() was read already: the findings across records are made once, after the last record, and "
        "freed as they are read; keep them (list(checker.batch_issues())) to use them twice"
    )


def _same_content(info: InputInfo, earlier: str) -> Issue:
    return make_issue(
        input=info.path,
        code="same_content",
        severity=Severity.WARNING,
        message=(
            f"{info.path} has the same content as {earlier} (SHA-256 {info.sha256[:12]}…): each of its records is "
            "there too, and is reported a duplicate of itself"
        ),
    )
