"""The conformance run: preflight, the contract's hand-written checks, then schemathesis.

Each check has a stable dotted name (``auth.missing_header``, ``schemathesis.response_schema_conformance``)
and one outcome: ``pass``, ``fail`` or ``note`` (drift worth knowing, never a failure).
"""

from __future__ import annotations

import contextlib
import json
import random
import time
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import httpx

from ls_model_providers import _constants as C
from ls_model_providers._errors import Answer, ResponseValidationError
from ls_model_providers._models import parse_connection
from ls_model_providers._secrets import is_secret_name, is_secret_value
from ls_model_providers._spec import load_spec

from ._http import BudgetExceededError, Prober

EXIT_CONFORMANT, EXIT_FAILED, EXIT_USAGE, EXIT_NOT_SERVED, EXIT_CREDENTIALS = 0, 1, 2, 3, 4
LS_ERROR_KEYS = frozenset({"id", "status_code", "version", "detail", "exc_info"})
UNKNOWN_ID = C.MAX_ID
ENDPOINT = "api/model-provider-connections/{}/"


@attrs.define
class CheckResult:
    name: str
    outcome: str  # "pass" | "fail" | "note"
    summary: str
    details: list[str] = attrs.field(factory=list)
    repro: str | None = None


@attrs.define
class RunConfig:
    """What to test. ``base_url=None`` starts the embedded mock and tests that."""

    base_url: str | None = None
    api_key: str | None = None
    connection_id: int | None = None
    max_examples: int = 50
    seed: int | None = None
    rate: float | None = None
    max_requests: int = 300
    transport: httpx.BaseTransport | None = None


@attrs.define
class Report:
    target: str
    embedded: bool
    exit_code: int
    verdict: str
    results: list[CheckResult] = attrs.field(factory=list)
    connection_id: int | None = None
    server_version: str | None = None
    requests: int = 0
    methods: dict[str, int] = attrs.field(factory=dict)
    duration: float = 0.0
    seed: int | None = None

    @property
    def failed(self) -> list[CheckResult]:
        return [r for r in self.results if r.outcome == "fail"]


class UsageError(Exception):
    """A configuration problem (exit 2)."""


Progress = Callable[[str], None]


def run(config: RunConfig, progress: Progress = lambda _line: None) -> Report:
    """Run the suite; never raises for what the server does (that is what the report is for)."""
    started = time.monotonic()
    with _target(config) as (base_url, api_key, connection_id, embedded):
        prober = Prober(
            base_url,
            api_key,
            max_requests=config.max_requests,
            rate=config.rate,
            transport=config.transport,
        )
        report = Report(
            target=base_url,
            embedded=embedded,
            exit_code=EXIT_CONFORMANT,
            verdict="",
            seed=config.seed,
        )
        try:
            _Suite(prober, report, config, progress).run(connection_id)
        finally:
            prober.close()
            report.requests = len(prober.exchanges)
            methods: dict[str, int] = {}
            for exchange in prober.exchanges:
                methods[exchange.method] = methods.get(exchange.method, 0) + 1
            report.methods = methods
            report.duration = time.monotonic() - started
        report.verdict = prober.scrub(report.verdict)
        for result in report.results:
            result.summary = prober.scrub(result.summary)
            result.details = [prober.scrub(d) for d in result.details]
    return report


@contextlib.contextmanager
def _target(config: RunConfig) -> Iterator[tuple[str, str, int | None, bool]]:
    if config.base_url:
        if not config.api_key:
            raise UsageError(
                f"credentials are required against a deployment: pass --api-key or set {C.ENV_API_KEY} "
                "(a run without them would prove nothing about authentication)"
            )
        yield config.base_url, config.api_key, config.connection_id, False
        return
    try:
        from ls_model_providers.mock import create_app, serve_in_thread
    except ImportError as exc:  # pragma: no cover - the conformance extra includes the mock
        raise UsageError(f"no --base-url and the embedded mock is not installed ({exc})") from exc
    app = create_app()
    with serve_in_thread(app) as served:
        yield served.base_url, served.token, config.connection_id or 1, True


class _Suite:
    def __init__(
        self, prober: Prober, report: Report, config: RunConfig, progress: Progress
    ) -> None:
        self.p, self.report, self.config, self.progress = prober, report, config, progress
        self.spec = load_spec()
        self.properties: dict[str, Any] = self.spec["components"]["schemas"][
            "ModelProviderConnection"
        ]["properties"]
        self.auth = ""
        self._op: Any = None  # the schemathesis operation, loaded on first use

    # -- plumbing -------------------------------------------------------------------------
    def add(self, result: CheckResult) -> None:
        self.report.results.append(result)
        mark = {"pass": "ok", "fail": "FAIL", "note": "note"}[result.outcome]
        self.progress(f"  {mark:4}  {result.name}: {self.p.scrub(result.summary)}")

    def get(self, path: str, authorization: str | None, method: str = "GET") -> httpx.Response:
        return self.p.request(method, path, authorization=authorization)

    def finish(self, code: int, verdict: str) -> None:
        self.report.exit_code, self.report.verdict = code, verdict

    def _version_from(self, response: httpx.Response) -> None:
        body = _json(response)
        if (
            isinstance(body, dict)
            and isinstance(body.get("version"), str)
            and not self.report.server_version
        ):
            self.report.server_version = body["version"]

    # -- the run --------------------------------------------------------------------------
    def run(self, connection_id: int | None) -> None:
        self.progress(
            f"conformance of GET /api/model-provider-connections/{{id}}/ at {self.p.base_url}"
        )
        try:
            try:
                self.auth = self.p.auth_header()
            except PermissionError as exc:
                return self.finish(EXIT_CREDENTIALS, f"credentials rejected: {exc}")
            connection_id = self.preflight(connection_id)
            if connection_id is None:
                return None
            self.report.connection_id = connection_id
            self.check_existing(connection_id)
            self.check_auth(connection_id)
            self.check_not_found()
            self.check_methods_safe(connection_id)
            self.run_schemathesis(connection_id)
        except BudgetExceededError as exc:
            self.add(
                CheckResult(
                    "run.budget", "fail", f"{exc}: raise --max-requests or lower --max-examples"
                )
            )
        except httpx.TransportError as exc:
            self.add(CheckResult("run.transport", "fail", f"{type(exc).__name__}: {exc}"))
        failed = self.report.failed
        if failed:
            names = ", ".join(r.name for r in failed)
            return self.finish(
                EXIT_FAILED, f"NOT CONFORMANT: {len(failed)} check(s) failed ({names})"
            )
        return self.finish(EXIT_CONFORMANT, "CONFORMANT")

    def preflight(self, connection_id: int | None) -> int | None:
        probe_id = connection_id or 1
        response = self.get(ENDPOINT.format(probe_id), self.auth)
        if _is_html_404(response):
            self._not_served()
            return None
        if response.status_code == 401:
            self._version_from(response)
            detail = _detail(response)
            self.finish(EXIT_CREDENTIALS, f"credentials rejected by the server (401: {detail})")
            return None
        if connection_id is None and response.status_code != 200:
            found = self._discover_id()
            if found is None:
                self.finish(
                    EXIT_USAGE,
                    "no connection id to test: pass --id N (an existing connection; the UI lists them under "
                    'Organization > Model Providers, or: curl -H "Authorization: Token $LABEL_STUDIO_API_KEY" '
                    f"{self.p.base_url}api/model-provider-connections/)",
                )
                return None
            return found
        if response.status_code == 404:
            self.finish(
                EXIT_USAGE,
                f"connection {probe_id} does not exist for these credentials: pass an existing --id",
            )
            return None
        return probe_id

    def _not_served(self) -> None:
        likely = (
            "the URL does not point at Label Studio (check --base-url, including any path prefix)"
        )
        with contextlib.suppress(BudgetExceededError, httpx.TransportError):
            version = self.get("api/version", None)
            body = _json(version)
            if version.status_code == 200 and isinstance(body, dict) and "release" in body:
                self.report.server_version = str(body["release"])
                likely = (
                    f"Label Studio {body['release']} answered, without this endpoint: a Community Edition "
                    "deployment (model provider connections are an Enterprise feature)"
                )
        self.add(
            CheckResult(
                "endpoint.served", "fail", "the endpoint answers with an HTML 404 page", [likely]
            )
        )
        self.finish(EXIT_NOT_SERVED, f"ENDPOINT NOT SERVED: {likely}")

    def _discover_id(self) -> int | None:
        response = self.get("api/model-provider-connections/", self.auth)
        body = _json(response)
        items = body.get("results") if isinstance(body, dict) else body
        if response.status_code == 200 and isinstance(items, list):
            for item in items:
                if isinstance(item, dict) and type(item.get("id")) is int:
                    return int(item["id"])
        return None

    # -- hand-written checks --------------------------------------------------------------
    def check_existing(self, connection_id: int) -> None:
        path = ENDPOINT.format(connection_id)
        repro = self.p.curl("GET", path, self.auth)
        response = self.get(path, self.auth)
        body = _json(response)
        self.p.scrub.add_body_secrets(body)
        problems = []
        if response.status_code != 200:
            problems.append(f"status {response.status_code}, expected 200")
        if not response.headers.get("content-type", "").startswith("application/json"):
            problems.append(
                f"content type {response.headers.get('content-type')!r}, expected application/json"
            )
        problems += self._schema_problems(connection_id, response)
        try:
            parse_connection(Answer.of(response))
        except ResponseValidationError as exc:
            problems.append(f"our client rejects it: {exc.message}")
        if isinstance(body, dict):
            from ls_model_providers_api.models import ModelProviderConnection

            try:
                ModelProviderConnection.from_dict(body)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                problems.append(f"the generated model rejects it: {type(exc).__name__}")
        if problems:
            self.add(
                CheckResult(
                    "connection.valid_200",
                    "fail",
                    f"GET of connection {connection_id} is not a valid 200",
                    problems,
                    repro,
                )
            )
        else:
            self.add(
                CheckResult(
                    "connection.valid_200",
                    "pass",
                    f"connection {connection_id}: 200, JSON, valid against the fragment, parsed by the client and the generated model",
                )
            )
        if isinstance(body, dict):
            self.check_secrets(body, repro)
            self.drift_notes(body)

    def _schema_problems(self, connection_id: int, response: httpx.Response) -> list[str]:
        from schemathesis.core.failures import FailureGroup
        from schemathesis.specs.openapi.checks import response_schema_conformance

        case = self._operation().Case(path_parameters={"id": connection_id})
        try:
            case.validate_response(response, checks=[response_schema_conformance])
        except FailureGroup as group:
            return [f"{f.title}: {_first_line(f.message)}" for f in group.exceptions]
        except AssertionError as failure:
            return [_first_line(str(failure))]
        return []

    def check_secrets(self, body: dict[str, Any], repro: str) -> None:
        leaked = sorted(_secret_paths(body))
        if leaked:
            self.add(
                CheckResult(
                    "connection.no_secrets",
                    "fail",
                    f"the 200 body carries secret field(s): {', '.join(leaked)}",
                    ["values not shown"],
                    repro,
                )
            )
        else:
            self.add(
                CheckResult(
                    "connection.no_secrets",
                    "pass",
                    "no credential-like field or value in the 200 body",
                )
            )

    def drift_notes(self, body: dict[str, Any]) -> None:
        params = body.get("model_params")
        form = (
            "an object (newer servers)" if isinstance(params, dict) else "a string (as documented)"
        )
        self.add(CheckResult("drift.model_params", "note", f"model_params is sent as {form}"))
        extra = sorted(set(body) - set(self.properties))
        if extra:
            names = [f"{n} (secret)" if is_secret_name(n) else n for n in extra]
            self.add(
                CheckResult(
                    "drift.undocumented_fields",
                    "note",
                    f"fields the docs do not list: {', '.join(names)}",
                )
            )
        creator = body.get("created_by")
        if isinstance(creator, dict):
            has = "with" if "username" in creator else "without"
            self.add(CheckResult("drift.created_by", "note", f"created_by is sent {has} username"))

    def _expect_401(
        self, name: str, connection_id: int, authorization: str | None, what: str
    ) -> None:
        path = ENDPOINT.format(connection_id)
        response = self.get(path, authorization)
        self._version_from(response)
        problems = []
        if response.status_code != 401:
            problems.append(f"status {response.status_code}, expected 401")
        if "www-authenticate" not in response.headers:
            problems.append("no WWW-Authenticate header")
        problems += _ls_error_problems(response)
        repro = self.p.curl("GET", path, authorization)
        if problems:
            self.add(CheckResult(name, "fail", f"{what}: not a proper 401", problems, repro))
        else:
            self.add(
                CheckResult(
                    name, "pass", f'{what}: 401 "{_detail(response)}" with WWW-Authenticate'
                )
            )

    def check_auth(self, connection_id: int) -> None:
        fake_key = f"{random.Random(self.config.seed).getrandbits(160):040x}"  # noqa: S311
        unsigned = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwidXNlcl9pZCI6MSwiZXhwIjo0MTAyNDQ0ODAwfQ.c2lnbmF0dXJl"
        self._expect_401("auth.missing_header", connection_id, None, "no Authorization header")
        self._expect_401("auth.malformed_header", connection_id, "Token", "'Token' without a key")
        self._expect_401(
            "auth.unknown_token", connection_id, f"Token {fake_key}", "an unknown token"
        )
        self._expect_401(
            "auth.forged_bearer",
            connection_id,
            f"Bearer {unsigned}",
            "a Bearer JWT with a forged signature",
        )
        self._expect_401(
            "auth.before_existence", UNKNOWN_ID, None, "no header on a missing id (401 before 404)"
        )

    def check_not_found(self) -> None:
        path = ENDPOINT.format(UNKNOWN_ID)
        response = self.get(path, self.auth)
        self._version_from(response)
        problems = (
            [] if response.status_code == 404 else [f"status {response.status_code}, expected 404"]
        )
        problems += _ls_error_problems(response)
        name, repro = "not_found.unknown_id", self.p.curl("GET", path, self.auth)
        if problems:
            self.add(CheckResult(name, "fail", "an unknown id is not a JSON 404", problems, repro))
        else:
            self.add(CheckResult(name, "pass", f'unknown id: 404 "{_detail(response)}"'))
        path = ENDPOINT.format("not-an-id")
        response = self.get(path, self.auth)
        name, repro = "not_found.non_integer_id", self.p.curl("GET", path, self.auth)
        if 400 <= response.status_code < 500:
            self.add(CheckResult(name, "pass", f"non-integer id: {response.status_code}"))
        else:
            self.add(
                CheckResult(
                    name,
                    "fail",
                    f"non-integer id: {response.status_code}, expected a 4xx",
                    [],
                    repro,
                )
            )

    def check_methods_safe(self, connection_id: int) -> None:
        path = ENDPOINT.format(connection_id)
        head = self.get(path, self.auth, method="HEAD")
        options = self.get(path, self.auth, method="OPTIONS")
        problems = []
        if head.status_code != 200:
            problems.append(f"HEAD answered {head.status_code}")
        if head.content:
            problems.append("HEAD answered with a body")
        if not 200 <= options.status_code < 300:
            problems.append(f"OPTIONS answered {options.status_code}")
        if problems:
            self.add(
                CheckResult(
                    "http.head_options",
                    "note",
                    "; ".join(problems),
                    [],
                    self.p.curl("HEAD", path, self.auth),
                )
            )
        else:
            self.add(
                CheckResult("http.head_options", "pass", "HEAD 200 without a body, OPTIONS 2xx")
            )

    # -- schemathesis ---------------------------------------------------------------------
    def _operation(self) -> Any:
        import schemathesis

        if self._op is None:
            schema = schemathesis.openapi.from_dict(self.spec)
            result = next(iter(schema.get_all_operations()))
            self._op = result.ok()  # type: ignore[union-attr]  # the fragment is valid (a test)
        return self._op

    def run_schemathesis(self, connection_id: int) -> None:
        from ._fuzz import fuzz

        for result in fuzz(self._operation(), self, connection_id):
            self.add(result)


def _json(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def _detail(response: httpx.Response) -> str:
    body = _json(response)
    detail = body.get("detail") if isinstance(body, dict) else None
    return detail if isinstance(detail, str) else f"{response.status_code} without a JSON detail"


def _is_html_404(response: httpx.Response) -> bool:
    return (
        response.status_code == 404 and "html" in response.headers.get("content-type", "").lower()
    )


def _ls_error_problems(response: httpx.Response) -> list[str]:
    if not response.headers.get("content-type", "").startswith("application/json"):
        return [f"error body is not JSON ({response.headers.get('content-type')!r})"]
    body = _json(response)
    if not isinstance(body, dict):
        return ["error body is not a JSON object"]
    missing = sorted(LS_ERROR_KEYS - set(body))
    return [f"error body lacks Label Studio's key(s): {', '.join(missing)}"] if missing else []


def _secret_paths(value: Any, prefix: str = "") -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}{key}"
            if isinstance(key, str) and is_secret_name(key) and item not in (None, ""):
                yield path
            elif key != "model_params":  # a JSON schema of parameters, not data
                yield from _secret_paths(item, path + ".")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _secret_paths(item, f"{prefix}{index}.")
    elif is_secret_value(value):
        yield prefix.rstrip(".") or "(body)"


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), text)[:300]
