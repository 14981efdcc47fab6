"""A proxy's user name and password, as the environment's proxy settings give them: masked in every log line.

httpx sends them to the proxy as `Proxy-Authorization: Basic base64(user:password)`. At -vv httpcore logs each
answer's status line and headers as they came, and a proxy (or a gateway in front of it) that quotes that header back
in its reason phrase or a header of its 407 put the proxy's password on standard error, base64 being no secret
(review226 F5). The error line never names the proxy's URL (api/client.py); its credentials are masked in the log
as the API token is (tokens.TokenMask)."""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

from register_batch.tokens import MASK

# The settings httpx reads a proxy from (trust_env, urllib's getproxies), in either case.
PROXY_SETTINGS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
# A shorter value (a one-letter user name) would mask the letters of every line, and discloses next to nothing.
SHORTEST_MASKED = 4


def proxy_credentials(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Every form of the credentials the proxy settings of `environ` hold that a log line may quote, longest first: the
    password as written in the URL and percent-decoded, `user:password` likewise, and the base64 of each as a Basic
    header sends it. A user name with no password is the credential (`http://apikey@proxy`): masked too."""
    environ = os.environ if environ is None else environ
    found: set[str] = set()
    for name in PROXY_SETTINGS:
        url = environ.get(name, "").strip()
        if "@" not in url:
            continue
        userinfo = _userinfo(url)
        user, has_password, password = userinfo.partition(":")
        for written in {userinfo, unquote(userinfo)}:
            found.add(written)
            found.add(base64.b64encode(written.encode("utf-8", "surrogateescape")).decode("ascii"))
        if has_password:
            found |= {password, unquote(password)}
        else:
            found |= {user, unquote(user)}
    return tuple(sorted((value for value in found if len(value) >= SHORTEST_MASKED), key=len, reverse=True))


def _userinfo(url: str) -> str:
    """What precedes the host's `@` in `url` (`user:password`), read as a URL if it is one, else everything before
    its last `@` after the scheme (`http//user:pw@host`, a colon left out): masked more, never less."""
    try:
        netloc = urlsplit(url if "://" in url else f"//{url}").netloc
    except ValueError:
        netloc = ""
    if "@" in netloc:
        return netloc.rsplit("@", 1)[0]
    return url.partition("://")[2].rsplit("@", 1)[0] if "://" in url else url.rsplit("@", 1)[0]


def masked_proxy_credentials(text: str, credentials: tuple[str, ...]) -> str:
    """`text` with each of `credentials` (longest first: a password inside its `user:password`) replaced by MASK."""
    for value in credentials:
        if value in text:
            text = text.replace(value, MASK)
    return text


class ProxyCredentialsMask(logging.Filter):
    """Masks the proxy settings' credentials (proxy_credentials, read once, as httpx reads them) in each log line a
    handler writes, its message and its traceback: a filter of the handler, as TokenMask is."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.credentials = proxy_credentials(environ)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.credentials:
            return True
        message = record.getMessage()
        masked = masked_proxy_credentials(message, self.credentials)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = masked_proxy_credentials(record.exc_text, self.credentials)
        return True
