"""Trainee-level rules of Register API v2026.1 (register-api.md §3.1-§3.5), one function per rule.

Messages are the API's own (shape C of §7.1: `<field> <message>`). Section numbers point into
`register-api.md`; R-numbers are its cross-field rules table (§3.3).
"""

from __future__ import annotations

import codecs
import operator
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from functools import cache, lru_cache, partial
from typing import TYPE_CHECKING, Any

from register_batch.ilike import ends_in_escape, has_wildcard
from register_batch.model import HELD_DEFERRAL, HELD_WITHDRAWAL, REQUIRED_FIELDS, Issue, Severity, TraineeRecord
from register_batch.reference import (
    DEGREE_CODE_FIELDS,
    DISABILITY_FIELDS,
    TRAINEE_CODE_FIELDS,
    ReferenceData,
    bundled_snapshot,
)
from register_batch.validation.catalogue import Finding, also_checks, describe, in_a_mapping_file, rule
from register_batch.validation.facts import (
    EARLY_YEARS_AGE_RANGE,
    EARLY_YEARS_SUBJECT,
    IQTS_ROUTE,
    NO_STUDY_MODE_ROUTES,
    PRIMARY_AGE_RANGES,
    PRIMARY_SUBJECT,
    REFUSED_ROUTES,
    UNDERGRADUATE_ROUTES,
    Facts,
    cycle_label,
    parse_date,
    years_before,
)
from register_batch.wording import (
    BIDI_CONTROL,
    CONTROL_CHARACTER,
    FILLED_IN_A_SPREADSHEET,
    correct_in,
    cut_short,
    excel_text_of,
)

if TYPE_CHECKING:
    from register_batch.mapping.loader import CodeTranslation

MAX_LENGTHS = {
    "first_names": 60,
    "middle_names": 60,
    "last_name": 60,
    "provider_trainee_id": 50,
    "application_id": 7,
    "email": 255,
}
_required_values = operator.itemgetter(*REQUIRED_FIELDS)
MAX_EXAMPLES = 10  # app/models/api/error_message_helpers.rb MAX_VALID_VALUES_DISPLAYED
# Digits as Ruby's `\d` and `to_i` read them: [0-9] only (`str.isdigit()` and Python's `\d` take any script's).
_ASCII_DIGITS = re.compile("[0-9]+")


def inclusion_message(field: str, value: Any, codes: list[str]) -> str:
    """`api_inclusion` wording (§5.1): all valid values when fewer than 10, else the first 10 sorted."""
    return f"{field} has invalid reference data value of '{value}'. {_valid_values(tuple(codes))}"


@cache
def _valid_values(codes: tuple[str, ...]) -> str:
    shown = ", ".join(f"'{c}'" for c in codes[:MAX_EXAMPLES])
    if len(codes) < MAX_EXAMPLES:
        return f"Valid values are {shown}."
    return f"Example values include {shown}..."


# The tables below are derived from one ReferenceData and kept on it (ReferenceData.derived), so that they go when it
# goes: a module-level @cache keyed on it kept every pulled version's lists alive in a service that pulls weekly
# (review62 F4).
def _sorted_codes(reference: ReferenceData, list_name: str) -> list[str]:
    return reference.derived(("sorted_codes", list_name), lambda: sorted(reference.codes(list_name)))


# --- presence and length (§3.1, §3.2) -------------------------------------------------------------


@rule(
    "required",
    fields=REQUIRED_FIELDS,
    message="<field> can't be blank[: F_ENDDATE <date> is the date the trainee left (F_RSNEND '<code>'), not the "
    "expected end date of their course: give that in F_EXPECTEDENDDATE] (the part in brackets for a C21053 leaver's "
    "itt_end_date)",
    source="register-api.md §3.2 (TraineeAttributes and HesaTraineeDetailAttributes REQUIRED_ATTRIBUTES)",
    fix="Fill in the field; Register refuses a trainee without it.",
    fix_by_field={
        "itt_end_date": "A C21053 leaver's itt_end_date is not read from F_ENDDATE, the date they left: give the "
        "expected end date of their course in F_EXPECTEDENDDATE, which a C21053 Student may have."
    },
)
def required_fields_are_present(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    try:
        values = _required_values(data)
        if None not in values and "" not in values:  # the usual case, checked in C
            return None
    except KeyError:
        pass
    missing = [f for f in REQUIRED_FIELDS if data.get(f) in (None, "")]  # "": a request's blank email (check_body)
    if not missing:
        return None
    return [(f, None, f"{f} can't be blank") for f in missing]


@rule(
    "too_long",
    fields=tuple(MAX_LENGTHS),
    message="<field> is too long (maximum is N characters)",
    source="register-api.md §3.1 (code-enforced lengths), §7.2; hesa-formats.md §3.3 (Register's CSV: values as text)",
    fix="Shorten the value to the maximum length.",
    fix_by_field={
        "application_id": "An application_id is measured as it is sent: a whole number read from HESA XML or a "
        "HESA-named CSV goes to Register as a JSON integer, without leading zeros (00012345 is 12345, 5 characters); "
        "in Register's CSV template Register reads the cell as text, leading zeros included."
    },
)
def text_fields_fit_their_maximum_length(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    found: list[Finding] | None = None
    for field, limit in MAX_LENGTHS.items():
        value = data.get(field)
        if value is None:
            continue
        # Text is measured as it is, as _as_measured would: only an application_id (or no text) asks it
        text = value if type(value) is str and field != _SENT_AS_A_NUMBER else _as_measured(field, value, facts)
        if len(text) > limit:
            found = found or []
            found.append((field, value, f"{field} is too long (maximum is {limit} characters)"))
    return found


_SENT_AS_INTEGERS = ("hesa-xml", "hesa-csv")  # inputs whose whole-number application_id only goes out as an integer
_SENT_AS_A_NUMBER = "application_id"  # the field _as_measured may measure as other than its text


def _as_measured(field: str, value: Any, facts: Facts) -> str:
    """A value as Register measures its length: the text, but for a whole-number application_id that register-batch
    sends as a JSON integer (model.as_sent; `convert --to register-csv` writes its digits too), whose leading zeros
    Register never sees (review196 F2: 00012345 was refused, though 12345 was sent and taken): read from a HESA
    input. Not in a file of Register's CSV template, which Register's upload reads as text (hesa-formats.md §3.3),
    leading zeros and all, nor in a request body (the emulator's), whose value Register measures as it comes."""
    text = str(value)
    if field != _SENT_AS_A_NUMBER or facts.input_format not in _SENT_AS_INTEGERS:
        return text
    return str(int(text)) if _WHOLE_NUMBER.fullmatch(text) else text


@rule(
    "hesa_id_length",
    fields=("hesa_id",),
    message="hesa_id must be 13 or 17 characters",
    source="register-api.md §3.3 R18",
    fix="Use the full HUSID as text: spreadsheets drop leading zeros (13 digits, or 17 with the instance).",
)
def hesa_id_has_13_or_17_characters(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    value = data.get("hesa_id")
    if value is None or len(value) in (13, 17):
        return None
    return [("hesa_id", value, "hesa_id must be 13 or 17 characters")]


# A number as a spreadsheet shows it in scientific notation (2.50095E+12, 2,50095E+12 with a decimal comma): six
# digits of a 13-digit HUSID are kept (twelve with Excel's widest general format, 2.60121013139E+12), the rest are
# zeros for good (hesa-formats.md §1.4). An SRS that holds the HUSID as a number and writes it with .NET's "E" format
# (or an Excel format 0.00E+000) gives three exponent digits, 2.601210E+012: 13 characters (review173 F1). A sign
# either way. Public: resaved.py tells a spreadsheet's HUSIDs by hesa_id_scientific_notation.
SCIENTIFIC_NUMBER = re.compile(r"[0-9](?:[.,][0-9]+)?[Ee][+-]?[0-9]{1,3}")
_SCIENTIFIC_HUSID = (
    "hesa_id is a number in scientific notation: a spreadsheet turned this HUSID into a number and its last digits "
    "are lost; "
)
_FROM_THE_SRS = "export the HUSID column as text from the SRS"


@rule(
    "hesa_id_scientific_notation",
    fields=("hesa_id",),
    message=_SCIENTIFIC_HUSID + _FROM_THE_SRS + "[; in Register's CSV template, that or the spreadsheet's steps: "
    "hesa_id formatted as Text, ...]",
    source="hesa-formats.md §1.4 and §5 item 6 (Register checks only the length: R18, register-api.md §3.3)",
    fix="A spreadsheet showed the HUSID column as numbers (3.10261E+12) and saved them so: the digits it dropped are "
    "not in the file. Export HUSIDs as text (13 or 17 digits) and do not save the extract from a spreadsheet, or, in "
    "Register's CSV template filled in a spreadsheet, format the hesa_id column as Text and type the HUSIDs again; "
    "register-batch sends none of these records, as Register would store the number as the HUSID.",
    api=False,
)
def hesa_id_is_no_scientific_number(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    """An error, not a hint (review171 F3): 2.60121013139E+12 and 2.5009512E+12 have 17 and 13 characters, which R18
    takes, so sync created the trainee under a HUSID that is not the trainee's, and the corrected file, with the real
    HUSID, no longer matched it by HUSID. Any length, as hesa_id_digit_groups: the fix is the same."""
    value = data.get("hesa_id")
    if value is None or not SCIENTIFIC_NUMBER.fullmatch(value):
        return None
    return [("hesa_id", value, _SCIENTIFIC_HUSID + correct_in(facts.input_format, "the HUSID", _FROM_THE_SRS))]


@rule(
    "hesa_id_not_digits",
    fields=("hesa_id",),
    message="hesa_id should be 13 or 17 digits; this value has other characters (first: 'X' at position N)",
    source="hesa-formats.md §1.4 and §5 item 6 (Register checks only the length)",
    fix="A character other than a digit (a letter O for a zero, a space) is a typing mistake: correct it where the "
    "HUSID is kept.",
    severity=Severity.WARNING,
    api=False,
)
def hesa_id_is_all_digits(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    value = data.get("hesa_id")
    if value is None or _ASCII_DIGITS.fullmatch(value) or value[:1] == "=":  # a formula: spreadsheet_formula says so
        return None
    if SPREADSHEET_ERROR.fullmatch(value):  # #N/A: spreadsheet_error or spreadsheet_error_hint says what it is
        return None
    if _DIGIT_GROUPS.fullmatch(value) or SCIENTIFIC_NUMBER.fullmatch(value):
        return None  # a spreadsheet's number: hesa_id_digit_groups or hesa_id_scientific_notation says so, as an error
    return [
        ("hesa_id", value, f"hesa_id should be 13 or 17 digits; this value has other characters{_first_other(value)}")
    ]


# A number a spreadsheet formatted with thousands separators (review81 F1): Excel's "Use 1000 Separator" writes a
# 13-digit HUSID as 2,601,847,276,218, a German or French locale as 2.601.847.276.218 or with no-break spaces. That is
# exactly 17 characters, so Register's length rule (R18) takes it and would store the trainee under an identifier that
# is not the HUSID. One separator throughout, groups of three: at least ten digits, as no HUSID has fewer.
_DIGIT_GROUPS = re.compile(r"[0-9]{1,3}([,. '\u00a0\u202f\u2019])[0-9]{3}(?:\1[0-9]{3}){2,}")


@rule(
    "hesa_id_digit_groups",
    fields=("hesa_id",),
    message="hesa_id has a spreadsheet's thousands separators ('2,601,847,276,218' for 2601847276218): export the "
    "HUSID column as text from the SRS",
    source="hesa-formats.md §1.4 and §5 item 6 (Register checks only the length: R18, register-api.md §3.3)",
    fix="A spreadsheet formatted the HUSID column as a number with thousands separators. Export HUSIDs as text "
    "(13 or 17 digits, nothing else) and do not save the extract from a spreadsheet; register-batch sends none of "
    "these records, as Register would store the separators as part of the HUSID.",
    api=False,
)
def hesa_id_has_no_digit_groups(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    value = data.get("hesa_id")
    if value is None or _ASCII_DIGITS.fullmatch(value) or not _DIGIT_GROUPS.fullmatch(value):
        return None
    digits = "".join(char for char in value if "0" <= char <= "9")
    # A spreadsheet keeps 15 digits of a number: a 17-digit HUSID's last two are zeros by then (review84 F8).
    said = f"for {digits}" if len(digits) <= 15 else "its last digits may be lost"
    if len(digits) > 15 and facts.input_format != FILLED_IN_A_SPREADSHEET:
        said += ": take the HUSID from the SRS"
    return [
        (
            "hesa_id",
            value,
            f"hesa_id has a spreadsheet's thousands separators ({value!r} {said}): "
            + correct_in(facts.input_format, "the HUSID", "export the HUSID column as text from the SRS"),
        )
    ]


_NOT_FROM_A_SPREADSHEET = "hesa-xml"  # the input format no spreadsheet opens and saves (resaved.SPREADSHEET_FORMATS)
_ROUNDED_HUSID = (
    "hesa_id '{}' is 17 digits ending in 00, as a 17-digit HUSID is once a spreadsheet has held it as a number: it "
    "keeps 15 significant digits, and the last two are lost for good (one real HUSID in a hundred ends in 00: check "
    "it against the SRS). If it was rounded: "
)


@rule(
    "hesa_id_digits_rounded",
    fields=("hesa_id",),
    message="hesa_id '<value>' is 17 digits ending in 00, as a 17-digit HUSID is once a spreadsheet has held it as a "
    "number: it keeps 15 significant digits, and the last two are lost for good (one real HUSID in a hundred ends in "
    "00: check it against the SRS). If it was rounded: export the HUSID column as text from the SRS[; in Register's "
    "CSV template, ...]",
    source="hesa-formats.md §1.4 (Register's own data has 17-digit HUSIDs ending in 00, which fits spreadsheet digit "
    "loss) and §5 item 6; Register checks only the length (R18, register-api.md §3.3)",
    fix="Said of a CSV only (no spreadsheet writes HESA XML). A spreadsheet keeps 15 significant digits of a number: "
    "a 17-digit HUSID in a Number column, or typed again into one, is saved with its last two digits as 00, still 17 "
    "digits, which Register takes. One real HUSID in a hundred ends in 00: if the SRS has this one, nothing to do. "
    "Otherwise export the HUSID column as text from the SRS, or in Register's CSV template filled in a spreadsheet, "
    "format hesa_id as Text and type the HUSID again.",
    severity=Severity.WARNING,
    api=False,
)
def hesa_id_was_not_rounded(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    """26012101313901200 passes R18 and was sent (review224 F2): the rounded number's other forms (2.60121E+16,
    26,012,101,313,901,200) are errors, this one a warning, as a real HUSID may end in 00. Not in HESA XML, which no
    spreadsheet writes (review228 F7): there a HUSID ending in 00 is the SRS's own, warned of on every run."""
    value = data.get("hesa_id")
    if value is None or len(value) != 17 or value[15:] != "00" or facts.input_format == _NOT_FROM_A_SPREADSHEET:
        return None
    if not _ASCII_DIGITS.fullmatch(value):
        return None
    return [
        (
            "hesa_id",
            value,
            _ROUNDED_HUSID.format(value) + correct_in(facts.input_format, "the HUSID", _FROM_THE_SRS),
        )
    ]


# HMRC's form of a National Insurance number: two letters, six digits and a letter A to D (QQ123456C); register-api.md
# §3.3 lists ni_number as 9 characters, not checked. Only the form: which prefixes HMRC allocates is not judged.
_NI_NUMBER = re.compile(r"[A-Z]{2}[0-9]{6}[A-D]")
_NI_NUMBER_SEPARATORS = str.maketrans("", "", " -\u00a0")


@rule(
    "ni_number_form",
    fields=("ni_number",),
    message="ni_number '<value>' is not written as HMRC writes a National Insurance number[, <the form>, without "
    "spaces and in capitals] (two letters, six digits and a letter A to D, such as QQ123456C): Register stores it as "
    "written",
    source="register-api.md §3.3 (ni_number: 9 characters, a length Register does not enforce); HMRC's form of a "
    "National Insurance number",
    fix="Write the National Insurance number as HMRC does, in capitals without spaces (QQ123456C), or leave it blank "
    "if it is not known. register-batch does not rewrite it: Register stores what is sent.",
    severity=Severity.WARNING,
    api=False,
)
def ni_number_is_in_hmrcs_form(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    """`qq758230c`, `QQ 61 45 32 A` (HMRC's printed spacing, typed so) and `QQ123456` pass Register and are stored as
    typed (review224 F4): the form said, and the number as HMRC writes it where spaces or case are all that differ."""
    value = data.get("ni_number")
    if value is None or _NI_NUMBER.fullmatch(value):
        return None
    if value[:1] == "=" or SPREADSHEET_ERROR.fullmatch(value):
        return None  # spreadsheet_formula or spreadsheet_error says what it is
    plain = value.translate(_NI_NUMBER_SEPARATORS).upper()
    said = f", {plain}, without spaces and in capitals" if _NI_NUMBER.fullmatch(plain) else ""
    return [
        (
            "ni_number",
            value,
            f"ni_number '{value}' is not written as HMRC writes a National Insurance number{said} (two letters, six "
            "digits and a letter A to D, such as QQ123456C): Register stores it as written",
        )
    ]


def _first_other(value: str) -> str:
    """Where the first character that is not an ASCII digit is: a letter O among 13 digits, or a full-width digit, is
    hard to see in a report. One that does not show (a zero-width space) is named by its code point too."""
    found = next(((at, char) for at, char in enumerate(value, 1) if not "0" <= char <= "9"), None)
    if found is None:  # an empty value: nothing to point at
        return ""
    at, char = found
    shown = repr(char) if char.isascii() and char.isprintable() else f"{char!r} (U+{ord(char):04X})"
    return f" (first: {shown} at position {at})"


# The escape the HESA XML export writes for a character XML cannot carry (wording.xml_safe: `\x0b`, `\ud800`): read
# back, it is that control character, not text. Sent, Register would store the escape over the value it holds.
_ESCAPED_CONTROL = re.compile(r"\\x(0[0-8bcef]|1[0-9a-f])|\\u(d[89a-f][0-9a-f]{2}|fff[ef])")


# The C1 control characters (U+0080-U+009F) that are printable signs in Windows-1252 at the byte of the same number:
# ’ “ ” – — € … (all but the five bytes it leaves undefined). A file written in Windows-1252 but read as ISO-8859-1
# (an XML declaration that says ISO-8859-1 or latin-1, as legacy SRS exports often write: WHATWG's encoding standard
# reads that label as windows-1252 for this reason) has them where the SRS shows O’Brien (review151 F3). Named so, not
# read otherwise: the value is what the file says.
_WINDOWS_1252_C1 = {chr(byte): sign for byte in range(0x80, 0xA0) if (sign := bytes([byte]).decode("cp1252", "ignore"))}
_AS_WINDOWS_1252 = str.maketrans(_WINDOWS_1252_C1)


def _control_message(label: str, value: str, hit: str, fmt: str | None = None) -> str:
    """What the first control character `hit` of `value` is: a line break, part of UTF-8 text read as ISO-8859-1 (’ in
    UTF-8 is E2 80 99, so read as latin-1 it holds U+0080: review152 F1), Windows-1252's sign read as ISO-8859-1 (when
    that reading leaves no control character), or a control character. `fmt`: the input's format (Facts.input_format),
    for where the text is to be written again."""
    again = correct_in(fmt, "the value", "export it again from the SRS")
    if hit in "\r\n":
        return f"{label} contains a line break: Register would store it as it is"
    code = f"U+{ord(hit):04X}"
    if "\x80" <= hit <= "\x9f" and (said := utf8_read_as_windows_1252(value)):
        return (
            f"{label} contains {code}, part of UTF-8 text read as ISO-8859-1 (latin-1) ({cut_short(said)!r}), and "
            "Register would store the control character. If the file is XML whose declaration says ISO-8859-1 or "
            f"latin-1, make it say UTF-8; otherwise the text was converted so before register-batch read it: {again}"
        )
    if hit in _WINDOWS_1252_C1 and not CONTROL_CHARACTER.search(read := value.translate(_AS_WINDOWS_1252)):
        return (
            f"{label} contains {code}, which is {_WINDOWS_1252_C1[hit]} in Windows-1252 ({cut_short(read)!r}): "
            "Windows-1252 text read as ISO-8859-1 (latin-1), and Register would store the control character. If the "
            "file is XML whose declaration says ISO-8859-1 or latin-1, make it say windows-1252; otherwise the text "
            f"was converted so before register-batch read it: {again}"
        )
    if BIDI_CONTROL.fullmatch(hit):  # invisible; a name or an id never holds one (review162 F6)
        return (
            f"{label} contains a bidirectional override or isolate ({code}), which reorders the text shown after it: "
            "Register would store it as it is"
        )
    return f"{label} contains a control character ({code}): Register would store it as it is"


def _control_findings(prefix: str, values: dict[str, Any], fmt: str | None = None) -> list[Finding]:
    found: list[Finding] = []
    for field, value in values.items():
        # isprintable() first: one fast C call that is true for almost every value (it is also false for some
        # characters that are fine, such as a no-break space, which the search then clears).
        if type(value) is not str:
            continue
        if not value.isprintable() and (hit := CONTROL_CHARACTER.search(value)):
            found.append((f"{prefix}{field}", value, _control_message(f"{prefix}{field}", value, hit.group(), fmt)))
        elif "\\" in value and (escape := _ESCAPED_CONTROL.search(value)):
            code = f"U+{int(escape.group(1) or escape.group(2), 16):04X}"
            found.append(
                (
                    f"{prefix}{field}",
                    value,
                    f"{prefix}{field} contains a control character ({code}) written as '{escape.group()}', as the "
                    "HESA XML export writes one XML cannot carry: correct the value in Register, which would "
                    "otherwise store the escape as it is",
                )
            )
    return found


def _in_record_and_its_items(
    data: dict[str, Any], findings: Callable[[str, dict[str, Any]], list[Finding]]
) -> list[Finding] | None:
    """`findings` of the record's own values, then of each degree's and placement's (fields named `key[i].field`),
    each of these saying which one it is about (catalogue.Item), whose line its issue names."""
    found = findings("", data)
    for key in ("degrees_attributes", "placements_attributes"):
        for index, item in enumerate(data.get(key) or ()):
            if type(item) is dict and (in_item := findings(f"{key}[{index}].", item)):
                found += [(field, value, message, (key, index)) for field, value, message, *_ in in_item]
    return found or None


@rule(
    "control_character",
    fields=("<any text field>",),
    message="<field> contains a line break / a control character (U+NNNN)[ written as '\\xNN', as the HESA XML "
    "export writes one XML cannot carry]: Register would store it as it is / <field> contains a bidirectional "
    "override or isolate (U+202A-U+202E, U+2066-U+2069), which reorders the text shown after it: Register would store "
    "it as it is / <field> contains U+0080-U+009F, which is "
    "<sign> in Windows-1252 ('<the value so read>'): Windows-1252 text read as ISO-8859-1 (latin-1), and Register "
    "would store the control character. If the file is XML whose declaration says ISO-8859-1 or latin-1, make it say "
    "windows-1252; otherwise the text was converted so before register-batch read it: export it again from the SRS / "
    "<field> contains U+0080-U+009F, part of UTF-8 text read as ISO-8859-1 (latin-1) ('<the value so read>'), and "
    "Register would store the control character. If the file is XML whose declaration says ISO-8859-1 or latin-1, "
    "make it say UTF-8; [otherwise ...]",
    source="design.md (bad input: never a value the API would store damaged); Register does not check this; "
    "U+0080-U+009F as Windows-1252: WHATWG Encoding Standard (the iso-8859-1 label is windows-1252)",
    fix="Write the value on one line, without tabs or invisible characters; a NUL or similar means a damaged file. "
    "A bidirectional override or isolate is pasted with text from a web page or a document; delete it (the "
    "direction marks U+200E, U+200F and U+061C and the zero-width joiners, which some scripts write in names, are "
    "kept). "
    "An escape such as \\x0b in a file the HESA XML export wrote stands for a character of the value Register holds: "
    "correct it in Register. A character U+0080-U+009F that the message names as a Windows-1252 sign (’ “ ” – € …) "
    "means the SRS wrote Windows-1252 and the file was read as ISO-8859-1: an XML declaration saying ISO-8859-1 or "
    "latin-1 on such a file should say windows-1252 (register-batch then reads O’Brien as the SRS shows it). In a "
    "UTF-8 file (a CSV, or XML declared UTF-8) the character is in the file itself, put there by a conversion from "
    "ISO-8859-1 of Windows-1252 text (or written as &#146;): export the file again from the SRS as UTF-8. A "
    "character the message names as part of UTF-8 text (â€™ for ’) means a UTF-8 file read as ISO-8859-1: its XML "
    "declaration should say UTF-8.",
    api=False,
)
def text_has_no_control_characters(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    if facts.plain_text:  # the common case, asked of all the record's text at once (facts.text_facts)
        return None
    return _in_record_and_its_items(data, partial(_control_findings, fmt=facts.input_format))


def _formula_findings(prefix: str, values: dict[str, Any]) -> list[Finding]:
    found: list[Finding] = []
    for field, value in values.items():
        if type(value) is str and value[:1] == "=":
            inner = excel_text_of(value)
            said = f" (Excel's =\"…\" form of '{inner}')" if inner is not None else ""
            found.append(
                (
                    f"{prefix}{field}",
                    value,
                    f"{prefix}{field}: '{value}' starts with '=', as a spreadsheet formula does{said}: the file holds "
                    "the formula, not the value it shows",
                )
            )
    return found


@rule(
    "spreadsheet_formula",
    fields=("<any text field>",),
    message="<field>: '<value>' starts with '=', as a spreadsheet formula does[ (Excel's =\"…\" form of '<text>')]: "
    "the file holds the formula, not the value it shows",
    source="hesa-formats.md §3.3 (Register has no formula-injection filter on input: a text value is stored as it "
    "is); design.md (bad input: formula injection in CSV cells); Register does not check this",
    fix='Export the column from the SRS as plain text, not as formulas: some SRS exports write ="02" so that Excel '
    "keeps a code's leading zero when it opens the file. register-batch does not unwrap it. If the value came from "
    "Register (a file read back from `export`), someone typed it there: correct it in Register's service.",
    api=False,
)
def text_is_not_a_spreadsheet_formula(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    """review76 F5: `="2601200000017"` was called a typing mistake and `=Hughes` passed, to be stored so."""
    if facts.plain_text:  # the common case, asked of all the record's text at once (facts.text_facts)
        return None
    return _in_record_and_its_items(data, _formula_findings)


def _in_body(
    labels: dict[str, str], findings: Callable[[str, dict[str, Any]], list[Finding]]
) -> Callable[[dict[str, Any], Facts], list[Finding] | None]:
    """A text rule's check of a withdrawal's or deferral's body, its fields named as Register's trainee shows them
    (`withdrawal_another_reason`, `defer_reason`): the bodies' free text is what a file is likeliest to carry a
    formula or a pasted control character in (review77 F1)."""

    def check(body: dict[str, Any], facts: Facts) -> list[Finding] | None:
        return findings("", {labels.get(key, key): value for key, value in body.items()}) or None

    return check


also_checks("control_character", "withdrawal")(_in_body(HELD_WITHDRAWAL, _control_findings))
also_checks("control_character", "deferral")(_in_body(HELD_DEFERRAL, _control_findings))
also_checks("spreadsheet_formula", "withdrawal")(_in_body(HELD_WITHDRAWAL, _formula_findings))
also_checks("spreadsheet_formula", "deferral")(_in_body(HELD_DEFERRAL, _formula_findings))


# A spreadsheet's error value, written into a CSV in place of the value a formula or lookup failed to give (review156
# F1): Excel's (#N/A from an unmatched VLOOKUP, #NAME? for a name typed as -Jones or +Ann, taken for a formula; the
# 365 ones too), LibreOffice's (the same, and Err:502), Google Sheets' #ERROR!, and a cell of #s (a column too narrow
# for its number). The whole value only: `#1 Placement` or `N/A` is text someone wrote. `Err:502` in LibreOffice's case
# only, as it writes it and as the text rules' fast path looks for it (facts.text_facts: review158 F2).
SPREADSHEET_ERROR = re.compile(
    r"(?i:#(?:N/A|NAME\?|REF!|VALUE!|DIV/0!|NUM!|NULL!|SPILL!|CALC!|GETTING_DATA|FIELD!|BLOCKED!|CONNECT!|BUSY!|"
    r"UNKNOWN!|PYTHON!|TIMEOUT!|ERROR!))|Err:[0-9]{3}|#+"
)
# The fields Register refuses such a value in already, as not a code or not a date, or for its form (an email address,
# a URN, a number, a year; an Apply id by our rule of its form: review158 F1): spreadsheet_error_hint says what the
# value is, after that error. Every other text value gets spreadsheet_error (bodies' fields as labelled), as Register
# would store it. A placement's `urn` and a degree's `graduation_year` are named in their items.
_REFUSED_BY_THEIR_OWN_RULES = frozenset(
    {
        *TRAINEE_CODE_FIELDS,
        *DISABILITY_FIELDS,
        *DEGREE_CODE_FIELDS,
        "date_of_birth",
        "itt_start_date",
        "itt_end_date",
        "trainee_start_date",
        "pg_apprenticeship_start_date",
        *(HELD_WITHDRAWAL[f] for f in ("withdrawal_date", "reasons", "trigger", "future_interest")),
        HELD_DEFERRAL["defer_date"],
        "email",
        "course_year",
        "application_id",
        "training_partner_urn",
        "employing_school_urn",
        "urn",
        "graduation_year",
    }
)
_WHAT_IT_IS = "is a spreadsheet's error value (a formula or lookup that failed)"


def _error_value_findings(prefix: str, values: dict[str, Any]) -> list[Finding]:
    return [
        (
            f"{prefix}{field}",
            value,
            f"{prefix}{field}: '{value}' {_WHAT_IT_IS}, not the value: Register would store it as it is",
        )
        for field, value in values.items()
        if type(value) is str
        and field not in _REFUSED_BY_THEIR_OWN_RULES
        and SPREADSHEET_ERROR.fullmatch(value)
        and not _refused_for_its_form(field, value)
    ]


def _refused_for_its_form(field: str, value: str) -> bool:
    """A HUSID hesa_id_length refuses (Register checks only the length, R18: `#GETTING_DATA` has 13 characters and
    would be stored), and a training partner UKPRN, which training_partner_ukprn_invalid refuses or, beside a URN,
    Register never looks at (it uses the URN, §3.1: nothing it would store, review160 F3)."""
    if field == "hesa_id":
        return len(value) not in (13, 17)
    return field == "training_partner_ukprn"


@rule(
    "spreadsheet_error",
    fields=("<any text field>",),
    message=f"<field>: '#N/A' {_WHAT_IT_IS}, not the value: Register would store it as it is",
    source="register-api.md §3.1 (names and ids are free text: Register checks their length only, and stores #N/A "
    "as it is; there is no DELETE /trainees, §1.1); Register does not check this",
    fix="Mend the workbook the file was saved from: a lookup (VLOOKUP, XLOOKUP, INDEX/MATCH) that found no row gives "
    "#N/A, and a name typed as -Jones or +Ann is taken for a formula (#NAME?): type it with a ' first. Or export the "
    "column from the SRS rather than computing it. Register cannot delete a trainee: a trainee created with #N/A as "
    "a name stays so until corrected in Register's service.",
    api=False,
)
def text_is_not_a_spreadsheet_error(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    """review156 F1: `#N/A` as a last name or `#NAME?` as a first name validated clean, and sync created the
    trainees so."""
    if facts.plain_text:  # the common case, asked of all the record's text at once (facts.text_facts)
        return None
    return _in_record_and_its_items(data, _error_value_findings)


also_checks("spreadsheet_error", "withdrawal")(_in_body(HELD_WITHDRAWAL, _error_value_findings))
also_checks("spreadsheet_error", "deferral")(_in_body(HELD_DEFERRAL, _error_value_findings))


# What a name's garbled letters say when mended: Latin-1's letters, Latin Extended-A (ł, ś, ő, č), Vietnamese ơ and ư,
# Azerbaijani ə, Romanian ș and ț, Greek and Cyrillic, and anything of three bytes or more (’ written as â€™). Not the
# rest of Latin Extended-B and the letters past Cyrillic: `KOÇ–YILMAZ` (Ç, en dash) would say `KOǖYILMAZ`.
_MENDED_LETTER = re.compile(
    "[\u00c0-\u017f\u018f\u01a0\u01a1\u01af\u01b0\u0218-\u021b\u0259\u0370-\u04ff\u0800-\U0010ffff]"
)
# What genuine text puts after an accented letter, as Windows-1252 bytes: a dash, a curly quote, an ellipsis, a
# bullet or middle dot, a no-break or soft hyphen. A letter followed by one forms a UTF-8 pair by chance
# (`HEIKKILÄ–NIEMI` says `HEIKKILĖNIEMI`), so such a pair alone is no evidence of garbling. But for `Ã` (C3): Ñ Ò Ó Ô
# Õ Ö are C3 91-96, garbled `Ã‘ Ã’ Ã“ Ã” Ã• Ã–`, where a word ending in `ã` then a curly quote or dash is rare.
_PUNCTUATION_BYTES = frozenset(b"\x85\x91\x92\x93\x94\x95\x96\x97\xa0\xad\xb7")
_AFTER_A_TILDE = frozenset(b"\xa0\xad")


def utf8_read_as_windows_1252(value: str) -> str | None:
    """What `value` says if it is UTF-8 text read as Windows-1252 (or Latin-1), `JosÃ©` for `José`; else None.

    Such text comes from an XML declaration naming windows-1252 or ISO-8859-1 on a file saved as UTF-8, or from a
    system that encoded it twice. Only a value whose every garbled character mends to a letter names hold
    (`_MENDED_LETTER`), one of them at least not by way of punctuation alone (`_PUNCTUATION_BYTES`), counts:
    genuine Windows-1252 text such as `RENÉ–SMITH` or `KOÇ–YILMAZ` reads as nothing of the kind.
    """
    try:
        said = value.encode("cp1252", _AS_LATIN_1).decode("utf-8")
    except UnicodeError:
        return None
    if said == value:
        return None
    evidence = False
    for char in said:
        if char.isascii():
            continue
        if not (_MENDED_LETTER.match(char) and (char >= "\u0800" or char.isalpha())):
            return None
        if not evidence:
            encoded = char.encode("utf-8")
            chance = _AFTER_A_TILDE if encoded[0] == 0xC3 else _PUNCTUATION_BYTES
            evidence = any(byte not in chance for byte in encoded[1:])
    return said if evidence else None


def _latin_1_bytes(error: UnicodeError) -> tuple[bytes, int]:
    """The five bytes Windows-1252 leaves undefined (0x81 of `Ł`, C5 81) are read as Latin-1 (U+0081) by the
    CSV reader and by parsers: written back as that byte."""
    if not isinstance(error, UnicodeEncodeError) or any(ord(c) > 0xFF for c in error.object[error.start : error.end]):
        raise error
    return error.object[error.start : error.end].encode("latin-1"), error.end


_AS_LATIN_1 = "register_batch.latin_1_bytes"
codecs.register_error(_AS_LATIN_1, _latin_1_bytes)


# Text saved in another single-byte code page and read as Windows-1252 (review53 F3): Excel for Mac's "CSV
# (Macintosh)" is Mac Roman, where é ë í ñ ó ü are the bytes Windows-1252 reads as Ž ‘ ’ – — Ÿ (JosŽ, Zo‘, MŸller),
# and a Central European Windows saves Windows-1250, where Ł ł ś are £ ³ œ (£ukasz, Micha³, Wiœniewski). Each such
# value is valid-looking text, so Register would store it. The signs below stand where no name has one
# (`_misread_letter` says where); ’ (Mac Roman í) is left out, as `Isma’il` and `O’Neill` have it, and so are š and ž
# (ö û), Czech letters. Excel's "CSV (MS-DOS)" is the OEM code page, 850 on a Western Windows (review81 F2): é â à ç
# ê ë è í ó ú ñ á are ‚ ƒ … ‡ ˆ ‰ Š ¡ ¢ £ ¤ and a no-break space (Jos‚, Siƒn, Mar¡a, L¢pez, Se n for Seán). Many signs
# read as a letter in Mac Roman and in it alike (Zo‰: Zoâ or Zoë, Mu–oz: Muñoz or Muûoz), so it is the reading of last
# resort: asked only of a value no other code page reads as a name (`_LAST_RESORT`), and taken only on the signs of
# its commonest letters (`_LAST_RESORT_SIGNS`; not Ž, Ä to it: Žaneta is a name).
_CODE_PAGES = (("mac_roman", "Mac Roman"), ("cp1250", "Windows-1250"))
_LAST_RESORT = ("cp850", "MS-DOS (code page 850)")
_LAST_RESORT_SIGNS = frozenset("\x81\x90\xa0‚ƒ„…‡ˆ‰Š‹¡¢£¤")
_MISREAD_SIGN = re.compile("[\x81\x8d\x8f\x90\x9d\xa0‚ƒ„…†‡ˆ‰‹›•˜™€§®£¥¹³¼¾¿¯ŠŽŸŒœ‘“”–—ªº¡¢¤]")
# Letters no name has, which a code page reads a sign as: not evidence of a name (MŸller is no Mƒller in MS-DOS).
_NOT_IN_NAMES = frozenset("ƒµˆˇ")


def single_byte_read_as_windows_1252(value: str, *, weak: bool = False) -> list[tuple[str, str]]:
    """[(code page, what `value` says in it)] if `value` reads as text of Mac Roman or Windows-1250 read as
    Windows-1252 (`JosŽ` for `José`, `£ukasz` for `Łukasz`); else []. Both when both fit (`MŸller`: Müller or Mźller).
    A value neither fits may be MS-DOS's code page 850 (`Jos‚` for `José`, `Se n` for `Seán`).

    A code page fits when every character it reads differently is a letter, one of them at least where a sign was
    that no genuine name has there (`_misread_letter`): `Cœur`, `Mª José`, `Smith–Jones` or `KAŠPAR` read as nothing
    of the kind. The cheap test first: most names have none of these signs. A reading resting only on signs a name
    written right may have (`_REAL_IN_NAMES`: Zo‘, but also Sa‘id) is left out; with `weak`, those readings are all
    that is given, and only when no code page fits surely.
    """
    if not _MISREAD_SIGN.search(value):
        return []
    try:
        raw = value.encode("cp1252", _AS_LATIN_1)
    except UnicodeError:  # a character Windows-1252 has not (ł, ş, ễ): not read as Windows-1252
        return []
    sure: list[tuple[str, str]] = []
    maybe: list[tuple[str, str]] = []
    for codec, name in _CODE_PAGES:
        _add_reading(value, raw, codec, name, sure, maybe)
    if not sure and not maybe:
        _add_reading(value, raw, *_LAST_RESORT, sure, maybe, signs=_LAST_RESORT_SIGNS)
    if weak:
        return [] if sure else maybe
    return sure


def _add_reading(
    value: str,
    raw: bytes,
    codec: str,
    name: str,
    sure: list[tuple[str, str]],
    maybe: list[tuple[str, str]],
    *,
    signs: frozenset[str] | None = None,
) -> None:
    """`value` as `codec` reads its bytes `raw`, added to `sure` or `maybe` if it fits
    (single_byte_read_as_windows_1252); with `signs`, only those count as misread letters."""
    try:
        said = raw.decode(codec)
    except UnicodeDecodeError:  # a byte Windows-1250 leaves undefined
        return
    misread = [
        value[hit.start()]
        for hit in _MISREAD_SIGN.finditer(value)
        if (signs is None or hit.group() in signs) and _misread_letter(value, hit.start(), said)
    ]
    if (
        said != value
        and misread
        and all(new.isalpha() and new not in _NOT_IN_NAMES for old, new in zip(value, said, strict=True) if old != new)
    ):
        (maybe if all(sign in _REAL_IN_NAMES for sign in misread) else sure).append((name, said))


# Signs some real names have where a letter would be, written so in a file read right (review55 F1): ‘ for the Arabic
# ʿayn or the Hawaiian ʻokina (Sa‘id, Keali‘i), œ and Œ (Phœbe, Œdipe), ª and º, an ellipsis. A value whose only signs
# are these (Zo‘ for Zoë, but also Sa‘id) is a warning (`possibly_garbled_text`), as it may be the name as written;
# beside a sign no name has there (Ž after a lowercase letter, Ÿ, £ before one, a dash between lowercase letters:
# Zo‘ RenŽe, Mu–oz), it is part of the same damage (`garbled_text`).
_REAL_IN_NAMES = frozenset("‘œŒªº…\xa0")


def _misread_letter(value: str, at: int, said: str) -> bool:
    """Whether the sign at `at` stands where a letter belongs, the letter the other code page reads there (`said`, the
    value as that code page reads it) fitting the letters either side as it reads them: é after a lowercase letter
    (`AndrŽ`), ü between M and l (`MŸller`), Ł before one (`£ukasz`), É beside a capital of ASCII (`JOSƒ`, not `Î€`),
    ú before ñ (`N£¤ez`, MS-DOS's Núñez). A dash or quote, which names do have, counts only before a lowercase letter
    (`Mu–oz`, not `Smith–Jones`), and œ before u or i is French (`Cœur`, `Œuvre`)."""
    sign = value[at]
    letter = said[at]
    if sign == letter:
        return False

    # A neighbour as the other code page reads it only where both it and the sign are no letter in Windows-1252
    # (N£¤ez): a letter there (Š, Ø, Ž after a dash or a no-break space) is the letter it is.
    def near(i: int) -> str:
        if not 0 <= i < len(value):
            return " "
        return said[i] if not sign.isalpha() and not value[i].isalpha() else value[i]

    before = near(at - 1)
    after = near(at + 1)
    if sign in "œŒ" and after in "uiUI":
        return False
    if sign == "‘":  # ë: Zo‘, No‘l; a quote after a letter opens nothing, but d‘Arcy may be an apostrophe
        return before.islower() and not after.isupper()
    if sign in "“”–—":  # ì î ñ ó: Mu–oz, L—pez; not a dash or a quote between names
        return before.isalpha() and after.islower()
    if sign in "ªº":  # Ş ş: not Mª (María)
        return before.isalpha() and after.isalpha()
    if sign == "…" and not after.isalpha():  # Ö: not a name cut short with an ellipsis
        return False
    if sign == "\xa0":  # MS-DOS á: only inside a word (Se n); between names (Mary Ann) it is a space
        return before.isalpha() and after.islower() and not _beside_a_particle(value, at)
    if letter.islower():
        return before.islower() or (before.isupper() and after.islower())
    # An upper-case letter: starting a word of lowercase ones (£ukasz), or in a word in capitals (JOSƒ)
    if before.islower() or after.islower():
        return not before.isalpha() and after.islower()
    return "A" <= before <= "Z" or "A" <= after <= "Z"


# Lowercase name particles, which a no-break space keeps with the name after them (van der Merwe, de la Cruz) in text
# pasted from Word or a web page (review84 F5).
_PARTICLES = frozenset(
    {
        "af",
        "al",
        "ap",
        "av",
        "bin",
        "bint",
        "da",
        "das",
        "de",
        "degli",
        "dei",
        "del",
        "della",
        "den",
        "der",
        "des",
        "di",
        "do",
        "dos",
        "du",
        "el",
        "ibn",
        "la",
        "le",
        "op",
        "ten",
        "ter",
        "van",
        "von",
        "zu",
        "zum",
        "zur",
    }
)
_WORD_END = re.compile(r"[ \xa0'’-]")


def _beside_a_particle(value: str, at: int) -> bool:
    """Whether the no-break space at `at` follows a lowercase particle (van der), or comes before one that another
    name follows (María de la Cruz): a space between names, not an MS-DOS á inside a word (Gran das, Se n)."""
    starts = [m.end() for m in _WORD_END.finditer(value, 0, at)]
    if value[starts[-1] if starts else 0 : at] in _PARTICLES:
        return True
    follows = _WORD_END.search(value, at + 1)
    return follows is not None and follows.group() in " \xa0" and value[at + 1 : follows.start()] in _PARTICLES


def _garbled_findings(prefix: str, values: dict[str, Any]) -> list[Finding]:
    found: list[Finding] = []
    for field, value in values.items():
        if type(value) is not str or value.isascii():
            continue
        if said := utf8_read_as_windows_1252(value):
            found.append(
                (
                    f"{prefix}{field}",
                    value,
                    f"{prefix}{field} reads as UTF-8 text read as Windows-1252 ({value!r} for {said!r}): Register "
                    "would store it garbled",
                )
            )
        elif readings := single_byte_read_as_windows_1252(value):
            found.append(
                (
                    f"{prefix}{field}",
                    value,
                    f"{prefix}{field} reads as {_readings(value, readings)}: Register would store it garbled; save the "
                    "file as 'CSV UTF-8'",
                )
            )
    return found


def _readings(value: str, readings: list[tuple[str, str]]) -> str:
    """`Mac Roman text read as Windows-1252 ('Zo‘' for 'Zoë')`, naming each code page that fits."""
    pages = " or ".join(name for name, _said in readings)
    says = " or ".join(repr(said) for _name, said in readings)
    return f"{pages} text read as Windows-1252 ({value!r} for {says})"


def _possibly_garbled_findings(prefix: str, values: dict[str, Any]) -> list[Finding]:
    found: list[Finding] = []
    for field, value in values.items():
        if (
            type(value) is str
            and not value.isascii()
            and (readings := single_byte_read_as_windows_1252(value, weak=True))
            and not utf8_read_as_windows_1252(value)  # garbled_text's
        ):
            found.append(
                (
                    f"{prefix}{field}",
                    value,
                    f"{prefix}{field} may be {_readings(value, readings)}: if the file was saved as 'CSV UTF-8', or is "
                    "XML, it is the value as written; if not, save it as 'CSV UTF-8'",
                )
            )
    return found


@rule(
    "garbled_text",
    fields=("<any text field>",),
    message="<field> reads as UTF-8 text read as Windows-1252 ('JosÃ©' for 'José'): Register would store it garbled / "
    "<field> reads as Mac Roman [or Windows-1250, or MS-DOS (code page 850)] text read as Windows-1252 ('JosŽ' for "
    "'José'): Register would store it garbled; save the file as 'CSV UTF-8'",
    source="design.md (bad input: wrong encoding); Register does not check this",
    fix="Correct the value. If many values read so, the file is UTF-8 read as another encoding: an XML declaration "
    "that names windows-1252 or ISO-8859-1 on a file saved as UTF-8 (make it say UTF-8), or an export that encoded "
    "its text twice. Names such as JosŽ, MŸller or £ukasz come from a CSV file saved as Mac Roman (Excel for Mac's "
    "'CSV (Macintosh)') or Windows-1250 (a Central European Windows), and Jos‚, Siƒn or Mar¡a from one saved as "
    "Excel's 'CSV (MS-DOS)' (code page 850): save it as 'CSV UTF-8' and validate it again.",
    api=False,
)
def text_is_not_garbled(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    if facts.all_ascii:
        return None
    return _in_record_and_its_items(data, _garbled_findings)


@rule(
    "possibly_garbled_text",
    fields=("<any text field>",),
    message="<field> may be Mac Roman [or Windows-1250, or MS-DOS (code page 850)] text read as Windows-1252 ('Zo‘' "
    "for 'Zoë'): if the file was saved as 'CSV UTF-8', or is XML, it is the value as written; if not, save it as "
    "'CSV UTF-8'",
    source="design.md (bad input: wrong encoding); Register does not check this",
    fix="If the file is a CSV saved as 'CSV (Macintosh)', as 'CSV (MS-DOS)' (Se n for Seán: a no-break space inside a "
    "word) or by a Central European Windows, save it as 'CSV UTF-8' and validate it again. If it was saved as UTF-8, "
    "or is XML, the value is as written (‘ for an ʿayn or an ʻokina, Phœbe): nothing to do.",
    severity=Severity.WARNING,
    api=False,
)
def text_is_not_possibly_garbled(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    """A value whose only signs of Mac Roman or Windows-1250 read as Windows-1252 are ones a name written right may
    have (‘ œ Œ: Zo‘ for Zoë, but also Sa‘id, Phœbe): a warning, not garbled_text's error (review55 F1)."""
    if facts.all_ascii:
        return None
    return _in_record_and_its_items(data, _possibly_garbled_findings)


# U+FFFD, the replacement character: what a decoder writes for bytes it cannot read. A file holds it where an editor
# read it with the wrong encoding and then saved it as UTF-8 (a Windows-1252 extract behind a UTF-8 byte order mark,
# hesa_xml._not_in_its_encoding), or where an export replaced what it could not read: the letter is gone, and no
# reading of the file gives it back. The readers decode strictly, so it is never theirs. Windows-1252 has no U+FFFD,
# so the garbled rules read such a value as nothing (utf8_read_as_windows_1252: None); this rule alone names it.
_REPLACEMENT = "\ufffd"


def _replacement_findings(prefix: str, values: dict[str, Any]) -> list[Finding]:
    return [
        (
            f"{prefix}{field}",
            value,
            f"{prefix}{field} holds U+FFFD, the replacement character ({value!r}): the letter it stands for was lost "
            "when the file was saved or exported with the wrong encoding, and Register would store the value as it is",
        )
        for field, value in values.items()
        if type(value) is str and _REPLACEMENT in value
    ]


@rule(
    "replacement_character",
    fields=("<any text field>",),
    message="<field> holds U+FFFD, the replacement character ('Jos\ufffd'): the letter it stands for was lost when "
    "the file was saved or exported with the wrong encoding, and Register would store the value as it is",
    source="design.md (bad input: wrong encoding); Register does not check this",
    fix="Correct the value in the SRS and export the file again from it, as UTF-8; validate the new file. Do not "
    "mend the file in an editor and save it again: an editor that reads it with the wrong encoding (a Windows-1252 "
    "file behind a UTF-8 byte order mark, say) is what writes U+FFFD for each letter it cannot read, and the letters "
    "cannot be got back from the saved file. If the value came from Register (a file read back from `export`), "
    "correct it in Register's service.",
    api=False,
)
def text_has_no_replacement_character(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    """A letter lost to a wrong-encoding save is U+FFFD in every reading of the file (review150 F1: such a file
    validated clean, to be stored so)."""
    if facts.plain_text:  # the common case, asked of all the record's text at once (facts.text_facts)
        return None
    return _in_record_and_its_items(data, _replacement_findings)


also_checks("replacement_character", "withdrawal")(_in_body(HELD_WITHDRAWAL, _replacement_findings))
also_checks("replacement_character", "deferral")(_in_body(HELD_DEFERRAL, _replacement_findings))


# A letter a single-byte encoding cannot hold, saved as `?` (review156 F2): Excel's "CSV (Comma delimited)" writes
# Windows-1252, which has no ł, ś, ş or ễ (`Ma?gorzata`, `?ukasz`, `Ku?` for Kuć), nor any Greek, Cyrillic or CJK
# letter (Γιώργος as `???????`, 芳 as `?`: review158 F4, review159 F1). No person's name holds a `?`, so any `?` in
# one counts (a placeholder `?` too: Register would show it as the name); a free text (a placement's name, a
# withdrawal's or deferral's reason) may end a question with one, so only a `?` between two letters counts there.
# Ids, codes and emails are ASCII as written: not looked at.
_LETTER = r"[^\W\d_]"
_PERSON_NAME_FIELDS = ("first_names", "middle_names", "last_name", "previous_last_name")
_PERSON_NAMES = frozenset(_PERSON_NAME_FIELDS)
_FREE_TEXTS = frozenset(
    {"name", "other_grade", HELD_WITHDRAWAL["another_reason"], HELD_WITHDRAWAL["safeguarding_concern_reasons"]}
    | {HELD_DEFERRAL["defer_reason"]}
)
_LOST_IN_TEXT = re.compile(rf"{_LETTER}\?+{_LETTER}")
# A link's query string (forms.example.ac.uk/view?id=123): the commonest `?` between two letters in free text, left
# out before looking (review158 F5: a withdrawal's reason quoting a form's link was held back).
_LINK = re.compile(r"https?://\S+|www\.\S+|\S+\.\S+/\S*\?\S*", re.I)


def _lost_letter_findings(prefix: str, values: dict[str, Any]) -> list[Finding]:
    found: list[Finding] = []
    for field, value in values.items():
        if type(value) is not str or "?" not in value or SPREADSHEET_ERROR.fullmatch(value):
            continue  # #NAME? is spreadsheet_error's
        if field in _PERSON_NAMES or (
            field in _FREE_TEXTS and _LOST_IN_TEXT.search(value) and _LOST_IN_TEXT.search(_LINK.sub(" ", value))
        ):
            label = f"{prefix}{field}"
            found.append((label, value, _lost_letter_message(label, value)))
    return found


# A name of one or two `?` and nothing else: as likely a placeholder a person typed as a Chinese name whose every
# letter was lost (芳, 王芳), and saving the file as UTF-8 would leave a placeholder as it is (fix-carry2).
_ONLY_MARKS = re.compile(r"\s*\?{1,2}\s*")


def _lost_letter_message(label: str, value: str) -> str:
    if _ONLY_MARKS.fullmatch(value):
        return _only_marks_message(label, value)
    return (
        f"{label}: '{value}' has '?' where a letter should be: a letter was lost when the file was saved in an "
        'encoding that cannot hold it (Excel\'s "CSV (Comma delimited)" saves Windows-1252), and Register would '
        "store the '?': save the file as UTF-8 (\"CSV UTF-8\") and validate it again"
    )


def _only_marks_message(label: str, value: str) -> str:
    return (
        f"{label}: '{value}' is no name, only '?': a placeholder put in where the name was not known, which Register "
        "would show as the name, or a name whose every letter was lost when the file was saved in an encoding that "
        'cannot hold it (a Chinese name of one or two characters in Excel\'s "CSV (Comma delimited)", Windows-1252): '
        'put the name in the SRS, or save the file as UTF-8 ("CSV UTF-8"), and validate it again'
    )


@rule(
    "lost_letter",
    fields=(
        *_PERSON_NAME_FIELDS,
        "placements_attributes.name",
        "degrees_attributes.other_grade",
        "withdrawal_another_reason",
        "withdrawal_safeguarding_concern_reasons",
        "defer_reason",
    ),
    message=f"{_lost_letter_message('<field>', 'Ma?gorzata')} / {_only_marks_message('<field>', '?')}",
    source="design.md (readers: Windows-1252 from Excel); Windows-1252 has no letter of most Central and "
    "Eastern European, Turkish or Vietnamese names, and a save in it writes '?' for each; Register does not check "
    "this (a name is free text, register-api.md §3.1)",
    fix='Save the file as "CSV UTF-8 (Comma delimited)" in Excel (or export it again from the SRS as UTF-8) and '
    "validate it again; the letter cannot be got back from the saved file. A HESA XML file declaring windows-1252 "
    "loses letters the same way: export it as UTF-8. Any '?' in a person's name counts (Ma?gorzata, ?ukasz, "
    "??????? for a Greek name, ? for a Chinese one, and a '?' put in as a placeholder, which Register would show as "
    "the name: for a name of one or two '?' alone, the message says both, and a placeholder's name is put in the "
    "SRS); in free text (a placement's name, a withdrawal's reason) it is between two letters. It is an "
    "error, as U+FFFD is (replacement_character): the record is not sent, so that a sync does not replace the name "
    "Register holds with the damaged one. A question in free text is left alone when its '?' is followed by a space "
    "('Why? Illness'), and so is a link's ('forms.example.ac.uk/view?id=123').",
    api=False,
)
def text_has_no_lost_letter(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    """review156 F2: `Ma?gorzata` from an Excel save validated clean, and sync replaced Register's `Małgorzata`
    with it (a warning would not have stopped that in a nightly job, which no one reads the warnings of)."""
    if facts.plain_text:  # the common case, asked of all the record's text at once (facts.text_facts)
        return None
    return _in_record_and_its_items(data, _lost_letter_findings)


also_checks("lost_letter", "withdrawal")(_in_body(HELD_WITHDRAWAL, _lost_letter_findings))
also_checks("lost_letter", "deferral")(_in_body(HELD_DEFERRAL, _lost_letter_findings))


_WILDCARD_MESSAGE = (
    "last_name '{value}' has '%' or '_', which Register's duplicate check reads as a wildcard (any letters, any one "
    "letter): Register would refuse this trainee with 409 (already in Register) if it holds a trainee of the same date "
    "of birth, route and start cycle, and first name or email, whose last name fits it (one this file creates first, "
    "too)"
)


@rule(
    "last_name_wildcard",
    fields=("last_name",),
    message=_WILDCARD_MESSAGE.format(value="<value>"),
    source="register-api.md §4 (find_duplicate_trainees.rb: `last_name ILIKE ?`, the submitted name the pattern, "
    "where % and _ act as wildcards); Register accepts the name",
    fix="Write the last name as the trainee writes it (an apostrophe as ', not _). If it is a placeholder (%), put "
    "the real name in the SRS first.",
    severity=Severity.WARNING,
    api=False,
)
def last_name_has_no_wildcards(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    """In-file duplicates are grouped by equal names (duplicates.py), so `O_Neil` and `O'Neil` passed clean and the
    second was refused with 409 by sync (review129 F1): a name Register matches as a pattern is said as such. It is
    the record with the pattern whose create is refused, and only once the other is held (review139 F4)."""
    last = data.get("last_name")
    if last is None or ("%" not in last and "_" not in last) or not has_wildcard(last):
        return None
    return [("last_name", last, _WILDCARD_MESSAGE.format(value=last))]


_BACKSLASH_MESSAGE = (
    "last_name '{value}' has '\\', which Register's duplicate check reads as an escape (the next letter as written, "
    "the backslash dropped): the name does not fit itself there, so Register would not refuse this trainee's create "
    "sent a second time, and would refuse it with 409 (already in Register) if it holds a trainee of the same date of "
    "birth, route and start cycle, and first name or email, whose last name is the one read so (O'Neil for "
    "O\\'Neil){ending}"
)
# Said of a name ending in a lone backslash: PostgreSQL raises when matching reaches it (ilike.LikePatternError).
_ENDING = (
    "; ending in '\\', the name makes that check fail, and Register answers 500 (an internal error) to the create, "
    "when it holds a trainee of the date of birth whose last name begins with the rest (this name, too)"
)


@rule(
    "last_name_backslash",
    fields=("last_name",),
    message=_BACKSLASH_MESSAGE.format(value="<value>", ending=_ENDING),
    source="register-api.md §4 (find_duplicate_trainees.rb: `last_name ILIKE ?`, the submitted name the pattern; "
    "PostgreSQL's escape character is the backslash, and a pattern ending in one is an error); Register accepts the "
    "name",
    fix="Write the last name as the trainee writes it: an apostrophe an SRS exported escaped (O\\'Neil) as ' alone.",
    severity=Severity.WARNING,
    api=False,
)
def last_name_has_no_backslash(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    """A backslash (an SRS's escaped apostrophe, `O\\'Neil`) makes the name no match for itself in Register's
    duplicate check: sync waits for an unanswered create of it rather than send it again (review139 F1), and this
    says why the 409 does not guard the trainee."""
    last = data.get("last_name")
    if last is None or "\\" not in last:
        return None
    ending = _ENDING if ends_in_escape(last) else ""
    return [("last_name", last, _BACKSLASH_MESSAGE.format(value=last, ending=ending))]


# Register's EmailFormatValidator (register-api.md §3.1: app/validators/email_format_validator.rb) is a Ruby port of
# GOV.UK Notify's check that differs from Notify's own: the address is not stripped, a host is not turned into its
# ASCII (xn--) form first (so a host with a letter outside ASCII is refused), and a label has one hyphen between its
# letters or digits (`xn-` aside: PART_REGEX). Ruby's split drops a trailing empty label, so a host ending in one dot
# (`example.com.`) passes. Ruby's ^ and $ match at each line's start and end (Python's re.MULTILINE), and `match?`
# looks anywhere (search): an address on one line of the value passes, its other lines being control_character's to
# refuse, not this API rule's. Ruby's \s is ASCII white space only. PART_REGEX has /i, whose [a-z] is ASCII but for
# two letters Ruby folds to one: the long s (ſ) and the Kelvin sign (K) (_RUBY_FOLDED). TLD_REGEX has no /i (review113
# F1): the top-level domain must be in lower case as sent (`name@example.COM` is refused; Notify lower-cases the host
# first, Register's port does not).
_EMAIL = re.compile(r"^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~\-]+@([^.@][^@ \t\n\v\f\r]+)$", re.MULTILINE)
_HOSTNAME_PART = re.compile(r"^(xn-|[a-z0-9]+)(-[a-z0-9]+)*$", re.IGNORECASE | re.ASCII | re.MULTILINE)
_TLD = re.compile(r"^([a-z]{2,63}|xn--([a-z0-9]+-)*[a-z0-9]+)$", re.ASCII | re.MULTILINE)
_RUBY_FOLDED = str.maketrans({"\u017f": "s", "\u212a": "k"})
EMAIL_MESSAGE = "email Enter an email address in the correct format, like name@example.com"


def email_is_valid(value: str) -> bool:
    """Register's email check (EmailFormatValidator), as Register runs it on the address sent."""
    if len(value) > 320 or ".." in value:
        return False
    match = _EMAIL.search(value)
    if not match:
        return False
    return _hostname_is_valid(match.group(1))


@lru_cache(maxsize=4096)  # hostnames repeat across a file (a provider's trainees share a few mail domains)
def _hostname_is_valid(hostname: str) -> bool:
    parts = hostname.split(".")
    if parts[-1] == "":  # Ruby's String#split leaves out a trailing empty field
        parts.pop()
    if len(hostname) > 253 or len(parts) < 2:
        return False
    # PART_REGEX (/i) is matched on the folded part (one letter for one: the lengths are the same), TLD_REGEX (no /i)
    # on the last part as sent.
    if any(len(part) > 63 or not _HOSTNAME_PART.search(part.translate(_RUBY_FOLDED)) for part in parts):
        return False
    return bool(_TLD.search(parts[-1]))


@rule(
    "invalid_email",
    fields=("email",),
    message=EMAIL_MESSAGE,
    source="register-api.md §3.1 (app/validators/email_format_validator.rb), §7.2",
    fix=(
        "Give one address like name@example.com: no spaces, one @, a domain with a dot whose last part is in lower "
        "case (example.com, not example.COM)."
    ),
)
def email_is_well_formed(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    value = data.get("email")
    if value is None or email_is_valid(value):
        return None
    return [("email", value, EMAIL_MESSAGE)]


# Rails' only_integer regexp /\A[+-]?\d+\z/, where Ruby's `\d` is [0-9]: Python's `\d` also takes '１' or '١'.
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")


@rule(
    "course_year_not_integer",
    fields=("course_year",),
    message="course_year is not a valid course year",
    source="register-api.md §3.1 (numericality only_integer), §7.2",
    fix="Use the year of the programme as a whole number (HESA YEARPRG: 0 foundation, 1, 2, 3).",
)
def course_year_is_a_whole_number(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    value = data.get("course_year")
    if value is None or _WHOLE_NUMBER.fullmatch(str(value)):
        return None
    return [("course_year", value, "course_year is not a valid course year")]


@rule(
    "application_id_not_integer",
    fields=("application_id",),
    message="application_id is not a whole number: Register keeps Apply's application choice id as a number",
    source="register-api.md §3.1 (application_id: JSON type integer, stored as application_choice_id); "
    "Register does not check this",
    fix="Give Apply's application choice id as it is in Apply, digits only (56789), or leave it blank.",
    api=False,
)
def application_id_is_a_whole_number(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    """Register checks only the id's length, then keeps it in an integer column: `A1234` would not be stored as
    sent (the emulator keeps null), and every sync would find it differing and send it again (review68 F2)."""
    value = data.get("application_id")
    if value is None or _WHOLE_NUMBER.fullmatch(str(value)):
        return None
    return [
        (
            "application_id",
            value,
            "application_id is not a whole number: Register keeps Apply's application choice id as a number",
        )
    ]


# --- code lists (§5) --------------------------------------------------------------------------------

_PLAIN_CODE_FIELDS = {f: c for f, c in TRAINEE_CODE_FIELDS.items() if f not in ("training_route", "iqts_country")}


def _plain_code_sets(reference: ReferenceData) -> tuple[tuple[str, str, frozenset[str]], ...]:
    return reference.derived(
        "plain_code_sets",
        lambda: tuple((field, name, reference.codes(name)) for field, name in _PLAIN_CODE_FIELDS.items()),
    )


@rule(
    "invalid_code",
    fields=tuple(_PLAIN_CODE_FIELDS),
    message="<field> has invalid reference data value of '<value>'. Valid values are … / Example values include …[ "
    "'<value>' is what <file:line> translates '<input's code>' to: correct that translation]",
    source="register-api.md §5.1-§5.2 (api_inclusion_validator.rb, error_message_helpers.rb)",
    fix="Use a code from Register's list for the field (`register-batch reference show FIELD`, with FIELD as the "
    f"report names it), or add a translation {in_a_mapping_file()}.",
)
def coded_fields_use_reference_codes(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    found: list[Finding] | None = None
    reference = facts.reference
    # R19: with funding_method C the mapper sets the veterans' initiative whatever was sent, so the sent code is
    # never looked up (§3.3, §5.2).
    overridden = "training_initiative" if data.get("funding_method") == "C" else None
    for field, list_name, codes in _plain_code_sets(reference):
        value = data.get(field)
        if value is not None and value not in codes and field != overridden:
            found = found or []
            found.append((field, value, inclusion_message(field, value, _sorted_codes(reference, list_name))))
    return found


# A JACS subject code: a letter and three digits (hesa-formats.md §2.3.5), as in HESA data before HECoS. It is four
# characters long: a HECoS code (six digits) is told from one by its length, without the expression (the hot path).
_JACS = re.compile(r"[A-Z][0-9]{3}")
_COURSE_SUBJECTS = ("course_subject_1", "course_subject_2", "course_subject_3")
_JACS_MESSAGE = (
    "{field}: '{value}' looks like a JACS subject code: Register takes HECoS codes only, so translate it with a JACS "
    "to HECoS table (such as Apply's config/hesa/jacs-hecos-subject-mappings.yml) " + in_a_mapping_file()
)


@rule(
    "jacs_subject_code",
    fields=(*_COURSE_SUBJECTS, "degrees_attributes.subject"),
    message=_JACS_MESSAGE.format(field="<field>", value="<value>"),
    source="hesa-formats.md §2.3.5, §2.3.14, §5 item 22 (JACS is handled nowhere in Register)",
    fix="Find each subject's HECoS code in a JACS to HECoS table and translate it under `codes:` (`course_subject_1` "
    f"… or `degrees_attributes.subject`) {in_a_mapping_file('mappings.md')}, or correct the SRS.",
    severity=Severity.WARNING,
    api=False,
)
def subjects_are_not_jacs_codes(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    """Register's own error for such a code says only that it is not in the list, or for a degree that no subject
    was given (an unknown code becomes blank): this says why, beside it."""
    found: list[Finding] = [
        (field, value, _JACS_MESSAGE.format(field=field, value=value))
        for field in _COURSE_SUBJECTS
        if isinstance(value := data.get(field), str) and len(value) == 4 and _JACS.fullmatch(value)
    ]
    for index, degree in enumerate(data.get("degrees_attributes") or ()):
        value = degree.get("subject") if isinstance(degree, dict) else None
        if isinstance(value, str) and len(value) == 4 and _JACS.fullmatch(value):
            field = f"degrees_attributes[{index}].subject"
            found.append((field, value, _JACS_MESSAGE.format(field=field, value=value), ("degrees_attributes", index)))
    return found or None


@rule(
    "unknown_disability",
    fields=DISABILITY_FIELDS,
    message="<field>: '<value>' is not a Register disability code; Register would drop it without telling you",
    source="register-api.md §5.3 (unknown disability codes are compacted away), hesa-formats.md §5 item 16",
    fix="Use a code from `register-batch reference show disability`; 95 means no known disability.",
    api=False,
)
def disability_codes_are_known(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    found: list[Finding] | None = None
    codes = facts.reference.codes("disability")
    for field in DISABILITY_FIELDS:
        value = data.get(field)
        if value is not None and value not in codes:
            found = found or []
            found.append(
                (
                    field,
                    value,
                    f"{field}: '{value}' is not a Register disability code; Register would drop it without telling you",
                )
            )
    return found


# The issues that say a value is not in its code list (here and in nested.py), and the list of each field.
_CODE_LIST_ISSUES = (
    "invalid_code",
    "invalid_training_route",
    "unknown_training_route",
    "invalid_iqts_country",
    "unknown_disability",
    "degree_subject_required",
    "degree_grade_required",
    "unknown_degree_grade",
    "invalid_degree_code",
    "degree_type_not_kept",
    "unknown_institution",
)
_TRAINEE_LISTS = {**TRAINEE_CODE_FIELDS, **dict.fromkeys(DISABILITY_FIELDS, "disability")}
_DEGREE_LABEL = "degrees_attributes["


def _zero_led_lengths(reference: ReferenceData, list_name: str) -> tuple[int, ...]:
    """The lengths of the list's codes a number can stand for with its zeros lost: ASCII digits with a leading 0
    (padding a value always puts a 0 first). Empty for most lists (sex, ethnicity, subjects, countries)."""

    def lengths() -> tuple[int, ...]:
        codes = reference.codes(list_name)
        return tuple(sorted({len(c) for c in codes if c[:1] == "0" and _ASCII_DIGITS.fullmatch(c)}))

    return reference.derived(("zero_led_lengths", list_name), lengths)


def _padded_in(value: str, codes: Iterable[str]) -> list[str]:
    """The codes that are `value` with zeros put back in front."""
    return sorted(code for code in codes if len(code) > len(value) and code == value.zfill(len(code)))


def _zeros(value: str, padded: str) -> str:
    return "zero" if len(padded) - len(value) == 1 else "zeros"


def _zeros_message(label: str, value: str, padded: list[str], legacy: str | None = None) -> str:
    codes = " or ".join(f"'{p}'" for p in padded)
    known = f", a legacy code translated on reading ({legacy})" if legacy else ""
    return (
        f"{label}: '{value}' is not a code, but {codes} is{known}: a spreadsheet may have dropped its leading "
        f"{_zeros(value, padded[0])} (export the column as text, or correct the SRS)"
    )


@rule(
    "leading_zeros_lost",
    fields=(*_TRAINEE_LISTS, *(f"degrees_attributes.{f}" for f in DEGREE_CODE_FIELDS)),
    message="<field>: '<value>' is not a code, but '<value with leading zeros>' is[, a legacy code translated on "
    "reading (<source>)]: a spreadsheet may have dropped its leading zero (export the column as text, or correct "
    "the SRS) / <field>: '<value>' may be '<legacy code>' with its leading zero dropped by a spreadsheet: <why that "
    "legacy code has no v2026.1 equivalent>",
    source="hesa-formats.md §1.4 (codes are zero-padded strings), §3.3 and §5 item 29 (Excel drops leading zeros "
    "unless the cell is text); register-api.md §5 (exact code lookups)",
    fix="Keep codes as text: export the column as text, or write each code cell with a leading ' in Register's CSV "
    "(degree grade 02, not 2), or correct the SRS. register-batch does not pad the value itself.",
    severity=Severity.WARNING,
    api=False,
    follows=_CODE_LIST_ISSUES,
)
def codes_kept_their_leading_zeros(
    issue: Issue, facts: Facts, translation: Callable[[str], CodeTranslation | None] | None
) -> list[Finding] | None:
    """Beside an issue saying a value is not in its code list: a value of ASCII digits that, zero-padded on the left
    to the length of the list's codes, is one of them (or, failing that, one of the mapping's legacy codes it
    translates) lost its zeros in a spreadsheet. A follow-up rule: run only on those issues, never on clean
    records; it changes no value and guesses no translation."""
    value, label = issue.value, issue.field
    if value is None or label is None or not _ASCII_DIGITS.fullmatch(value):
        return None
    if label.startswith(_DEGREE_LABEL):
        child = label.rpartition(".")[2]
        list_name, key = DEGREE_CODE_FIELDS.get(child), f"degrees_attributes.{child}"
    else:
        list_name, key = _TRAINEE_LISTS.get(label), label
    if list_name is None:
        return None
    reference = facts.reference
    # A route must be one R9 accepts (02 is listed but refused): the code the failing check would have taken.
    valid = (
        _accepted_routes(reference, facts.start_cycle < 2022) if key == "training_route" else reference.codes(list_name)
    )
    padded = [p for n in _zero_led_lengths(reference, list_name) if n > len(value) and (p := value.zfill(n)) in valid]
    if padded:
        return [(label, value, _zeros_message(label, value, padded))]
    legacy = translation(key) if translation is not None else None
    if legacy is None:
        return None
    if padded := _padded_in(value, legacy.translate):
        return [(label, value, _zeros_message(label, value, padded, legacy.source_of(padded[0])))]
    # A legacy code with no current one (C21053 disability 08): its own reason is the thing to act on.
    if not (refused := _padded_in(value, legacy.no_translation)):
        return None
    code = refused[0]
    message = (
        f"{label}: '{value}' may be '{code}' with its leading {_zeros(value, code)} dropped by a spreadsheet: "
        f"{legacy.no_translation[code]}"
    )
    return [(label, value, message)]


# The withdrawal's code-list issues (nested.py): Register takes its trigger, future interest and reasons only as its
# lists write them too (register-api.md §3.9, inclusion in each list).
_WITHDRAWAL_CODE_ISSUES = (
    "withdrawal_trigger_invalid",
    "withdrawal_future_interest_invalid",
    "withdrawal_reasons_invalid",
)
_FUTURE_INTEREST = "withdrawal_future_interest"
# A spreadsheet's or an SRS's Y and N (review168 F5): unambiguous among yes, no and unknown only, so named for this
# field alone.
_YES_NO = {"y": "yes", "n": "no"}


def _withdrawal_codes(reference: ReferenceData, label: str) -> tuple[str, ...]:
    """The codes Register takes for a withdrawal field (its reasons: those of either trigger)."""
    if label == "withdrawal_trigger":
        return reference.withdrawal_triggers
    if label == _FUTURE_INTEREST:
        return reference.withdrawal_future_interest
    return tuple(sorted({r for reasons in reference.withdrawal_reasons.values() for r in reasons}))


def _codes_by_case(reference: ReferenceData, label: str) -> dict[str, tuple[str, ...]]:
    """A field's codes by their lower-case form (`gb` -> `GB`), or {} for a field of no code list; made on the first
    issue that asks, kept on `reference`."""
    if label.startswith(_DEGREE_LABEL):
        child = label.rpartition(".")[2]
        key: str | None = DEGREE_CODE_FIELDS.get(child)
    elif label.startswith("withdrawal_"):
        key = label
    else:
        key = _TRAINEE_LISTS.get(label)
    if key is None:
        return {}

    def by_case() -> dict[str, tuple[str, ...]]:
        codes = _withdrawal_codes(reference, key) if key.startswith("withdrawal_") else reference.codes(key)
        found: dict[str, list[str]] = {}
        for code in sorted(codes):
            found.setdefault(code.lower(), []).append(code)
        return {lowered: tuple(same) for lowered, same in found.items()}

    return reference.derived(("codes_by_case", key), by_case)


@rule(
    "code_case",
    fields=(
        *_TRAINEE_LISTS,
        *(f"degrees_attributes.{f}" for f in DEGREE_CODE_FIELDS),
        "withdrawal_trigger",
        _FUTURE_INTEREST,
        "withdrawal_reasons",
    ),
    message="<field>: '<value>' is not a code, but '<code>' is[, a reason for a <trigger> trigger, not a <trigger> "
    "one][, a reason for a <trigger> trigger only] (Register's codes are case-sensitive) / "
    "withdrawal_future_interest: 'Y' is not a code, but 'yes' is (Register's codes are written in full, and are "
    "case-sensitive)",
    source="hesa-formats.md §2.1 and §3.3 (find_by_hesa_code: an exact, case-sensitive match; `gb` is not `GB`), "
    "§5 item 26; register-api.md §5.1, §3.9 (trigger, future_interest and reasons: inclusion in their lists)",
    fix="Write the code as Register's list has it (`register-batch reference show FIELD`; a withdrawal's trigger is "
    "provider or trainee, its future interest yes, no or unknown): correct the SRS, or, for a trainee's or a "
    "degree's code, translate the value under `codes:` "
    + in_a_mapping_file("a withdrawal's values are not translated")
    + ". register-batch does not change the case itself.",
    severity=Severity.WARNING,
    api=False,
    follows=(*_CODE_LIST_ISSUES, *_WITHDRAWAL_CODE_ISSUES),
)
def codes_are_written_in_their_case(
    issue: Issue, facts: Facts, translation: Callable[[str], CodeTranslation | None] | None
) -> list[Finding] | None:
    """Beside Register's error for a code it does not know (whose words only say it is not in the list, and whose
    examples may stop before it): a value that differs from a code of the field's list only in letter case (`gb` for
    GB, `Trainee` for trainee), or Y or N for a withdrawal's future interest, is named with the code. Register's
    lookups are exact (hesa-formats.md §3.3), so its error stands. A follow-up rule: it costs a clean record
    nothing, and it changes no value."""
    value, label = issue.value, issue.field
    if not isinstance(value, str) or label is None or value.lower() == value.upper():  # no letters: no case
        return None
    by_case = _codes_by_case(facts.reference, label)
    if not by_case:
        return None
    if label == "withdrawal_reasons":  # the reasons refused, joined with ; (nested.py)
        triggers = (facts.reference.withdrawal_reasons, facts.withdrawal_trigger)
        said = [_case_message(label, reason, by_case, triggers) for reason in value.split(";")]
        return [(label, value, message) for message in said if message] or None
    message = _case_message(label, value, by_case)
    if message is None and label == _FUTURE_INTEREST and (meant := _YES_NO.get(value.lower())) in by_case:
        message = (
            f"{label}: '{value}' is not a code, but '{meant}' is (Register's codes are written in full, and are "
            "case-sensitive)"
        )
    return None if message is None else [(label, value, message)]


def _case_message(
    label: str,
    value: str,
    by_case: dict[str, tuple[str, ...]],
    triggers: tuple[Mapping[str, Iterable[str]], str | None] | None = None,
) -> str | None:
    """code_case's words for `value` where a code of the list differs from it in letter case only. A withdrawal
    reason's list is both triggers' (`triggers`: each trigger's reasons, and the record's trigger): a reason the
    record's trigger does not take is said to be the other's, as that trigger refuses it in any case (review172 F4:
    `Record_Added_In_Error` with a trainee trigger was told `record_added_in_error` is a code, and corrected, got the
    same error); with no trigger of Register's, a reason of one trigger only is said to be so."""
    same = [code for code in by_case.get(value.lower(), ()) if code != value]
    if not same:
        return None
    codes = " or ".join(f"'{code}'" for code in same)
    of = _of_trigger(same, *triggers) if triggers else ""
    return f"{label}: '{value}' is not a code, but {codes} is{of} (Register's codes are case-sensitive)"


def _of_trigger(reasons: list[str], lists: Mapping[str, Iterable[str]], trigger: str | None) -> str:
    """What code_case adds of the trigger `reasons` are for: `, a reason for a provider trigger, not a trainee one`
    where the record's trigger takes none of them; `, a reason for a provider trigger only` where the trigger is none
    of Register's and they are one trigger's only; else nothing."""
    of = sorted({name for name, listed in lists.items() for reason in reasons if reason in listed})
    if len(of) != 1 or len(lists) < 2:
        return ""
    if trigger in lists:
        return "" if trigger == of[0] else f", a reason for a {of[0]} trigger, not a {trigger} one"
    return f", a reason for a {of[0]} trigger only"


@rule(
    "code_not_translated",
    fields=(*_TRAINEE_LISTS, *(f"degrees_attributes.{f}" for f in DEGREE_CODE_FIELDS)),
    message="<field>: '<value>' is not translated, but '<code>' is, by <file:line> (a translation's code matches "
    "as written: letter case included): add '<value>' beside it, or correct the SRS / <field>: '<value>' is not "
    "translated, but '<code>' is, by <file:line> (a translation's code matches as written: the same letters, but "
    "the input writes them decomposed (NFD) and the file composed (NFC)): write it in the file as the input does "
    "(its decomposed form), or correct the SRS / <field>: '<value>' is not translated by the <block> block of "
    "<file:line>: add it under codes.<block>.translate there, or correct the SRS",
    source="docs/mappings.md (a translation's code is matched exactly, as the input writes it); register-api.md "
    "§5.1 (codes must be in Register's lists)",
    fix="Add the value, as the input writes it, under the `translate` of the block named (in the file and at the "
    "line named), or correct the SRS. register-batch does not match codes in another case or Unicode form itself.",
    severity=Severity.WARNING,
    api=False,
    follows=_CODE_LIST_ISSUES,
)
def codes_a_mapping_file_could_translate(
    issue: Issue, facts: Facts, translation: Callable[[str], CodeTranslation | None] | None
) -> list[Finding] | None:
    """Beside Register's error for a code it does not know, where a user's mapping file has a block for the field:
    the block to add the code to (its file and line), or the code of it that the value differs from only in letter
    case or in Unicode form (`f` for `F`, a decomposed `Côte`), which keys do not match (review209 F5: "add a
    translation in a mapping file" did not say which, nor why `f` was not translated). A follow-up rule: a clean
    record never asks, and a failing one looks up a dict. Said once per field and value, kept on the translation."""
    value, label = issue.value, issue.field
    if translation is None or not isinstance(value, str) or label is None:
        return None
    if label.startswith(_DEGREE_LABEL):
        key = f"degrees_attributes.{label.rpartition('.')[2]}"
    elif label in _TRAINEE_LISTS:
        key = label
    else:
        return None
    legacy = translation(key)
    if legacy is None or value in legacy.translate or value in legacy.no_translation:
        return None  # translated (its line is named: _made_by), refused (untranslatable_code) or unmatched (its own)
    if codes_kept_their_leading_zeros(issue, facts, translation) or codes_are_written_in_their_case(
        issue, facts, translation
    ):
        return None  # `3` for `03`, `d` for `D`: to add `3` to the block would hide the cause (review213 F6)
    try:
        said = legacy.notes[(label, value)]
    except KeyError:
        said = legacy.notes[(label, value)] = _not_translated(label, value, legacy)
    return None if said is None else [(label, value, said)]


def _not_translated(label: str, value: str, legacy: CodeTranslation) -> str | None:
    """code_not_translated's words for `value`, or None where no user's block applies to the field."""
    if (near := translated_near_miss(label, value, legacy)) is not None:
        return near
    block = legacy.users_block()
    if block is None or _zeros_lost_from_a_key(value, legacy):
        return None  # none of the user's, or a key with its leading zeros lost: leading_zeros_lost says so
    line = block.line_of(f"codes.{block.pattern}")
    place = block.origin if line is None else f"{block.origin}:{line}"
    return (
        f"{label}: '{value}' is not translated by the {block.pattern} block of {place}: add it under "
        f"codes.{block.pattern}.translate there, or correct the SRS"
    )


def _zeros_lost_from_a_key(value: str, legacy: CodeTranslation) -> bool:
    """Whether `value` is a code the translation names (`0071`) with its leading zeros lost (`71`): adding `71` is not
    the remedy leading_zeros_lost gives. Once per field and value (the caller's cache)."""
    if not _ASCII_DIGITS.fullmatch(value):
        return False
    return any(
        len(key) > len(value) and key == value.zfill(len(key)) for key in (*legacy.translate, *legacy.no_translation)
    )


def translated_near_miss(label: str, value: str, legacy: CodeTranslation) -> str | None:
    """code_not_translated's words for a value a user's block translates in another letter case or Unicode form
    (`mappings check INPUT` gives them beside the code it lists); None where it does not."""
    if (near := legacy.near_key(value)) is not None:
        place = legacy.place_of(near)
        if near.casefold() == value.casefold():
            why, do = "letter case included", f"add '{value}' beside it"
        else:
            forms = ("composed (NFC)", "decomposed (NFD)")
            mine, theirs = forms if unicodedata.is_normalized("NFC", value) else forms[::-1]
            why = f"the same letters, but the input writes them {mine} and the file {theirs}"
            do = f"write it in the file as the input does (its {mine.split()[0]} form)"
        return (
            f"{label}: '{value}' is not translated, but '{near}' is, by {place} (a translation's code matches as "
            f"written: {why}): {do}, or correct the SRS"
        )
    return None


# R14 compares the trainee's Disability records, and Register has one for each of nine disabilities only
# (Diversities::SEED_DISABILITIES, Blind to Other): "No known disability" (95) and "Not provided" (98, 99) find none
# and are dropped before the check (has_diversity_attributes.rb `.compact`, trainee_attributes.rb `next if blank?`).
NO_DISABILITY_RECORD = frozenset({"No known disability", "Not provided"})


def repeated_disability(identities: dict[str, str], coded: Iterable[tuple[str, Any]]) -> tuple[str, Any] | None:
    """The first (key, code) of `coded` naming a disability an earlier one names (R14), or None. A code that is not
    Register's, or names no Disability record, names none."""
    seen: set[str] = set()
    for key, value in coded:
        identity = identities.get(value) if isinstance(value, str) else None
        if identity is None or identity in NO_DISABILITY_RECORD:
            continue
        if identity in seen:
            return key, value
        seen.add(identity)
    return None


describe(
    "disability_sent_once",
    scope="mapping",
    fields=DISABILITY_FIELDS,
    message="<field>: '<code>' (no known disability | not provided) repeats <earlier field>'s: it is sent once, as "
    "Register records a trainee whose disabilities are not exactly one 'no known disability' as disabled",
    source="register-api.md §5.3 (has_diversity_attributes.rb: `disabilities == [NO_KNOWN_DISABILITY]`; the mapper "
    "keeps repeats)",
    fix="Nothing to do for `sync`, which sends the code once (so does `convert`'s file). List it once in the SRS; a "
    "Register CSV uploaded through Register's web page must hold it once.",
    severity=Severity.WARNING,
)


def no_disability_sent_once(record: TraineeRecord, identities: dict[str, str]) -> None:
    """Send a repeated 'no known disability' (95) or 'not provided' (98, 99) once, in its first key (review107 F1).

    Register gives `no_disability` only to exactly one 'No known disability', and `disability_not_provided` only to
    exactly one 'Not provided' (§5.3): 95 twice made a record saying "no known disability" a trainee recorded as
    disabled, with no disability, and drift against Register's single 95 sent it so. R14 does not count these codes,
    so nothing else said a word. Before the rules, as it changes what is sent; said in a warning, as every
    translation is."""
    data = record.data
    given = [(field, value) for field in DISABILITY_FIELDS if (value := data.get(field)) is not None]
    if len(given) < 2:  # most records
        return
    first: dict[str, str] = {}  # identity -> the key it is first given in
    for field, value in given:
        identity = identities.get(value) if isinstance(value, str) else None
        if identity not in NO_DISABILITY_RECORD:
            continue
        if identity not in first:
            first[identity] = field
            continue
        data[field] = None
        record.issue(
            "disability_sent_once",
            f"{field}: '{value}' ({identity.lower()}) repeats {first[identity]}'s: it is sent once, as Register "
            "records a trainee whose disabilities are not exactly one 'no known disability' as disabled",
            field=field,
            value=value,
            severity=Severity.WARNING,
        )


@rule(
    "duplicate_disabilities",
    fields=DISABILITY_FIELDS,
    message="disabilities contain duplicate values",
    source="register-api.md §3.3 R14 (uniqueness_validator.rb), §5.3",
    fix="List each disability once. 95 (no known disability) and 98 or 99 (not provided) are no disabilities to "
    "Register: repeated, they are not refused, and register-batch sends them once (disability_sent_once).",
)
def disabilities_are_distinct(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    given = [(field, value) for field in DISABILITY_FIELDS if (value := data.get(field)) is not None]
    if len(given) < 2:  # most records: nothing to repeat
        return None
    identities = facts.reference.code_list("disability").identities
    found = repeated_disability(identities, given)
    return None if found is None else [(*found, "disabilities contain duplicate values")]


# --- dates (§3.4) -------------------------------------------------------------------------------------

# The trainee dates Register reads and a spreadsheet rewrites; public: resaved.py's possibly_swapped_date reads them.
DATE_FIELDS = ("date_of_birth", "itt_start_date", "itt_end_date", "trainee_start_date")


def _dates_read(facts: Facts) -> zip[tuple[str, date | None]]:
    """Each of DATE_FIELDS with its day as Register reads it (Facts.of has parsed them: `register_date`)."""
    return zip(DATE_FIELDS, (facts.born, facts.itt_start, facts.itt_end, facts.trainee_start), strict=True)


@rule(
    "invalid_date",
    fields=DATE_FIELDS,
    message="<field> is invalid",
    source="register-api.md §3.4 (Date.iso8601: valid_date_string?)",
    fix="Write the date as YYYY-MM-DD; spreadsheets turn dates into 13/08/1978 or serial numbers.",
    fix_by_field=dict.fromkeys(
        ("itt_start_date", "trainee_start_date"),
        "While the start date (trainee_start_date, else itt_start_date) is not one, the funding and initiative "
        "checks, which turn on its academic cycle, wait for it to be mended.",
    ),
)
def dates_are_iso_8601(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    """A date Ruby's `Date.iso8601` cannot read (2000-02-30, 13/08/1978): Facts holds each as Register reads it."""
    found: list[Finding] | None = None
    for field, day in _dates_read(facts):
        if day is None and data.get(field) is not None:
            found = found or []
            found.append((field, data[field], f"{field} is invalid"))
    if not facts.trainee_start_given and _trainee_start_unreadable(data, facts):
        # A blank trainee_start_date is set to itt_start_date, then checked under its own name (§3.4): Register
        # answers "trainee_start_date is invalid" too (validate_trainee_start_date).
        found = [*(found or ()), ("trainee_start_date", data["itt_start_date"], "trainee_start_date is invalid")]
    return found


@rule(
    "date_not_yyyy_mm_dd",
    fields=(*DATE_FIELDS, "withdrawal_date", "defer_date"),
    message="<field>: write the date as YYYY-MM-DD (<YYYY-MM-DD>): Register reads '<value>' as that day but "
    "returns it as YYYY-MM-DD, so the value sent would show as changed on every sync / <field>: write the date as "
    "YYYY-MM-DD: Register would read '<value>' as <YYYY-MM-DD> (a year and a day of it, not a spreadsheet's serial "
    "number), … / <field>: write the date as YYYY-MM-DD: '<value>' is a date and a time, <day> in UTC and <day> in "
    "UK time, which Register would read as <YYYY-MM-DD>[; if the SRS keeps a local midnight in UTC, the date meant "
    "is <day>]. Export the date alone, not converted to UTC",
    source="hesa-formats.md §1.4 and §5 item 30 (dates are YYYY-MM-DD); register-api.md §3.4 (Register's "
    "Date.iso8601 also reads 19950505, 1995-125 and 1995-W18-5) and §1.4 (dates come back as YYYY-MM-DD)",
    fix="Write dates as YYYY-MM-DD (1995-05-05, not 19950505, 1995-125, 1995-W18-5 or 95-05-05): export the column "
    "as text from the SRS, or format it as yyyy-mm-dd before saving the CSV. Check the day shown is the one meant: a "
    "spreadsheet's serial number such as 36086 is a day of 2036 to Register. register-batch does not rewrite the "
    "date itself.",
    fix_by_field=dict.fromkeys(
        ("itt_start_date", "trainee_start_date"),
        "While the start date (trainee_start_date, else itt_start_date) is not YYYY-MM-DD, the funding and "
        "initiative checks, which turn on its academic cycle, wait for it to be mended.",
    ),
    api=False,
)
def dates_are_written_yyyy_mm_dd(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    """A date Register takes in another ISO 8601 form: refused here, not under Register's name (review57 F2). The
    emulator, which runs Register's rules only, takes it and keeps the day (emulator/attributes.py)."""
    found: list[Finding] | None = None
    for field, day in _dates_read(facts):
        value = data.get(field)
        if day is not None and parse_date(value) is None:
            found = found or []
            found.append(not_yyyy_mm_dd(field, value, day))
    return found


def not_yyyy_mm_dd(field: str, value: Any, day: date) -> Finding:
    """date_not_yyyy_mm_dd's finding of a date Register reads as `day` (a trainee's, a withdrawal's, a deferral's).
    The day is offered as the one to write only where it is the day written: not for a spreadsheet's serial number
    (36086 is 2036-03-26 to Register, 1998-10-18 in Excel) nor for a time with an offset that may be a local midnight
    kept in UTC (1992-04-02T23:00:00Z is 3 April in the UK): there Register's reading is named as what it would do,
    beside the other days (review211 F3)."""
    if isinstance(value, str) and is_excel_serial(value):
        return (
            field,
            value,
            f"{field}: write the date as YYYY-MM-DD: Register would read '{value}' as {day.isoformat()} (a year and a "
            "day of it, not a spreadsheet's serial number), and returns dates as YYYY-MM-DD, so the value sent would "
            "show as changed on every sync",
        )
    if isinstance(value, str) and (days := _utc_and_uk_days(value)):
        utc, uk = days
        where = f"{utc} in UTC and in UK time" if utc == uk else f"{utc} in UTC and {uk} in UK time"
        meant = f"; if the SRS keeps a local midnight in UTC, the date meant is {uk}" if uk != day.isoformat() else ""
        return (
            field,
            value,
            f"{field}: write the date as YYYY-MM-DD: '{value}' is a date and a time, {where}, which Register would "
            f"read as {day.isoformat()}{meant}. Export the date alone, not converted to UTC",
        )
    return (
        field,
        value,
        f"{field}: write the date as YYYY-MM-DD ({day.isoformat()}): Register reads '{value}' as that day but returns "
        "it as YYYY-MM-DD, so the value sent would show as changed on every sync",
    )


# A time zone last in a date and time: Z, +01:00, -0500, +01.
_OFFSET_LAST = re.compile(r"(?:[Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)\Z")


def _utc_and_uk_days(value: str) -> tuple[str, str] | None:
    """(the UTC day, the UK day) of a date and a time with a time zone, whose time is not midnight there: an instant,
    whose day depends on where it is read. None for anything else (a date, a midnight, a time without a zone)."""
    if "T" not in value.upper() or not _OFFSET_LAST.search(value):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:  # a form Python does not read (1992-093T23:00Z): the plain message
        return None
    if moment.tzinfo is None or moment.time() == dt_time():
        return None
    return moment.astimezone(UTC).date().isoformat(), uk_day(moment).isoformat()


def uk_day(moment: datetime) -> date:
    """The day an instant falls on in the UK (Europe/London), from the time zone database where there is one, else by
    the rule in force since 1996 (UTC+1 from 01:00 UTC on the last Sunday of March to the last Sunday of October):
    a date in a message, so an older year's summer time read by today's rule is no harm."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # here: only a message of an error needs it

    try:
        return moment.astimezone(ZoneInfo("Europe/London")).date()
    except ZoneInfoNotFoundError:  # Windows without the tzdata package
        pass
    utc = moment.astimezone(UTC).replace(tzinfo=None)

    def last_sunday(month: int) -> datetime:
        last = datetime(utc.year, month, 31, 1)
        return last - timedelta(days=(last.weekday() + 1) % 7)

    summer = last_sunday(3) <= utc < last_sunday(10)
    return (utc + timedelta(hours=1 if summer else 0)).date()


# The issues that say a date is not `YYYY-MM-DD` (here and in nested.py).
_DATE_ISSUES = (
    "invalid_date",
    "date_not_yyyy_mm_dd",
    "unchecked_date_invalid",
    "withdrawal_date_invalid",
    "defer_date_invalid",
)
# 10000 is 1927-05-18; 46267.0 is one a float column wrote (review211 F3).
_EXCEL_SERIAL = re.compile(r"[1-9][0-9]{4}(?:\.0+)?")
_EXCEL_DAY_0 = date(1899, 12, 30)  # Excel's serial 0, counting its 29 February 1900 (serials from 61 on)
_LAST_SERIAL = (date(2099, 12, 31) - _EXCEL_DAY_0).days


def is_excel_serial(value: str) -> bool:
    """A spreadsheet's serial number of a day from 1927 to 2099 (36086, 46267.0), as spreadsheet_date names it."""
    return _EXCEL_SERIAL.fullmatch(value) is not None and int(float(value)) <= _LAST_SERIAL


def serial_day(value: str) -> date:
    """The day a spreadsheet's serial number (is_excel_serial) stands for."""
    return _EXCEL_DAY_0 + timedelta(days=int(float(value)))


def is_graduation_serial(value: str, as_of: date) -> bool:
    """A spreadsheet's serial number of a graduation date Register could take: its year within the 60 years to next
    year (§3.4's graduation_year window). 20255, a 2025 typed with one digit too many, is 1955-06-15 as a serial:
    taken for one, it lost Register's "must be in the past" error and got a 1955 date as its hint (review228 F4)."""
    if not is_excel_serial(value):
        return False
    first, latest = graduation_years(as_of)
    return first <= serial_day(value).year <= latest


def graduation_years(as_of: date) -> tuple[int, int]:
    """The first and last graduation_year Register takes on `as_of`'s day: the 60 years to next year (§3.4)."""
    return as_of.year + 1 - 60, as_of.year + 1


# A time after a date, as a spreadsheet shows a date and time (30/09/2026 00:00) or an SRS's DATETIME column writes it,
# with a US locale's AM or PM (12/26/1996 12:00:00 AM: review156 F4).
_TIME = r" [0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?: ?[AaPp][Mm])?"
# 30/09/2026, 30.09.2026, and SQL Server's and Excel's 30-09-2026 (a four-digit year only with a `-`: 26-09-30 is
# YY-MM-DD, a form Register reads itself, date_not_yyyy_mm_dd).
_DAY_MONTH_YEAR = re.compile(
    rf"([0-9]{{1,2}})(?:([/.])([0-9]{{1,2}})\2([0-9]{{4}}|[0-9]{{2}})|(-)([0-9]{{1,2}})-([0-9]{{4}}))(?:{_TIME})?"
)
# A Japanese, Chinese or Swedish locale's 1996/12/26 (and SQL Server's style 111).
_YEAR_MONTH_DAY = re.compile(rf"([0-9]{{4}})/([0-9]{{1,2}})/([0-9]{{1,2}})(?:{_TIME})?")
# Excel's d-mmm-yy (01-Sep-26) and dd-mmm-yyyy (review151 F8), and d mmm yyyy (26 Dec 1996).
_DAY_MONTH_NAME_YEAR = re.compile(r"([0-9]{1,2})([- ])([A-Za-z]{3})\2([0-9]{4}|[0-9]{2})")
# A US locale's mmm d, yyyy (Dec 26, 1996), as Excel and SQL Server's style 107 write it.
_MONTH_NAME_DAY_YEAR = re.compile(r"([A-Za-z]{3}) ([0-9]{1,2}),? ([0-9]{4}|[0-9]{2})")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")  # as Excel's mmm
_MONTHS = {name: str(n) for n, name in enumerate(_MONTH_NAMES, start=1)}
# An SRS's DATETIME value (2026-09-01 00:00:00): public, as resaved.py leaves it out of what a spreadsheet changed.
DATE_AND_TIME = re.compile(rf"([0-9]{{4}})-([0-9]{{2}})-([0-9]{{2}}){_TIME}")
# Its time at 22:00 or 23:00 (10 or 11 PM): a midnight of UK summer time, or of central Europe, kept in UTC.
_CONVERTED_MIDNIGHT = re.compile(r" (?:2[23]:00(?::00(?:\.0+)?)?|1[01]:00(?::00(?:\.0+)?)? ?[Pp][Mm])")


def _midnight_of(day: date, time_written: str) -> str:
    """Whose midnight a 22:00 or 23:00 (`_CONVERTED_MIDNIGHT`) of `day` in UTC is, by the UK's offset that day
    (review214 F5: a winter date was said to be a midnight of UK summer time, when UK midnight was 00:00 UTC). Europe
    changes its clocks at the UK's instants, so the UK's offset tells central and eastern Europe's too."""
    hour = int(time_written.strip()[:2]) % 12 + 12 if "m" in time_written.lower() else int(time_written.strip()[:2])
    summer = uk_day(datetime.combine(day, dt_time(23), UTC)) != day  # UTC+1 at 23:00 UTC: summer time
    zone = {
        (23, True): "UK summer time",
        (23, False): "central European time",
        (22, True): "central European summer time",
        (22, False): "eastern European time",
    }[hour, summer]
    return f"00:00 in {zone} is {hour}:00 UTC" + ("" if summer else "; UK midnight that day is 00:00 UTC")


# Said after a trainee date text only one order reads (review228 F2): a spreadsheet set to the other order left it as
# text and swapped day and month of the dates it could read, in every date column of the file (review235 F1); once the
# text is corrected, nothing in the file shows that swap (possibly_swapped_date needs the file's text dates).
_SWAPPED_BESIDE = (
    "; if a spreadsheet left it as text, the other YYYY-MM-DD dates in this file's date columns may have day and "
    "month swapped: import the date columns again from the SRS as Text rather than correcting only this value"
)


def _spreadsheet_form(label: str, value: str, form: str, day: str) -> str:
    """spreadsheet_date's message: the form the value looks like, and the day it stands for (` (1996-12-26)`) where
    one is sure."""
    return f"{label}: '{value}' looks like a spreadsheet's {form}: write the date as YYYY-MM-DD{day}"


@rule(
    "spreadsheet_date",
    fields=(
        *DATE_FIELDS,
        "pg_apprenticeship_start_date",
        "withdrawal_date",
        "defer_date",
        "degrees_attributes.graduation_year",
    ),
    message="<field>: '<value>' looks like a spreadsheet's date serial number (<YYYY-MM-DD> in Excel): write the "
    "date as YYYY-MM-DD / graduation_year: '<value>' looks like a spreadsheet's date serial number (<YYYY-MM-DD> in "
    "Excel) or day/month/year, month/day/year, day-month-year (1-Jul-22) or month-day-year (Jul 1, 2022) date: write "
    "the year, <YYYY>[ (the year ending '22' that Register takes: <YYYY> to <YYYY>)], or the date as YYYY-MM-DD[ "
    "(<the day>)] / <field>: '<value>' looks like "
    "a spreadsheet's day/month/year date (30/09/2026, 30.09.2026, "
    "30-09-2026[ 12:00:00 AM]): write the date as YYYY-MM-DD[ (<the day>[, or <the day> if the month comes first])] / "
    "<field>: '<value>' looks like a spreadsheet's month/day/year date (12/26/1996, 12/26/96: only the month-first "
    "reading is a day): write the date as YYYY-MM-DD[ (<the day>)][; if a spreadsheet left it as text, the other "
    "YYYY-MM-DD dates in this file's date columns may have day and month swapped: import the date columns again "
    "from the SRS as Text rather than correcting only this value] / <field>: '<value>' looks like a spreadsheet's "
    "year/month/day date "
    "(1996/12/26): write the date as YYYY-MM-DD[ (<the day>)] / <field>: '<value>' looks like "
    "a spreadsheet's day-month-year date (01-Sep-26, 26 Dec 1996) or month-day-year date (Dec 26, 1996): write the "
    "date as YYYY-MM-DD[ (<the day>[, taking '26' as 2026])] (a date of birth: the century whose day gives an age of "
    "16 to 100) / <field>: '<value>' is a date and a time (an SRS's DATETIME column, or a spreadsheet's): write the "
    "date alone as YYYY-MM-DD[ (<the day>)][: the day written is <the day>, but 23:00 may be a local midnight "
    "converted to UTC …]",
    source="hesa-formats.md §5 item 30 (dates are YYYY-MM-DD: never DD/MM/YYYY or Excel serial numbers); "
    "register-api.md §3.4 (Date.iso8601)",
    fix="Write dates as YYYY-MM-DD: export the column as text from the SRS (a date and time column as its date "
    "alone), or format the column as yyyy-mm-dd before saving the CSV, but only once each date shows the day "
    "written: a spreadsheet that read the dates in the other day/month order swapped day and month in each it could, "
    "and the format keeps the swap (import such a column as text instead; correcting only its text dates leaves the "
    "swapped ones, and hides them from possibly_swapped_date). register-batch does not rewrite the date "
    "itself.",
    severity=Severity.WARNING,
    api=False,
    follows=(*_DATE_ISSUES, "degree_graduation_year_invalid"),
)
def dates_were_not_changed_by_a_spreadsheet(
    issue: Issue, facts: Facts, translation: Callable[[str], CodeTranslation | None] | None
) -> list[Finding] | None:
    """Beside Register's "is invalid" (review53 F8): a date a spreadsheet turned into its serial number (36086) or
    wrote as it shows dates (03/04/1992), with the day it stands for. A follow-up rule: it costs a clean record
    nothing."""
    value, label = issue.value, issue.field
    if value is None or label is None:
        return None
    if label == "trainee_start_date" and not facts.trainee_start_given:
        return None  # the itt_start_date a blank one is set to: hinted at beside itt_start_date's own error
    if issue.code == "degree_graduation_year_invalid":
        return _graduation_year_hint(label, value, facts)
    if is_excel_serial(value):
        day = serial_day(value)
        return [(label, value, _spreadsheet_form(label, value, f"date serial number ({day.isoformat()} in Excel)", ""))]
    if numbers := _day_month_parts(value):
        order, days = _order_and_days(*numbers, shown=facts.date_order)
        said = _spreadsheet_form(label, value, f"{order} date", days)
        if label in DATE_FIELDS and written_order(value) in (DAY_FIRST, MONTH_FIRST):
            said += _SWAPPED_BESIDE  # correcting the text alone hides the swap from possibly_swapped_date
        return [(label, value, said)]
    if parts := _YEAR_MONTH_DAY.fullmatch(value):
        said = f" ({found})" if (found := _day(*parts.groups())) else ""
        return [(label, value, _spreadsheet_form(label, value, "year/month/day date", said))]
    if named := _named_month_date(value):
        day_of_month, month, year, form = named
        days = _days_of_a_named_month(label, day_of_month, month, year, facts.as_of)
        return [(label, value, _spreadsheet_form(label, value, form, days))]
    if parts := DATE_AND_TIME.fullmatch(value):
        said = f" ({found})" if (found := _day(*parts.groups())) else ""
        if found and _CONVERTED_MIDNIGHT.fullmatch(value[10:]):
            # 23:00 may be a UK midnight kept in UTC: the day written is not offered as the date (review211 F3).
            said = (
                f": the day written is {found}, but {value[10:].strip()} may be a local midnight converted to UTC "
                f"({_midnight_of(date.fromisoformat(found), value[10:])}), whose date is the next day. Check it in the "
                "SRS"
            )
        return [
            (
                label,
                value,
                f"{label}: '{value}' is a date and a time (an SRS's DATETIME column, or a spreadsheet's): write the "
                f"date alone as YYYY-MM-DD{said}",
            )
        ]
    return None


# What a value refused for its form is not, by the code of the error refusing it (review158 F1); a code or a date
# otherwise.
_NOT_OF_ITS_FORM = {
    "invalid_email": "an email address",
    "hesa_id_length": "a HUSID",
    "course_year_not_integer": "a number",
    "application_id_not_integer": "a number",
    "training_partner_urn_invalid": "a URN",
    "employing_school_urn_invalid": "a URN",
    "placement_urn_invalid": "a URN",
    "training_partner_ukprn_invalid": "a UKPRN",
    "invalid_ukprn": "a UKPRN",
    "degree_graduation_year_invalid": "a year",
}


@rule(
    "spreadsheet_error_hint",
    fields=(
        *_TRAINEE_LISTS,
        *(f"degrees_attributes.{f}" for f in DEGREE_CODE_FIELDS),
        *DATE_FIELDS,
        "pg_apprenticeship_start_date",
        "withdrawal_date",
        "withdrawal_reasons",
        "withdrawal_trigger",
        "withdrawal_future_interest",
        "defer_date",
        "email",
        "hesa_id",
        "course_year",
        "application_id",
        "training_partner_urn",
        "training_partner_ukprn",
        "employing_school_urn",
        "placements_attributes.urn",
        "degrees_attributes.graduation_year",
        "ukprn",
    ),
    message=f"<field>: '#N/A' {_WHAT_IT_IS}, not a code / not a date / not an email address / not a HUSID / not a "
    "number / not a URN / not a UKPRN / not a year",
    source="register-api.md §3.4 (Date.iso8601), §5 (code lists), §3.1 and §3.3 R15-R18 (email, course_year, URNs, "
    "UKPRN, HUSID length), §3.8 (placement URN): Register refuses the value as not a date, not in its list or not of "
    "its form, without saying what it is; register-batch refuses an application_id that is not a whole number and an "
    "F_UKPRN that is not a UKPRN (hesa-formats.md §5 item 11)",
    fix="Mend the workbook the file was saved from: a lookup (VLOOKUP, XLOOKUP, INDEX/MATCH) that found no row gives "
    "#N/A; look up the SRS's code, date or value again, or export the column from the SRS rather than computing it.",
    severity=Severity.WARNING,
    api=False,
    follows=(
        *_CODE_LIST_ISSUES,
        *_DATE_ISSUES,
        "withdrawal_trigger_invalid",
        "withdrawal_future_interest_invalid",
        "withdrawal_reasons_invalid",
        "iqts_country_not_allowed",
        "degree_country_not_kept",
        *_NOT_OF_ITS_FORM,
    ),
)
def coded_value_is_not_a_spreadsheet_error(
    issue: Issue, facts: Facts, translation: Callable[[str], CodeTranslation | None] | None
) -> list[Finding] | None:
    """Beside Register's "has invalid reference data value of '#N/A'" or "is invalid" (review156 F1): what the value
    is. A follow-up rule: it costs a clean record nothing."""
    value, label = issue.value, issue.field
    if type(value) is not str or label is None:
        return None
    if issue.code == "withdrawal_reasons_invalid":  # the reasons refused, joined by ';': the first error value
        value = next((reason for reason in value.split(";") if SPREADSHEET_ERROR.fullmatch(reason)), "")
    if not SPREADSHEET_ERROR.fullmatch(value):
        return None
    if label == "trainee_start_date" and not facts.trainee_start_given:
        return None  # the itt_start_date a blank one is set to: hinted at beside itt_start_date's own error
    what = _NOT_OF_ITS_FORM.get(issue.code) or (
        "a date" if issue.code in _DATE_ISSUES or label.endswith("_date") else "a code"
    )
    return [(label, value, f"{label}: '{value}' {_WHAT_IT_IS}, not {what}")]


def _days_of_a_named_month(label: str, day: str, month: str, year: str, as_of: date) -> str:
    """` (2026-09-01)` for 01-Sep-2026. A two-digit year's century is an assumption, said: a course's or a withdrawal's
    date is in the 2000s; a date of birth is the one of the two centuries' days Register's age rules take (16 to 100
    years ago, §3.4: the window is shorter than a century, so at most one is), said as such (review153 F3)."""
    if len(year) == 4:
        found = _day(year, month, day)
        return f" ({found})" if found else ""
    later = _day(f"20{year}", month, day)
    if later is None:  # no such day (29 February is in both centuries' leap years but 1900's, which 2000 has too)
        return ""
    if label != "date_of_birth":
        return f" ({later}, taking '{year}' as 20{year})"
    days = [found for found in (_day(f"19{year}", month, day), later) if found]
    oldest, youngest = years_before(as_of, 100).isoformat(), years_before(as_of, 16).isoformat()
    if taken := [found for found in days if oldest < found <= youngest]:
        return f" ({taken[0]}, the century that gives an age of 16 to 100)" if len(days) > 1 else f" ({taken[0]})"
    if len(days) == 1:  # 29-Feb-00: 1900 had no 29 February, so 2000-02-29 is the one day
        return f" ({days[0]}: not an age of 16 to 100, which Register requires)"
    return f" ({' or '.join(days)}: neither gives an age of 16 to 100, which Register requires)"


def _graduation_year_hint(label: str, value: str, facts: Facts) -> list[Finding] | None:
    """A degree's graduation year a spreadsheet turned into a date (F_DEGENDDT's 2025-07-01 as 45839, 01/07/2025 or
    1-Jul-25), which Register reads as the year 45839, 1 or 0 (review224 F3): the year it stands for, whichever order
    the day and month are in, the reading the record's other dates show first (review228 F3); a two-digit year as the
    one of its two centuries Register's graduation years include (review235 F4)."""
    if is_graduation_serial(value, facts.as_of):
        day = serial_day(value).isoformat()
        form, year, days = f"date serial number ({day} in Excel)", day[:4], f" ({day})"
        written = year
    elif (parts := _day_month_parts(value)) and written_order(value):
        written = parts[2]
        year = _graduation_century(written, facts.as_of)
        order, days = _order_and_days(parts[0], parts[1], year, shown=facts.date_order)
        form = f"{order} date"
    elif named := _named_month_date(value):
        day_of_month, month, written, form = named
        year = _graduation_century(written, facts.as_of)
        days = f" ({found})" if len(year) == 4 and (found := _day(year, month, day_of_month)) else ""
    else:
        return None
    if len(year) != 4:
        said = "the year as YYYY"
    elif len(written) == 2:  # the century taken, said (review235 F4)
        first, latest = graduation_years(facts.as_of)
        said = f"the year, {year} (the year ending '{written}' that Register takes: {first} to {latest}),"
    else:
        said = f"the year, {year},"
    return [
        (
            label,
            value,
            f"{label}: '{value}' looks like a spreadsheet's {form}: write {said} or the date as YYYY-MM-DD{days}",
        )
    ]


def _graduation_century(year: str, as_of: date) -> str:
    """A two-digit `year` as the one of 19yy and 20yy within Register's graduation years (the 60 years to next year,
    §3.4: fewer than a century, so at most one); as written when neither is, or when it has four digits."""
    if len(year) != 2:
        return year
    first, latest = graduation_years(as_of)
    found = [full for century in ("19", "20") if first <= int(full := century + year) <= latest]
    return found[0] if found else year


def _named_month_date(value: str) -> tuple[str, str, str, str] | None:
    """(day, month number, year as written, form) of Excel's 1-Jul-22, 01-Jul-2022, 1 Jul 2022 or Jul 1, 2022; None
    for another form, or a month name no spreadsheet writes."""
    if (parts := _DAY_MONTH_NAME_YEAR.fullmatch(value)) and (month := _MONTHS.get(parts.group(3).title())):
        return parts.group(1), month, parts.group(4), "day-month-year date"
    if (parts := _MONTH_NAME_DAY_YEAR.fullmatch(value)) and (month := _MONTHS.get(parts.group(1).title())):
        return parts.group(2), month, parts.group(3), "month-day-year date"
    return None


def _day_month_parts(value: str) -> tuple[str, str, str] | None:
    """(first number, second number, year) of a spreadsheet's 30/09/2026, 9/30/26 or 30-09-2026; None for another
    form."""
    parts = _DAY_MONTH_YEAR.fullmatch(value)
    if parts is None:
        return None
    if parts.group(2):
        return parts.group(1), parts.group(3), parts.group(4)
    return parts.group(1), parts.group(6), parts.group(7)


DAY_FIRST, MONTH_FIRST, EITHER = "day/month/year", "month/day/year", "either"


def written_order(value: str) -> str | None:
    """The order a spreadsheet's day/month/year or month/day/year date text can be read in: DAY_FIRST where only
    the day-first reading is a day (24/08/2026), MONTH_FIRST where only the month-first one is (12/26/1996), EITHER
    where both are (07/12/1996, 07/07/1996); None for another form, or neither reading a day. A text a spreadsheet
    left as it was and could read only the one way shows the order the spreadsheet did not read dates in (review224
    F1: resaved.py's possibly_swapped_date, and the hint's first reading)."""
    parts = _day_month_parts(value)
    if parts is None:
        return None
    day_first, month_first = _day_month_readings(*parts)
    if day_first and month_first:
        return EITHER
    return DAY_FIRST if day_first else MONTH_FIRST if month_first else None


def row_date_order(issues: Iterable[Issue]) -> str | None:
    """Facts.date_order of a record with `issues`: the one order its trainee dates refused as not YYYY-MM-DD can only
    be read in (DAY_FIRST or MONTH_FIRST), None when they show none, or both. Asked only of a record with issues."""
    shown = {
        written_order(issue.value)
        for issue in issues
        if issue.code in _DATE_ISSUES and issue.field in DATE_FIELDS and type(issue.value) is str
    }
    shown.discard(None)
    shown.discard(EITHER)
    return shown.pop() if len(shown) == 1 else None


def _order_and_days(first: str, second: str, year: str, *, shown: str | None = None) -> tuple[str, str]:
    """("day/month/year", " (1992-04-03)"), or both readings when the month may come first, the one first that the
    record's other dates show (`shown`, Facts.date_order: review224 F1); "month/day/year" when only the month-first
    reading is a day (12/26/1996: review156 F4), for a two-digit year too (US Excel's m/d/yy, 12/26/96: review158 F6),
    in either century; but no day for a two-digit year, whose century is unknown."""
    day_firsts, month_firsts = _day_month_readings(first, second, year)
    if len(year) != 4:
        return ("month/day/year", "") if month_firsts and not day_firsts else ("day/month/year", "")
    day_first, month_first = next(iter(day_firsts), None), next(iter(month_firsts), None)
    if day_first and month_first and day_first != month_first:
        if shown == MONTH_FIRST:
            return (
                "month/day/year",
                f" ({month_first}, as this record's other dates are month first; or {day_first} if the day comes "
                "first)",
            )
        if shown == DAY_FIRST:
            return (
                "day/month/year",
                f" ({day_first}, as this record's other dates are day first; or {month_first} if the month comes "
                "first)",
            )
        return "day/month/year", f" ({day_first}, or {month_first} if the month comes first)"
    if day_first:
        return "day/month/year", f" ({day_first})"
    if month_first:
        return "month/day/year", f" ({month_first})"
    return "day/month/year", ""


def _day_month_readings(first: str, second: str, year: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The days `first`/`second`/`year` can be read as: (day first, month first), each in the year written, or for a
    two-digit year in either century. The one reading of a spreadsheet's date text, for written_order and
    _order_and_days alike (review228 F8)."""
    years = (year,) if len(year) == 4 else (f"19{year}", f"20{year}")
    day_first = tuple(found for y in years if (found := _day(y, second, first)))
    month_first = tuple(found for y in years if (found := _day(y, first, second)))
    return day_first, month_first


def _day(year: str, month: str, day: str) -> str | None:
    try:
        return date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        return None


@rule(
    "unchecked_date_invalid",
    fields=("pg_apprenticeship_start_date",),
    message="pg_apprenticeship_start_date is invalid",
    source="hesa-formats.md §3.4 and §5 item 30 (Register does not check this date and may drop it)",
    fix="Write the date as YYYY-MM-DD.",
    api=False,
)
def pg_apprenticeship_start_date_is_iso_8601(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    value = data.get("pg_apprenticeship_start_date")
    if value is None or parse_date(value) is not None:
        return None
    return [("pg_apprenticeship_start_date", value, "pg_apprenticeship_start_date is invalid")]


# §3.4's `N.years.ago` is a time of day (Rails' Duration#ago), and a date compares with it as its midnight: the day
# exactly N years before today is already before it. So the "too old" rules refuse that day too; `> 16.years.ago`
# (date_of_birth_under_16) lets it through.


@rule(
    "date_of_birth_too_old",
    fields=("date_of_birth",),
    message="date_of_birth is invalid",
    source="register-api.md §3.4 (< 100.years.ago, a time: 100 years ago to the day is too old)",
    fix="Check the year of birth: Register refuses dates 100 years ago or more.",
)
def date_of_birth_is_within_100_years(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    born = facts.born
    if born is None or born > years_before(facts.as_of, 100):
        return None
    return [("date_of_birth", data["date_of_birth"], "date_of_birth is invalid")]


@rule(
    "date_of_birth_in_future",
    fields=("date_of_birth",),
    message="date_of_birth must be in the past",
    source="register-api.md §3.4",
    fix="Check the date of birth; day and month may have been swapped.",
)
def date_of_birth_is_in_the_past(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    born = facts.born
    if born is None or born <= facts.as_of:
        return None
    return [("date_of_birth", data["date_of_birth"], "date_of_birth must be in the past")]


@rule(
    "date_of_birth_under_16",
    fields=("date_of_birth",),
    message="date_of_birth cannot be less than 16 years ago",
    source="register-api.md §3.4",
    fix="Check the date of birth: trainees are at least 16.",
)
def date_of_birth_is_at_least_16_years_ago(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    born = facts.born
    if born is None or born > facts.as_of or born <= years_before(facts.as_of, 16):
        return None
    return [("date_of_birth", data["date_of_birth"], "date_of_birth cannot be less than 16 years ago")]


@rule(
    "itt_start_date_too_far",
    fields=("itt_start_date",),
    message="itt_start_date must not be more than one year in the future",
    source="register-api.md §3.4 (start.year > now.year + 1)",
    fix="Check the ITT start date's year.",
)
def itt_start_date_is_at_most_next_year(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    start = facts.itt_start
    if start is None or start.year <= facts.as_of.year + 1:
        return None
    return [("itt_start_date", data["itt_start_date"], "itt_start_date must not be more than one year in the future")]


# §3.4's three itt_end_date checks are Register's `itt_end_date_valid`, an `if … elsif … elsif` chain in this order
# that returns unless both ITT dates are valid date strings (trainee_attributes.rb): one message at most, and none
# beside a blank or invalid itt_start_date (review57 F3).


def _itt_dates(facts: Facts) -> tuple[date, date] | None:
    """(itt_start, itt_end) when `itt_end_date_valid` runs: both read as dates (§3.4)."""
    if facts.itt_start is None or facts.itt_end is None:
        return None
    return facts.itt_start, facts.itt_end


def _itt_end_too_far(end: date, facts: Facts) -> bool:
    return end.year > facts.as_of.year + 5  # `end.year > now.year.next + 4`


def _itt_end_too_old(end: date, facts: Facts) -> bool:
    return end <= years_before(facts.as_of, 10)  # `end < 10.years.ago`, a time


@rule(
    "itt_end_date_too_far",
    fields=("itt_end_date",),
    message="itt_end_date must be within the next 5 years",
    source="register-api.md §3.4 (end.year > now.year + 5; first of itt_end_date_valid's three checks, run when "
    "both ITT dates are valid)",
    fix="Check the expected end date's year.",
)
def itt_end_date_is_within_5_years(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    dates = _itt_dates(facts)
    if dates is None or not _itt_end_too_far(dates[1], facts):
        return None
    return [("itt_end_date", data["itt_end_date"], "itt_end_date must be within the next 5 years")]


@rule(
    "itt_end_date_too_old",
    fields=("itt_end_date",),
    message="itt_end_date must be within the last 10 years",
    source="register-api.md §3.4 (end < 10.years.ago, a time: 10 years ago to the day is too old; second of "
    "itt_end_date_valid's checks)",
    fix="Check the expected end date's year.",
)
def itt_end_date_is_within_last_10_years(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    dates = _itt_dates(facts)
    if dates is None or _itt_end_too_far(dates[1], facts) or not _itt_end_too_old(dates[1], facts):
        return None
    return [("itt_end_date", data["itt_end_date"], "itt_end_date must be within the last 10 years")]


@rule(
    "itt_end_date_before_start",
    fields=("itt_end_date", "itt_start_date"),
    message="itt_end_date must be after itt_start_date",
    source="register-api.md §3.4 (start >= end; last of itt_end_date_valid's checks)",
    fix="The expected end date must come after the ITT start date; check for swapped dates.",
)
def itt_end_date_is_after_start(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    dates = _itt_dates(facts)
    if dates is None or _itt_end_too_far(dates[1], facts) or _itt_end_too_old(dates[1], facts):
        return None
    start, end = dates
    if start < end:
        return None
    return [("itt_end_date", data["itt_end_date"], "itt_end_date must be after itt_start_date")]


# Register's `validate_trainee_start_date` (§3.4): a blank trainee_start_date is set to itt_start_date, then it is
# invalid, too old, or in the future (and not itt_start_date), one at most. R9 runs only when it found none.


def _trainee_start_unreadable(data: dict[str, Any], facts: Facts) -> bool:
    """trainee_start_date, or the itt_start_date a blank one is set to, is given but no date to Register."""
    value = data.get("trainee_start_date") if facts.trainee_start_given else data.get("itt_start_date")
    return value is not None and facts.trainee_start_checked is None


def _trainee_start_too_old(facts: Facts) -> bool:
    start = facts.trainee_start_checked
    return start is not None and start <= years_before(facts.as_of, 10)  # `< 10.years.ago`, a time


def _trainee_start_in_future(facts: Facts) -> bool:
    start = facts.trainee_start  # one set from itt_start_date equals it
    return start is not None and start > facts.as_of and start != facts.itt_start


def _trainee_start_date_has_an_error(data: dict[str, Any], facts: Facts) -> bool:
    """Whether Register's `errors[:trainee_start_date]` is not blank: R9's `valid_trainee_start_date?` (§3.3)."""
    return _trainee_start_unreadable(data, facts) or _trainee_start_too_old(facts) or _trainee_start_in_future(facts)


@rule(
    "trainee_start_date_too_old",
    fields=("trainee_start_date",),
    message="trainee_start_date Cannot be more than 10 years in the past",
    source="register-api.md §3.4 (< 10.years.ago, a time: 10 years ago to the day is too old; "
    "en.errors.attributes.trainee_start_date.too_old; a blank one is set to itt_start_date first)",
    fix="Check the trainee start date's year. A blank trainee start date is the ITT start date to Register, so an ITT "
    "start date over 10 years ago is refused this way too (the value shown is then the ITT start date).",
)
def trainee_start_date_is_within_10_years(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    if not _trainee_start_too_old(facts):
        return None
    value = data["trainee_start_date"] if facts.trainee_start_given else data["itt_start_date"]
    return [("trainee_start_date", value, "trainee_start_date Cannot be more than 10 years in the past")]


@rule(
    "trainee_start_date_in_future",
    fields=("trainee_start_date",),
    message="trainee_start_date must be in the past",
    source="register-api.md §3.4 (in the future and not equal to itt_start_date)",
    fix="A trainee start date in the future must equal the ITT start date; otherwise leave it blank.",
)
def trainee_start_date_is_past_or_equals_itt_start(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    if not _trainee_start_in_future(facts):
        return None
    return [("trainee_start_date", data["trainee_start_date"], "trainee_start_date must be in the past")]


# --- cross-field rules (§3.3) ----------------------------------------------------------------------------


@rule(
    "qualification_aim_required",
    fields=("itt_qualification_aim", "itt_aim"),
    message="itt_qualification_aim must be entered if 202 selected for itt_aim",
    source="register-api.md §3.3 R1",
    fix="Give the qualification aim (e.g. 020 PGCE) when itt_aim is 202 or blank.",
)
def qualification_aim_is_given_for_academic_award(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    if data.get("itt_qualification_aim") is not None or data.get("itt_aim") not in ("202", None):
        return None
    return [("itt_qualification_aim", None, "itt_qualification_aim must be entered if 202 selected for itt_aim")]


@rule(
    "primary_subject_required",
    fields=("course_subject_1", "course_age_range"),
    message="course_subject_1 is invalid. It should be `100511` for the course_age_range provided",
    source="register-api.md §3.3 R2",
    fix="For a primary age range put primary teaching (100511) first; Register does not reorder subjects.",
)
def primary_age_range_has_primary_subject_first(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    subject = data.get("course_subject_1")
    if (
        facts.early_years
        or subject is None
        or subject == PRIMARY_SUBJECT
        or data.get("course_age_range") not in PRIMARY_AGE_RANGES
    ):
        return None
    return [
        (
            "course_subject_1",
            subject,
            "course_subject_1 is invalid. It should be `100511` for the course_age_range provided",
        )
    ]


@rule(
    "early_years_subject_required",
    fields=("course_subject_1", "training_route"),
    message="course_subject_1 is invalid. It should be `100510` for the training_route provided",
    source="register-api.md §3.3 R3",
    fix="Early-years routes (17-20) take early years teaching (100510) as course_subject_1.",
)
def early_years_route_has_early_years_subject(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    subject = data.get("course_subject_1")
    if not facts.early_years or subject is None or subject == EARLY_YEARS_SUBJECT:
        return None
    return [
        (
            "course_subject_1",
            subject,
            "course_subject_1 is invalid. It should be `100510` for the training_route provided",
        )
    ]


@rule(
    "early_years_age_range_required",
    fields=("course_age_range", "training_route"),
    message="course_age_range is invalid. It should be `13920` for the training_route provided",
    source="register-api.md §3.3 R4 (rules/course_age_range.rb :early_years_invalid)",
    fix="Early-years routes (17-20) take the age range 13920 (0-5).",
)
def early_years_route_has_early_years_age_range(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    age_range = data.get("course_age_range")
    if age_range is None or not facts.route_known or not facts.early_years or age_range == EARLY_YEARS_AGE_RANGE:
        return None
    return [
        (
            "course_age_range",
            age_range,
            "course_age_range is invalid. It should be `13920` for the training_route provided",
        )
    ]


@rule(
    "age_range_reserved_for_early_years",
    fields=("course_age_range", "training_route"),
    message="course_age_range is invalid. It can only be used for early years training routes",
    source="register-api.md §3.3 R4 (rules/course_age_range.rb :reserved_for_early_years)",
    fix="13920 (0-5) is only for early-years routes 17-20: pick the course's real age range.",
)
def early_years_age_range_is_only_on_early_years_routes(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    age_range = data.get("course_age_range")
    if age_range != EARLY_YEARS_AGE_RANGE or not facts.route_known or facts.early_years:
        return None
    return [
        (
            "course_age_range",
            age_range,
            "course_age_range is invalid. It can only be used for early years training routes",
        )
    ]


@rule(
    "duplicate_course_subject",
    fields=("course_subject_2", "course_subject_3"),
    message="course_subject_2 might contain duplicate values",
    source="register-api.md §3.3 R5",
    fix="Each course subject may appear once; leave the repeated one blank.",
)
def course_subjects_are_distinct(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    if facts.early_years:
        return None
    first, second, third = data.get("course_subject_1"), data.get("course_subject_2"), data.get("course_subject_3")
    found: list[Finding] | None = None
    if second is not None and second == first:
        found = [("course_subject_2", second, "course_subject_2 might contain duplicate values")]
    if third is not None and third in (first, second):
        found = (found or []) + [("course_subject_3", third, "course_subject_3 might contain duplicate values")]
    return found


@rule(
    "study_mode_required",
    fields=("study_mode", "training_route"),
    message="study_mode can't be blank",
    source="register-api.md §3.3 R6 (training_route_manager.rb requires_study_mode?)",
    fix="Give the mode (01 full time, 31 part time, ...); only routes 16 and 17 may leave it blank.",
)
def study_mode_is_given_unless_assessment_only(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    if data.get("study_mode") is not None or facts.route in NO_STUDY_MODE_ROUTES:
        return None
    return [("study_mode", None, "study_mode can't be blank")]


@rule(
    "degree_required",
    fields=("degrees_attributes", "training_route"),
    message="degrees_attributes must be entered if specifying a postgraduate training_route",
    source="register-api.md §3.3 R7a (any route given but an undergraduate one: an unknown code too); validate leaves "
    "it out while training_route is no route code, which may be an undergraduate one needing none (9 for 09; the "
    "route's own error says so)",
    fix="Postgraduate routes need the trainee's degree (PREVIOUSQUALIFICATION / degree columns).",
)
def postgraduate_route_has_a_degree(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    # R7a: `training_route.present? && requires_degree?` (§3.3). An unknown route code is present (the mapper's
    # InvalidValue) and not undergraduate, so Register asks it for a degree too, beside its own error (review57 F3),
    # and so does the emulator. validate waits for a route code (WAIT_FOR_A_ROUTE_CODE): `9` is 09 without its zero,
    # an undergraduate route, which needs none.
    if facts.route is None or facts.route in UNDERGRADUATE_ROUTES or data.get("degrees_attributes"):
        return None
    return [
        ("degrees_attributes", None, "degrees_attributes must be entered if specifying a postgraduate training_route")
    ]


@rule(
    "iqts_country_required",
    fields=("iqts_country", "training_route"),
    message="iqts_country can't be blank",
    source="register-api.md §3.3 R8",
    fix="iQTS (route 15) trainees need the country they train in (a country code). A HESA extract has no tag for it "
    "(formats.md): name the tag or column your SRS writes it in under `fields: hesa: trainee: iqts_country:` "
    f"{in_a_mapping_file('mappings.md')}.",
)
def iqts_route_has_a_country(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    if facts.route != IQTS_ROUTE or data.get("iqts_country") is not None:
        return None
    return [("iqts_country", None, "iqts_country can't be blank")]


@rule(
    "iqts_country_not_allowed",
    fields=("iqts_country", "training_route"),
    message="iqts_country must be blank",
    source="register-api.md §3.3 R8",
    fix="Only iQTS (route 15) trainees have an iqts_country; leave it blank.",
)
def iqts_country_only_on_iqts_route(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    value = data.get("iqts_country")
    if value is None or facts.route == IQTS_ROUTE:
        return None
    return [("iqts_country", value, "iqts_country must be blank")]


@rule(
    "invalid_iqts_country",
    fields=("iqts_country",),
    message="iqts_country has invalid reference data value of '<value>'. Example values include …",
    source="register-api.md §3.3 R8 (inclusion in COUNTRIES)",
    fix="Use a country code from `register-batch reference show country`.",
)
def iqts_country_is_a_country_code(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    value = data.get("iqts_country")
    if value is None or facts.route != IQTS_ROUTE or value in facts.reference.codes("country"):
        return None
    return [
        ("iqts_country", value, inclusion_message("iqts_country", value, _sorted_codes(facts.reference, "country")))
    ]


def _accepted_routes(reference: ReferenceData, before_2022: bool = False) -> list[str]:
    def accepted() -> list[str]:
        routes = set(reference.codes("training_route")) - REFUSED_ROUTES
        if before_2022:
            routes.discard("12")  # provider_led_postgrad has start_year 2022
        return sorted(routes)

    return reference.derived(("accepted_routes", before_2022), accepted)


@rule(
    "invalid_training_route",
    fields=("training_route",),
    message="training_route has invalid reference data value of '<value>'. Example values include '03', '09', …",
    source="register-api.md §3.3 R9 (02 refused; 12 only from the 2022 cycle; run only when trainee_start_date has "
    "no error)",
    fix="Use an accepted route code (`register-batch reference show training_route`); 02 and 13 have no "
    "replacement and 12 needs a start in 2022/23 or later.",
)
def training_route_is_accepted(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    route = facts.route
    # R9 runs `if: :valid_trainee_start_date?`, `errors[:trainee_start_date].blank?` (§3.3, trainee_attributes.rb):
    # skipped when trainee_start_date is invalid, too old or in the future, not only unreadable (review57 F3). With
    # both start dates blank there is no such error, and R9 runs with every route but 02 allowed.
    if route is None or _trainee_start_date_has_an_error(data, facts):
        return None
    if route in _accepted_routes(facts.reference, facts.start_cycle < 2022):
        return None
    # The message lists the routes of every year, 12 included before 2022 (`valid_values:
    # ReferenceData::TRAINING_ROUTES.hesa_codes`, no year: §3.3 R9's one message; review105 F3).
    return [("training_route", route, inclusion_message("training_route", route, _accepted_routes(facts.reference)))]


# R9 waits for a valid trainee_start_date (register-api.md §3.3 R9, `if: :valid_trainee_start_date?`), and so does
# training_route_is_accepted, as Register's answer has no route error then. But a value that is no route code at all
# (`3` for `03`, `XX`) is refused in every cycle once the date is mended: without a word now, a file re-saved by a
# spreadsheet (dates and codes damaged together) had its routes named only on the next round, and `mappings check`
# listed them while `validate` did not (review151 F1). Said here, as register-batch's own error (api=False: the emulator
# answers as Register does), and leading_zeros_lost follows it. An error, not a warning: the record is refused for its
# date already, and Register will refuse it for this value whichever cycle the date puts it in. A listed route that a
# cycle refuses (02 in every one, 12 before 2022) waits for R9 itself (in a HESA extract, the mapping names 02).
@rule(
    "unknown_training_route",
    fields=("training_route", "trainee_start_date"),
    message="training_route '<value>' is not a route code: Register checks the route only once trainee_start_date "
    "has no error, and then refuses this value in every cycle",
    source="register-api.md §3.3 R9 (inclusion in the routes with a HESA code, checked `if: "
    ":valid_trainee_start_date?`), §5.2 (training_route.yml); Register says nothing of the route while "
    "trainee_start_date has an error",
    fix="Correct both: use a route code (`register-batch reference show training_route`; a spreadsheet drops the "
    "leading zero of 03 and 09), and mend trainee_start_date. degree_required, fund_code_not_valid and "
    "funding_method_not_available turn on the route, so they are checked once it is a route code.",
    api=False,
)
def training_route_is_a_route_code(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    route = facts.route
    if route is None or facts.route_known or not _trainee_start_date_has_an_error(data, facts):
        return None  # the last: training_route_is_accepted says it (as invalid_training_route)
    message = (
        f"training_route '{route}' is not a route code: Register checks the route only once trainee_start_date has "
        "no error, and then refuses this value in every cycle"
    )
    return [("training_route", route, message)]


# The findings of R7a, R10 and R11 that turn on which route the trainee is on (register-api.md §3.3 R7a, R10, §3.5.2
# :ineligible): with a value that is no route code (the mapper's InvalidValue) Register gives them too, but what they
# say to do is wrong: "use fund code 2" for a trainee on route 9 that lost its zero from 09, a funded route (review151
# F1), and "degrees_attributes must be entered if specifying a postgraduate training_route" for that undergraduate
# route, which needs no degree. Validate leaves them out while the route's own error names it
# (invalid_training_route, unknown_training_route, or the mapping's untranslatable_code for 13): the Validator wraps
# them so, but not for the emulator, which answers as Register does. They are checked once the route is a code.
WAIT_FOR_A_ROUTE_CODE = frozenset(
    {"degree_required", "fund_code_not_valid", "funding_method_not_available", "funding_not_judged"}
)


def once_the_route_is_a_code(
    check: Callable[[dict[str, Any], Facts], list[Finding] | None],
) -> Callable[[dict[str, Any], Facts], list[Finding] | None]:
    """`check`, skipped while training_route is given and is not a route code (WAIT_FOR_A_ROUTE_CODE)."""

    def checked(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
        if facts.route is not None and not facts.route_known:
            return None
        return check(data, facts)

    return checked


# The findings that turn on the trainee's start cycle (register-api.md §3.3 "Start cycle", R10-R13, §3.5): the funding
# table's (R10, R11 and its fund-code exception), the initiatives' (R12, R13), and register-batch's own note that a
# cycle's table is not bundled. The cycle is trainee_start_date's, else itt_start_date's (Facts.of). Written otherwise
# than YYYY-MM-DD, that date is a day Register reads another way (an Excel serial, 46273, is 2046-09-30 to it) or none
# (01/09/2026: the cycle is then now + 1 month's), and these findings name a cycle the user never typed ("not available
# in academic cycle '2046 to 2047'"; review168 F7), while the date's own error (invalid_date or date_not_yyyy_mm_dd,
# both errors, so the record is refused already) says what to mend. Validate leaves them out until the date is
# YYYY-MM-DD, as it does the route's (WAIT_FOR_A_ROUTE_CODE); the emulator, which answers as Register does, does not.
# Register's own date errors (itt_start_date_too_far, itt_end_date_before_start, ...) are kept: they are about the
# date itself.
WAIT_FOR_THE_START_DATE = frozenset(
    {
        "funding_rules_not_bundled",
        "fund_code_not_valid",
        "funding_method_not_eligible",
        "funding_method_not_available",
        "initiative_not_available",
        "additional_initiative_not_available",
        "funding_not_judged",
        "initiative_not_judged",
    }
)


def start_cycle_misread(data: dict[str, Any]) -> bool:
    """Whether the date the start cycle is taken from (trainee_start_date, else itt_start_date: Facts.of) is given and
    not written YYYY-MM-DD (WAIT_FOR_THE_START_DATE). Asked only of a record one of those rules has a finding on."""
    value = data.get("trainee_start_date")
    if value is None:
        value = data.get("itt_start_date")
    return value is not None and parse_date(value) is None


def _funding_cycle_known(facts: Facts) -> bool:
    return facts.start_cycle in facts.reference.funding.rules


@rule(
    "funding_rules_not_bundled",
    fields=("fund_code", "funding_method"),
    message="funding rules for academic cycle '<YYYY to YYYY>' are not bundled: fund_code and funding_method "
    "were not checked against Register's funding table",
    source="register-api.md §3.5.3 (the 2025/26 and 2026/27 tables are bundled, and 2027/28's, which has no rows: "
    "funding.yml); left out while the start date (trainee_start_date, else itt_start_date) is not YYYY-MM-DD: its "
    "cycle is then not the one typed",
    fix="For a past cycle (2024 to 2025 and earlier), nothing to fix in the data: Register checks these against its "
    "own table. For a cycle after 2027 to 2028, Register may not have funding rules yet: until it does, it has no "
    "funded route there and refuses fund_code 7 ('fund_code is not valid for this trainee'), so send such trainees "
    "once they are published (a newer register-batch checks them).",
    severity=Severity.WARNING,
    api=False,
)
def funding_rules_are_bundled_for_the_cycle(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    """A start cycle funding.yml has no table for. A cycle Register is known to have no rows for is bundled empty
    (2027/28), so R10 and R11 refuse there as Register does, as errors (review57 F1): the data tells them apart."""
    if _funding_cycle_known(facts):
        return None
    if data.get("fund_code") != "7":
        # Without fund code 7 only a FundCodeException subject reaches the table; any other funded method is
        # refused whatever the table says (funding_method_needs_eligible_fund_code, checked in every cycle).
        context = _funding_context(data, facts)
        if context is None or not _fund_code_exception(context[1], facts):
            return None
    return [
        (
            "funding_method",
            data.get("funding_method"),
            f"funding rules for academic cycle '{cycle_label(facts.start_cycle)}' are not bundled: fund_code and "
            "funding_method were not checked against Register's funding table",
        )
    ]


@rule(
    "fund_code_not_valid",
    fields=("fund_code", "training_route", "course_age_range"),
    message="fund_code is not valid for this trainee",
    source="register-api.md §3.3 R10 (rules/fund_code.rb), §3.5.3; validate leaves it out while training_route is no "
    "route code, as its advice would be wrong (the route's own error says so), and while the start date "
    "(trainee_start_date, else itt_start_date) is not YYYY-MM-DD, as its cycle is then not the one typed",
    fix="Fund code 7 (eligible) is only for routes with funding in the trainee's start cycle; otherwise use 2.",
)
def fund_code_7_has_funding_for_route(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    if data.get("fund_code") != "7" or facts.route is None or not _funding_cycle_known(facts):
        return None
    funding = facts.reference.funding
    route_name = funding.training_routes.get(facts.route)
    funded_routes = {route for _type, route, _subjects in funding.rules[facts.start_cycle]}
    age_range_known = data.get("course_age_range") in facts.reference.codes("course_age_range")
    if route_name in funded_routes and age_range_known:
        return None
    if age_range_known and _new_route(facts):  # funding_not_judged says so instead (review210 F4)
        return None
    return [("fund_code", "7", "fund_code is not valid for this trainee")]


@rule(
    "funding_method_not_eligible",
    fields=("funding_method", "fund_code"),
    message="funding_method '<type>' is not allowed when fund_code is '<fc>' and course_subject_1 is '<subject>'",
    source="register-api.md §3.3 R11, §3.5.2 (:not_eligible_fund_code, FundCodeException, which turns on the cycle); "
    "validate leaves it out while the start date (trainee_start_date, else itt_start_date) is not YYYY-MM-DD, as its "
    "cycle is then not the one typed",
    fix="A bursary, scholarship or grant needs fund code 7; use funding_method 6 when the trainee is not eligible.",
)
def funding_method_needs_eligible_fund_code(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    context = _funding_context(data, facts)
    if context is None:
        return None
    funding_type, subject, subject_name = context
    fund_code = data.get("fund_code")
    if fund_code == "7" or _fund_code_exception(subject, facts):
        return None
    return [
        (
            "funding_method",
            data["funding_method"],
            f"funding_method '{funding_type}' is not allowed when fund_code is '{fund_code or ''}' and "
            f"course_subject_1 is '{subject_name}'",
        )
    ]


@rule(
    "funding_method_not_available",
    fields=("funding_method", "training_route", "course_subject_1"),
    message="funding_method '<type>' is not allowed when training_route is '<route>' and course_subject_1 is "
    "'<subject>' in academic cycle '<YYYY to YYYY>'",
    source="register-api.md §3.3 R11, §3.5.2-§3.5.4 (:ineligible); validate leaves it out while training_route is no "
    "route code, as its advice would be wrong (the route's own error says so), and while the start date "
    "(trainee_start_date, else itt_start_date) is not YYYY-MM-DD, as its cycle is then not the one typed",
    fix="That route and subject have no such funding in the start cycle: use funding_method 6 or check the subject.",
)
def funding_method_is_offered_for_route_and_subject(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    context = _funding_context(data, facts)
    if context is None or not _funding_cycle_known(facts):  # the table of this cycle is not bundled
        return None
    funding_type, subject, subject_name = context
    if data.get("fund_code") != "7" and not _fund_code_exception(subject, facts):
        return None  # reported by funding_method_needs_eligible_fund_code
    funding = facts.reference.funding
    route_name = funding.training_routes.get(facts.route or "", facts.route or "")
    allocation = funding.allocation_subjects_of(subject)
    for rule_type, rule_route, subjects in funding.rules[facts.start_cycle]:
        if rule_type == funding_type and rule_route == route_name and allocation & subjects:
            return None
    if _method_not_judged(funding_type, subject, facts):  # funding_not_judged says so instead (review210 F4)
        return None
    return [
        (
            "funding_method",
            data["funding_method"],
            f"funding_method '{funding_type}' is not allowed when training_route is '{route_name}' and "
            f"course_subject_1 is '{subject_name}' in academic cycle '{cycle_label(facts.start_cycle)}'",
        )
    ]


# What the bundled rule tables cannot judge (review210 F4): a pull replaces the codes and labels of the lists, not
# funding.yml's tables, the allocation subjects nor the internal names (reference/__init__.py). A code the pulled lists
# brought that those tables lack is told as a warning, and Register judges it; the bundled lists have no such code.
NOT_JUDGED = "; Register will judge it"


def _new_route(facts: Facts) -> bool:
    """A route code only the pulled lists in use hold, which funding.yml's routes do not name."""
    route = facts.route
    return (
        route is not None
        and route in facts.reference.added_codes("training_route")
        and facts.reference.unjudged("training_route", route)
    )


def _new_subject(subject: str, facts: Facts) -> bool:
    """A course subject only the pulled lists in use hold, which no bundled allocation subject takes."""
    return subject in facts.reference.added_codes("course_subject") and facts.reference.unjudged(
        "course_subject", subject
    )


def _method_not_judged(funding_type: str, subject: str, facts: Facts) -> bool:
    """Whether the bundled table cannot judge `funding_type` for the record's route and course subject: a route it
    does not name, or a course subject only a pull brought (no allocation subject) on a route the cycle's table funds
    so for some allocation subject, which the new subject's may be. A route the table never funds so in the cycle (a
    bursary on school_direct_salaried) is refused whatever the subject (review213 F3)."""
    if _new_route(facts):
        return True
    if not _new_subject(subject, facts):
        return False
    funding = facts.reference.funding
    route_name = funding.training_routes.get(facts.route or "", facts.route or "")
    return any(
        rule_type == funding_type and rule_route == route_name
        for rule_type, rule_route, _subjects in funding.rules[facts.start_cycle]
    )


def _adds_routes_or_subjects(reference: ReferenceData) -> bool:
    return bool(reference.added_codes("training_route") or reference.added_codes("course_subject"))


@rule(
    "funding_not_judged",
    fields=("funding_method", "fund_code", "training_route", "course_subject_1"),
    message="register-batch cannot tell whether <funding_method '<type>'|fund_code '7'> is available for "
    "training_route '<route>' and course_subject_1 '<subject>' in academic cycle '<YYYY to YYYY>': the pulled lists "
    "in use hold <training_route|course_subject_1> '<code>', which the bundled funding tables (Register's lists of "
    "<date>, DfE commit <commit>) do not know; Register will judge it",
    source="register-api.md §3.3 R10, R11, §3.5.3-§3.5.4; `reference pull` updates the codes, not funding.yml nor the "
    "allocation subjects (nightly-sync.md §9): fund_code_not_valid and funding_method_not_available leave such a "
    "code to Register, where the funding depends on what the bundled tables lack (a new subject's allocation "
    "subject); only with pulled lists holding such a code",
    fix="Nothing to fix if Register funds it: the record is sent, and Register refuses it if not (its answer names "
    "the field). A newer register-batch judges it.",
    severity=Severity.WARNING,
    api=False,
    only_with=_adds_routes_or_subjects,
)
def funding_not_judged(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    if facts.route is None or not _funding_cycle_known(facts):
        return None  # funding_rules_not_bundled says a cycle's table is not bundled
    fund_code_7 = data.get("fund_code") == "7"
    context = _funding_context(data, facts)
    new_route = _new_route(facts)
    # Where the errors leave the code to Register: fund_code_not_valid (fund code 7, an age range of the lists) and
    # funding_method_not_available (fund code 7, or a FundCodeException subject, which a new subject is not).
    age_range_known = data.get("course_age_range") in facts.reference.codes("course_age_range")
    by_fund_code = fund_code_7 and new_route and age_range_known
    by_method = (
        context is not None
        and (fund_code_7 or _fund_code_exception(context[1], facts))
        and _method_not_judged(context[0], context[1], facts)
    )
    if not (by_fund_code or by_method):
        return None
    what = f"funding_method '{context[0]}'" if by_method and context is not None else "fund_code '7'"
    new = f"training_route '{facts.route}'" if new_route else f"course_subject_1 '{data.get('course_subject_1')}'"
    field = "funding_method" if by_method else "fund_code"
    return [
        (
            field,
            data.get(field),
            f"register-batch cannot tell whether {what} is available for training_route '{facts.route}' and "
            f"course_subject_1 '{data.get('course_subject_1') or ''}' in academic cycle "
            f"'{cycle_label(facts.start_cycle)}': the pulled lists in use hold {new}, which "
            f"the bundled funding tables ({bundled_snapshot()}) do not know{NOT_JUDGED}",
        )
    ]


def _funding_context(data: dict[str, Any], facts: Facts) -> tuple[str, str, str] | None:
    """(funding type, course subject code, subject name) when R11 applies, else None. In every start cycle: its
    :not_eligible_fund_code branch needs no table (§3.5.2); the table lookups check `_funding_cycle_known`.

    A blank or unknown course_subject_1 does not skip it (review113 F5): Register's rule has no such guard (§3.5.2),
    and its message names the subject as the mapper left it, '' for none and the value sent for an unknown code (an
    InvalidValue, whose to_s is that value); neither has an allocation subject, so no exception and no table row."""
    method = data.get("funding_method")
    funding = facts.reference.funding
    if method is None or method == "6" or method not in funding.funding_types or facts.route is None:
        return None
    subject = data.get("course_subject_1")
    if subject is None:
        return funding.funding_types[method], "", ""
    subject = str(subject)
    known = subject in facts.reference.codes("course_subject")
    return funding.funding_types[method], subject, facts.reference.name("course_subject", subject) if known else subject


def _fund_code_exception(subject: str, facts: Facts) -> bool:
    funding = facts.reference.funding
    return facts.start_cycle in funding.exception_cycles and bool(
        funding.allocation_subjects_of(subject) & funding.exception_subjects
    )


# R19: funding_method C makes the initiative this one, whatever was sent (register-api.md §3.3).
VETERANS_INITIATIVE = "veterans_teaching_undergraduate_bursary"


def _initiative_finding(
    field: str, data: dict[str, Any], facts: Facts, name: str | None = None
) -> list[Finding] | None:
    """R12/R13: the initiative `name` (else the one the record's code names) must run in the start cycle; a cycle
    Register has no list for has none (§3.3: "empty list if the constant is missing")."""
    code = data.get(field)
    named_by_code = name is None
    if name is None:
        if code is None or code not in facts.reference.codes("training_initiative"):
            return None
        name = facts.reference.name("training_initiative", code)
    if name in facts.reference.funding.initiatives.get(facts.start_cycle, frozenset()):
        return None
    if named_by_code and _new_initiative(code, facts.reference):
        return None  # initiative_not_judged says so instead (review210 F4)
    return [(field, code, f"{field} '{name}' is not available in academic cycle '{cycle_label(facts.start_cycle)}'")]


def _new_initiative(code: Any, reference: ReferenceData) -> bool:
    """An initiative code only the pulled lists in use hold, with no bundled internal name, so in no cycle's list."""
    return code in reference.added_codes("training_initiative") and reference.unjudged("training_initiative", code)


def _adds_initiatives(reference: ReferenceData) -> bool:
    return bool(reference.added_codes("training_initiative"))


@rule(
    "initiative_not_judged",
    fields=("training_initiative", "additional_training_initiative"),
    message="register-batch cannot tell which academic cycles <field> '<code>' (<label>) runs in: the pulled lists in "
    "use hold it, and the bundled initiative table (Register's lists of <date>, DfE commit <commit>) does not know "
    "it; Register will judge it",
    source="register-api.md §3.3 R12, R13, §3.5.5; `reference pull` updates the codes, not funding.yml's initiatives "
    "per cycle nor the internal names (nightly-sync.md §9): initiative_not_available and "
    "additional_initiative_not_available leave such a code to Register; only with pulled lists holding such a code",
    fix="Nothing to fix if the initiative runs in the trainee's start cycle: the record is sent, and Register refuses "
    "it if not (its answer names the field). A newer register-batch judges it.",
    severity=Severity.WARNING,
    api=False,
    only_with=_adds_initiatives,
)
def initiative_not_judged(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    findings: list[Finding] = []
    for field in ("training_initiative", "additional_training_initiative"):
        code = data.get(field)
        if code is None or (field == "training_initiative" and data.get("funding_method") == "C"):
            continue  # R19: Register replaces it (initiative_replaced_by_funding_method)
        if _new_initiative(code, facts.reference):
            label = facts.reference.name("training_initiative", code)
            snapshot = bundled_snapshot()
            findings.append(
                (
                    field,
                    code,
                    f"register-batch cannot tell which academic cycles {field} '{code}' ({label}) runs in: the pulled "
                    f"lists in use hold it, and the bundled initiative table ({snapshot}) does not know it{NOT_JUDGED}",
                )
            )
    return findings or None


@rule(
    "initiative_not_available",
    fields=("training_initiative",),
    message="training_initiative '<name>' is not available in academic cycle '<YYYY to YYYY>'",
    source="register-api.md §3.3 R12, §3.5.5; validate leaves it out while the start date (trainee_start_date, else "
    "itt_start_date) is not YYYY-MM-DD, as its cycle is then not the one typed",
    fix="That initiative does not run in the trainee's start cycle: leave it blank or correct the start date.",
)
def training_initiative_runs_in_start_cycle(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    if data.get("funding_method") == "C":
        # R19: Register replaces the initiative (a sent one is reported by initiative_replaced_by_funding_method),
        # then checks the veterans' one (R12): Register lists it from 2020/21 (funding.yml).
        return _initiative_finding("training_initiative", data, facts, VETERANS_INITIATIVE)
    return _initiative_finding("training_initiative", data, facts)


@rule(
    "additional_initiative_not_available",
    fields=("additional_training_initiative",),
    message="additional_training_initiative '<name>' is not available in academic cycle '<YYYY to YYYY>'",
    source="register-api.md §3.3 R13, §3.5.5; validate leaves it out while the start date (trainee_start_date, else "
    "itt_start_date) is not YYYY-MM-DD, as its cycle is then not the one typed",
    fix="That initiative does not run in the trainee's start cycle: leave it blank.",
)
def additional_initiative_runs_in_start_cycle(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    return _initiative_finding("additional_training_initiative", data, facts)


@rule(
    "initiative_replaced_by_funding_method",
    fields=("training_initiative", "funding_method"),
    message="training_initiative '<code>' would be replaced by the veterans teaching undergraduate bursary "
    "because funding_method is C",
    source="register-api.md §3.3 R19 (the mapper overrides any sent initiative)",
    fix="With funding_method C leave training_initiative blank; Register sets the veteran initiative itself.",
    api=False,
)
def training_initiative_is_blank_with_veteran_bursary(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    code = data.get("training_initiative")
    if code is None or data.get("funding_method") != "C":
        return None
    return [
        (
            "training_initiative",
            code,
            f"training_initiative '{code}' would be replaced by the veterans teaching undergraduate bursary "
            "because funding_method is C",
        )
    ]


def _urn_finding(field: str, label: str, data: dict[str, Any], digits: int, message: str) -> list[Finding] | None:
    value = data.get(field)
    # URNs and UKPRNs are ASCII digits: `isdigit()` would also pass '１２３４５６' or '12345²', which match no
    # partner or school in Register (R15-R17). The magic URNs (900000-900030, R15, R17) have the URN form; R16 has
    # no magic UKPRN, so a UKPRN of 900020 is refused for its form.
    if value is None or (len(value) == digits and _ASCII_DIGITS.fullmatch(value)):
        return None
    return [(field, value, message.format(value=value, label=label))]


@rule(
    "training_partner_urn_invalid",
    fields=("training_partner_urn",),
    message="training_partner_urn is invalid. The URN '<value>' does not match any known training partners",
    source="register-api.md §3.3 R15 (only the 6-digit form is checked here; Register checks the partner exists)",
    fix="Use the partner's 6-digit URN, or 900000/900010/900020/900030 when not applicable.",
)
def training_partner_urn_has_urn_form(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    return _urn_finding(
        "training_partner_urn",
        "URN",
        data,
        6,
        "training_partner_urn is invalid. The URN '{value}' does not match any known training partners",
    )


@rule(
    "training_partner_ukprn_invalid",
    fields=("training_partner_ukprn",),
    message="training_partner_ukprn is invalid. The UKPRN '<value>' does not match any known training partners",
    source="register-api.md §3.3 R16 (only the 8-digit form is checked here)",
    fix="Use the partner's 8-digit UKPRN.",
)
def training_partner_ukprn_has_ukprn_form(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    if "training_partner_urn" in data:
        return None  # the URN wins whenever present (§3.1)
    return _urn_finding(
        "training_partner_ukprn",
        "UKPRN",
        data,
        8,
        "training_partner_ukprn is invalid. The UKPRN '{value}' does not match any known training partners",
    )


@rule(
    "employing_school_urn_invalid",
    fields=("employing_school_urn",),
    message="employing_school_id is invalid. The URN '<value>' does not match any known schools",
    source="register-api.md §3.3 R17 (only the 6-digit form is checked here)",
    fix="Use the school's 6-digit URN, or 900000/900010/900020/900030 when not applicable. Register's message calls "
    "this field employing_school_id: the URN given as employing_school_urn, which it looks up as that.",
)
def employing_school_urn_has_urn_form(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    return _urn_finding(
        "employing_school_urn",
        "URN",
        data,
        6,
        "employing_school_id is invalid. The URN '{value}' does not match any known schools",
    )
