"""``Context``: everything a check may use, passed explicitly; and how an answer is read.

A check sends through ``ctx.send`` (one path: the guarded client) and reproduces a request
with ``ctx.repro``. ``CREDENTIALS`` as the Authorization value means "the suite's own
credentials": the client's auth replaces it (a legacy token, or a personal access token's
current access token, refreshed when due), so generated cases and schemathesis's probes can
say "with credentials" or "without" without ever holding a token.
"""

from __future__ import annotations

from typing import Any, Final

import attrs
import httpx

from ls_model_providers._body import JSONRejected, loads
from ls_model_providers._constants import ENDPOINT_PATH
from ls_model_providers._errors import Answer
from ls_model_providers._secrets import Scrubber, find_secrets
from ls_model_providers.toolkit.answers import json_of
from ls_model_providers.toolkit.guard import BODY_LIMIT, Guard, Sent, sent_of
from ls_model_providers.toolkit.text import curl

CREDENTIALS: Final = "<ls-conformance: the suite's credentials>"
API_KEY_VARIABLE: Final = "LABEL_STUDIO_API_KEY"
ACCESS_TOKEN_VARIABLE: Final = "LABEL_STUDIO_ACCESS_TOKEN"  # noqa: S105 - a variable's name
#: Reproductions name the n-th denied key ``$LABEL_STUDIO_DENIED_KEY_n``.
DENIED_KEY_VARIABLE: Final = "LABEL_STUDIO_DENIED_KEY"


def access_token_variable(key_variable: str) -> str:
    """The variable reproductions name an access token by, from its refresh token's:
    ``$LABEL_STUDIO_ACCESS_TOKEN`` for the main key's, ``$LABEL_STUDIO_DENIED_ACCESS_TOKEN_n``
    for denied key n's (a reader must tell whose token a request was sent with)."""
    number = key_variable.removeprefix(f"{DENIED_KEY_VARIABLE}_")
    return (
        f"LABEL_STUDIO_DENIED_ACCESS_TOKEN_{number}" if number.isdigit() else ACCESS_TOKEN_VARIABLE
    )


@attrs.define
class SecretLog:
    """What the run's answers carried that looks like a credential, every answer read (the
    suite's own, schemathesis's, discovery's, the denied users', at every path variant, any
    status): each path with the first request whose answer held it there, and the masked
    stand-ins (``********``)."""

    leaks: dict[str, Sent] = attrs.field(factory=dict)
    masks: dict[str, Sent] = attrs.field(factory=dict)
    #: 2xx JSON answers read.
    answers: int = 0


#: The two kinds of user a denied key may belong to (``Identity.kind``).
MEMBER: Final = "a member of the organisation without a role that may view connections"
OTHER_ORGANISATION: Final = "a user of another organisation"


@attrs.define(eq=False)
class Identity:
    """A user who must not read the connections the main credentials read (``--denied-key``):
    its ``label`` (all a report ever shows of it), its own client on the run's guard, and what
    kind of user the server says it is (``MEMBER`` or ``OTHER_ORGANISATION``, once learnt)."""

    label: str
    http: httpx.Client
    #: The shell variable reproductions name its key by (``LABEL_STUDIO_DENIED_KEY_n``).
    variable: str = ""
    kind: str = ""
    #: How the kind was learnt (the current-user route, or the list route).
    told_by: str = ""
    #: The connection ids the list route showed it (``authz.list_refused``).
    listed: list[int] = attrs.field(factory=list)
    #: The organisation each listed row names (``None`` when it names none).
    owners: dict[int, Any] = attrs.field(factory=dict)

    def send(self, method: str, url: str) -> httpx.Response:
        return self.http.send(self.http.build_request(method, url))


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
    secrets: SecretLog = attrs.field(factory=SecretLog)
    #: The denied keys' users (``--denied-key``), in the order given.
    identities: list[Identity] = attrs.field(factory=list)
    #: The ids the main credentials read: the one under test, then the list's (``_authz``).
    readable: list[int] | None = None
    #: The main credentials' active organisation, from the current-user route (authz runs).
    organization: Any = None
    _existing: httpx.Response | None = None

    def observe(self, answer: Answer, sent: Sent) -> None:
        """The guard's observer: every JSON answer is searched for credentials, whatever its
        status or method (a refusal to a denied user, a 401 to anyone and an OPTIONS answer
        can carry one too), but the token refresh's, which answers with one by design; each
        one found is scrubbed from every text of the run from now on, and logged by its path.
        An error quoting what its request sent (a forged token it refused) is no leak."""
        if sent.method == "POST" or not answer.content:
            return
        try:
            body = loads(answer.content)
        except JSONRejected:
            return
        success = 200 <= answer.status_code < 300
        self.secrets.answers += success
        sent_text = "" if success else "\n".join(value for _, value in sent.headers)
        for found in find_secrets(body):
            if not success and found.value in sent_text:
                continue
            log = self.secrets.masks if found.masked else self.secrets.leaks
            log.setdefault(found.path, sent)
            if not found.masked:
                self.scrub.add(found.value)

    @property
    def properties(self) -> dict[str, Any]:
        """The fragment's ModelProviderConnection properties."""
        properties: dict[str, Any] = self.spec["components"]["schemas"]["ModelProviderConnection"][
            "properties"
        ]
        return properties

    def endpoint(self, connection_id: object) -> str:
        return f"{self.base_url}{ENDPOINT_PATH}{connection_id}/"

    def send(
        self,
        method: str,
        url: str,
        authorization: str | None = CREDENTIALS,
        *,
        limit: int | None = None,
    ) -> httpx.Response:
        """One request: ``authorization`` is ``CREDENTIALS``, ``None`` (no header), or the
        exact header value to send; ``limit``: the body size it may have, if not the guard's
        (a list of connections)."""
        headers = {} if authorization is None else {"Authorization": authorization}
        extensions = {} if limit is None else {BODY_LIMIT: limit}
        request = self.http.build_request(method, url, headers=headers, extensions=extensions)
        response = self.send_request(request)
        self.learn_version(response)
        return response

    def send_request(self, request: httpx.Request) -> httpx.Response:
        """Send a built request, applying the credentials where it asks for them."""
        if request.headers.get("authorization") == CREDENTIALS:
            del request.headers["authorization"]
            return self.http.send(request)  # the client's auth adds the credentials
        return self.http.send(request, auth=None)  # exactly the headers it has

    def existing(self) -> httpx.Response:
        """The connection under test, with credentials (fetched once)."""
        if self._existing is None:
            self._existing = self.send("GET", self.endpoint(self.connection_id))
        return self._existing

    def remember_existing(self, response: httpx.Response) -> None:
        """The preflight fetched the connection under test already: the checks reuse it."""
        self._existing = response

    def repro(self, about: httpx.Response | Sent) -> str:
        """A curl command sending exactly the request ``about`` answers (or that was ``about``
        to be sent), credentials as shell variables."""
        sent = about if isinstance(about, Sent) else sent_of(about)
        return curl(sent.method, sent.url, sent.headers, self.variables, self.curl_options)

    def learn_version(self, response: httpx.Response) -> None:
        """Label Studio's error bodies carry its version: the first one seen is the server's."""
        body = json_of(response)
        if self.server_version is None and isinstance(body, dict):
            version = body.get("version")
            if isinstance(version, str):
                self.server_version = version
