"""Register API v2026.1 as a plain function of a request: routing, authentication and every endpoint's behaviour.

No sockets here (see `server.py`), so the behaviour is the same whichever way the emulator is reached. Section
numbers point into `register-api.md`. Validation is the project's rule catalogue (`api=True` rules), so the
emulator and `register-batch validate` can never disagree about a message.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import secrets
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any, Protocol
from urllib.parse import parse_qs

from register_batch.ilike import LikePatternError, ilike
from register_batch.model import API_VERSION, DEGREE_FIELDS, PLACEMENT_FIELDS, Issue
from register_batch.reference import ReferenceData, load_reference
from register_batch.validation import Validator
from register_batch.validation.catalogue import CATALOGUE, rules_for
from register_batch.validation.duplicates import first_name_token
from register_batch.validation.facts import (
    MAGIC_URNS,
    NO_STUDY_MODE_ROUTES,
    UNDERGRADUATE_ROUTES,
    Facts,
    cycle_of,
    parse_date,
    register_date,
    ruby_to_i,
)
from register_batch.validation.nested import degree_identity, withdrawal_day, withdrawal_kept_day
from register_batch.validation.providers import checked_ukprn

from . import attributes as attrs
from .serialize import degree_json, placement_json, trainee_json
from .store import Row, Store

JSON_TYPE = "application/json; charset=utf-8"
SUPPORTED_VERSIONS = (API_VERSION,)
VERSION_PATTERN = re.compile(r"v[.0-9]+(-pre|-rc)?")
BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
TOKEN_KEY = b"register-batch-emulator"  # tokens are kept only as HMAC-SHA256 digests (§1.2)

# States (§6).
SUBMITTED, TRN_RECEIVED, DEFERRED = "submitted_for_trn", "trn_received", "deferred"
RECOMMENDED, WITHDRAWN, AWARDED = "recommended_for_award", "withdrawn", "awarded"
RESTRICTED_STATES = frozenset({RECOMMENDED, WITHDRAWN, AWARDED})  # TraineeStateRestriction (§2.6 step 1)
STATE_TRANSITION_MESSAGE = "It’s not possible to perform this action while the trainee is in its current state"
STATUSES = ("course_not_yet_started", "in_training", "deferred", "awarded", "withdrawn")
PER_PAGE = 50  # Api::Config::PAGINATION_PER_PAGE
KAMINARI_DEFAULT_PER_PAGE = 100  # used when per_page is negative (§2.3)
FIRST_CYCLE = 2000  # AcademicCycle rows the emulator pretends exist: 2000 .. current + 1
# Routes whose trainees need no placements for the award (§2.9, §5.2); the rest need 2 (iQTS 1, early years 0).
PLACEMENT_MINIMUM = {"15": 1, "18": 0, "19": 0, "20": 0}
NESTED_CHILDREN = {
    "placements_attributes": frozenset({"urn", "name", "postcode"}),
    "degrees_attributes": frozenset(
        {
            "id",
            "country",
            "grade",
            "grade_uuid",
            "uk_degree",
            "uk_degree_uuid",
            "non_uk_degree",
            "subject",
            "subject_uuid",
            "institution",
            "institution_uuid",
            "graduation_year",
            "locale_code",
            "other_grade",
        }
    ),
}
WITHDRAWAL_KEYS = ("withdrawal_date", "trigger", "future_interest", "another_reason", "safeguarding_concern_reasons")
DUPLICATE_DISABILITIES = "duplicate_disabilities"  # R14's rule in the catalogue


def json_body(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class Headers(Protocol):
    """A request's headers: a dict, or what the HTTP server read (an `http.client.HTTPMessage`, looked up by any
    case); `Request.header` looks a name up in either."""

    def get(self, name: str, /) -> str | None: ...

    def items(self) -> Iterable[tuple[str, str]]: ...


@dataclass
class Request:
    """What the server read off the wire."""

    method: str
    path: str
    query: str = ""
    headers: Headers = field(default_factory=dict[str, str])
    body: bytes = b""
    client: str = "127.0.0.1"

    def header(self, name: str) -> str | None:
        getter = getattr(self.headers, "get", None)
        value = getter(name) if getter else None
        if value is None:
            lowered = name.lower()
            for key, found in self.headers.items():
                if key.lower() == lowered:
                    return found
        return value


_SURROGATE = re.compile("[\ud800-\udfff]")


def _no_lone_surrogate(value: Any) -> None:
    """ValueError for a text in a parsed body (a key or a value) holding half of a UTF-16 pair (`"\\ud800"`): valid
    JSON, but no character, which Register's parser refuses as it does a body that is not JSON (400, §1.5). Taken
    in, it failed the trainee's save (UTF-8 cannot hold it) as a 500 with a traceback (review61 F7)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending += [*item.keys(), *item.values()]
        elif isinstance(item, list):
            pending += item
        elif isinstance(item, str) and (found := _SURROGATE.search(item)):
            raise ValueError(f"incomplete surrogate pair at '\\u{ord(found.group()):04x}': not a character")


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)
    write: bool = False  # a write that changed state (what `lost-response` may drop)

    @classmethod
    def json(cls, status: int, payload: Any, *, write: bool = False) -> Response:
        return cls(status, json_body(payload), write=write)

    @property
    def payload(self) -> Any:
        return json.loads(self.body) if self.body and self.content_type.startswith("application/json") else None


class ApiError(Exception):
    """Stops a handler with a finished response."""

    def __init__(self, response: Response):
        super().__init__(response.status)
        self.response = response


def _held_day(text: str, today: date, other_forms: Callable[[str, date], date | None]) -> str:
    """A withdrawal's or deferral's date as Register keeps it once its checks passed: the day, YYYY-MM-DD, whichever
    ISO 8601 form was sent (20260915, 2026-09-15T10:00:00Z; register-api.md §3.4, §3.9, §3.10), as DateTime.iso8601
    (a withdrawal: `withdrawal_kept_day`, a time alone being the day it is sent) or Date.iso8601 (a deferral:
    `register_date`) reads it."""
    day = withdrawal_day(text) or other_forms(text, today)
    return day.isoformat() if day is not None else text


def errors_b(status: int, kind: str, *messages: str) -> Response:
    """Shape B of §7.1: `{"errors":[{"error":..., "message":...}]}`."""
    return Response.json(status, {"errors": [{"error": kind, "message": m} for m in messages]})


def not_found(message: str = "Not found") -> Response:
    return errors_b(404, "NotFound", message)


UNAUTHORIZED = Response.json(401, {"error": "Unauthorized"})
INTERNAL_ERROR = Response.json(500, {"error": "Internal server error"})
PARAM_MISSING = Response.json(422, {"errors": ["Param is missing or the value is empty or invalid: data"]})
STATE_TRANSITION = errors_b(422, "StateTransitionError", STATE_TRANSITION_MESSAGE)


def token_digest(token: str) -> str:
    return hmac.new(TOKEN_KEY, token.encode("utf-8"), hashlib.sha256).hexdigest()


def ukprn_for(digest: str) -> str:
    """A stable fake UKPRN (8 digits, starting 1) for a token's provider."""
    return f"1{int(digest[:12], 16) % 10_000_000:07d}"


def new_slug() -> str:
    """`SecureRandom.base58(24)` (app/models/concerns/sluggable.rb)."""
    return "".join(secrets.choice(BASE58) for _ in range(24))


def new_token() -> str:
    """A token in Register's shape, `<environment>_` + 64 hex characters (§1.2)."""
    return f"emulator_{secrets.token_hex(32)}"


def parse_iso8601(text: str) -> int | None:
    """`DateTime.iso8601` for `since`: a date or date-time, UTC when no offset; microseconds since the epoch. Ruby's
    pattern ignores case, so `t` and `z` are read as `T` and `Z`."""
    value = text.strip()
    if " " in value:  # ISO 8601 has a T between date and time (fromisoformat would take a space)
        return None
    value = value.upper()
    # Python's fromisoformat takes any character between date and time, and an hour alone; Ruby's pattern wants a
    # T, then hh:mm.
    if re.match(r"\d{4}-\d{2}-\d{2}(?!$)(?!T\d{2}:\d{2})", value):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def enhanced_errors(messages: list[str]) -> dict[str, Any]:
    """The `Enhanced-Errors: true` transformation of §7.1 (EnhancedErrorsSerializer).

    Raises TypeError where Register's serializer raises (a parent key used both as a list and as an object),
    which Register answers with 500 (code reading, register-api.md §7.1 ⚠).
    """
    out: dict[str, Any] = {}

    def child(parent: str, name: str, text: str) -> None:
        bucket = out.setdefault(parent, {})
        if not isinstance(bucket, dict):
            raise TypeError(f"{parent} is a list")
        bucket.setdefault(name, []).append(text)

    for message in messages:
        first, _, rest = message.partition(" ")
        if first in NESTED_CHILDREN:
            second, _, after = rest.partition(" ")
            if second in NESTED_CHILDREN[first]:
                child(first, second, after)
            else:
                bucket = out.setdefault(first, [])
                if not isinstance(bucket, list):
                    raise TypeError(f"{first} is an object")
                bucket.append(rest)
            continue
        parent = next((p for p, names in NESTED_CHILDREN.items() if first in names), None)
        if parent:
            child(parent, first, rest)
        else:
            out.setdefault(first, []).append(rest)
    return out


def validation_failed(messages: list[str], *, enhanced: bool, subject: str = "trainee from being saved") -> Response:
    """Shape C (or C′ with Enhanced-Errors) of §7.1."""
    count = len(messages)
    head = f"Validation failed: {count} error{'' if count == 1 else 's'} prohibited this {subject}"
    if not enhanced:
        return Response.json(422, {"message": head, "errors": messages})
    try:
        return Response.json(422, {"message": head, "errors": enhanced_errors(messages)})
    except TypeError:
        return INTERNAL_ERROR


@dataclass(frozen=True)
class Route:
    method: str
    template: str  # as in the stats: without the /api/{version} prefix
    handler: str
    pattern: re.Pattern[str]
    auth: bool = True
    body: bool = False


def _route(method: str, template: str, handler: str, *, auth: bool = True) -> Route:
    regex = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "/?$"
    return Route(method, template, handler, re.compile(regex), auth, method in ("POST", "PUT", "PATCH", "DELETE"))


T, TD, TP = "/trainees/{trainee_id}", "/trainees/{trainee_id}/degrees", "/trainees/{trainee_id}/placements"
ROUTES = (
    _route("GET", "/info", "info"),
    _route("GET", "/reference-data", "reference_data", auth=False),
    _route("GET", "/trainees", "list_trainees"),
    _route("POST", "/trainees", "create_trainee"),
    _route("GET", T, "show_trainee"),
    _route("PUT", T, "update_trainee"),
    _route("PATCH", T, "update_trainee"),
    _route("POST", T + "/withdraw", "withdraw"),
    _route("POST", T + "/defer", "defer"),
    _route("POST", T + "/update-qts-or-eyts-status", "recommend"),
    _route("POST", T + "/recommend-for-qts", "recommend"),
    _route("GET", TD, "list_degrees"),
    _route("POST", TD, "create_degree"),
    _route("GET", TD + "/{degree_id}", "show_degree"),
    _route("PUT", TD + "/{degree_id}", "update_degree"),
    _route("PATCH", TD + "/{degree_id}", "update_degree"),
    _route("DELETE", TD + "/{degree_id}", "delete_degree"),
    _route("GET", TP, "list_placements"),
    _route("POST", TP, "create_placement"),
    _route("GET", TP + "/{placement_id}", "show_placement"),
    _route("PUT", TP + "/{placement_id}", "update_placement"),
    _route("PATCH", TP + "/{placement_id}", "update_placement"),
    _route("DELETE", TP + "/{placement_id}", "delete_placement"),
)


@dataclass
class Resolved:
    """Where a request goes: the route template (for the stats) and what to run."""

    key: str
    route: Route | None
    params: dict[str, str]
    version: str | None
    routable: bool  # under /api/<version-like>/ (else Rails' routing error, no authentication)


def resolve(method: str, path: str) -> Resolved:
    """Match `/api/{version}/...` against the v2026.1 routes (§1.1)."""
    verb = "GET" if method == "HEAD" else method
    match = re.match(r"^/api/([^/]+)(/.*)?$", path)
    if not match or not VERSION_PATTERN.fullmatch(match.group(1)):
        return Resolved(f"{method} (no route)", None, {}, None, False)
    version, rest = match.group(1), match.group(2) or "/"
    if version in SUPPORTED_VERSIONS:
        for route in ROUTES:
            if route.method != verb:
                continue
            found = route.pattern.match(rest)
            if found:
                return Resolved(f"{method} {route.template}", route, found.groupdict(), version, True)
    return Resolved(f"{method} (not found)", None, {}, version, True)


@dataclass
class Context:
    request: Request
    resolved: Resolved
    provider: Row | None
    parsed: Any = None
    now: int = 0
    today: date = date(1970, 1, 1)

    @property
    def enhanced(self) -> bool:
        return self.request.header("Enhanced-Errors") == "true"

    @property
    def provider_id(self) -> int:
        """The authenticated provider's id: every route that asks for it takes a token (`Route.auth`)."""
        assert self.provider is not None, "a route without authentication asked for its provider"
        return self.provider["id"]

    def data(self, permitted: Collection[str] = (), arrays: Collection[str] = ()) -> dict[str, Any]:
        """`params.require(:data)`: a non-empty object, else 422 (shape F, §1.5). With the keys a route permits
        (`permitted`, scalars; `arrays`, arrays of scalars), `params.expect(data: [...])` (§1.4, §2.7), which permits
        first and then requires: a `data` holding no key it permits is that 422 too, before any state or field check
        (review85 F1). The route's handler drops the keys it does not permit itself."""
        value = self.parsed.get("data") if isinstance(self.parsed, dict) else None
        if not isinstance(value, dict) or not value:
            raise ApiError(PARAM_MISSING)
        if (permitted or arrays) and not any(
            (key in permitted and not isinstance(item, dict | list))
            or (key in arrays and isinstance(item, list) and not any(isinstance(i, dict | list) for i in item))
            for key, item in value.items()
        ):
            raise ApiError(PARAM_MISSING)
        return value

    def query(self) -> dict[str, list[str]]:
        return parse_qs(self.request.query, keep_blank_values=True)


def _matches_non_blank(sent: tuple[Any, ...], held: tuple[Any, ...] | None) -> bool:
    """`existing_degrees.where(<sent values, blank ones dropped>)` (§3.7): each non-blank value sent equals the
    held one; a blank sent matches anything, a blank held matches only a blank sent."""
    held = held or (None,) * len(sent)
    return all(value is None or value == other for value, other in zip(sent, held, strict=True))


class RegisterApp:
    """The Register API's behaviour over a Store (one instance per emulator)."""

    def __init__(
        self,
        store: Store,
        *,
        tokens: tuple[str, ...] = (),
        clock: Callable[[], float] = time.time,
        as_of: date | None = None,
        trn_delay: float = 0.0,
        reference: ReferenceData | None = None,
        ukprns: Mapping[str, str | None] | None = None,
    ):
        self.store = store
        self.clock = clock
        self.as_of = as_of
        self.trn_delay = trn_delay
        self.reference = reference or load_reference(API_VERSION)
        self._validators: dict[date, Validator] = {}
        self._digests: set[str] = set()
        for token in tokens:
            self.add_token(token, (ukprns or {}).get(token))

    # --- set-up -------------------------------------------------------------------------------------------

    def add_token(self, token: str, ukprn: str | None = None) -> str:
        """Accept a token: it is its own provider, with `ukprn` or a stable fake one. Returns the provider's UKPRN."""
        if not token or not token.strip():
            raise ValueError("a token cannot be blank")
        digest = token_digest(token.strip())
        ukprn = checked_ukprn(ukprn)  # a UKPRN, as a string (ConfigError otherwise), or None
        provider = self.store.add_provider(digest, ukprn or ukprn_for(digest), fixed=ukprn is not None)
        self._digests.add(digest)
        return provider["ukprn"]

    def rotate_token(self, old: str, new: str) -> None:
        """`old`'s provider has the token `new` in its place (Emulator.rotate_token); ValueError for a token the
        emulator does not accept, or a `new` that is another provider's."""
        old_digest, new_digest = token_digest(old.strip()), token_digest(new.strip())
        if old_digest not in self._digests or new_digest in self._digests:
            raise ValueError("rotate_token: the old token is not accepted, or the new one is already")
        self.store.replace_token_hash(old_digest, new_digest)
        self._digests.discard(old_digest)
        self._digests.add(new_digest)

    def now(self) -> int:
        return int(self.clock() * 1_000_000)

    def today(self) -> date:
        """Validation's "now" (§3.4): `as_of` for rehearsals, else the clock's UTC date."""
        return self.as_of or datetime.fromtimestamp(self.clock(), tz=UTC).date()

    def validator(self, today: date) -> Validator:
        found = self._validators.get(today)
        if found is None:
            found = self._validators[today] = Validator(self.reference, today, api_only=True)
        return found

    # --- entry point --------------------------------------------------------------------------------------

    def handle(self, request: Request, resolved: Resolved) -> Response:
        """Answer one request, routed by `resolve` (everything but the rate limit, the faults and leaving out a HEAD
        reply's body, which belong to the transport)."""
        if not resolved.routable:
            return Response.json(404, {"error": "Resource not found"})  # Rails routing error (§1.5)
        route = resolved.route
        provider = None
        if route is None or route.auth:
            provider = self.authenticate(request)
            if provider is None:
                return UNAUTHORIZED
        if route is None:
            return not_found()  # catch-all inside /api/:version, after authentication (§1.1)
        context = Context(request, resolved, provider, now=self.now(), today=self.today())
        if route.body:
            parsed = self._parse_body(request)
            if isinstance(parsed, Response):
                return parsed
            context.parsed = parsed
        try:
            with self.store.transaction():
                self._allocate_due_trns(context.now)
                response = getattr(self, route.handler)(context)
        except ApiError as stop:
            response = stop.response
        return response

    def authenticate(self, request: Request) -> Row | None:
        """`Authorization: Bearer <token>` or the bare token (§1.2); only this run's tokens are accepted."""
        digest = self._token_digest(request.header("Authorization"))
        if digest not in self._digests:
            return None
        return self.store.provider_by_token_hash(digest)

    def knows_token(self, header: str | None) -> bool:
        """Whether an `Authorization` header names one of this run's tokens (as `authenticate` reads it), told without
        the store: the transport refuses a request without one before reading its body."""
        return self._token_digest(header) in self._digests

    @staticmethod
    def _token_digest(header: str | None) -> str:
        return token_digest(re.sub(r"^Bearer ", "", header or "").strip())  # a blank token is never one of them

    @staticmethod
    def _parse_body(request: Request) -> Any:
        """JSON params: parsed only when sent as JSON (§1.4); a parse error is 400 with the parser's message."""
        content_type = (request.header("Content-Type") or "").split(";")[0].strip().lower()
        if not request.body.strip() or not (content_type == "application/json" or content_type.endswith("+json")):
            return None

        def refuse(constant: str) -> None:
            raise ValueError(f"unexpected token at '{constant}'")

        try:
            parsed = json.loads(request.body.decode("utf-8"), parse_constant=refuse)
            _no_lone_surrogate(parsed)
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            # Too deeply nested is a parse error too (Ruby's JSON::NestingError is a ParserError): 400, §1.5.
            return Response.json(400, {"errors": [str(exc).capitalize()]})
        return parsed

    # --- helpers ------------------------------------------------------------------------------------------

    def _trainee(self, context: Context) -> Row:
        found = self.store.trainee(context.provider_id, context.resolved.params["trainee_id"])
        if found is None:
            raise ApiError(not_found("Trainee(s) not found"))
        return found

    def _writable(self, trainee: Row) -> None:
        if trainee["state"] in RESTRICTED_STATES:
            raise ApiError(STATE_TRANSITION)

    def _serialize(self, trainees: list[Row]) -> list[dict[str, Any]]:
        ids = [t["id"] for t in trainees]
        degrees = self.store.children("degrees", ids)
        placements = self.store.children("placements", ids)
        withdrawals = self.store.latest_withdrawals(ids)
        ukprns: dict[int, str] = {}
        out = []
        for trainee in trainees:
            provider = trainee["provider_id"]
            if provider not in ukprns:
                ukprns[provider] = self.store.provider_ukprn(provider)
            out.append(
                trainee_json(
                    self.reference,
                    trainee,
                    ukprn=ukprns[provider],
                    degrees=degrees[trainee["id"]],
                    placements=placements[trainee["id"]],
                    withdrawal=withdrawals.get(trainee["id"]),
                )
            )
        return out

    def serialize_trainee(self, trainee: Row) -> dict[str, Any]:
        return self._serialize([trainee])[0]

    def _slug(self, table: str) -> str:
        while True:
            slug = new_slug()
            if not self.store.slug_taken(table, slug):
                return slug

    def _allocate_due_trns(self, now: int) -> None:
        """TRS answers asynchronously (§2.5 step 5, §6): a due TRN is stored, `submitted_for_trn` → `trn_received`,
        and `updated_at` moves to the moment it arrived (§10)."""
        for trainee in self.store.due_trn_allocations(now):
            trn = f"{secrets.randbelow(9_000_000) + 1_000_000}"
            while self.store.trn_taken(trn):
                trn = f"{secrets.randbelow(9_000_000) + 1_000_000}"
            trainee["trn"] = trn
            if trainee["state"] in (SUBMITTED, TRN_RECEIVED):
                trainee["state"] = TRN_RECEIVED
            trainee["updated_at"] = max(trainee["updated_at"], trainee["trn_due_at"])
            trainee["trn_due_at"] = None
            self.store.save_trainee(trainee)

    def _side_errors(self, scope: str, body: dict[str, Any], trainee_fields: dict[str, Any], today: date) -> list[str]:
        """Messages of the catalogue's withdrawal/deferral/degree/placement rules for one body."""
        facts = Facts.of(trainee_fields, today, self.reference)
        messages = []
        for entry in rules_for(scope):
            if not entry.api:
                continue
            assert entry.check is not None  # rules_for gives only rules with a check
            for _field, _value, message, *_item in entry.check(body, facts) or ():
                messages.append(message)
        return messages

    def _trainee_errors(self, body: dict[str, Any], today: date) -> list[str]:
        return [issue.message for issue in self.validator(today).check_body(body) if issue.is_error]

    def _merged_trainee_errors(self, body: dict[str, Any], meta: dict[str, Any], today: date) -> list[str]:
        """A merged record's messages (§2.6). On update R14 checks every merged disability key, disability10 and past
        included (`params_with_updated_disabilities`), where the catalogue's rule reads disability1-9 (all create
        maps): a repeat past the ninth key gets R14's message here, where the catalogue's order puts it. R19's
        override of the initiative is the mapper's, for a request that sends funding method C: an initiative a PUT
        sends without it is checked as sent, beside the stored C (review105 F1)."""
        validator = self.validator(today)
        issues = [issue for issue in validator.check_body(body) if issue.is_error]
        sent_without_c = (
            body.get("funding_method") == "C" and body.get("training_initiative") and not meta["veterans_initiative"]
        )
        found = [(issue.code, issue.message) for issue in issues if not (sent_without_c and _of_the_initiative(issue))]
        if sent_without_c:
            for issue in validator.check_body({**body, "funding_method": None}):
                if _of_the_initiative(issue):
                    _insert_in_catalogue_order(found, issue.code, issue.message)
        if not any(issue.code == DUPLICATE_DISABILITIES for issue in issues) and attrs.repeats_a_disability(
            self.reference, meta["hesa_disabilities"]
        ):
            _insert_in_catalogue_order(found, DUPLICATE_DISABILITIES, CATALOGUE[DUPLICATE_DISABILITIES].message)
        return [message for _code, message in found]

    # --- info and reference data (§2.1, §2.2) -----------------------------------------------------------------

    def info(self, context: Context) -> Response:
        version = {"requested": context.resolved.version, "latest": API_VERSION}
        return Response.json(200, {"status": "ok", "version": version})

    def reference_data(self, context: Context) -> Response:
        requested = (context.query().get("field") or [""])[-1]
        if not requested.strip():
            return Response.json(200, self.reference.api_payload())
        if requested not in self.reference.fields:
            return not_found(f"Reference data field '{requested}' not found")
        return Response.json(200, self.reference.api_payload(requested))

    # --- GET /trainees (§2.3) ---------------------------------------------------------------------------------

    def list_trainees(self, context: Context) -> Response:
        query = context.query()

        def last(name: str) -> str | None:
            values = query.get(name)
            return values[-1] if values else None

        current = cycle_of(context.today)
        errors: dict[str, list[str]] = {}
        cycle_text = last("academic_cycle")
        cycle = current
        if cycle_text is not None and cycle_text.strip():
            cycle = ruby_to_i(cycle_text)
            if not FIRST_CYCLE <= cycle <= current + 1:
                errors["academic_cycle"] = [f"{cycle_text} is not a valid academic cycle year"]
        since_text = last("since")
        since = None
        if since_text is not None and since_text.strip():
            since = parse_iso8601(since_text)
            if since is None:
                errors["since"] = [f"{since_text} is not a valid date"]
        status_text = last("status")
        statuses: list[str] = []
        if status_text is not None and status_text.strip():
            if status_text not in STATUSES:
                errors["status"] = [f"{status_text} is not a valid status"]
            statuses = [status_text]
        elif query.get("status[]"):
            statuses = [s for s in query["status[]"] if s in STATUSES]  # arrays are not validated (§2.3)
        order = last("sort_order")
        if order is not None and order.strip() and order not in ("asc", "desc"):
            errors["sort_order"] = ["is not included in the list"]
        if errors:
            count = len(errors)
            message = f"Validation failed: {count} error{'' if count == 1 else 's'} prohibited this request being run"
            return Response.json(422, {"message": message, "errors": errors})  # shape E (§7.1)
        if query.get("status[]") and not statuses:
            statuses = ["__none__"]
        where, params = self._status_filter(statuses, context.today)
        has_trn = last("has_trn")
        if has_trn is not None and has_trn.strip():
            where = " AND ".join(w for w in (where, "trn IS NOT NULL" if has_trn == "true" else "trn IS NULL") if w)
        page = ruby_to_i(last("page") or "")
        page = page if page > 0 else 1
        per_page_text = last("per_page")
        per_page = PER_PAGE if per_page_text is None else ruby_to_i(per_page_text)
        if per_page < 0:
            per_page = KAMINARI_DEFAULT_PER_PAGE
        rows, total = self.store.list_trainees(
            context.provider_id,
            start_cycle=cycle,
            since=since,
            where=where,
            params=params,
            descending=order != "asc",
            limit=per_page,
            offset=(page - 1) * per_page,
        )
        if not rows:  # per_page 0 included: LIMIT 0 (§2.3)
            return not_found("No trainees found")
        meta = {
            "current_page": page,
            "total_pages": math.ceil(total / per_page),
            "total_count": total,
            "per_page": per_page,
        }
        return Response.json(200, {"data": self._serialize(rows), "meta": meta})

    @staticmethod
    def _status_filter(statuses: list[str], today: date) -> tuple[str, list[Any]]:
        """The status scopes of `app/models/trainee.rb` (§2.3), OR'ed."""
        clauses, params = [], []
        for status in statuses:
            if status == "course_not_yet_started":
                clauses.append("(itt_start_date > ? AND state NOT IN ('draft', 'deferred', 'withdrawn'))")
                params.append(today.isoformat())
            elif status == "in_training":
                clauses.append(
                    "(state IN ('submitted_for_trn', 'trn_received', 'recommended_for_award') AND itt_start_date <= ?)"
                )
                params.append(today.isoformat())
            elif status in STATUSES:
                clauses.append("(state = ?)")
                params.append(status)
            else:
                clauses.append("(0)")
        return " OR ".join(clauses), params

    # --- one trainee (§2.4-§2.6) ------------------------------------------------------------------------------

    def show_trainee(self, context: Context) -> Response:
        return Response.json(200, self.serialize_trainee(self._trainee(context)))  # unwrapped (§2.4)

    def create_trainee(self, context: Context) -> Response:
        data = context.data()
        body, _present = attrs.create_body(data)
        errors = self._trainee_errors(body, context.today)
        if errors:
            return validation_failed(errors, enhanced=context.enhanced)
        body = attrs.with_register_dates(body, context.today)  # dates as Register keeps them (§3.4)
        try:
            duplicates = self._duplicates(context.provider_id, body)
        except LikePatternError:
            # A last name ending in a lone backslash, matched against a trainee of its date of birth: PostgreSQL
            # raises, and Register answers 500 (§4 `last_name ILIKE ?`; review139 F1).
            return INTERNAL_ERROR
        if duplicates:
            if context.enhanced:
                return INTERNAL_ERROR  # EnhancedErrorsSerializer splits the hash errors: 500 (§2.5 ⚠)
            return Response.json(
                409,
                {
                    "errors": [{"error": "Conflict", "message": "This trainee is already in Register"}],
                    "data": self._serialize(duplicates),
                },
            )
        now = context.now
        fields = attrs.store_fields(body)
        meta = attrs.derived_on_create(self.reference, body)
        meta.update({"record_source": "api", "submitted_for_trn_at": now})
        placements = [attrs.nested_placement(p) for p in body.get("placements_attributes") or ()]
        meta["progress_placements"] = bool(placements)
        trainee = {
            "slug": self._slug("trainees"),
            "provider_id": context.provider_id,
            "state": SUBMITTED,
            "fields": fields,
            "meta": meta,
            "created_at": now,
            "updated_at": now,
            "trn": None,
            "trn_due_at": now + int(self.trn_delay * 1_000_000),
            "start_cycle": attrs.start_cycle(fields),
        }
        self.store.insert_trainee(trainee)
        degrees = [attrs.with_locale(d, d) for d in body.get("degrees_attributes") or ()]
        for table, items in (("degrees", degrees), ("placements", placements)):
            for item in items:
                self.store.insert_child(
                    table,
                    {
                        "slug": self._slug(table),
                        "trainee_id": trainee["id"],
                        "created_at": now,
                        "updated_at": now,
                        "fields": item,
                    },
                )
        return Response.json(201, {"data": self.serialize_trainee(trainee)}, write=True)

    def _duplicates(self, provider_id: int, body: dict[str, Any]) -> list[Row]:
        """§4: same provider, date of birth, last name (ILIKE), start cycle of the submitted itt_start_date,
        training route, and first-name token or e-mail."""
        submitted_start = parse_date(body.get("itt_start_date"))
        submitted_cycle = cycle_of(submitted_start) if submitted_start else None
        token = first_name_token(body.get("first_names"))
        email = str(body.get("email") or "").strip().lower()
        found = []
        for trainee in self.store.duplicate_candidates(provider_id, body["date_of_birth"]):
            fields = trainee["fields"]
            if not ilike(str(body["last_name"]), fields.get("last_name")):
                continue
            if trainee["start_cycle"] != submitted_cycle or fields.get("training_route") != body.get("training_route"):
                continue
            same_email = str(fields.get("email") or "").strip().lower() == email
            if first_name_token(fields.get("first_names")) == token or same_email:
                found.append(trainee)
        return found

    def update_trainee(self, context: Context) -> Response:
        trainee = self._trainee(context)
        self._writable(trainee)
        data = context.data()
        fields, meta = attrs.merge_update(self.reference, trainee["fields"], trainee["meta"], data)
        children = self.store.children("degrees", [trainee["id"]])[trainee["id"]]
        placements = self.store.children("placements", [trainee["id"]])[trainee["id"]]
        body = attrs.validation_body(fields, meta, children, placements)
        errors = self._merged_trainee_errors(body, meta, context.today)
        if errors:
            return validation_failed(errors, enhanced=context.enhanced)
        fields = attrs.with_register_dates(fields, context.today)  # a date sent as 19950505 is the stored day
        if fields != trainee["fields"] or meta != trainee["meta"]:
            trainee.update(fields=fields, meta=meta, updated_at=context.now, start_cycle=attrs.start_cycle(fields))
            self.store.save_trainee(trainee)
        return Response.json(200, {"data": self.serialize_trainee(trainee)}, write=True)

    # --- withdraw, defer, recommend (§2.7-§2.9) -------------------------------------------------------------

    def withdraw(self, context: Context) -> Response:
        trainee = self._trainee(context)
        data = context.data(permitted=(*WITHDRAWAL_KEYS, "withdraw_date"), arrays=("reasons",))
        start = parse_date(trainee["fields"].get("itt_start_date"))
        if trainee["state"] not in (SUBMITTED, TRN_RECEIVED, DEFERRED) or start is None or start > context.today:
            raise ApiError(STATE_TRANSITION)  # withdraw_allowed?, before any field is read (§2.7 step 1)
        if "withdraw_date" in data:
            return INTERNAL_ERROR  # permitted but unknown to WithdrawalAttributes: UnknownAttributeError (§2.7 ⚠)
        body: dict[str, Any] = {}
        for key in WITHDRAWAL_KEYS:
            value = attrs._scalar(key, data.get(key))
            if not attrs.is_blank(value):
                body[key] = value
        reasons = data.get("reasons")
        # `reasons: []` permits an array only when every element is a scalar, and then as sent (§2.7): a blank
        # reason is one not in the trigger's list (§3.9), a structured element drops the whole array.
        if isinstance(reasons, list) and not any(isinstance(r, dict | list) for r in reasons):
            body["reasons"] = [str(r) for r in reasons]
        errors = self._side_errors("withdrawal", body, trainee["fields"], context.today)
        if errors:
            return errors_b(422, "UnprocessableEntity", *errors)
        self.store.insert_withdrawal(
            trainee["id"],
            {
                "date": _held_day(str(body["withdrawal_date"]), context.today, withdrawal_kept_day),
                "trigger": body.get("trigger"),
                "future_interest": body.get("future_interest"),
                # Required, so a non-empty list here; stored once each, as `WithdrawalReason.where(name: reasons)`
                # finds them (§3.9): a reason sent twice is echoed once.
                "reasons": list(dict.fromkeys(body["reasons"])),
                "another_reason": body.get("another_reason"),
                "safeguarding_concern_reasons": body.get("safeguarding_concern_reasons"),
            },
            context.now,
        )
        trainee.update(state=WITHDRAWN, updated_at=context.now)
        self.store.save_trainee(trainee)
        return Response.json(200, {"data": self.serialize_trainee(trainee)}, write=True)

    def defer(self, context: Context) -> Response:
        trainee = self._trainee(context)
        data = context.data()
        body = {}
        for key in ("defer_date", "defer_reason"):
            value = attrs._scalar(key, data.get(key))
            if not attrs.is_blank(value):
                body[key] = value
        errors = self._side_errors("deferral", body, trainee["fields"], context.today)
        if errors:
            return errors_b(422, "UnprocessableEntity", *errors)
        if trainee["state"] not in (SUBMITTED, TRN_RECEIVED):
            message = "state is invalid must be one of [submitted_for_trn, trn_received]"
            return errors_b(422, "UnprocessableEntity", message)
        meta = dict(trainee["meta"])
        held = _held_day(str(body["defer_date"]), context.today, register_date)
        meta.update(defer_date=held, defer_reason=body.get("defer_reason"))
        trainee.update(state=DEFERRED, meta=meta, updated_at=context.now)
        self.store.save_trainee(trainee)
        return Response.json(200, {"data": self.serialize_trainee(trainee)}, write=True)

    def recommend(self, context: Context) -> Response:
        trainee = self._trainee(context)
        data = context.data(permitted=("qts_standards_met_date",))
        fields = trainee["fields"]
        route = fields.get("training_route")
        errors = []
        value = attrs._scalar("qts_standards_met_date", data.get("qts_standards_met_date"))
        met = None
        if attrs.is_blank(value):
            errors.append(
                "qts_standards_met_date can't be blank. Enter a date the trainee met the QTS or EYTS requirements."
            )
        else:
            met = register_date(value, context.today)  # Date.iso8601: 20261201 is a day too (§2.9, §3.4)
            if met is None:
                errors.append("qts_standards_met_date is invalid")
            else:
                if met > context.today:
                    errors.append("qts_standards_met_date must not be in the future")
                start = parse_date(fields.get("itt_start_date"))
                if start is not None and met < start:
                    errors.append("qts_standards_met_date must be after itt_start_date")
        ids = [trainee["id"]]
        if route not in UNDERGRADUATE_ROUTES and not self.store.children("degrees", ids)[trainee["id"]]:
            errors.append("degree_id must be completed before qts_standards_met_date")
        if route not in NO_STUDY_MODE_ROUTES:
            minimum = PLACEMENT_MINIMUM.get(route, 2)  # every stored trainee has a route (§3.2)
            if len(self.store.children("placements", ids)[trainee["id"]]) < minimum:
                name = self.reference.funding.training_routes.get(route, route)
                errors.append(f"placements must be at least {minimum} for the {name} training route")
        if trainee["state"] != TRN_RECEIVED:
            errors.append("state must be selected as trn_received")
        if errors:
            return errors_b(422, "UnprocessableEntity", *errors)
        meta = dict(trainee["meta"])
        meta.update(outcome_date=met.isoformat() if met else None, recommended_for_award_at=context.now)
        trainee.update(state=RECOMMENDED, meta=meta, updated_at=context.now)
        self.store.save_trainee(trainee)
        return Response.json(202, {"data": self.serialize_trainee(trainee)}, write=True)

    # --- degrees (§2.10) --------------------------------------------------------------------------------------

    def _degree(self, context: Context, trainee: Row) -> Row:
        found = self.store.child("degrees", trainee["id"], context.resolved.params["degree_id"])
        if found is None:
            raise ApiError(not_found("Degree(s) not found"))
        return found

    def list_degrees(self, context: Context) -> Response:
        trainee = self._trainee(context)
        degrees = self.store.children("degrees", [trainee["id"]])[trainee["id"]]
        return Response.json(200, {"data": [degree_json(self.reference, d) for d in degrees]})

    def show_degree(self, context: Context) -> Response:
        degree = self._degree(context, self._trainee(context))
        return Response.json(200, {"data": degree_json(self.reference, degree)})

    def _degree_conflicts(self, trainee: Row, fields: dict[str, Any], today: date, own_id: int | None) -> list[Row]:
        """Register looks for held degrees equal to the sent (merged) one in its non-blank values only (§3.7
        "equal non-blank"): a blank in the degree sent, such as a non-UK degree's optional grade, matches any held
        value."""
        facts = Facts.of(trainee["fields"], today, self.reference)
        identity = degree_identity(fields, facts)
        if identity is None:
            return []
        return [
            d
            for d in self.store.children("degrees", [trainee["id"]])[trainee["id"]]
            if d["id"] != own_id and _matches_non_blank(identity, degree_identity(d["fields"], facts))
        ]

    def _save_degree(self, context: Context, trainee: Row, fields: dict[str, Any], degree: Row | None) -> Response:
        errors = self._side_errors("degree", fields, trainee["fields"], context.today)
        if errors:
            return errors_b(422, "UnprocessableEntity", *errors)
        conflicts = self._degree_conflicts(trainee, fields, context.today, degree["id"] if degree else None)
        if conflicts:
            return Response.json(
                409,
                {
                    "errors": [{"error": "Conflict", "message": "This is a duplicate degree"}],
                    "data": [degree_json(self.reference, d) for d in conflicts],
                },
            )
        now = context.now
        if degree is None:
            degree = {"slug": self._slug("degrees"), "trainee_id": trainee["id"], "created_at": now, "fields": fields}
            degree["updated_at"] = now
            self.store.insert_child("degrees", degree)
            status = 201
        else:
            status = 200
            if fields == degree["fields"]:
                return Response.json(status, {"data": degree_json(self.reference, degree)}, write=True)
            degree.update(fields=fields, updated_at=now)
            self.store.save_child("degrees", degree)
        self.store.touch_trainee(trainee["id"], now)  # belongs_to :trainee, touch: true
        return Response.json(status, {"data": degree_json(self.reference, degree)}, write=True)

    def create_degree(self, context: Context) -> Response:
        trainee = self._trainee(context)
        self._writable(trainee)
        sent = attrs.mapped_degree(attrs.permit_degree(context.data()))
        return self._save_degree(context, trainee, attrs.with_locale(sent, sent), None)

    def update_degree(self, context: Context) -> Response:
        trainee = self._trainee(context)
        self._writable(trainee)
        degree = self._degree(context, trainee)
        data = context.data()
        permitted = attrs.permit_degree(data)
        sent = attrs.mapped_degree(permitted)
        fields = dict(degree["fields"])
        for key in data:
            if key in sent:
                fields[key] = sent[key]
            elif key in DEGREE_FIELDS and key not in permitted:
                fields.pop(key, None)  # a blank value is written as blank; one the mapper nulls is not written
        if "uk_degree" in data or "non_uk_degree" in data:
            for key in ("uk_degree", "non_uk_degree", "country"):  # rewritten together (§2.10)
                if key in sent:
                    fields[key] = sent[key]
                else:
                    fields.pop(key, None)
            # ... with locale_code, which the mapper works out from this request's keys alone (§2.10, §3.7).
            fields = attrs.with_locale(fields, sent)
        elif "locale_code" not in fields:  # a row stored before degrees kept their locale
            fields = attrs.with_locale(fields, degree["fields"])
        return self._save_degree(context, trainee, fields, degree)

    def delete_degree(self, context: Context) -> Response:
        trainee = self._trainee(context)
        self._writable(trainee)
        degree = self._degree(context, trainee)
        self.store.delete_child("degrees", degree["id"])
        self.store.touch_trainee(trainee["id"], context.now)
        trainee["updated_at"] = context.now
        return Response.json(200, {"data": self.serialize_trainee(trainee)}, write=True)

    # --- placements (§2.11) -----------------------------------------------------------------------------------

    def _placement(self, context: Context, trainee: Row) -> Row:
        found = self.store.child("placements", trainee["id"], context.resolved.params["placement_id"])
        if found is None:
            raise ApiError(not_found("Placement(s) not found"))
        return found

    def list_placements(self, context: Context) -> Response:
        trainee = self._trainee(context)
        placements = self.store.children("placements", [trainee["id"]])[trainee["id"]]
        return Response.json(200, {"data": [placement_json(p) for p in placements]})

    def show_placement(self, context: Context) -> Response:
        placement = self._placement(context, self._trainee(context))
        return Response.json(200, {"data": placement_json(placement)})

    def _save_placement(
        self, context: Context, trainee: Row, fields: dict[str, Any], placement: Row | None
    ) -> Response:
        found = self._side_errors("placement", fields, trainee["fields"], context.today)
        errors = [m.removeprefix("placements_attributes ") for m in found]  # no prefix on the endpoint (§7.2)
        if fields.get("urn") in MAGIC_URNS and not fields.get("name"):
            # The endpoint gives magic URNs no label and they match no school, so a name is needed (§3.8); the
            # catalogue's name rule takes any 6-digit URN for a school's (nested ones get the magic label instead).
            errors.insert(0, "name can't be blank")
        if errors:
            return errors_b(422, "UnprocessableEntity", *errors)
        now = context.now
        if placement is None:
            placement = {"slug": self._slug("placements"), "trainee_id": trainee["id"], "created_at": now}
            placement.update(fields=fields, updated_at=now)
            self.store.insert_child("placements", placement)
            status = 201
        else:
            status = 200
            if fields != placement["fields"]:
                placement.update(fields=fields, updated_at=now)
                self.store.save_child("placements", placement)
        if not trainee["meta"].get("progress_placements"):
            # SavePlacementResponse#update_progress saves the trainee only when progress flips (§2.11 ⚠).
            meta = dict(trainee["meta"], progress_placements=True)
            trainee.update(meta=meta, updated_at=now)
            self.store.save_trainee(trainee)
        return Response.json(status, {"data": placement_json(placement)}, write=True)

    def create_placement(self, context: Context) -> Response:
        trainee = self._trainee(context)
        self._writable(trainee)
        return self._save_placement(context, trainee, attrs.permit_placement(context.data(PLACEMENT_FIELDS)), None)

    def update_placement(self, context: Context) -> Response:
        trainee = self._trainee(context)
        self._writable(trainee)
        placement = self._placement(context, trainee)
        data = context.data(PLACEMENT_FIELDS)
        sent = attrs.permit_placement(data)
        fields = dict(placement["fields"])
        for key in PLACEMENT_FIELDS:
            if key in sent:
                fields[key] = sent[key]
            elif key in data:
                fields.pop(key, None)
        return self._save_placement(context, trainee, fields, placement)

    def delete_placement(self, context: Context) -> Response:
        trainee = self._trainee(context)
        self._writable(trainee)
        placement = self._placement(context, trainee)
        self.store.delete_child("placements", placement["id"])
        return Response.json(200, {"data": self.serialize_trainee(trainee)}, write=True)


# The rules R19's override decides for training_initiative: its code list (§5.2) and its cycle (R12).
_INITIATIVE_RULES = ("invalid_code", "initiative_not_available")


def _of_the_initiative(issue: Issue) -> bool:
    return issue.is_error and issue.field == "training_initiative" and issue.code in _INITIATIVE_RULES


@cache
def _trainee_rule_order() -> dict[str, int]:
    return {entry.code: n for n, entry in enumerate(rules_for("trainee"))}


def _insert_in_catalogue_order(found: list[tuple[str, str]], code: str, message: str) -> None:
    """A message of rule `code` where the catalogue's order puts it among `found` ((code, message) pairs in that
    order). Nested (degree, placement) issues come after every trainee rule's, as their codes are not trainee
    rules."""
    order = _trainee_rule_order()
    place = order[code]
    at = next((n for n, (other, _message) in enumerate(found) if order.get(other, len(order)) > place), len(found))
    found.insert(at, (code, message))


__all__ = [
    "ROUTES",
    "ApiError",
    "RegisterApp",
    "Request",
    "Resolved",
    "Response",
    "new_token",
    "resolve",
    "token_digest",
]
