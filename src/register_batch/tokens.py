"""What an API token can be: shared by the client, which sends one, and the emulator, which accepts them.

A module of its own so that the emulator, which never sends a request, does not import the HTTP client."""

from __future__ import annotations

import logging
import os
import re
import threading
import unicodedata
from collections.abc import Iterator

from register_batch.errors import ConfigError

BEARER_TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")  # RFC 6750 b64token: what a Bearer token can be (§1.2)


def is_bearer_token(value: str) -> bool:
    """Whether `value` can be sent as `Authorization: Bearer <value>` (a space, quote or line break cannot)."""
    return BEARER_TOKEN.fullmatch(value) is not None


# Anything a Register token cannot hold (`sandbox_` and 64 hex digits, register-api.md §1) ends a word of a value
# pasted with more than the token: a header's words, quotes of any kind (an env file's, Word's “curly” ones), `NAME=`,
# `:`, `/`, `.` and `-` (a URL's parts, a host's labels, `x-<token>`), a sentence's punctuation.
_AROUND_A_TOKEN = re.compile(r"[^A-Za-z0-9_~+]+")
_TOKEN_DIGITS = 8  # a token's random part has many; a long name (`register_trainee_teachers_emulator`) has none
_TOKEN_LENGTH = 48  # a token is 72 or more; a hex UUID (32) or a dated name (`register_api_token_20261201`) is shorter


def _token_words(value: str) -> list[str]:
    """The words of `value` that may be a token: 48 characters or more of a token's (none of them a hyphen or a dot,
    which Register's tokens do not hold: a UUID's or host name's parts are words of their own), at least 8 of them
    digits. A token with characters that show nothing inside it (a zero-width space, a tab: copied from a document)
    is read without them too."""
    return [
        word for word in _words(value) if len(word) >= _TOKEN_LENGTH and sum(c.isdigit() for c in word) >= _TOKEN_DIGITS
    ]


def _words(value: str) -> list[str]:
    """The words of `value` (`_AROUND_A_TOKEN`), read as it is and without the characters that show nothing."""
    if value.isascii() and value.isprintable():  # nothing to leave out (a mapping file's every key and value is read)
        return _AROUND_A_TOKEN.split(value)
    unseen = "".join(c for c in value if unicodedata.category(c) not in _SHOW_NOTHING)
    texts = (value, unseen) if unseen != value else (value,)
    return [word for text in texts for word in _AROUND_A_TOKEN.split(text)]


_SHOW_NOTHING = ("Cc", "Cf")  # control and format characters (a tab, a zero-width space, a soft hyphen)
# A token as Register makes one: `"#{Rails.env}_" + 64 hex digits` (register-api.md §1: sandbox_..., production_...),
# named by the environments a provider is given tokens for (sandbox, production) and the emulator's own: a
# content-addressed `run_<sha256>` or `test_<sha256>` file or folder is no token.
_SHORTEST_TOKEN = len("sandbox_") + 64
_REGISTERS_TOKEN = re.compile(r"(?<![A-Za-z])(?:sandbox|production|emulator|embedded)_[0-9a-fA-F]{64}")


# The same glued to letters before it: an option's name with its value's space left out (`--token-filesandbox_...`),
# where nothing else could be; a file's or folder's name may end a word in `sandbox` or `production`.
_REGISTERS_TOKEN_GLUED = re.compile(_REGISTERS_TOKEN.pattern.removeprefix("(?<![A-Za-z])"))


def registers_token_in(value: str, *, glued: bool = False) -> int | None:
    """The length of the word of `value` holding a token of Register's own shape (read without characters that show
    nothing, too), else None; `glued`: one right after letters too, its own length (not its option's name's)."""
    if len(value) < _SHORTEST_TOKEN or "_" not in value:  # characters that show nothing only make one longer
        return None
    pattern = _REGISTERS_TOKEN_GLUED if glued else _REGISTERS_TOKEN
    for word in _words(value):
        if match := pattern.search(word):
            return len(match.group() if glued else word)
    return None


_WHITESPACE = re.compile(r"\s+")


def registers_token_wrapped_in(value: str) -> int | None:
    """registers_token_in, and the length of a token `value` holds wrapped over lines: YAML reads a line break inside
    a plain, quoted or folded scalar as a space, so neither half is a word of a token's (review165 F2). Read without
    its white space, the token may be glued to the word before it (`our SRS sandbox_…` is `ourSRSsandbox_…`)."""
    if (length := registers_token_in(value)) is not None:
        return length
    if len(value) < _SHORTEST_TOKEN or "_" not in value or not any(c.isspace() for c in value):
        return None
    return registers_token_in(_WHITESPACE.sub("", value), glued=True)


def held_token(value: str) -> int | None:
    """The length of the API token a value read from a user's file or shown back holds, by either test: Register's
    shape, glued too (`REGISTER_API_TOKEN=sandbox_…` is one word: its token's length), or the loose one of a token
    pasted in the wrong place (`looks_like_token`: the value's length); None when it holds none. The one test of
    `masked_token_words` and of `ledger forget`'s ids (review229 F5)."""
    if (length := registers_token_in(value, glued=True)) is not None:
        return length
    return len(value.strip()) if _token_words(value) else None


def looks_like_token(value: str) -> bool:
    """Whether a value given as something else (a target, a rate) may be an API token pasted in the wrong place, and
    so must not be shown: alone or with what was copied around it (`Bearer <token>`, a header or
    `REGISTER_API_TOKEN=<token>` pasted whole, quotes, a URL beside it or holding it anywhere: user name, path,
    query)."""
    return bool(_token_words(value))


TOKEN_AS_TARGET = (  # {token_goes}: where a token goes, as the library says it (RegisterBatchError.naming)
    "the target looks like an API token ({length} characters; not shown): a token goes {token_goes}, and the target "
    "is sandbox, production or the service's URL"
)


TOKEN_AS_ARGUMENT = (  # said after the option given it (`--since`), or after "an argument"
    "holds an API token ({length} characters; not shown): give the token in REGISTER_API_TOKEN or a --token-file, "
    "never on the command line (the shell's history keeps it, and other users of the machine can see it)"
)


TOKEN_AS_FOLDER = (  # {length}: the token's; said after the folder's setting (`report_dir`, `--report-dir`)
    "holds an API token ({length} characters; not shown): name a folder there, and give the token in "
    "REGISTER_API_TOKEN or a --token-file"
)


def refuse_token_named(set_by: str, value: str, wording: str = TOKEN_AS_FOLDER) -> None:
    """ConfigError, saying `set_by` then `wording` (TOKEN_AS_FOLDER, TOKEN_AS_FILE), when `value` names a folder or
    file by a token of Register's shape (a long name full of digits may be a folder's): made, its name shows the token
    in every report and to anyone who may list the folder above. The command line's settings and the library's
    SyncOptions refuse it alike (review225 F2)."""
    if (length := registers_token_in(value)) is not None:
        raise ConfigError(f"{set_by} {wording.format(length=length)}")


TOKEN_AS_FILE = (  # {length}: the token's; said after the setting naming files (`mappings`)
    "holds an API token ({length} characters; not shown): name a file there, and give the token in "
    "REGISTER_API_TOKEN or a --token-file"
)


TOKEN_IN_MAPPING = (  # {length}: the token's; said after `file:line: key.path` (a key or value of a mapping file)
    "holds an API token ({length} characters; not shown): a mapping file names fields, columns, tags and codes; give "
    "the token in REGISTER_API_TOKEN or a --token-file"
)


TOKEN_AS_TOKEN_FILE = (
    "the token file's name looks like an API token ({length} characters; not shown), and no file of that name is "
    "there: give the name of a file holding the token, or the token in REGISTER_API_TOKEN"
)


def pasted_token_file(path: str | os.PathLike[str]) -> int | None:
    """The length of a token pasted where a token file's name goes (--token-file, REGISTER_API_TOKEN_FILE, token_file),
    so that it is never shown; None for a name that may be shown. Only a name that is no file, and looks like a token
    with digits in it (a token's random part has some; `register_api_token_for_production` is a name): a file that is
    there is named as any other."""
    name = os.path.basename(path)
    return len(name) if _token_words(name) and not os.path.lexists(path) else None


BAD_TOKEN = (
    "the API token holds characters a Bearer token cannot (a pasted quote, space, line break or non-ASCII "
    "character?); it should look like sandbox_ or production_ followed by 64 hex digits"
)
BEARER_GIVEN = (  # a whole header value pasted: "Bearer sandbox_..." (register-api.md §1)
    'the API token begins with "Bearer ": give the token alone (sandbox_ or production_ followed by 64 hex '
    'digits); register-batch sends "Bearer " itself'
)


def bad_token(value: str) -> str:
    """Why `value` cannot be sent as a token, never repeating it: a pasted header value is the likely slip."""
    head, _, rest = value.partition(" ")
    return BEARER_GIVEN if head.lower() == "bearer" and is_bearer_token(rest.strip()) else BAD_TOKEN


def hidden_token(value: str) -> str | None:
    """What stands for `value` when it looks like an API token pasted in the wrong place (REGISTER_BATCH_RATE for
    REGISTER_API_TOKEN), else None: it may be shown."""
    return not_shown(len(value.strip())) if looks_like_token(value.strip()) else None


def shown_value(value: object) -> str:
    """`repr(value)` for the message refusing it (`0`, `'30'`, `(0, 60)`), or not shown at all when it, or a text in
    it, looks like an API token: a library caller's settings built from a row whose columns shifted put the token in
    `rate=` or `timeout=`, and the error's message, args and pickle carried it (review225 F3). Every argument check
    of the library says a refused value through this, as `quoted_setting` does for the command line's."""
    shown = repr(value)
    return hidden_token(value if isinstance(value, str) else shown) or shown


def quoted_setting(value: object) -> str:
    """A setting's value quoted for the message refusing it (`'95/60'`), or not shown at all when it looks like an
    API token: every command that refuses the value says the same."""
    return hidden_token(str(value)) or repr(str(value))


def not_shown(length: int) -> str:
    """What stands for a token, `length` characters long, pasted where a name goes (a target, a token file's name)."""
    return f"({length} characters that look like an API token: not shown)"


def without_query(url: str) -> str:
    """A target's query or fragment, which may hold a token (`?token=...`), replaced by ****. No service's URL has
    one, so such a target is refused; this is how it is shown."""
    cut = min((i for i in (url.find("?"), url.find("#")) if i >= 0), default=-1)
    return url if cut < 0 else f"{url[: cut + 1]}****"


# --- a token quoted back: masked ------------------------------------------------------------------------------------

MASK = "********"  # what stands for a token, as Secret shows one
# Register's tokens are 64 characters. A test token of a few letters (the emulator takes any) would be found inside
# ordinary answers ("No trainees found", a surname) and masked out of them: shorter ones are not looked for.
MASKED_FROM = 12
# The rule (review61 F3): any run of MASKED_RUN or more consecutive characters of the token, in any case, is masked.
# A server or gateway that quotes the token back may change its case (an upper-cased header: a hex token's value is
# the same in either case) or cut it short (`sandbox_c1203455130b...`: half the secret). Twelve characters disclose
# little at most (a Register token keeps 52 or more of its 64 hex digits unknown, 208 bits), and twelve is where a
# chance match of ordinary text with a random token stops being a worry; it is MASKED_FROM too, so a token of
# twelve is masked only whole, as before.
MASKED_RUN = MASKED_FROM
# What a token never holds (printable ASCII only, a Bearer token's characters): put between its characters, control
# characters (a gateway's JSON of a UTF-16 body, `s\u0000a\u0000n...`), spaces, zero-width or joining characters
# show nothing, or an escape a reader skips, and the token reads whole.
NOT_A_TOKENS = re.compile("[^\x21-\x7e]")
_A_TOKENS = re.compile("[\x21-\x7e]")


def _runs(folded: str, token: str, *, whole: bool = False) -> Iterator[tuple[int, int]]:
    """The spans of `folded` (lower-cased, holding only characters a token may) that are MASKED_RUN or more
    consecutive characters of `token` (lower-cased), or with `whole` the whole token. Every such run holds whole one
    of the token's pieces of half that length that start at a multiple of it: each piece is searched for
    (`str.find`, fast on a long answer), and every place found is widened as far as it goes on matching."""
    shortest = len(token) if whole else MASKED_RUN
    half = shortest // 2
    for start in range(0, len(token) - half + 1, half):
        piece = token[start : start + half]
        found = folded.find(piece)
        while found >= 0:
            left, right, at, end = found, found + half, start, start + half
            while left > 0 and at > 0 and folded[left - 1] == token[at - 1]:
                left, at = left - 1, at - 1
            while right < len(folded) and end < len(token) and folded[right] == token[end]:
                right, end = right + 1, end + 1
            if right - left >= shortest:
                yield left, right
            found = folded.find(piece, found + 1)


def quotes_token(text: str, token: str, *, reduced: bool = False, whole: bool = False) -> bool:
    """Whether `text` holds a run of `token` that `masked_token` masks (none for a token shorter than MASKED_FROM).
    `reduced`: `text` holds only characters a token may (a long answer's, NOT_A_TOKENS dropped by the caller)."""
    if len(token) < MASKED_FROM:
        return False
    folded = (text if reduced else NOT_A_TOKENS.sub("", text)).lower()
    return next(_runs(folded, token.lower(), whole=whole), None) is not None


def masked_token(text: str, token: str, *, whole: bool = False) -> str:
    """`text` with every run of MASKED_RUN or more characters of `token` in it (in any case, and with characters no
    token holds between its own: see NOT_A_TOKENS) replaced by MASK; the rest of the text kept as it was. The one
    masking function: Register's answers (api/client.py) and the log lines of -vv (`TokenMask`) go through it.
    `whole`: only the whole token (in any case, spread as above), for Register's data in a successful answer, which
    a run of the token may match by chance (a made-up token holding a HUSID): masked, it changed the data (review63
    F2). Runs are masked in what is shown: error messages, log lines."""
    if not quotes_token(text, token, whole=whole):
        return text
    kept = [found.start() for found in _A_TOKENS.finditer(text)]  # where each character a token may hold is
    folded = "".join(text[i] for i in kept).lower()
    merged: list[list[int]] = []  # the spans of `text` to mask, in order, those that overlap or touch made one
    spans = _runs(folded, token.lower(), whole=whole)
    for left, right in sorted((kept[left], kept[right - 1] + 1) for left, right in spans):
        if merged and left <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], right)
        else:
            merged.append([left, right])
    pieces, shown_from = [], 0
    for left, right in merged:
        pieces += [text[shown_from:left], MASK]
        shown_from = right
    return "".join([*pieces, text[shown_from:]])


# The tokens of the clients open in this process, with how many use each: `TokenMask` masks them in every log line.
_IN_USE: dict[str, int] = {}
_IN_USE_LOCK = threading.Lock()


def token_in_use(token: str) -> None:
    """A client sends `token` from now on: masked in the log lines of `TokenMask` until `token_done`."""
    if len(token) >= MASKED_FROM:
        with _IN_USE_LOCK:
            _IN_USE[token] = _IN_USE.get(token, 0) + 1


def token_done(token: str) -> None:
    """A client that sent `token` is closed."""
    with _IN_USE_LOCK:
        if _IN_USE.get(token, 0) > 1:
            _IN_USE[token] -= 1
        else:
            _IN_USE.pop(token, None)


def masked_tokens(text: str) -> str:
    """`text` with every token in use masked (`masked_token`)."""
    with _IN_USE_LOCK:
        tokens = list(_IN_USE)
    for token in tokens:
        text = masked_token(text, token)
    return text


# Other credentials of the clients open in this process, with how many use each: masked by `TokenMask` as written,
# not by runs (a proxy's password and the base64 a Basic header carries: proxy_credentials), only while a client
# sends them (a proxy the target goes through; review229 F2).
_CREDENTIALS_IN_USE: dict[str, int] = {}


def credentials_in_use(values: tuple[str, ...]) -> None:
    """A client sends `values` from now on (longest first, as proxy_credentials gives them): masked in the log lines
    of `TokenMask` until `credentials_done`."""
    with _IN_USE_LOCK:
        for value in values:
            _CREDENTIALS_IN_USE[value] = _CREDENTIALS_IN_USE.get(value, 0) + 1


def credentials_done(values: tuple[str, ...]) -> None:
    """A client that sent `values` is closed."""
    with _IN_USE_LOCK:
        for value in values:
            if _CREDENTIALS_IN_USE.get(value, 0) > 1:
                _CREDENTIALS_IN_USE[value] -= 1
            else:
                _CREDENTIALS_IN_USE.pop(value, None)


def masked_secrets(text: str) -> str:
    """`text` with every token in use (`masked_tokens`) and every other credential in use (the longest first: a
    password inside its `user:password`) masked."""
    text = masked_tokens(text)
    with _IN_USE_LOCK:
        credentials = sorted(_CREDENTIALS_IN_USE, key=len, reverse=True)
    for value in credentials:
        if value in text:
            text = text.replace(value, MASK)
    return text


_A_WORD = re.compile(r"[A-Za-z0-9_~+]+")  # a word of `_AROUND_A_TOKEN`'s


def masked_token_words(text: str) -> str:
    """`text` with every word shaped as an API token replaced by MASK: one `looks_like_token` or `registers_token_in`
    (glued) finds, whatever names it. For text quoting what a client sent with tokens nobody knows, such as a request
    line's query or path in the emulator's access log (review162: `?token=...` was logged as received)."""

    def masked(word: re.Match[str]) -> str:
        return MASK if held_token(word.group()) is not None else word.group()

    return _A_WORD.sub(masked, text)


def masked_path_words(path: str, token: str | None = None) -> str:
    """`path` (a token file's, settings file's or working folder's, or a line naming them) with every word of
    Register's token shape (`registers_token_in`, glued: `sandbox_` or `production_` and 64 hex digits), `token`
    (the one the caller is to send, when it knows it) and every token in use (`masked_tokens`) masked: a file or
    folder named after its token (review226 F1). Not the loose test of `masked_token_words`: a path is a name someone
    chose, and `provider_10012846_register_trainee_teachers_sync` or a sha256-named folder is shown whole, to say
    which file to fix (review229 F1), as `refuse_token_named` refuses only Register's shape for a folder."""

    def masked(word: re.Match[str]) -> str:
        found = word.group()
        return MASK if registers_token_in(found, glued=True) else found

    shown = masked_tokens(_A_WORD.sub(masked, path))
    return masked_token(shown, token) if token else shown


class TokenMask(logging.Filter):
    """Masks the tokens in use in each log line a handler writes, its message and its traceback (review61 F2), and the
    proxy credentials in use (`credentials_in_use`: review226 F5, one filter for both, review229 F5). httpx logs each
    answer's status line and httpcore (-vv) its headers, as they came: a gateway or a server in debug mode that quotes
    the Authorization header back in its reason phrase or a header put the token on standard error (a proxy's 407,
    the Proxy-Authorization header), and -vv output is what people paste into tickets. A filter of the handler, not
    of those loggers: a logger's filter does not see what its children (`httpcore.http11`) log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _IN_USE and not _CREDENTIALS_IN_USE:
            return True
        message = record.getMessage()
        masked = masked_secrets(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = masked_secrets(record.exc_text)
        return True
