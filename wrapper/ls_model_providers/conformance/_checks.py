"""The hand-written checks, each a small function of the ``Context`` (schemathesis's run on
generated cases in ``_fuzz.py``).

A check returns a ``Finding`` (or ``None``: nothing to report, e.g. no undocumented field),
and the run names it. What it must hold to is Label Studio's measured behaviour
(shared/reference/label-studio-facts.md), not merely the fragment.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, NamedTuple

from ls_model_providers._constants import ENDPOINT_PATH, MAX_ID
from ls_model_providers._errors import Answer, ResponseValidationError
from ls_model_providers._models import parse_connection
from ls_model_providers._secrets import is_secret_name
from ls_model_providers.toolkit.answers import (
    auth_scheme_problems,
    detail,
    is_html_404,
    json_of,
    ls_error_problems,
)
from ls_model_providers.toolkit.options import MAX_LIST_BYTES
from ls_model_providers.toolkit.text import first_line

from ._context import Context
from ._model import CheckResult, Outcome

UNKNOWN_ID = MAX_ID
#: A JWT signed with a key no server has: the signature must be checked.
FORGED_BEARER = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwidXNlcl9pZCI6MSwiZXhwIjo0"
    "MTAyNDQ0ODAwfQ.c2lnbmF0dXJl"
)


class Finding(NamedTuple):
    """What a check found; the run adds its name to make the ``CheckResult``."""

    outcome: Outcome
    summary: str
    details: tuple[str, ...] = ()
    repro: str | None = None


Check = Callable[[Context], Finding | None]
#: The checks that send requests, in the order they run (schemathesis's run after them).
CHECKS: list[tuple[str, Check]] = []
#: The checks that judge what the whole run saw, after everything else (a run stopped by
#: a limit too): they send nothing.
FINAL_CHECKS: list[tuple[str, Check]] = []


def check(name: str, *, final: bool = False) -> Callable[[Check], Check]:
    """Register a check under its report name; they run in registration order."""

    def register(function: Check) -> Check:
        (FINAL_CHECKS if final else CHECKS).append((name, function))
        return function

    return register


def ok(summary: str) -> Finding:
    return Finding("pass", summary)


def note(summary: str) -> Finding:
    return Finding("note", summary)


# -- the existing connection -------------------------------------------------------------------


@check("connection.valid_200")
def valid_200(ctx: Context) -> Finding:
    response = ctx.existing()
    body = json_of(response)
    problems = []
    if response.status_code != 200:
        problems.append(f"status {response.status_code}, expected 200")
    content_type = response.headers.get("content-type", "")
    if not content_type.startswith("application/json"):
        problems.append(f"content type {content_type!r}, expected application/json")
    if isinstance(body, dict) and body.get("id") != ctx.connection_id:
        problems.append(
            f"body id {body.get('id')!r}, but connection {ctx.connection_id} was asked for"
        )
    problems += _schema_problems(ctx, response)
    try:
        parse_connection(Answer.of(response))
    except ResponseValidationError as exc:
        problems.append(f"our client rejects it: {exc.message}")
    problems += _generated_model_problems(body)
    if problems:
        what = f"GET of connection {ctx.connection_id} is not a valid 200"
        return Finding("fail", what, tuple(problems), ctx.repro(response))
    return ok(
        f"connection {ctx.connection_id}: 200, JSON, its id, valid against the fragment, "
        "parsed by the client and the generated model"
    )


def _schema_problems(ctx: Context, response: Any) -> list[str]:
    from schemathesis.core.failures import FailureGroup
    from schemathesis.specs.openapi.checks import response_schema_conformance

    case = ctx.operation.Case(path_parameters={"id": ctx.connection_id})
    try:  # schemathesis gathers every failure, AssertionError too, into one FailureGroup
        case.validate_response(response, checks=[response_schema_conformance])
    except FailureGroup as group:
        return [f"{f.title}: {first_line(ctx.scrub(f.message))}" for f in group.exceptions]
    return []


def _generated_model_problems(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return []
    from ls_model_providers_api.models import ModelProviderConnection

    try:
        ModelProviderConnection.from_dict(body)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return [f"the generated model rejects it: {type(exc).__name__}"]
    return []


# -- authentication: checked explicitly, with and without credentials ------------------------


def _expect_401(ctx: Context, connection_id: int, authorization: str | None, what: str) -> Finding:
    response = ctx.send("GET", ctx.endpoint(connection_id), authorization)
    problems = (
        [] if response.status_code == 401 else [f"status {response.status_code}, expected 401"]
    )
    problems += auth_scheme_problems(response, ctx.scrub) + ls_error_problems(response)
    if problems:
        return Finding("fail", f"{what}: not a proper 401", tuple(problems), ctx.repro(response))
    challenge = response.headers["www-authenticate"].split(" ", 1)[0]
    return ok(f'{what}: 401 "{detail(response)}" with WWW-Authenticate: {challenge}')


@check("auth.missing_header")
def missing_header(ctx: Context) -> Finding:
    return _expect_401(ctx, ctx.connection_id, None, "no Authorization header")


@check("auth.malformed_header")
def malformed_header(ctx: Context) -> Finding:
    return _expect_401(ctx, ctx.connection_id, "Token", "'Token' without a key")


@check("auth.unknown_token")
def unknown_token(ctx: Context) -> Finding:
    key = f"{random.Random(ctx.seed).getrandbits(160):040x}"  # noqa: S311 - not a secret
    return _expect_401(ctx, ctx.connection_id, f"Token {key}", "an unknown token")


@check("auth.forged_bearer")
def forged_bearer(ctx: Context) -> Finding:
    what = "a Bearer JWT with a forged signature"
    return _expect_401(ctx, ctx.connection_id, f"Bearer {FORGED_BEARER}", what)


@check("auth.before_existence")
def before_existence(ctx: Context) -> Finding:
    return _expect_401(ctx, UNKNOWN_ID, None, "no header on a missing id (401 before 404)")


# -- ids that do not exist ---------------------------------------------------------------------


@check("auth.route_variants")
def route_variants(ctx: Context) -> Finding:
    """The routes Django and DRF serve besides the documented one: without the trailing slash
    (Label Studio answers it as if it had one), with a format suffix, and the view set's list
    (the same serializer, every connection). Each must refuse a request without credentials;
    with them, their answers go through the secret check."""
    endpoint = ctx.endpoint(ctx.connection_id)
    variants = [endpoint.rstrip("/"), endpoint.rstrip("/") + ".json", endpoint + "?format=json"]
    variants.append(ctx.base_url + ENDPOINT_PATH)
    open_routes = []
    for url in variants:
        limit = MAX_LIST_BYTES if url == variants[-1] else None
        response = ctx.send("GET", url, None, limit=limit)
        if 200 <= response.status_code < 300:
            open_routes.append(response)
        ctx.send("GET", url, limit=limit)  # with the credentials: its body is read for secrets
    if open_routes:
        shown = ", ".join(f"{_route(ctx, str(r.url))} ({r.status_code})" for r in open_routes)
        summary = f"a route variant answers without credentials: {shown}"
        return Finding("fail", summary, (), ctx.repro(open_routes[0]))
    return ok("no slash, .json, ?format=json and the list: none answers 2xx without credentials")


@check("not_found.unknown_id")
def unknown_id(ctx: Context) -> Finding:
    response = ctx.send("GET", ctx.endpoint(UNKNOWN_ID))
    problems = (
        [] if response.status_code == 404 else [f"status {response.status_code}, expected 404"]
    )
    problems += ls_error_problems(response)
    if problems:
        return Finding(
            "fail", "an unknown id is not a JSON 404", tuple(problems), ctx.repro(response)
        )
    return ok(f'unknown id: 404 "{detail(response)}"')


@check("not_found.non_integer_id")
def non_integer_id(ctx: Context) -> Finding:
    # DRF's router matches it and answers its JSON 404; a route that takes only integers
    # never matches, and Django answers its HTML 404 page (both measured on Label Studio).
    response = ctx.send("GET", ctx.endpoint("not-an-id"))
    problems = (
        [] if response.status_code == 404 else [f"status {response.status_code}, expected 404"]
    )
    if response.status_code == 404 and not is_html_404(response):
        problems += ls_error_problems(response)
    if problems:
        summary = "a non-integer id is not Label Studio's 404"
        return Finding("fail", summary, tuple(problems), ctx.repro(response))
    form = "HTML page" if is_html_404(response) else f'"{detail(response)}"'
    return ok(f"non-integer id: 404 {form}")


# -- methods every DRF GET view answers --------------------------------------------------------


@check("http.head")
def head(ctx: Context) -> Finding:
    # (No body to judge: HTTP/1.1 ends a HEAD answer at its headers, whatever the server sends.)
    response = ctx.send("HEAD", ctx.endpoint(ctx.connection_id))
    if response.status_code != 200:
        summary = f"HEAD answered {response.status_code}: DRF answers 200 on every GET view"
        return Finding("fail", summary, (), ctx.repro(response))
    return ok("HEAD: 200")


@check("http.options")
def options(ctx: Context) -> Finding:
    response = ctx.send("OPTIONS", ctx.endpoint(ctx.connection_id))
    if not 200 <= response.status_code < 300:
        summary = f"OPTIONS answered {response.status_code} (DRF answers 200 with its metadata)"
        return Finding("note", summary, (), ctx.repro(response))
    body = json_of(response)
    drf = isinstance(body, dict) and {"name", "renders", "parses"} & body.keys()
    if not drf and "allow" not in response.headers:
        # nginx in front of Label Studio's image answers OPTIONS itself (204, no Allow).
        return note(
            f"OPTIONS: {response.status_code} without DRF's metadata or Allow: a proxy in front "
            "answers OPTIONS, not Label Studio (no client of this endpoint sends OPTIONS)"
        )
    return ok(f"OPTIONS: {response.status_code}")


# -- every answer the run received ----------------------------------------------------------


@check("connection.no_secrets", final=True)
def no_secrets(ctx: Context) -> Finding:
    log = ctx.secrets
    masked = sorted(log.masks)
    if log.leaks:
        where = sorted(log.leaks)
        details = [
            f"{path}: in the {sent.status} answer to {sent.method} {_route(ctx, sent.url)}"
            for path, sent in sorted(log.leaks.items())
        ]
        details.append("values not shown")
        summary = f"the answers carry secret value(s): {', '.join(where)}"
        return Finding("fail", summary, tuple(details), ctx.repro(log.leaks[where[0]]))
    if masked:
        return note(
            f"no secret in {log.answers} 2xx answer(s); masked values stand in for: "
            f"{', '.join(masked)}"
        )
    return ok(
        f"no credential-like field or value in any of the run's {log.answers} 2xx JSON "
        "answer(s), model_params and nested values included"
    )


def _route(ctx: Context, url: str) -> str:
    return url.removeprefix(ctx.base_url.rstrip("/"))


# -- drift: worth knowing, never a failure -----------------------------------------------------


@check("drift.model_params")
def model_params(ctx: Context) -> Finding | None:
    body = json_of(ctx.existing())
    if not isinstance(body, dict) or "model_params" not in body:
        return None
    form = (
        "an object (newer servers)"
        if isinstance(body["model_params"], dict)
        else "a string (as documented)"
    )
    return note(f"model_params is sent as {form}")


@check("drift.undocumented_fields")
def undocumented_fields(ctx: Context) -> Finding | None:
    body = json_of(ctx.existing())
    extra = sorted(set(body) - set(ctx.properties)) if isinstance(body, dict) else []
    if not extra:
        return None
    names = [f"{n} (secret)" if is_secret_name(n) else n for n in extra]
    return note(f"fields the docs do not list: {', '.join(names)}")


@check("drift.created_by")
def created_by(ctx: Context) -> Finding | None:
    body = json_of(ctx.existing())
    creator = body.get("created_by") if isinstance(body, dict) else None
    if not isinstance(creator, dict):
        return None
    return note(f"created_by is sent {'with' if 'username' in creator else 'without'} username")


def named(name: str, finding: Finding) -> CheckResult:
    """The report's result of check ``name``."""
    return CheckResult(name, finding.outcome, finding.summary, list(finding.details), finding.repro)
