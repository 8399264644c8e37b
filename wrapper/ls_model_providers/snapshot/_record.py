"""Recording a deployment: read-only requests through the conformance suite's guarded client.

Every request goes through ``toolkit.guard.open_client``: GET, HEAD and OPTIONS only (the
personal access token's refresh POST aside), within the request budget, the rate, the
per-request timeout and the run's deadline. What is sent, in order:

1. ``GET api/model-provider-connections/`` (the list: its form, and the ids for ``ALL``;
   every page is followed for ``ALL``, the first one only otherwise);
2. ``GET api/model-provider-connections/{id}/`` for each connection;
3. the probes on the first connection (``PROBES``): HEAD, OPTIONS, no header, a token no
   server issued, a missing id, a non-integer id; a GET of the POST-only token refresh route
   (Label Studio's 405 answer, learnt without sending a write); ``api/version``; the served
   schema (its sha256 only).

Nothing is written with a secret: bodies go through ``redact`` (secret fields and values
become ``<redacted>``), then every string of the snapshot has the API key, each access token
and each secret value seen anywhere replaced by ``<redacted>``, and the text is checked once
more for the key and the tokens before it is returned.

Nothing is written that the mock could not replay (the format's own checks, which the file
passes before it is returned): a header value an HTTP server cannot send (not latin-1, a
control character) is left out, a lone surrogate in any string becomes U+FFFD, each with a
warning; a status outside 200..599 ends the recording.
"""

from __future__ import annotations

import json
import re
import ssl
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final, Literal

import attrs
import httpx

from ls_model_providers._args import check_api_key, check_base_url, check_connection_id
from ls_model_providers._body import JSONRejected, loads
from ls_model_providers._constants import ENDPOINT_PATH, MAX_ID, TOKEN_REFRESH_PATH
from ls_model_providers._errors import Answer, LabelStudioError
from ls_model_providers._secrets import Scrubber, redact, secret_values
from ls_model_providers.toolkit.answers import (
    detail,
    is_html_404,
    json_of,
    not_label_studio,
    not_served,
    release,
    scheme_hint,
)
from ls_model_providers.toolkit.drift import SpecDiffError
from ls_model_providers.toolkit.exits import (
    EXIT_CREDENTIALS,
    EXIT_FAILED,
    EXIT_INCONCLUSIVE,
    EXIT_NOT_SERVED,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    ConfigurationError,
    exit_code_for,
)
from ls_model_providers.toolkit.guard import (
    BODY_LIMIT,
    INCONCLUSIVE,
    BadAnswer,
    Guard,
    NoAnswer,
    Stop,
    open_client,
    redirect_of,
)
from ls_model_providers.toolkit.options import (
    DEFAULT_DEADLINE,
    DEFAULT_MAX_REQUESTS,
    DEFAULT_TIMEOUT,
    MAX_LIST_BYTES,
    Limits,
    limit_hint,
)
from ls_model_providers.toolkit.schemas import MAX_SCHEMA_BYTES, check_size, schema_sha256
from ls_model_providers.toolkit.tls import tls_hint

from ._diff import Diff, diff
from ._format import (
    FORMAT,
    HEADER_VALUE,
    LONE_SURROGATE,
    PER_REQUEST_ID,
    VERSION,
    Snapshot,
    SnapshotError,
    dumps,
    header_problem,
)

ALL: Final = "all"
#: An id no deployment has (the conformance suite's unknown id too).
MISSING_ID: Final = MAX_ID
NON_INTEGER_ID: Final = "abc"
#: A legacy token no server issued (the right shape, so the lookup is what refuses it).
UNKNOWN_TOKEN: Final = "0" * 40
#: The headers a snapshot keeps: the error contract's, and the body's type.
KEPT_HEADERS: Final = ("allow", "content-type", "www-authenticate")
_UUID: Final = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)

Progress = Callable[[str], None]


class RecordError(Exception):
    """A recording that could not complete; ``exit_code`` as the CLI documents it, and a
    message safe to print (no credentials)."""

    def __init__(self, exit_code: int, message: str) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@attrs.frozen
class Recording:
    """A snapshot and how it was made: requests sent (by method), seconds, warnings."""

    snapshot: Snapshot
    requests: int
    methods: dict[str, int]
    duration: float
    warnings: tuple[str, ...] = ()


def record(
    base_url: str,
    api_key: str,
    *,
    ids: Sequence[int] | Literal["all"],
    skip_missing: bool = False,
    verify: ssl.SSLContext | bool = True,
    rate: float | None = None,
    max_requests: int = DEFAULT_MAX_REQUESTS,
    deadline: float = DEFAULT_DEADLINE,
    timeout: float = DEFAULT_TIMEOUT,
    transport: httpx.BaseTransport | None = None,
    progress: Progress = lambda _line: None,
) -> Recording:
    """Record a deployment's connections and error contract, read-only.

    Example::

        recording = record("https://ls.example.com", key, ids=[1, 2])
        recording.snapshot.write("prod.json")

    Args:
        ids: the connections to record, or ``ALL`` (every one the list route shows).
        skip_missing: leave out (with a warning) a listed id that answers 404, instead of
            raising; always so for ``ALL``.
        verify: TLS trust, as ``httpx`` takes it (``toolkit.tls.trust`` builds one).
        rate, max_requests, deadline, timeout: the conformance suite's limits.
        transport: replaces the network (tests).
        progress: called with a line per request.

    Raises ``RecordError`` (with the CLI's exit code) when it cannot complete.
    """
    try:
        base_url = check_base_url(base_url)
        api_key = check_api_key(api_key)
        wanted: list[int] | Literal["all"]
        if isinstance(ids, str):
            if ids != ALL:
                raise ValueError(f"ids must be connection ids or {ALL!r}, not {ids!r}")
            wanted = ALL
        else:
            wanted = sorted({check_connection_id(i) for i in ids})
        limits = Limits(max_requests, rate, timeout, deadline).checked()
    except (TypeError, ValueError, ConfigurationError) as exc:
        raise RecordError(EXIT_USAGE, str(exc)) from None
    started = time.monotonic()
    scrub = Scrubber(api_key)
    tokens = [api_key]

    def on_access_token(token: str, _refresh: str | None) -> None:
        scrub.add(token)
        tokens.append(token)

    http, guard = open_client(
        base_url, api_key, verify=verify, limits=limits, on_access_token=on_access_token,
        transport=transport,
    )  # fmt: skip
    try:
        snapshot, warnings = record_through(
            http, base_url, ids=wanted, skip_missing=skip_missing or wanted == ALL, scrub=scrub,
            credentials=tokens, progress=progress,
        )  # fmt: skip
    except Stop as stop:
        hint = limit_hint(stop.check, generated=False)
        code = EXIT_INCONCLUSIVE if isinstance(stop, INCONCLUSIVE) else EXIT_FAILED
        raise RecordError(code, scrub(f"{stop}: {hint}" if hint else str(stop))) from None
    finally:
        http.close()
        guard.close()
    methods: dict[str, int] = {}
    for sent in guard.sent:
        methods[sent.method] = methods.get(sent.method, 0) + 1
    warnings += connection_warnings(guard)
    return Recording(snapshot, len(guard.sent), methods, time.monotonic() - started, warnings)


def connection_warnings(guard: Guard) -> tuple[str, ...]:
    """What the recording did so that every request got one answer (never a failure)."""
    said = []
    if guard.resent:
        said.append(
            f"{guard.resent} request(s) sent again on a fresh connection: the server closed an "
            "idle keep-alive connection without saying Connection: close"
        )
    if guard.rate_limited:
        said.append(
            f"rate limited {guard.rate_limited} time(s) (429): waited {guard.waited:.1f} s in "
            "all, as the server asked"
        )
    return tuple(said)


def record_through(
    http: httpx.Client,
    base_url: str,
    *,
    ids: list[int] | Literal["all"],
    skip_missing: bool,
    scrub: Scrubber,
    credentials: Iterable[str],
    progress: Progress = lambda _line: None,
) -> tuple[Snapshot, tuple[str, ...]]:
    """``record``'s work on a client already open (``open_client``'s, whose guard holds the
    limits): the conformance suite's own, so a ``--baseline`` recording shares its budget,
    deadline and count. ``base_url`` ends with "/"; ``scrub`` hides the credentials (and,
    once the recording ends, every secret value seen); ``credentials`` are looked for once
    more in the text, after the recording (so a token refreshed during it is included).

    Returns the snapshot and its warnings. ``Stop`` (a limit) and ``KeyboardInterrupt`` pass
    through; anything else that ends the recording is a ``RecordError``.
    """
    recorder = _Recorder(http, base_url, progress, scrub)
    try:
        document = recorder.run(ids, skip_missing)
    except Stop:
        raise
    except NoAnswer as exc:
        hint = f": {tls_hint()}" if exc.tls_problem else ""
        raise RecordError(EXIT_UNREACHABLE, scrub(f"unreachable: {exc}{hint}")) from None
    except BadAnswer as exc:
        raise RecordError(EXIT_FAILED, scrub(str(exc))) from None
    except LabelStudioError as exc:  # the personal access token's refresh
        raise RecordError(exit_code_for(exc), scrub(f"token refresh failed: {exc}")) from None
    except RecordError as exc:
        raise RecordError(exc.exit_code, scrub(str(exc))) from None
    except Exception as exc:  # noqa: BLE001 - whatever a deployment makes this do ends in an exit code
        what = f"the recording could not complete: {type(exc).__name__}: {exc}"
        raise RecordError(EXIT_FAILED, scrub(what)) from None
    text = dumps(_clean(document, recorder.secrets, scrub, recorder.warnings))
    if any(t in text or json.dumps(t)[1:-1] in text for t in credentials):  # never, by construction
        raise RecordError(EXIT_FAILED, "refusing to write a snapshot holding a credential")
    try:
        snapshot = Snapshot.from_json(text, "the recording")
    except SnapshotError as exc:  # the deployment's answers could not be put in the format
        raise RecordError(EXIT_FAILED, scrub(str(exc))) from None
    return snapshot, tuple(scrub(w) for w in recorder.warnings)


def _clean(
    document: dict[str, Any], secrets: list[str], scrub: Scrubber, warnings: list[str]
) -> dict[str, Any]:
    """Every string with the credentials and every secret value seen replaced, and each lone
    surrogate (JSON's "\\ud800" escapes allow one; no UTF-8 text, so no answer of the mock,
    can hold it) replaced by U+FFFD."""
    for secret in secrets:
        scrub.add(secret)
    replaced = 0

    def text(value: str) -> str:
        nonlocal replaced
        value = scrub(value)
        if value.isascii():
            return value
        value, count = LONE_SURROGATE.subn("\ufffd", value)
        replaced += count
        return value

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {text(k): walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return text(value) if isinstance(value, str) else value

    cleaned: dict[str, Any] = walk(document)
    if replaced:
        warnings.append(
            f"{replaced} lone surrogate(s) in the deployment's text replaced by U+FFFD "
            "(no UTF-8 answer can hold one)"
        )
    return cleaned


class _Recorder:
    """One recording's requests and what they got (raw: cleaned once at the end)."""

    def __init__(
        self, http: httpx.Client, base_url: str, progress: Progress, scrub: Scrubber
    ) -> None:
        self.http, self.base, self.progress = http, base_url, progress
        #: For server text cut short in a message: scrubbed before the cut, which could
        #: split a credential the final scrubbing would then miss.
        self.scrub = scrub
        self.warnings: list[str] = []
        #: Secret values seen in any body, scrubbed from every string at the end.
        self.secrets: list[str] = []

    def send(
        self,
        method: str,
        path: str,
        authorization: str | bool | None = True,
        *,
        max_body_size: int | None = None,
    ) -> httpx.Response:
        """``authorization``: True for the credentials, None for no header, or a header value."""
        headers = {} if isinstance(authorization, bool | None) else {"Authorization": authorization}
        extensions = {} if max_body_size is None else {BODY_LIMIT: max_body_size}
        request = self.http.build_request(
            method, self.base + path, headers=headers, extensions=extensions
        )
        response = (
            self.http.send(request) if authorization is True else self.http.send(request, auth=None)
        )
        self.progress(f"  {response.status_code}  {method} {path}")
        return response

    def answer(
        self, request: str, response: httpx.Response, *, body: bool = True
    ) -> dict[str, Any]:
        """What a probe got: status, the headers that matter, its JSON body (if any)."""
        if not 200 <= response.status_code <= 599:
            raise RecordError(
                EXIT_FAILED,
                f"{request}: HTTP {response.status_code}, not a final status (200 to 599) a "
                "snapshot can hold",
            )
        kept = {}
        for header in KEPT_HEADERS:
            value = response.headers.get(header)
            if value is not None and not HEADER_VALUE.fullmatch(value):
                self.warnings.append(
                    f"{request}: its {header} header left out, as no HTTP server could replay "
                    f"it ({header_problem(value)})"
                )
            elif value is not None:
                kept[header] = value
        answer: dict[str, Any] = {
            "request": request,
            "status": response.status_code,
            "headers": kept,
        }
        value = json_of(response) if body and response.content else None
        if value is not None:
            self.secrets += secret_values(value)
            if (
                isinstance(value, dict)
                and isinstance(value.get("id"), str)
                and _UUID.match(value["id"])
            ):
                value = {**value, "id": PER_REQUEST_ID}  # Label Studio's per-request error id
            answer["body"] = redact(value)
        return answer

    # -- the recording ---------------------------------------------------------------------
    def run(self, wanted: list[int] | Literal["all"], skip_missing: bool) -> dict[str, Any]:
        answers: dict[str, dict[str, Any]] = {}
        listed = self.list_route(answers, follow=wanted == ALL)
        if wanted == ALL:
            if listed is None:
                self.no_list(answers["list"])
            ids = sorted(set(listed or ()))
        else:
            ids = wanted
        connections = self.connections(ids, answers, skip_missing)
        probe = connections[0]["id"] if connections else 1
        self.probes(probe, answers)
        errors = ("no_header", "bad_token", "missing_id", "non_integer_id", "method_not_allowed")
        versions = (answers[n].get("body", {}) for n in errors)
        version = next(
            (
                v["version"]
                for v in versions
                if isinstance(v, dict) and isinstance(v.get("version"), str)
            ),
            None,
        )
        return {
            "format": FORMAT, "version": VERSION, "connections": connections, "answers": answers,
            "server": {"version": version, "schema_sha256": answers["schema"].get("sha256")},
        }  # fmt: skip

    def list_route(self, answers: dict[str, dict[str, Any]], *, follow: bool) -> list[int] | None:
        """The list route's ids (None when it has none), its answer recorded as ``list``."""
        path = ENDPOINT_PATH
        response = self.send("GET", path, max_body_size=MAX_LIST_BYTES)
        hint = scheme_hint(self.base, answer=Answer.of(response))
        if hint is not None:  # nginx's 400 to plain HTTP on its TLS port
            raise RecordError(EXIT_UNREACHABLE, hint)
        moved = redirect_of(response, self.base)
        if moved is not None:  # http -> https, a canonical host: the user's URL, not the endpoint
            raise RecordError(
                EXIT_USAGE, f"the base URL redirects to {moved[:200]}: use that (--base-url)"
            )
        self.refuse_credentials(response)
        value = json_of(response) if response.status_code == 200 else None
        items = value.get("results") if isinstance(value, dict) else value
        answer = self.answer(f"GET {path}", response, body=not isinstance(items, list))
        answers["list"] = answer
        if not isinstance(items, list):
            return None
        answer["form"] = "array" if isinstance(value, list) else "paginated"
        seen, pages = {path}, [items]
        next_url = value.get("next") if isinstance(value, dict) else None
        answer["page_size"] = len(items) if isinstance(next_url, str) and items else None
        while follow and isinstance(next_url, str):
            if not next_url.startswith(self.base) or next_url in seen:
                # The credentials go nowhere but the deployment, and a page is read once.
                raise RecordError(
                    EXIT_FAILED,
                    f"the list's next page is not a new page of {self.base}: "
                    f"{self.scrub(next_url)[:200]}",
                )
            seen.add(next_url)
            page = json_of(
                self.send("GET", next_url.removeprefix(self.base), max_body_size=MAX_LIST_BYTES)
            )
            if not (isinstance(page, dict) and isinstance(page.get("results"), list)):
                raise RecordError(
                    EXIT_FAILED, "a page of the list is not a page like the first one"
                )
            pages.append(page["results"])
            next_url = page.get("next")
        return [
            item["id"] for page in pages for item in page
            if isinstance(item, dict) and type(item.get("id")) is int and 1 <= item["id"] <= MAX_ID
        ]  # fmt: skip

    def no_list(self, answer: dict[str, Any]) -> None:
        """``ALL`` without a list route: not served at all (exit 3), or pass ids (exit 2)."""
        route_missing = answer["status"] == 404 and "body" not in answer
        if route_missing and is_html_404(self.send("GET", f"{ENDPOINT_PATH}1/")):
            raise _not_served(self.http, self.base)
        raise RecordError(
            EXIT_USAGE,
            f"the deployment has no list route (GET {ENDPOINT_PATH} answered "
            f"{answer['status']}), so it cannot say which connections exist: pass --ids 1,2,...",
        )

    def connections(
        self, ids: list[int], answers: dict[str, dict[str, Any]], skip_missing: bool
    ) -> list[dict[str, Any]]:
        recorded = []
        for connection_id in ids:
            path = f"{ENDPOINT_PATH}{connection_id}/"
            response = self.send("GET", path)
            self.refuse_credentials(response)
            if is_html_404(response):
                raise _not_served(self.http, self.base)
            if response.status_code == 404 and skip_missing:
                self.warnings.append(
                    f"connection {connection_id}: 404 ({detail(response)}), left out"
                )
                continue
            if response.status_code == 404:
                raise RecordError(
                    EXIT_USAGE,
                    f"connection {connection_id} does not exist for these credentials ({detail(response)})",
                )
            body = json_of(response)
            if (
                response.status_code != 200
                or not isinstance(body, dict)
                or type(body.get("id")) is not int  # not True, not 1.0
                or body["id"] != connection_id
            ):
                what = (
                    f"HTTP {response.status_code}"
                    if response.status_code != 200
                    else "a 200 that is not this connection as a JSON object"
                )
                raise RecordError(
                    EXIT_FAILED, f"connection {connection_id}: {what} ({detail(response)})"
                )
            answers.setdefault(
                "get", self.answer(f"GET {path} with the credentials", response, body=False)
            )
            self.secrets += secret_values(body)
            recorded.append({"id": connection_id, "body": redact(body)})
        return recorded

    def probes(self, probe: int, answers: dict[str, dict[str, Any]]) -> None:
        detail_path = f"{ENDPOINT_PATH}{probe}/"
        requests: list[tuple[str, str, str, str | bool | None, str]] = [
            ("head", "HEAD", detail_path, True, "with the credentials"),
            ("options", "OPTIONS", detail_path, True, "with the credentials"),
            ("no_header", "GET", detail_path, None, "without an Authorization header"),
            ("bad_token", "GET", detail_path, f"Token {UNKNOWN_TOKEN}", "with a token no server issued"),
            ("missing_id", "GET", f"{ENDPOINT_PATH}{MISSING_ID}/", True, "with the credentials"),
            ("non_integer_id", "GET", f"{ENDPOINT_PATH}{NON_INTEGER_ID}/", True, "with the credentials"),
            ("method_not_allowed", "GET", TOKEN_REFRESH_PATH, None, "(a POST-only route)"),
            ("version", "GET", "api/version", None, "without credentials"),
            ("schema", "GET", "docs/api/schema/json/", None, "without credentials"),
        ]  # fmt: skip
        for name, method, path, authorization, how in requests:
            request = f"{method} {path} {how}"
            try:
                # The full served schema is over a megabyte: read it with spec-diff's limit.
                limit = MAX_SCHEMA_BYTES if name == "schema" else None
                response = self.send(method, path, authorization, max_body_size=limit)
            except BadAnswer as exc:  # over the body limit: what it was is still worth keeping
                self.warnings.append(f"{name}: {exc}; only its status is recorded")
                answers[name] = {
                    "request": request,
                    "status": exc.sent.status or 0,
                    "headers": {},
                }
                continue
            if name == "schema":
                answers[name] = self.schema(request, response)
            else:
                answers[name] = self.answer(request, response, body=method != "HEAD")

    def schema(self, request: str, response: httpx.Response) -> dict[str, Any]:
        answer = self.answer(request, response, body=False)
        if response.status_code == 200:
            try:
                # Bounded before parsing: 63 MB of [{},{},...] took 3.1 GB once parsed.
                check_size(response.content)
                answer["sha256"] = schema_sha256(loads(response.content), self.base)
            except (JSONRejected, SpecDiffError) as exc:
                self.warnings.append(
                    f"the served schema is not JSON this can read ({exc}): no sha256"
                )
        return answer

    def refuse_credentials(self, response: httpx.Response) -> None:
        if response.status_code in (401, 403):
            what = "rejected" if response.status_code == 401 else "may not view connections"
            raise RecordError(
                EXIT_CREDENTIALS, f"credentials {what} ({response.status_code}: {detail(response)})"
            )


def _not_served(http: httpx.Client, base_url: str) -> RecordError:
    """An HTML 404 for the endpoint: Label Studio without it (exit 3), or not Label Studio at
    all (exit 2: the URL to fix)."""
    version = release(http, base_url)
    if version is None:
        return RecordError(EXIT_USAGE, not_label_studio(base_url))
    return RecordError(EXIT_NOT_SERVED, f"the endpoint is not served: {not_served(version)}")


def diff_live(
    baseline: Snapshot,
    base_url: str,
    api_key: str,
    *,
    verify: ssl.SSLContext | bool = True,
    rate: float | None = None,
    max_requests: int = DEFAULT_MAX_REQUESTS,
    deadline: float = DEFAULT_DEADLINE,
    timeout: float = DEFAULT_TIMEOUT,
    transport: httpx.BaseTransport | None = None,
    progress: Progress = lambda _line: None,
) -> tuple[Diff, Recording]:
    """Record the deployment now and compare it with ``baseline`` (the old side).

    The baseline's connections are recorded (one it holds that is gone now is left out and
    shows in the diff); a baseline without connections records every one (``ALL``). The
    limits are ``record``'s. Raises ``RecordError`` like ``record``.

    Example::

        result, recording = diff_live(Snapshot.load("before.json"), url, key)
        result.exit_code  # 0: nothing breaking since the baseline
    """
    recording = record(
        base_url, api_key, ids=baseline_ids(baseline), skip_missing=True, verify=verify,
        rate=rate, max_requests=max_requests, deadline=deadline, timeout=timeout,
        transport=transport, progress=progress,
    )  # fmt: skip
    return diff(baseline, recording.snapshot), recording


def baseline_ids(baseline: Snapshot) -> list[int] | Literal["all"]:
    """What to record to compare with ``baseline``: its connections, or every one (``ALL``)
    when it holds none."""
    return sorted(baseline.connections) or ALL
