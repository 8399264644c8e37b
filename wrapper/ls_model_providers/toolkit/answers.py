"""Reading a deployment's answers as Label Studio writes them: JSON bodies (the client's
parser), ``detail`` texts, its error body, its HTML 404 page, its ``WWW-Authenticate``."""

from __future__ import annotations

from typing import Any, Final

import httpx

from ls_model_providers._body import JSONRejected, loads
from ls_model_providers._errors import Answer, is_html
from ls_model_providers._secrets import Scrubber

LS_ERROR_KEYS: Final = frozenset({"id", "status_code", "version", "detail", "exc_info"})
#: The auth schemes Label Studio names in WWW-Authenticate (Token on API views, Bearer on
#: the token refresh endpoint).
AUTH_SCHEMES: Final = frozenset({"token", "bearer"})


def json_of(response: httpx.Response) -> Any:
    """The body as JSON (the client's parser: bounded depth, RFC 8259), or ``None``."""
    try:
        return loads(response.content) if response.content else None
    except JSONRejected:
        return None


def detail(response: httpx.Response) -> str:
    body = json_of(response)
    value = body.get("detail") if isinstance(body, dict) else None
    return value if isinstance(value, str) else f"{response.status_code} without a JSON detail"


def is_html_404(response: httpx.Response) -> bool:
    """Django's HTML 404 page: the route does not exist (Community Edition, or a wrong URL)."""
    return response.status_code == 404 and is_html(Answer.of(response))


def ls_error_problems(response: httpx.Response) -> list[str]:
    """What keeps an error answer from being Label Studio's JSON error body."""
    content_type = response.headers.get("content-type", "")
    if not content_type.startswith("application/json"):
        return [f"error body is not JSON ({content_type!r})"]
    body = json_of(response)
    if not isinstance(body, dict):
        return ["error body is not a JSON object"]
    missing = sorted(LS_ERROR_KEYS - set(body))
    return [f"error body lacks Label Studio's key(s): {', '.join(missing)}"] if missing else []


def auth_scheme_problems(response: httpx.Response, scrub: Scrubber) -> list[str]:
    """A 401 must say how to authenticate, with a scheme Label Studio uses. The challenge is
    scrubbed before it is cut: a cut could split a credential the scrubber would then miss."""
    challenge = response.headers.get("www-authenticate")
    if challenge is None:
        return ["no WWW-Authenticate header"]
    scheme = challenge.strip().split(" ", 1)[0].split(",", 1)[0]
    if scheme.lower() not in AUTH_SCHEMES:
        shown = scrub(challenge)[:80]
        return [f"WWW-Authenticate {shown!r} names no scheme Label Studio uses (Token)"]
    return []
