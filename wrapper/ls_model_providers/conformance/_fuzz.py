"""The schemathesis part: generated cases, sent through the Prober, judged by its checks.

Cases come from schemathesis's hypothesis strategies (positive and negative data); every
request goes through ``Prober`` (GET only, budget, rate limit), and every response is
judged by schemathesis's own checks. ``ignored_auth`` runs on the existing connection's
200 and sends its own probes without and with invalid credentials (GET, at most three).
Unsupported-method probing is never enabled: against a deployment a DELETE deletes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import hypothesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis import checks as base_checks
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi import checks as oas

if TYPE_CHECKING:
    from ._suite import CheckResult, _Suite

RESPONSE_CHECKS = [
    base_checks.not_a_server_error,
    oas.status_code_conformance,
    oas.content_type_conformance,
    oas.response_headers_conformance,
    oas.response_schema_conformance,
]
#: A path value DRF's router cannot match ([^/.]+): the request never reaches the endpoint,
#: so only the status-level checks apply to it.
_UNROUTABLE = re.compile(r"[./]|^$")


def _draw(operation: Any, mode: GenerationMode, count: int, seed: int | None) -> list[Any]:
    cases: list[Any] = []

    @settings(
        max_examples=count, database=None, deadline=None, derandomize=seed is None,
        suppress_health_check=list(HealthCheck), phases=[hypothesis.Phase.generate],
    )  # fmt: skip
    @given(operation.as_strategy(generation_mode=mode))
    def collect(case: Any) -> None:
        cases.append(case)

    if seed is not None:
        collect = hypothesis.seed(seed)(collect)
    collect()
    return cases[:count]


def fuzz(operation: Any, suite: _Suite, connection_id: int) -> Iterator[CheckResult]:
    from ._suite import CheckResult

    failures: dict[str, dict[str, tuple[str, str]]] = {}
    ran: dict[str, int] = {}
    count = suite.config.max_examples

    def judge(case: Any, authorization: str | None, checks: list[Any]) -> None:
        path = case.formatted_path
        response = suite.p.request("GET", path, authorization=authorization)
        for check in checks:
            ran[check.__name__] = ran.get(check.__name__, 0) + 1
        for check in checks:
            # One check at a time, so each failure is charged to the check that found it.
            kwargs: dict[str, Any] = {}
            if check is oas.ignored_auth:
                kwargs["transport_kwargs"] = {"base_url": suite.p.base_url.rstrip("/")}
                kwargs["headers"] = {"Authorization": authorization}
            try:
                case.validate_response(response, checks=[check], **kwargs)
            except FailureGroup as group:
                found: list[Failure] = list(group.exceptions)
            except Failure as single:
                found = [single]
            else:
                continue
            bucket = failures.setdefault(check.__name__, {})
            for item in found:
                if item.title not in bucket:
                    message = next(
                        (ln.strip() for ln in item.message.splitlines() if ln.strip()), ""
                    )
                    bucket[item.title] = (
                        message[:300],
                        suite.p.curl("GET", path, authorization),
                    )

    # The existing connection, authenticated: the 200 and its auth enforcement.
    explicit = operation.Case(
        path_parameters={"id": connection_id}, headers={"Authorization": suite.auth}
    )
    judge(explicit, suite.auth, [*RESPONSE_CHECKS, oas.ignored_auth])
    suite.progress(f"  ....  schemathesis: {count} positive and {count} negative cases")
    for case in _draw(operation, GenerationMode.POSITIVE, count, suite.config.seed):
        judge(case, suite.auth, RESPONSE_CHECKS)
    for case in _draw(operation, GenerationMode.NEGATIVE, count, suite.config.seed):
        # A case whose negative part is the Authorization header keeps its own (bad) one.
        generated = {k.lower(): v for k, v in (case.headers or {}).items()}
        authorization = generated.get("authorization", suite.auth)
        checks: list[Any] = [base_checks.not_a_server_error, oas.negative_data_rejection]
        if not _UNROUTABLE.search(str(case.path_parameters.get("id", ""))):
            checks += RESPONSE_CHECKS[1:]
        judge(case, authorization, checks)

    for name in sorted(ran):
        if name in failures:
            details = [f"{title}: {message}" for title, (message, _) in failures[name].items()]
            repro = next(iter(failures[name].values()))[1]
            yield CheckResult(
                f"schemathesis.{name}",
                "fail",
                f"{len(failures[name])} distinct failure(s)",
                details,
                repro,
            )
        else:
            yield CheckResult(f"schemathesis.{name}", "pass", f"{ran[name]} response(s) checked")
    for name in sorted(set(failures) - set(ran)):
        details = [f"{title}: {message}" for title, (message, _) in failures[name].items()]
        yield CheckResult(
            f"schemathesis.{name}",
            "fail",
            "failure",
            details,
            next(iter(failures[name].values()))[1],
        )
