"""The schemathesis part: generated cases, judged by schemathesis's own checks.

Cases come from schemathesis's hypothesis strategies (positive and negative data). Every
request schemathesis makes goes through the suite's one guarded client: the schema's
transport is replaced (``_SuiteTransport``), so the generated cases and ``ignored_auth``'s
own probes (without and with invalid credentials) are counted, rate-limited, bounded and
recorded like every other request. Unsupported-method probing is never enabled: against a
deployment a DELETE deletes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import hypothesis
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis import checks as base_checks
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.transport import Response
from schemathesis.specs.openapi import checks as oas
from schemathesis.specs.openapi.schemas import OpenApiSchema
from schemathesis.transport.requests import REQUESTS_TRANSPORT, RequestsTransport

from ls_model_providers._errors import LabelStudioError
from ls_model_providers.toolkit.guard import BadAnswer, NoAnswer, Sent, Stop, Unsendable
from ls_model_providers.toolkit.text import first_line

from ._context import CREDENTIALS, Context
from ._model import CheckResult

#: The response checks every case gets (negative cases: see ``_negative_checks``).
RESPONSE_CHECKS = [
    base_checks.not_a_server_error,
    oas.status_code_conformance,
    oas.content_type_conformance,
    oas.response_headers_conformance,
    oas.response_schema_conformance,
]
#: Every check this phase runs, by name, in report order.
NAMES = sorted(
    c.__name__ for c in [*RESPONSE_CHECKS, oas.ignored_auth, oas.negative_data_rejection]
)
#: A path value DRF's router cannot match ([^/.]+): the request never reaches the endpoint,
#: so only the status-level checks apply to it.
_UNROUTABLE = re.compile(r"[./]|^$")


class _SuiteTransport(RequestsTransport):
    """schemathesis's request serialisation, sent through the suite's client."""

    def __init__(self, ctx: Context, verify: bool) -> None:
        super().__init__()
        self._copy_serializers_from(REQUESTS_TRANSPORT)
        self._ctx, self._verify = ctx, verify

    def send(self, case: Any, *, session: Any = None, **kwargs: Any) -> Response:
        data = self.serialize_case(
            case, base_url=kwargs.get("base_url") or self._ctx.base_url.rstrip("/"),
            headers=kwargs.get("headers"), params=kwargs.get("params"), cookies=kwargs.get("cookies"),
        )  # fmt: skip
        headers = dict(data["headers"])
        if data.get("cookies"):  # as a header: httpx deprecates per-request cookies
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in data["cookies"].items())
        body = {"json": data["json"]} if "json" in data else {}
        try:
            request = self._ctx.http.build_request(
                data["method"], data["url"], params=data.get("params") or None, headers=headers,
                **body,
            )  # fmt: skip
        except (UnicodeEncodeError, httpx.InvalidURL, TypeError, ValueError) as exc:
            raise Unsendable(f"{type(exc).__name__}: {exc}") from None
        response = self._ctx.send_request(request)
        return Response.from_httpx(response, verify=self._verify)


class _SuiteSchema(OpenApiSchema):
    """The fragment as schemathesis loads it, with every request going through the suite."""

    suite_transport: _SuiteTransport

    @property
    def transport(self) -> Any:
        return self.suite_transport


def load_operation(ctx: Context, verify: bool) -> Any:
    """The fragment's one operation, its requests routed through ``ctx``."""
    # No discovered schemathesis.toml: a file in the working directory must not change what
    # this suite sends (extra headers, auth) behind its back.
    schema: Any = schemathesis.openapi.from_dict(ctx.spec, config=SchemathesisConfig())
    schema.__class__ = _SuiteSchema  # same fields: only `transport` differs
    schema.suite_transport = _SuiteTransport(ctx, verify)
    return next(iter(schema.get_all_operations())).ok()


class _Halt(BaseException):
    """Ends a draw from inside hypothesis: a ``BaseException`` (as Ctrl-C is), so hypothesis
    lets it through at once instead of recording a failing example and replaying it."""

    def __init__(self, stop: Stop) -> None:
        super().__init__(str(stop))
        self.stop = stop


def _draw(
    operation: Any, mode: GenerationMode, count: int, seed: int | None, check: Callable[[], None]
) -> list[Any]:
    """``count`` cases of ``mode``, all drawn before the first is sent; ``check`` runs before
    each one is kept and may raise ``Stop`` (the run's deadline), which ends the draw."""
    cases: list[Any] = []

    @settings(
        max_examples=count, database=None, deadline=None, derandomize=seed is None,
        suppress_health_check=list(HealthCheck), phases=[hypothesis.Phase.generate],
    )  # fmt: skip
    @given(operation.as_strategy(generation_mode=mode))
    def collect(case: Any) -> None:
        try:
            check()
        except Stop as stop:
            raise _Halt(stop) from None
        cases.append(case)

    if seed is not None:
        collect = hypothesis.seed(seed)(collect)
    try:
        collect()
    except _Halt as halt:
        raise halt.stop from None
    return cases[:count]


def _negative_checks(case: Any) -> list[Any]:
    checks: list[Any] = [base_checks.not_a_server_error, oas.negative_data_rejection]
    if not _UNROUTABLE.search(str(case.path_parameters.get("id", ""))):
        checks += RESPONSE_CHECKS[1:]
    return checks


class _Judge:
    """Sends cases, runs checks one at a time (so each failure is charged to the check that
    found it), and keeps the first failure of each kind with its exact request."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.ran: dict[str, int] = dict.fromkeys(NAMES, 0)
        self.failures: dict[str, dict[str, tuple[str, Sent | None]]] = {}
        self.unsendable = 0

    def judge(self, case: Any, checks: list[Any]) -> None:
        sent_log = self.ctx.guard.sent
        try:
            response = case.operation.schema.transport.send(case)
        except Unsendable:
            self.unsendable += 1
            return
        except (NoAnswer, BadAnswer) as exc:
            self._fail("not_a_server_error", "no usable answer", str(exc), exc.sent)
            return
        except LabelStudioError as exc:  # the token refresh failed on the way
            last = sent_log[-1] if sent_log else None
            self._fail("not_a_server_error", "token refresh failed", str(exc), last)
            return
        sent = sent_log[-1]  # the case's own request, as sent (after any token refresh)
        for check in checks:
            self.ran[check.__name__] += 1
            self._run_one(case, response, check, sent)

    def _run_one(self, case: Any, response: Response, check: Any, sent: Sent) -> None:
        sent_log = self.ctx.guard.sent
        before = len(sent_log)
        authorized = any(name.lower() == "authorization" for name, _ in sent.headers)
        kwargs: dict[str, Any] = {}
        if check is oas.ignored_auth:
            kwargs["transport_kwargs"] = {"base_url": self.ctx.base_url.rstrip("/")}
            # The credentials were given explicitly (not generated): probe without them.
            kwargs["headers"] = {"Authorization": CREDENTIALS} if authorized else None
        name = check.__name__
        try:
            case.validate_response(response, checks=[check], **kwargs)
        except FailureGroup as group:
            found: list[Failure] = list(group.exceptions)
        except Failure as single:
            found = [single]
        except (NoAnswer, BadAnswer) as exc:  # a probe the check sent got no usable answer
            self._fail(name, "probe without a usable answer", str(exc), exc.sent)
            return
        else:
            return
        # A failure is about the last request the check sent itself (ignored_auth's probe),
        # or else about the case's own.
        sent = sent_log[-1] if len(sent_log) > before else sent
        for item in found:
            self._fail(name, item.title, first_line(self.ctx.scrub(item.message)), sent)

    def _fail(self, name: str, title: str, message: str, sent: Sent | None) -> None:
        self.failures.setdefault(name, {}).setdefault(title, (message, sent))

    def results(self) -> Iterator[CheckResult]:
        for name in NAMES:
            if name in self.failures:
                failures = self.failures[name]
                details = [f"{title}: {message}" for title, (message, _) in failures.items()]
                sent = next(iter(failures.values()))[1]
                repro = self.ctx.repro(sent) if sent is not None else None
                summary = f"{len(failures)} distinct failure(s)"
                yield CheckResult(f"schemathesis.{name}", "fail", summary, details, repro)
            elif self.ran[name]:
                summary = f"{self.ran[name]} response(s) checked"
                yield CheckResult(f"schemathesis.{name}", "pass", summary)


def fuzz(ctx: Context, progress: Callable[[str], None]) -> Iterator[CheckResult]:
    """Judge the existing connection, then K positive and K negative generated cases.

    A run stopped on the way (``Stop``: its budget or deadline; or Ctrl-C) still yields what
    was found before it, then stops.
    """
    judge = _Judge(ctx)
    try:
        _judge_all(ctx, judge, progress)
    except (Stop, KeyboardInterrupt):
        yield from judge.results()
        raise
    yield from judge.results()


def _judge_all(ctx: Context, judge: _Judge, progress: Callable[[str], None]) -> None:
    operation, count = ctx.operation, ctx.max_examples
    # The existing connection, with credentials: its 200, and that auth is enforced on it.
    explicit = operation.Case(
        path_parameters={"id": ctx.connection_id}, headers={"Authorization": CREDENTIALS}
    )
    judge.judge(explicit, [*RESPONSE_CHECKS, oas.ignored_auth])
    # Drawing takes time (about 2 ms a case) and sends nothing: the deadline is checked here.
    check = ctx.guard.check_deadline
    positive = _draw(operation, GenerationMode.POSITIVE, count, ctx.seed, check)
    negative = _draw(operation, GenerationMode.NEGATIVE, count, ctx.seed, check)
    progress(
        f"  ....  schemathesis: 1 + {len(positive)} positive and {len(negative)} negative cases "
        "(the existing connection, then generated ones)"
    )
    for case in positive:
        case.headers = {**(case.headers or {}), "Authorization": CREDENTIALS}
        judge.judge(case, RESPONSE_CHECKS)
    for case in negative:
        # A case whose negative part is the Authorization header keeps its own (bad) one.
        generated = {k.lower(): v for k, v in (case.headers or {}).items()}
        if "authorization" not in generated:
            case.headers = {**(case.headers or {}), "Authorization": CREDENTIALS}
        judge.judge(case, _negative_checks(case))
    if judge.unsendable:
        progress(f"  ....  schemathesis: {judge.unsendable} generated case(s) could not be sent")
