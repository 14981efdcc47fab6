"""Counts in words (what the command line's summary lines and report.html say) and text as XML can carry it."""

from __future__ import annotations

from register_batch.wording import CONTROL_CHARACTER, counted, plain, printable, significant, xml_safe


def test_a_count_reads_as_words_with_the_noun_plural_unless_it_is_one():
    assert [counted(n, "record") for n in (0, 1, 2)] == ["0 records", "1 record", "2 records"]


def test_a_count_not_known_reads_as_none():
    """A report of a run that stopped early leaves some counts out: "0 warnings", not "None warnings"."""
    assert counted(None, "warning") == "0 warnings"
    assert counted(None, "record", grouped=True) == "0 records"


def test_thousands_are_grouped_only_where_asked_as_report_html_does():
    """The command line's summary lines (which a nightly job's script may read) write a count as digits alone."""
    assert counted(1234, "record") == "1234 records"
    assert counted(1234, "record", grouped=True) == "1,234 records"


def test_a_character_xml_cannot_hold_is_written_as_the_escape_a_reader_of_the_export_recognises():
    """HESA XML export and junit.xml: a control character as `\\x0b`, a lone surrogate (Register's JSON can hold one)
    as `\\ud800`, U+FFFE as `\\ufffe`: the escapes the control_character rule refuses when the file is read back."""
    assert xml_safe("a\x00b\x0bc\ud800d\ufffe") == "a\\x00b\\x0bc\\ud800d\\ufffe"
    assert xml_safe("tab\tline\nend\r") == "tab\tline\nend\r"  # what XML holds stays as it is


def test_a_line_printed_escapes_every_control_character_but_tab_and_keeps_the_rest_as_written():
    """ESC, a line break, DEL and a C1 control (U+009B, a terminal's one-byte CSI) as `\\xNN`; a tab (the columns of
    `reference show`), accents and other scripts as they are."""
    assert printable("a\x1b[2Jb\nc\rd\x7fe\x9bf\x00") == "a\\x1b[2Jb\\x0ac\\x0dd\\x7fe\\x9bf\\x00"
    assert printable("Zoé\tŁódź\t山田 🙂") == "Zoé\tŁódź\t山田 🙂"


def test_a_file_names_bytes_that_are_not_utf8_are_printed_as_the_bytes_they_are():
    """Python reads such a name with surrogateescape (`é` in Latin-1 as U+DCE9): no UTF-8 terminal or report can
    hold that, so it is written as the byte, `\\xe9`."""
    assert printable(b"caf\xe9.csv".decode("utf-8", "surrogateescape")) == "caf\\xe9.csv"


def test_a_lone_surrogate_or_a_bidirectional_control_is_printed_as_its_escape():
    """A lone surrogate from a JSON escape (`"\\ud83d"` in an answer) cannot be written as UTF-8 at all; a right-to-left
    override would reorder the line as shown."""
    assert printable("a\ud83db\u202ec\u2066d\u200fe") == "a\\ud83db\\u202ec\\u2066d\\u200fe"
    assert printable("one\u2028two\u2029") == "one\\u2028two\\u2029"  # a line break to some terminals and logs


def test_the_invisible_characters_no_value_has_are_control_characters_as_line_breaks_are():
    """A byte-order mark left part-way down a file (`cat a.csv b.csv`), a zero-width space pasted with a name, a word
    joiner, a bidirectional embedding, override or isolate (U+202A-U+202E, U+2066-U+2069: an override reverses the
    text shown after it, review162 F6): nothing anyone types, and Register would store them (an id with one would
    never match). The invisible characters that scripts do use in names (zero-width joiners in Persian and Indic
    names, a soft hyphen, a no-break space, the left-to-right, right-to-left and Arabic letter marks) are not."""
    for char in "\ufeff\u200b\u2060\n\t\x00\x7f\x85\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069":
        assert CONTROL_CHARACTER.search(f"Ann{char}Lee"), repr(char)
    for char in "\u200c\u200d\u00ad\u00a0\u200e\u200f\u061c\u2019é山":
        assert not CONTROL_CHARACTER.search(f"Ann{char}Lee"), repr(char)


def test_a_small_figure_keeps_its_significant_figures_and_a_large_one_its_decimals():
    """review118 F2: rounded to 3 decimals, 5 requests for 20,000 records read 0.0 per record."""
    assert [significant(x) for x in (5 / 20_000, 1 / 12, 7 / 3, 1540 / 1500, 557.2134, 0.0)] == [
        0.00025,
        0.0833,
        2.333,
        1.027,
        557.213,
        0.0,
    ]
    assert significant(0.01234, decimals=1, figures=2) == 0.012
    assert significant(114.566, decimals=1, figures=2) == 114.6


def test_a_figure_is_written_in_plain_digits_never_as_an_exponent():
    """Python writes 0.00005 as 5e-05, which a data officer does not read as a number of requests."""
    assert [plain(x) for x in (5e-05, 0.00025, 1.0, 1.25, 12_500.5)] == ["0.00005", "0.00025", "1.0", "1.25", "12500.5"]
    assert plain(12_500.5, grouped=True) == "12,500.5"


def test_where_to_correct_says_the_srs_for_an_extract_both_ways_for_registers_template_and_each_for_both():
    """A data officer filling Register's CSV template in Excel has no SRS to export from (review168 F1); one whose SRS
    or register-batch wrote the template writes it again (review172 F3). The spreadsheet's steps name the HUSID column,
    whose last digits a General column loses for good (review172 F2)."""
    from register_batch.wording import correct_in, where_to_correct

    srs = "correct the values in your student record system and export again"
    steps = (
        "format the code columns and hesa_id as Text (or type each value with a leading ') and the date columns as "
        "yyyy-mm-dd (only if each date shows the day written: a spreadsheet that read the dates in the other "
        "day/month order has swapped them, which this format keeps; import such a column as Text instead), correct "
        "the values, then save as 'CSV UTF-8' and validate again"
    )
    assert where_to_correct({"hesa-xml", "hesa-csv"}, "the values") == srs
    assert where_to_correct({"register-csv"}, "the values") == (
        f"if an SRS or register-batch wrote the file, {srs}; if you fill it in a spreadsheet, {steps}"
    )
    assert where_to_correct({"register-csv"}, "the values", written_again="write it again") == (
        f"if an SRS or register-batch wrote the file, write it again; if you fill it in a spreadsheet, {steps}"
    )
    both = where_to_correct({"hesa-xml", "register-csv"}, "the values")
    assert both == f"{srs}; for Register's CSV template filled in a spreadsheet, {steps}"
    assert where_to_correct(["hesa-csv"], "the values", from_srs="export it again") == "export it again"
    assert correct_in(None, "the values", "export it again") == "export it again"
    assert correct_in("register-csv", "the values", "export it again").startswith(
        "if an SRS or register-batch wrote the file, export it again; if you fill it in a spreadsheet, format the "
        "code columns and hesa_id as Text"
    )
