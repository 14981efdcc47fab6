"""A proxy's user name and password, as the environment's proxy settings give them: masked in every log line.

httpx sends them to the proxy as `Proxy-Authorization: Basic base64(user:password)`. At -vv httpcore logs each
answer's status line and headers as they came, and a proxy (or a gateway in front of it) that quotes that header back
in its reason phrase or a header of its 407 put the proxy's password on standard error, base64 being no secret
(review226 F5). The error line never names the proxy's URL (api/client.py); a client that goes through a proxy has
its credentials masked in the log as its API token is, by the one filter (tokens.TokenMask, tokens.credentials_in_use):
a library caller's handler that takes it masks both (review229 F4, F5)."""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

# The settings httpx reads a proxy from (trust_env, urllib's getproxies), in either case.
PROXY_SETTINGS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
# A user name, a password or `user:password` written out shorter than this is not looked for: masked in every log
# line, a short one (`ops:2026`'s `2026`, a service's name `batch`) took the API version, the academic cycle and the
# date out of each (review229 F2). The base64 a Basic header carries is looked for however short: it is what a proxy
# quotes back, and reads as no word.
SHORTEST_MASKED = 8


def proxy_credentials(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Every form of the credentials the proxy settings of `environ` hold that a log line may quote, longest first: the
    base64 of `user:password` as a Basic header sends it (as written in the URL and percent-decoded), and of
    SHORTEST_MASKED characters or more, `user:password` and the password likewise. A user name with no password is
    the credential (`http://apikey@proxy`): looked for as a password is."""
    environ = os.environ if environ is None else environ
    found: set[str] = set()
    for name in PROXY_SETTINGS:
        url = environ.get(name, "").strip()
        if "@" not in url:
            continue
        userinfo = _userinfo(url)
        user, has_password, password = userinfo.partition(":")
        secret = password if has_password else user
        for written in {userinfo, unquote(userinfo)}:
            found.add(base64.b64encode(written.encode("utf-8", "surrogateescape")).decode("ascii"))
            if len(written) >= SHORTEST_MASKED:
                found.add(written)
        found |= {value for value in (secret, unquote(secret)) if len(value) >= SHORTEST_MASKED}
    found.discard("")
    return tuple(sorted(found, key=len, reverse=True))


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
