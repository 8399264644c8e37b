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


# -- what answered: Label Studio without the endpoint, or something else -----------------------

#: The one wording for a URL whose server is not Label Studio (exit 2: the user's URL).
NOT_LABEL_STUDIO: Final = (
    "the URL does not point at Label Studio (check the base URL, including any path prefix)"
)


def not_label_studio(base_url: str) -> str:
    """``NOT_LABEL_STUDIO``, saying which base URL to try when this one holds the API's own
    path (``.../api/`` or the endpoint's URL, copied from a request or the API docs): every
    request path is appended to it, so it asked for ``.../api/api/...``."""
    url = httpx.URL(base_url)
    index = (url.path.rstrip("/") + "/").find("/api/")
    if index < 0:
        return NOT_LABEL_STUDIO
    root = str(url.copy_with(path=url.path[: index + 1]))
    return f"{NOT_LABEL_STUDIO}: the base URL ends before /api/, try {root}"


def release(http: httpx.Client, base_url: str) -> str | None:
    """The Label Studio release serving ``base_url`` (its ``api/version``, which it answers
    without credentials), or ``None`` when what answers there is not Label Studio."""
    body = json_of(http.send(http.build_request("GET", base_url + "api/version"), auth=None))
    value = body.get("release") if isinstance(body, dict) else None
    return value if isinstance(value, str) else None


def not_served(version: str | None) -> str:
    """Why an HTML 404 came back for the endpoint, from what ``release`` found."""
    if version is None:
        return NOT_LABEL_STUDIO
    return (
        f"Label Studio {version} answered, without this endpoint: a Community Edition "
        "deployment (model provider connections are an Enterprise feature)"
    )


#: What nginx answers a plain-HTTP request on its TLS port (a 400 page).
_PLAIN_ON_TLS: Final = b"plain HTTP request was sent to HTTPS port"


def unreachable_hint(base_url: str, failure: BaseException) -> str | None:
    """What to do when ``failure``'s chain holds a refused connection (``"connection refused:
    nothing listens at host:port ..."``: the server is down, or the port is wrong) or a host
    name that does not resolve, naming the proxy when the connection was the proxy's;
    ``None`` otherwise."""
    import socket

    from ls_model_providers._errors import causes
    from ls_model_providers._transport import environment_proxy

    cause = next(
        (c for c in causes(failure) if isinstance(c, ConnectionRefusedError | socket.gaierror)),
        None,
    )
    if cause is None:
        return None
    url = httpx.URL(base_url)
    try:
        proxy = environment_proxy(url)
    except ValueError:  # refused before any request: not this failure's cause
        proxy = None
    if proxy is not None:  # the connection was the proxy's, not the deployment's
        named = f"the proxy {proxy.shown()} ({proxy.variable})"
        problem = (
            f"connection refused by {named}: is it running?"
            if isinstance(cause, ConnectionRefusedError)
            else f"{named} does not resolve ({cause.strerror}): is its host name right?"
        )
        return f"{problem} (or unset it, or name the host in NO_PROXY)"
    if isinstance(cause, socket.gaierror):
        return (
            f"the host name {url.host} does not resolve ({cause.strerror}): a typo in the URL, "
            "or a DNS or VPN that is not up?"
        )
    host = f"[{url.host}]" if ":" in url.host else url.host
    port = url.port or (443 if url.scheme == "https" else 80)
    return (
        f"connection refused: nothing listens at {host}:{port} (is the server running there, "
        "and is the port right? no server: ls-model-providers mock)"
    )


def scheme_hint(base_url: str, *, answer: Answer | None = None, failure: BaseException | None = None) -> str | None:  # fmt: skip
    """``"the server speaks HTTPS: use https://..."`` (or plain HTTP), when the scheme of
    ``base_url`` is the wrong one for its server: TLS spoken to a plain-HTTP server fails its
    handshake; plain HTTP spoken to a TLS server is closed unanswered (the server is then
    asked for a TLS handshake, briefly) or answered nginx's 400 page. ``None`` otherwise."""
    from ls_model_providers._errors import wrong_tls_version
    from ls_model_providers._transport import speaks_tls

    url = httpx.URL(base_url)
    swapped = str(url.copy_with(scheme="http" if url.scheme == "https" else "https"))
    if url.scheme == "https" and failure is not None and wrong_tls_version(failure):
        return f"the server speaks plain HTTP, not HTTPS: use {swapped}"
    if url.scheme != "http":
        return None
    if answer is not None and answer.status_code == 400 and _PLAIN_ON_TLS in answer.content:
        return f"the server speaks HTTPS: use {swapped}"
    unanswered = isinstance(failure, httpx.RemoteProtocolError | httpx.ReadError)
    if unanswered and speaks_tls(url.host, url.port or 80):
        return f"the server speaks HTTPS: use {swapped}"
    return None
