"""Register's refusals as the client raises them: every error body shape of register-api.md §7.1 becomes the
server's own messages, and a 409 or 422 carries what the sync acts on."""

from __future__ import annotations

import json

import pytest

from register_batch.api import ApiError, RateLimiter, RegisterClient
from register_batch.api.errors import Conflict, Unprocessable
from stub_http import answering

TOKEN = "errors-test-token"


def refusal(status: int, answer: object) -> ApiError:
    """The error the client raises for a create Register refuses with `status` and the JSON `answer`."""
    content = json.dumps(answer).encode()
    with (
        answering(status, content, {"Content-Type": "application/json"}) as url,
        RegisterClient(url, TOKEN, limiter=RateLimiter(10_000, 1), attempts=1) as client,
        pytest.raises(ApiError) as caught,
    ):
        client.create_trainee({"first_names": "Ann"})
    return caught.value


@pytest.mark.parametrize(
    "answer,messages",
    [
        ({"error": "Unauthorized"}, ["Unauthorized"]),
        ({"errors": ["email is invalid", "sex can't be blank"]}, ["email is invalid", "sex can't be blank"]),
        (
            {"errors": [{"error": "UnprocessableEntity", "message": "Withdraw date must be after the start"}]},
            ["Withdraw date must be after the start"],
        ),
        ({"errors": [{"error": "StateTransitionError"}]}, ["StateTransitionError"]),
        ({"errors": [{"code": 7}]}, ["{'code': 7}"]),
        ({"errors": ["email is invalid", 7, None]}, ["email is invalid"]),
        (
            {"errors": {"email": ["is invalid"], "placements": {"urn": ["is blank"]}, "sex": "is blank"}},
            ["email is invalid", "placements urn is blank", "sex is blank"],
        ),
        ({"message": "Validation failed"}, ["Validation failed"]),
        ({"errors": ["email is invalid"], "message": "Validation failed"}, ["email is invalid"]),
        ({"error": "Invalid", "errors": ["email is invalid"]}, ["Invalid", "email is invalid"]),
    ],
    ids=[
        "error",
        "errors as texts",
        "errors as objects",
        "an object without a message",
        "an object with neither",
        "items neither a text nor an object",
        "errors by field",
        "message",
        "message beside errors",
        "error beside errors",
    ],
)
def test_every_error_shape_becomes_the_servers_messages(answer, messages):
    error = refusal(422, answer)
    assert error.messages == messages
    assert str(error) == f"POST /trainees -> 422: {'; '.join(messages)}"


def test_a_refusal_with_many_messages_shows_five_and_counts_the_rest():
    error = refusal(422, {"errors": [f"problem {n}" for n in range(1, 8)]})
    assert len(error.messages) == 7
    assert str(error) == "POST /trainees -> 422: problem 1; problem 2; problem 3; problem 4; problem 5 (and 2 more)"
    assert str(refusal(422, {"errors": [f"problem {n}" for n in range(1, 7)]})).endswith("problem 5 (and 1 more)")
    assert str(refusal(422, {"errors": [f"problem {n}" for n in range(1, 6)]})).endswith("problem 4; problem 5")


def test_a_409_carries_the_trainees_register_already_holds():
    held = [{"trainee_id": "T" * 24, "hesa_id": "0000000000001"}, "not a trainee"]
    conflict = refusal(409, {"errors": ["This trainee is already in Register"], "data": held})
    assert isinstance(conflict, Conflict) and conflict.existing == [held[0]]
    assert refusal(409, {"errors": ["This trainee is already in Register"]}).existing == []
    assert refusal(409, "Conflict").existing == []  # not an object: none named


@pytest.mark.parametrize(
    "errors,transition",
    [
        ([{"error": "StateTransitionError", "message": "Cannot withdraw an awarded trainee"}], True),
        ([{"error": "UnprocessableEntity", "message": "Withdraw date is invalid"}], False),
        (["StateTransitionError"], False),
        ({"state": ["StateTransitionError"]}, False),
        (None, False),
    ],
    ids=["a state transition", "a validation error", "a text", "errors by field", "not an object"],
)
def test_a_422_says_whether_the_trainees_state_refused_it(errors, transition):
    error = refusal(422, {"errors": errors} if errors is not None else "Unprocessable Entity")
    assert isinstance(error, Unprocessable) and error.state_transition is transition


@pytest.mark.parametrize(
    "content",
    [b"", b"null", b"{}", b"[]"],
    ids=["empty", "null", "an empty object", "an empty list"],
)
def test_a_refusal_without_anything_in_it_is_named_by_its_status(content):
    with (
        answering(404, content, {"Content-Type": "application/json"}) as url,
        RegisterClient(url, TOKEN, limiter=RateLimiter(10_000, 1), attempts=1) as client,
        pytest.raises(ApiError) as caught,
    ):
        client.create_trainee({"first_names": "Ann"})
    assert str(caught.value) == "POST /trainees -> 404: Not Found"


@pytest.mark.parametrize(
    "answer,messages",
    [
        ({"errors": "last_name is too long"}, ["last_name is too long"]),
        (
            {"type": "about:blank", "title": "Unprocessable Entity", "status": 422, "detail": "last_name is too long"},
            ["last_name is too long"],
        ),
        (
            {"type": "about:blank", "title": "Your request did not validate", "status": 422},
            ["Your request did not validate"],
        ),
        ({"error": {"code": "InvalidInput", "message": "last_name is too long"}}, ["last_name is too long"]),
        ({"error": {"code": "InvalidInput", "detail": "last_name is too long"}}, ["last_name is too long"]),
        (
            {"errors": [["last_name", "is too long"], ["email", ["is invalid"]], "sex can't be blank"]},
            ["last_name is too long", "email is invalid", "sex can't be blank"],
        ),
        (
            {"errors": [{"status": "422", "title": "Invalid Attribute", "detail": "last_name is too long"}]},
            ["last_name is too long"],
        ),
        ({"errors": [{"status": "422", "title": "Invalid Attribute"}]}, ["Invalid Attribute"]),
    ],
    ids=[
        "errors as one text",
        "problem+json's detail",
        "problem+json's title alone",
        "a nested error's message",
        "a nested error's detail",
        "lists within errors",
        "JSON:API's detail",
        "JSON:API's title alone",
    ],
)
def test_an_error_body_in_another_services_shape_keeps_its_text(answer, messages):
    """A gateway's or framework's shape (not one of §7.1's) lost its text: the issue, issues.csv and an export's
    error said only "Unprocessable Entity", while the fix told the person to do as Register's message says
    (review163 F3)."""
    error = refusal(422, answer)
    assert error.messages == messages
    assert str(error) == f"POST /trainees -> 422: {'; '.join(messages)}"


@pytest.mark.parametrize(
    "content,message",
    [
        (b'{"status": 422, "reason": "bad"}', 'Unprocessable Entity: {"status": 422, "reason": "bad"}'),
        (b'["not", "an", "object"]', 'Unprocessable Entity: ["not", "an", "object"]'),
        (b'{"message": 404}', 'Unprocessable Entity: {"message": 404}'),
        (b'{"errors": [7, null]}', 'Unprocessable Entity: {"errors": [7, null]}'),
        (b"42", "Unprocessable Entity: 42"),
    ],
    ids=["an object", "a list", "a message that is not a text", "errors that are not texts", "a number"],
)
def test_an_error_body_with_no_text_to_read_is_copied_on_one_line(content, message):
    """Failing any text of a known shape, a short copy of the body: better than the status phrase alone."""
    with (
        answering(422, content, {"Content-Type": "application/json"}) as url,
        RegisterClient(url, TOKEN, limiter=RateLimiter(10_000, 1), attempts=1) as client,
        pytest.raises(ApiError) as caught,
    ):
        client.create_trainee({"first_names": "Ann"})
    assert caught.value.messages == [message]


def test_the_copy_of_an_error_body_is_one_short_line_without_control_characters():
    """The copy goes to a terminal, a log line, issues.csv and the ledger: a long body is cut short, and a control
    character, line separator or direction override (which would drive a terminal, forge a line, or reorder it) is
    written as its escape."""
    answer = {"code": "X\u001b[2J\u2028\u202e\u0085é", "trace": ["frame"] * 200}
    [message] = refusal(422, answer).messages
    assert message.startswith('Unprocessable Entity: {"code": "X\\u001b[2J\\u2028\\u202e\\x85é", "trace": ["frame"')
    assert message.isprintable() and len(message) <= len("Unprocessable Entity: ") + 200
    assert message.endswith("…")


@pytest.mark.parametrize("at", [0, 150, 190, 195, 400])
def test_the_copy_of_an_error_body_never_shows_the_token_wherever_it_is_cut(at):
    """A gateway that quotes the request back (its Authorization header) in a shape of its own: the token is masked
    before the copy is cut, so no part of it is left at the cut either."""
    answer = {"padding": "p" * at, "request": {"headers": {"Authorization": f"Bearer {TOKEN}"}}}
    [message] = refusal(422, answer).messages
    assert TOKEN[:6] not in message.lower()
    assert "Unprocessable Entity: {" in message


def test_a_429_says_when_to_try_again_and_an_error_without_an_answer_has_no_status():
    with (
        answering(429, b"Retry later\n", {"Content-Type": "text/plain", "Retry-After": "7"}) as url,
        RegisterClient(url, TOKEN, limiter=RateLimiter(10_000, 1), attempts=1) as client,
        pytest.raises(ApiError) as throttled,
    ):
        client.create_trainee({"first_names": "Ann"})
    assert throttled.value.status == 429
    assert str(throttled.value) == "POST /trainees -> 429: Retry later (Retry-After 7 s)"
    with (
        RegisterClient("http://127.0.0.1:9", TOKEN, limiter=RateLimiter(10_000, 1), attempts=1) as client,
        pytest.raises(ApiError) as unanswered,
    ):
        client.create_trainee({"first_names": "Ann"})
    assert unanswered.value.status is None
    assert str(unanswered.value) == "POST /trainees: could not connect (Connection refused)"


@pytest.mark.parametrize(
    "status,answer",
    [
        (409, {"errors": [{"error": "Conflict", "message": "This trainee is a duplicate"}], "data": [{"id": 1}]}),
        (422, {"errors": [{"error": "StateTransitionError", "message": "Invalid state transition"}]}),
        (401, {"error": "Unauthorized"}),
    ],
    ids=["409", "422", "401"],
)
def test_a_refusal_survives_pickling_with_what_a_caller_acts_on(status, answer):
    """A worker pool (concurrent.futures, multiprocessing, Celery) hands its caller the error pickled: ApiError takes
    five arguments, and Exception's pickling passes back one, so unpickling it was a TypeError."""
    import pickle

    refused = refusal(status, answer)
    again = pickle.loads(pickle.dumps(refused))
    assert type(again) is type(refused) and str(again) == str(refused)
    assert (again.status, again.messages, again.body, again.exit_code) == (
        refused.status,
        refused.messages,
        refused.body,
        refused.exit_code,
    )
    if isinstance(again, Conflict):
        assert again.existing == [{"id": 1}]
    if isinstance(again, Unprocessable):
        assert again.state_transition
