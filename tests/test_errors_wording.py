"""Library errors that name a caller's settings: as the library takes them, and as another surface words them."""

from __future__ import annotations

import pickle

from register_batch.errors import ConfigError, Interrupted, RegisterBatchError, UnusableInput


def test_a_setting_is_named_as_the_library_takes_it_unless_a_surface_words_it():
    error = ConfigError.naming("the state dir {folder} is in use; use a different {state_dir}", folder="s/{x}")
    assert str(error) == "the state dir s/{x} is in use; use a different state_dir"  # a value's braces are its own
    assert error.worded({"state_dir": "--state-dir"}) == "the state dir s/{x} is in use; use a different --state-dir"
    assert error.worded({}) == str(error) and error.worded({"ukprn": "--ukprn"}) == str(error)


def test_a_phrase_the_library_words_may_be_worded_otherwise_with_the_messages_values():
    error = ConfigError.naming("rehearse against {emulator_ukprn}.", said={"emulator_ukprn": "the emulator"}, u="1")
    assert str(error) == "rehearse against the emulator."
    assert error.worded({"emulator_ukprn": "`emulator --ukprn {u}`"}) == "rehearse against `emulator --ukprn 1`."


def test_an_error_that_names_no_setting_is_worded_as_it_is():
    error = UnusableInput("in.xml", "the file is empty")
    assert error.worded({"state_dir": "--state-dir"}) == str(error) == "in.xml: the file is empty"


def test_an_error_led_by_another_keeps_naming_its_settings():
    inner = Interrupted.naming("use another {report_dir} {{not a setting}}")
    outer = Interrupted("Register refused (401 {x})").followed_by(inner)
    assert str(outer) == "Register refused (401 {x}); use another report_dir {not a setting}"
    assert outer.worded({"report_dir": "--report-dir"}) == (
        "Register refused (401 {x}); use another --report-dir {not a setting}"
    )


def test_two_errors_naming_settings_one_after_the_other_both_keep_naming_them():
    """A token refused part-way through a sync, then its report found no room: one line naming both settings."""
    first = ConfigError.naming("give {active_token} ({value})", said={"active_token": "a token"}, value="401 {x}")
    both = first.followed_by(Interrupted.naming("use another {report_dir} for {folder}", folder="r{1}"))
    assert str(both) == "give a token (401 {x}); use another report_dir for r{1}"
    assert both.worded({"report_dir": "--report-dir", "active_token": "--token-file"}) == (
        "give --token-file (401 {x}); use another --report-dir for r{1}"
    )
    assert (
        pickle.loads(pickle.dumps(both)).worded({"report_dir": "-r"})
        == "give a token (401 {x}); use another -r for r{1}"
    )
    plain = UnusableInput("a {1}.csv", "empty").followed_by(UnusableInput("b.csv", "empty"))
    assert plain.template is None and plain.worded({"a": "b"}) == str(plain) == "a {1}.csv: empty; b.csv: empty"


def test_a_worded_error_survives_pickling():
    error = pickle.loads(pickle.dumps(ConfigError.naming("give {ukprn} {value}", value="10052198")))
    assert isinstance(error, RegisterBatchError)
    assert (str(error), error.worded({"ukprn": "--ukprn"})) == ("give ukprn 10052198", "give --ukprn 10052198")


def test_a_phrase_of_a_message_made_already_may_be_marked_as_naming_a_setting():
    error = UnusableInput("fmt {1}.csv", "cannot tell (use fmt to say which)", line=1).marking(fmt="fmt")
    assert str(error) == "fmt {1}.csv, line 1: cannot tell (use fmt to say which)"  # only the last is the setting's
    assert error.worded({"fmt": "--format"}) == "fmt {1}.csv, line 1: cannot tell (use --format to say which)"
    assert error.worded({}) == str(error)


def test_a_run_stopped_by_a_signal_is_no_error_on_the_command_line_but_one_stopped_by_register_is():
    """The CLI's line for a sync stopped part-way: Ctrl-C or SIGTERM reads as a stop before the run began does;
    an outage keeps "error:" (it is one, and a log watcher looks for it)."""
    import click
    from click.testing import CliRunner

    from register_batch.commands.common import Commands

    stopped = Interrupted(
        "interrupted; 3 records: 1 created; 2 not reached. Run the same command again to resume", by="signal"
    )
    raised = {
        "signal": stopped,
        "outage": Interrupted("Register stopped answering (PUT /trainees/x -> 500)", by="register").followed_by(
            Interrupted("interrupted; 3 records: 1 created; 2 not reached. Run the same command again", by="register")
        ),
    }

    @click.group(cls=Commands)
    def cli() -> None:
        pass

    @cli.command()
    @click.argument("why")
    def sync(why: str) -> None:
        raise raised[why]

    by_signal = CliRunner().invoke(cli, ["sync", "signal"])
    assert (by_signal.exit_code, by_signal.output) == (3, f"register-batch: {stopped}\n")
    by_outage = CliRunner().invoke(cli, ["sync", "outage"])
    assert by_outage.exit_code == 3
    assert by_outage.output.startswith("register-batch: error: Register stopped answering (PUT /trainees/x -> 500); ")
