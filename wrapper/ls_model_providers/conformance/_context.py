"""``Context``: everything a check may use, passed explicitly; and how an answer is read.

A check sends through ``ctx.send`` (one path: the guarded client) and reproduces a request
with ``ctx.repro``. ``CREDENTIALS`` as the Authorization value means "the suite's own
credentials": the client's auth replaces it (a legacy token, or a personal access token's
current access token, refreshed when due), so generated cases and schemathesis's probes can
say "with credentials" or "without" without ever holding a token.
"""

from __future__ import annotations

from typing import Any, Final, NamedTuple

import attrs
import httpx

from ls_model_providers import _constants as C
from ls_model_providers._body import JSONRejected, loads
from ls_model_providers._errors import Answer, is_html
from ls_model_providers._secrets import Scrubber

from ._guard import Exchange, Guard, exchange_of
from ._text import curl

CREDENTIALS: Final = "<ls-conformance: the suite's credentials>"
LS_ERROR_KEYS: Final = frozenset({"id", "status_code", "version", "detail", "exc_info"})
#: The auth schemes Label Studio names in WWW-Authenticate (Token on API views, Bearer on
#: the token refresh endpoint).
AUTH_SCHEMES: Final = frozenset({"token", "bearer"})
API_KEY_VARIABLE: Final = "LABEL_STUDIO_API_KEY"
ACCESS_TOKEN_VARIABLE: Final = "LABEL_STUDIO_ACCESS_TOKEN"  # noqa: S105 - a variable's name


class Answered(NamedTuple):
    response: httpx.Response
    exchange: Exchange


@attrs.define(eq=False)
class Context:
    """One run's state: the target, the one client, what was learnt so far."""

    base_url: str  # ends with "/"
    connection_id: int
    http: httpx.Client
    guard: Guard
    scrub: Scrubber
    #: Secret -> the shell variable a reproduction names instead (``LABEL_STUDIO_API_KEY``).
    variables: dict[str, str]
    spec: dict[str, Any]
    max_examples: int
    seed: int | None
    curl_options: list[str] = attrs.field(factory=list)
    #: The fragment's operation as schemathesis loaded it (set once the target is confirmed).
    operation: Any = None
    server_version: str | None = None
    _existing: Answered | None = None

    @property
    def properties(self) -> dict[str, Any]:
        """The fragment's ModelProviderConnection properties."""
        properties: dict[str, Any] = self.spec["components"]["schemas"]["ModelProviderConnection"][
            "properties"
        ]
        return properties

    def endpoint(self, connection_id: object) -> str:
        return f"{self.base_url}{C.ENDPOINT_PATH}{connection_id}/"

    def send(self, method: str, url: str, authorization: str | None = CREDENTIALS) -> Answered:
        """One request: ``authorization`` is ``CREDENTIALS``, ``None`` (no header), or the
        exact header value to send."""
        headers = {} if authorization is None else {"Authorization": authorization}
        response = self.send_request(self.http.build_request(method, url, headers=headers))
        self.learn_version(response)
        return Answered(response, exchange_of(response))

    def send_request(self, request: httpx.Request) -> httpx.Response:
        """Send a built request, applying the credentials where it asks for them."""
        if request.headers.get("authorization") == CREDENTIALS:
            del request.headers["authorization"]
            return self.http.send(request)  # the client's auth adds the credentials
        return self.http.send(request, auth=None)  # exactly the headers it has

    def existing(self) -> Answered:
        """The connection under test, with credentials (fetched once)."""
        if self._existing is None:
            self._existing = self.send("GET", self.endpoint(self.connection_id))
        return self._existing

    def remember_existing(self, answered: Answered) -> None:
        """The preflight fetched the connection under test already: the checks reuse it."""
        self._existing = answered

    def repro(self, exchange: Exchange) -> str:
        """A curl command sending exactly ``exchange``, credentials as shell variables."""
        return curl(
            exchange.method, exchange.url, exchange.headers, self.variables, self.curl_options
        )

    def learn_version(self, response: httpx.Response) -> None:
        """Label Studio's error bodies carry its version: the first one seen is the server's."""
        body = json_of(response)
        if self.server_version is None and isinstance(body, dict):
            version = body.get("version")
            if isinstance(version, str):
                self.server_version = version


# -- reading answers ---------------------------------------------------------------------------


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
