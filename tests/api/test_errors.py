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
    [b"", b'["not", "an", "object"]', b"null", b'{"detail": "gone"}', b'{"message": 404}'],
    ids=["empty", "a list", "null", "an object without messages", "a message that is not a text"],
)
def test_a_refusal_without_an_error_object_is_named_by_its_status(content):
    with (
        answering(404, content, {"Content-Type": "application/json"}) as url,
        RegisterClient(url, TOKEN, limiter=RateLimiter(10_000, 1), attempts=1) as client,
        pytest.raises(ApiError) as caught,
    ):
        client.create_trainee({"first_names": "Ann"})
    assert str(caught.value) == "POST /trainees -> 404: Not Found"


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
