"""The conformance suite: it catches each contract violation, holds deployments to what Label
Studio does, ends every run in a verdict with a documented exit code, and hides the token."""

from __future__ import annotations

import contextlib
import json
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ls_model_providers import _constants as C
from ls_model_providers.cli import main
from ls_model_providers.conformance import Report, RunConfig, UsageError, check_names, run
from ls_model_providers.mock import ServedMock, create_app, default_data, serve_in_thread

from . import hostile
from .servers import Override, Recorder, Rule, Seen, ls_error

CANARY = "c4n4ryc4n4ryc4n4ryc4n4ryc4n4ryc4n4ry0042"
FAST: dict[str, Any] = {"max_examples": 10}


@pytest.fixture(scope="module")
def conformant() -> Iterator[ServedMock]:
    with serve_in_thread(create_app(data=default_data(CANARY))) as served:
        yield served


def _run(served: ServedMock | str, api_key: str | None = None, **kwargs: Any) -> Report:
    base_url = served if isinstance(served, str) else served.base_url
    key = api_key or (CANARY if isinstance(served, str) else served.token)
    config = {"base_url": base_url, "api_key": key, "connection_id": 1, **FAST, **kwargs}
    return run(RunConfig(**config))


@contextlib.contextmanager
def _bent(rule: Rule, **app_options: Any) -> Iterator[tuple[ServedMock, list[Seen]]]:
    """The mock, answering what ``rule`` claims itself; every request recorded."""
    app = create_app(**app_options)
    seen: list[Seen] = []
    app.add_middleware(Override, rule=rule)
    app.add_middleware(Recorder, log=seen)
    with serve_in_thread(app) as served:
        yield served, seen


def _failed(report: Report) -> set[str]:
    return {r.name for r in report.failed}


# -- the embedded run and the defects it must catch -------------------------------------------


def test_embedded_mock_run_is_conformant() -> None:
    report = run(RunConfig())
    assert report.embedded
    assert report.exit_code == 0, report.verdict
    assert not report.failed
    outcomes = {r.name: r.outcome for r in report.results}
    assert outcomes == {
        **dict.fromkeys(HAND_WRITTEN, "pass"),
        **dict.fromkeys(SCHEMATHESIS, "pass"),
        "drift.model_params": "note",  # the mock sends model_params as an object
        "drift.created_by": "note",
    }, "every documented check ran, and only those"
    assert set(outcomes) <= set(check_names())


#: The checks the README documents, written out: one dropped from the registry fails here.
HAND_WRITTEN = [
    "connection.valid_200", "connection.no_secrets", "auth.missing_header",
    "auth.malformed_header", "auth.unknown_token", "auth.forged_bearer", "auth.before_existence",
    "auth.route_variants", "not_found.unknown_id", "not_found.non_integer_id", "http.head",
    "http.options",
]  # fmt: skip
SCHEMATHESIS = [
    f"schemathesis.{name}"
    for name in (
        "content_type_conformance", "ignored_auth", "negative_data_rejection",
        "not_a_server_error", "response_headers_conformance", "response_schema_conformance",
        "status_code_conformance",
    )
]  # fmt: skip


@pytest.mark.parametrize(
    ("defect", "expected"),
    [
        ("wrong_type", {"connection.valid_200", "schemathesis.response_schema_conformance"}),
        ("missing_required", {"connection.valid_200", "schemathesis.response_schema_conformance"}),
        ("null_non_nullable", {"connection.valid_200", "schemathesis.response_schema_conformance"}),
        ("unknown_enum", {"connection.valid_200", "schemathesis.response_schema_conformance"}),
        ("over_max_length", {"connection.valid_200", "schemathesis.response_schema_conformance"}),
        ("no_auth", {"auth.missing_header", "auth.unknown_token", "schemathesis.ignored_auth"}),
        ("any_bearer", {"auth.forged_bearer"}),
        ("500_non_integer_id", {"not_found.non_integer_id"}),
        ("secret_field", {"connection.no_secrets"}),
        ("non_json_errors", {"auth.missing_header", "not_found.unknown_id"}),
        ("wrong_content_type", {"connection.valid_200", "schemathesis.content_type_conformance"}),
    ],
)
def test_each_defect_is_caught_and_named(defect: str, expected: set[str]) -> None:
    with serve_in_thread(create_app(defects=[defect])) as served:
        report = _run(served)
    assert report.exit_code == 1
    assert expected <= _failed(report), _failed(report)
    assert all(r.name in report.verdict for r in report.failed)
    valid = next(r for r in report.results if r.name == "connection.valid_200")
    if defect == "missing_required":  # each of the three judges says why
        assert valid.details == [
            'Response violates schema: "created_at" is a required property',
            "our client rejects it: HTTP 200 with an invalid body: missing required field "
            "'created_at'",
            "the generated model rejects it: KeyError",
        ]


# -- as strict as Label Studio is (issue 11, item 7) ------------------------------------------


def _connection(connection_id: int) -> str:
    return f"/{C.ENDPOINT_PATH}{connection_id}/"


def _mock_body(connection_id: int = 1) -> bytes:
    """What the mock answers for a connection: a valid body for a rule to send as its own."""
    from ls_model_providers.mock import SyncASGITransport

    app = create_app()
    with httpx.Client(transport=SyncASGITransport(app), base_url="http://mock") as http:
        token = {"Authorization": f"Token {app.state.mock.data.users[0].token}"}
        return http.get(_connection(connection_id), headers=token).content


def test_a_200_for_another_id_fails() -> None:
    second = _mock_body(2)  # valid, but connection 2

    def other_id(method: str, path: str, headers: dict[str, str]) -> Any:
        if path == _connection(1) and method == "GET" and "authorization" in headers:
            return 200, [("content-type", "application/json")], second
        return None

    with _bent(other_id) as (served, _):
        report = _run(served, max_examples=1)
    valid = next(r for r in report.results if r.name == "connection.valid_200")
    assert valid.outcome == "fail"
    assert any("body id 2, but connection 1 was asked for" in d for d in valid.details)


@pytest.mark.parametrize(
    ("extra", "path"),
    [
        ({"keys": [{"api_key": "sk-" + "k" * 30}]}, "keys.0.api_key"),
        ({"fallbacks": ["gpt-4o", "sk-proj-" + "a1B2" * 10]}, "fallbacks.1"),
    ],
    ids=["object in an array", "value in an array"],
)
def test_a_key_inside_an_array_fails_no_secrets(extra: dict[str, Any], path: str) -> None:
    leaking = {**json.loads(_mock_body()), **extra}

    def leak(method: str, path: str, headers: dict[str, str]) -> Any:
        if path == _connection(1) and method == "GET" and "authorization" in headers:
            return 200, [("content-type", "application/json")], json.dumps(leaking).encode()
        return None

    with _bent(leak) as (served, _):
        report = _run(served, max_examples=1)
    no_secrets = next(r for r in report.results if r.name == "connection.no_secrets")
    assert no_secrets.outcome == "fail"
    assert path in no_secrets.summary
    assert no_secrets.details[-1] == "values not shown"
    assert _curl(no_secrets.repro or "")["url"].endswith(_connection(1))
    assert "k" * 30 not in json.dumps([[r.summary, *r.details] for r in report.results])


def test_www_authenticate_must_name_a_label_studio_scheme() -> None:
    def prism(method: str, path: str, headers: dict[str, str]) -> Any:
        if "authorization" not in headers:
            status, extra, body = ls_error(401, "Authentication credentials were not provided.")
            return status, [(k, "string" if k == "www-authenticate" else v) for k, v in extra], body
        return None

    with _bent(prism) as (served, _):
        report = _run(served, max_examples=1)
    assert {"auth.missing_header", "auth.before_existence"} <= _failed(report)
    missing = next(r for r in report.results if r.name == "auth.missing_header")
    assert any("names no scheme Label Studio uses" in d for d in missing.details)


def test_a_challenge_quoting_the_key_is_scrubbed_before_it_is_cut() -> None:
    # The problem quotes 80 characters of the challenge: cut first, the key's first 26
    # characters would survive (the scrubber replaces whole keys only).
    challenge = 'Basic realm="' + "x" * 40 + " " + CANARY + '"'

    def echo(method: str, path: str, headers: dict[str, str]) -> Any:
        if "authorization" not in headers:
            status, extra, body = ls_error(401, "Authentication credentials were not provided.")
            extra = [(k, challenge if k == "www-authenticate" else v) for k, v in extra]
            return status, extra, body
        return None

    with _bent(echo, data=default_data(CANARY)) as (served, _):
        report = _run(served, CANARY, max_examples=1)
    missing = next(r for r in report.results if r.name == "auth.missing_header")
    quoted = [d for d in missing.details if "names no scheme Label Studio uses" in d]
    assert quoted and "$LABEL_STUDIO_API_KEY" in quoted[0]
    everything = json.dumps([[r.summary, *r.details, r.repro or ""] for r in report.results])
    assert CANARY[:8] not in everything


def test_a_refusal_other_than_401_fails_naming_its_status_and_the_probe() -> None:
    # A 403 with Label Studio's body and a challenge: right in every way but its status.
    def forbidden(method: str, path: str, headers: dict[str, str]) -> Any:
        if path == _connection(1) and "authorization" not in headers:
            _, extra, body = ls_error(401, "Authentication credentials were not provided.")
            return 403, extra, body
        return None

    with _bent(forbidden) as (served, _):
        report = _run(served, max_examples=1)
    missing = next(r for r in report.results if r.name == "auth.missing_header")
    assert missing.outcome == "fail"
    assert missing.details == ["status 403, expected 401"]
    assert missing.repro and _curl(missing.repro)["url"].endswith(_connection(1))
    # the unknown id is a different URL: its own 401 passes
    assert "auth.before_existence" not in _failed(report)


def test_a_challenge_with_parameters_is_named_by_its_scheme() -> None:
    def realm(method: str, path: str, headers: dict[str, str]) -> Any:
        if "authorization" not in headers:
            status, extra, body = ls_error(401, "Authentication credentials were not provided.")
            challenge = 'Token realm="api", charset="UTF-8"'
            return (
                status,
                [(k, challenge if k == "www-authenticate" else v) for k, v in extra],
                body,
            )
        return None

    with _bent(realm) as (served, _):
        report = _run(served, max_examples=1)
    missing = next(r for r in report.results if r.name == "auth.missing_header")
    assert missing.outcome == "pass", missing.details
    assert missing.summary.endswith("with WWW-Authenticate: Token"), missing.summary


def test_checks_register_in_order_the_final_ones_apart() -> None:
    from ls_model_providers.conformance import _checks

    def probe(ctx: Any) -> None:
        return None

    before = (list(_checks.CHECKS), list(_checks.FINAL_CHECKS))
    try:
        assert _checks.check("test.sends")(probe) is probe
        assert _checks.check("test.judges", final=True)(probe) is probe
        assert [*before[0], ("test.sends", probe)] == _checks.CHECKS
        assert [*before[1], ("test.judges", probe)] == _checks.FINAL_CHECKS
    finally:
        _checks.CHECKS[:], _checks.FINAL_CHECKS[:] = before


def test_routes_are_shown_relative_to_the_base_url() -> None:
    from types import SimpleNamespace

    from ls_model_providers.conformance._checks import _route

    ctx: Any = SimpleNamespace(base_url="https://ls.example/X/")
    assert _route(ctx, "https://ls.example/X/api/model-provider-connections/") == (
        "/api/model-provider-connections/"
    )


@pytest.mark.parametrize(
    ("answer", "passes"),
    [
        ((422, [("content-type", "application/problem+json")], b'{"title": "bad id"}'), False),
        ((400, *ls_error(400, "bad id")[1:]), False),
        ((404, [("content-type", "text/html")], b"<html>404 | Label Studio</html>"), True),
        (ls_error(404, "Not found."), True),
        ((404, [("content-type", "application/json")], b'{"error": "not found"}'), False),
    ],
    ids=["422-problem-json", "400", "html-404", "json-404", "json-404-not-ls-error-body"],
)
def test_a_non_integer_id_is_label_studios_404(answer: Any, passes: bool) -> None:
    def rule(method: str, path: str, headers: dict[str, str]) -> Any:
        return answer if path.endswith("/not-an-id/") else None

    with _bent(rule) as (served, _):
        report = _run(served, max_examples=1)
    result = next(r for r in report.results if r.name == "not_found.non_integer_id")
    assert result.outcome == ("pass" if passes else "fail")
    if passes:  # Label Studio's two forms, each named
        form = "HTML page" if answer[2].startswith(b"<html>") else '"Not found."'
        assert result.summary == f"non-integer id: 404 {form}"
    else:
        assert result.details and _curl(result.repro or "")["url"].endswith("/not-an-id/")


# -- what each check says: the report is what a user reads ------------------------------------


@pytest.mark.parametrize(
    ("options", "drift"),
    [
        ({}, {"drift.model_params": "model_params is sent as an object (newer servers)",
              "drift.created_by": "created_by is sent with username"}),
        ({"model_params": "string", "created_by_username": False},
         {"drift.model_params": "model_params is sent as a string (as documented)",
          "drift.created_by": "created_by is sent without username"}),
    ],
    ids=["newer server", "older server"],
)  # fmt: skip
def test_each_check_says_what_it_saw(options: dict[str, Any], drift: dict[str, str]) -> None:
    with serve_in_thread(create_app(**options)) as served:
        report = _run(served, max_examples=1)
    said = {r.name: r.summary for r in report.results if not r.name.startswith("schemathesis.")}
    secrets = said.pop("connection.no_secrets")
    no_header = '401 "Authentication credentials were not provided." with WWW-Authenticate: Token'
    assert said == {
        "connection.valid_200": "connection 1: 200, JSON, its id, valid against the fragment, "
        "parsed by the client and the generated model",
        "auth.missing_header": f"no Authorization header: {no_header}",
        "auth.malformed_header": "'Token' without a key: 401 \"Invalid token header. No "
        'credentials provided." with WWW-Authenticate: Token',
        "auth.unknown_token": 'an unknown token: 401 "Invalid token." with WWW-Authenticate: Token',
        "auth.forged_bearer": 'a Bearer JWT with a forged signature: 401 "Authentication '
        'credentials were not provided." with WWW-Authenticate: Token',
        "auth.before_existence": f"no header on a missing id (401 before 404): {no_header}",
        "auth.route_variants": "no slash, .json, ?format=json and the list: none answers 2xx "
        "without credentials",
        "not_found.unknown_id": 'unknown id: 404 "No ModelProviderConnection matches the given query."',
        "not_found.non_integer_id": 'non-integer id: 404 "Not found."',
        "http.head": "HEAD: 200",
        "http.options": "OPTIONS: 200",
        **drift,
    }
    assert re.fullmatch(
        r"no credential-like field or value in any of the run's \d+ 2xx JSON answer\(s\), "
        r"model_params and nested values included",
        secrets,
    )


def test_the_fields_the_docs_do_not_list_are_named_secret_ones_marked() -> None:
    extended = {**json.loads(_mock_body()), "region": "eu", "token": ""}

    def newer(method: str, path: str, headers: dict[str, str]) -> Any:
        if path == _connection(1) and method == "GET" and "authorization" in headers:
            return 200, [("content-type", "application/json")], json.dumps(extended).encode()
        return None

    with _bent(newer) as (served, _):
        report = _run(served, max_examples=1)
    notes = {r.name: r.summary for r in report.results if r.outcome == "note"}
    assert notes["drift.undocumented_fields"] == (
        "fields the docs do not list: region, token (secret)"
    )


def test_a_body_without_model_params_or_created_by_has_no_drift_notes() -> None:
    body = {"id": 1, "provider": "OpenAI", "deployment_name": None}

    def bare(method: str, path: str, headers: dict[str, str]) -> Any:
        if path == _connection(1) and method == "GET" and "authorization" in headers:
            return 200, [("content-type", "application/json")], json.dumps(body).encode()
        return None

    with _bent(bare) as (served, _):
        report = _run(served, max_examples=1)
    names = {r.name for r in report.results}
    assert "connection.valid_200" in _failed(report), "required fields are missing"
    assert not names & {"drift.model_params", "drift.created_by", "drift.undocumented_fields"}
    assert {"connection.no_secrets", "http.options"} <= names, "every check ran to the end"
    assert not {n for n in names if n.startswith("run.")}, "no check crashed"


@pytest.mark.parametrize("body", [b'"a connection"', b"[1, 2]", b"null"])
def test_a_200_that_is_not_an_object_fails_valid_200_and_nothing_else_breaks(body: bytes) -> None:
    def not_an_object(method: str, path: str, headers: dict[str, str]) -> Any:
        if path == _connection(1) and method == "GET" and "authorization" in headers:
            return 200, [("content-type", "application/json")], body
        return None

    with _bent(not_an_object) as (served, _):
        report = _run(served, max_examples=1)
    names = {r.name for r in report.results}
    assert "connection.valid_200" in _failed(report)
    assert not names & {"drift.model_params", "drift.created_by", "drift.undocumented_fields"}
    assert not {n for n in names if n.startswith("run.")}, "no check crashed"


def test_a_200_of_another_status_and_type_says_both_and_how_to_reproduce() -> None:
    valid = _mock_body()

    def untyped(method: str, path: str, headers: dict[str, str]) -> Any:
        if path == _connection(1) and method == "GET" and "authorization" in headers:
            return 203, [], valid
        return None

    with _bent(untyped) as (served, _):
        report = _run(served, max_examples=1)
    result = next(r for r in report.results if r.name == "connection.valid_200")
    assert result.outcome == "fail"
    assert result.details[:2] == [
        "status 203, expected 200",
        "content type '', expected application/json",
    ]
    assert _curl(result.repro or "")["url"].endswith(_connection(1))
    assert all(r.repro is None for r in report.results if r.outcome == "pass")


def _jwt_header(value: str) -> bool:
    """Whether ``value`` reads as a JWT: a JSON header, a payload and a signature."""
    import base64

    parts = value.split(".")
    try:
        return len(parts) == 3 and "alg" in json.loads(base64.urlsafe_b64decode(parts[0] + "=="))
    except ValueError:
        return False


@pytest.mark.parametrize(
    ("accepts", "check"),
    [
        (lambda auth: auth.lower() == "token", "auth.malformed_header"),
        (lambda auth: re.fullmatch(r"Token [0-9a-f]{40}", auth) is not None, "auth.unknown_token"),
        (lambda auth: auth.startswith("Bearer ") and _jwt_header(auth[7:]), "auth.forged_bearer"),
    ],
    ids=["a bare scheme", "any 40-hex token", "a JWT, signature unchecked"],
)
def test_credentials_a_server_wrongly_accepts_for_the_connection_fail_their_check(
    accepts: Any, check: str
) -> None:
    valid = _mock_body()

    def lax(method: str, path: str, headers: dict[str, str]) -> Any:
        if path == _connection(1) and accepts(headers.get("authorization", "")):
            return 200, [("content-type", "application/json")], valid
        return None

    with _bent(lax) as (served, _):
        report = _run(served, max_examples=1)
    result = next(r for r in report.results if r.name == check)
    assert result.outcome == "fail"
    assert result.details[0] == "status 200, expected 401"
    assert _curl(result.repro or "")["url"].endswith(_connection(1))


def test_an_unknown_id_refused_as_missing_before_credentials_fails_before_existence() -> None:
    # 404 before 401 tells anyone which ids exist: the probe must be the unknown id.
    def exists_first(method: str, path: str, headers: dict[str, str]) -> Any:
        if path == _connection(C.MAX_ID) and "authorization" not in headers:
            return ls_error(404, "Not found.")
        return None

    with _bent(exists_first) as (served, _):
        report = _run(served, max_examples=1)
    result = next(r for r in report.results if r.name == "auth.before_existence")
    assert result.outcome == "fail"
    assert _curl(result.repro or "")["url"].endswith(_connection(C.MAX_ID))


@pytest.mark.parametrize(
    ("open_paths", "status", "shown"),
    [
        ([f"/{C.ENDPOINT_PATH}1"], 200, f"/{C.ENDPOINT_PATH}1 (200)"),
        ([f"/{C.ENDPOINT_PATH}1.json"], 200, f"/{C.ENDPOINT_PATH}1.json (200)"),
        ([f"/{C.ENDPOINT_PATH}1/?format=json"], 204, f"/{C.ENDPOINT_PATH}1/?format=json (204)"),
        ([f"/{C.ENDPOINT_PATH}"], 299, f"/{C.ENDPOINT_PATH} (299)"),
        ([f"/{C.ENDPOINT_PATH}1", f"/{C.ENDPOINT_PATH}1.json"], 200,
         f"/{C.ENDPOINT_PATH}1 (200), /{C.ENDPOINT_PATH}1.json (200)"),
        ([f"/{C.ENDPOINT_PATH}1"], 300, None),  # a redirect is not an answer
    ],
    ids=["no slash", ".json", "?format=json", "the list", "two", "300"],
)  # fmt: skip
def test_each_route_variant_open_without_credentials_is_named(
    open_paths: list[str], status: int, shown: str | None
) -> None:
    def open_route(method: str, path: str, headers: dict[str, str]) -> Any:
        if path in open_paths and "authorization" not in headers:
            return status, [("content-type", "application/json")], b"{}"
        return None

    with _bent(open_route) as (served, _):
        report = _run(served, max_examples=1)
    variants = next(r for r in report.results if r.name == "auth.route_variants")
    if shown is None:
        assert variants.outcome == "pass", variants.summary
        return
    assert variants.outcome == "fail"
    assert variants.summary == f"a route variant answers without credentials: {shown}"
    assert variants.details == []
    curl = _curl(variants.repro or "")
    assert curl["url"].endswith(open_paths[0]) and "Authorization" not in curl["headers"]


def test_a_list_over_the_single_object_limit_is_read_whole() -> None:
    from ls_model_providers.mock import SyncASGITransport

    data = default_data()
    template = data.connections[0]
    data.connections = [{**template, "id": i, "organization": 1} for i in range(1, 2_401)]
    app = create_app(data=data)
    with httpx.Client(transport=SyncASGITransport(app), base_url="http://mock") as http:
        token = {"Authorization": f"Token {app.state.mock.data.users[0].token}"}
        listed = http.get(f"/{C.ENDPOINT_PATH}", headers=token)
    assert len(listed.content) > C.MAX_BODY_SIZE, "a list the single-object limit refuses"
    with serve_in_thread(app) as served:
        report = _run(served, max_examples=1)
    assert report.exit_code == 0, [(r.name, r.summary) for r in report.failed]


def test_an_unknown_id_answered_otherwise_fails_naming_the_status_and_the_probe() -> None:
    unknown = _connection(C.MAX_ID)

    def crash(method: str, path: str, headers: dict[str, str]) -> Any:
        if path == unknown and method == "GET" and "authorization" in headers:
            return ls_error(500, "A server error occurred.")
        return None

    with _bent(crash) as (served, _):
        report = _run(served, max_examples=1)
    result = next(r for r in report.results if r.name == "not_found.unknown_id")
    assert (result.outcome, result.details) == ("fail", ["status 500, expected 404"])
    assert _curl(result.repro or "")["url"].endswith(unknown)


@pytest.mark.parametrize(
    ("answer", "outcome", "summary"),
    [
        ((200, [("content-type", "application/json")], b'{"name": "Model Provider Connection"}'),
         "pass", "OPTIONS: 200"),
        ((200, [("content-type", "application/json")], b'{"renders": ["application/json"]}'),
         "pass", "OPTIONS: 200"),
        ((200, [("content-type", "application/json")], b'{"parses": ["application/json"]}'),
         "pass", "OPTIONS: 200"),
        ((204, [("allow", "GET, HEAD, OPTIONS")], b""), "pass", "OPTIONS: 204"),
        ((200, [("content-type", "application/json")], b'{"methods": ["GET"]}'), "note", "a proxy"),
        ((204, [], b""), "note", "a proxy in front answers OPTIONS, not Label Studio"),
        ((300, [("allow", "GET")], b""), "note", "OPTIONS answered 300"),
        ((405, *ls_error(405, 'Method "OPTIONS" not allowed.')[1:]), "note", "OPTIONS answered 405"),
    ],
    ids=["drf name", "drf renders", "drf parses", "allow", "json not drf", "proxy 204", "300",
         "405"],
)  # fmt: skip
def test_options_is_judged_by_who_answered_it(answer: Any, outcome: str, summary: str) -> None:
    def rule(method: str, path: str, headers: dict[str, str]) -> Any:
        return answer if method == "OPTIONS" and path == _connection(1) else None

    with _bent(rule) as (served, _):
        report = _run(served, max_examples=1)
    result = next(r for r in report.results if r.name == "http.options")
    assert result.outcome == outcome
    assert summary in result.summary
    if result.summary.startswith("OPTIONS answered"):
        assert _curl(result.repro or "")["method"] == "OPTIONS"


def test_head_405_fails_and_options_405_is_a_note() -> None:
    def no_head(method: str, path: str, headers: dict[str, str]) -> Any:
        return (
            ls_error(405, f'Method "{method}" not allowed.')
            if method in ("HEAD", "OPTIONS")
            else None
        )

    with _bent(no_head) as (served, _):
        report = _run(served, max_examples=1)
    outcomes = {r.name: r.outcome for r in report.results}
    assert outcomes["http.head"] == "fail"
    assert outcomes["http.options"] == "note"
    assert _failed(report) == {"http.head"}
    head = next(r for r in report.results if r.name == "http.head")
    assert head.summary == "HEAD answered 405: DRF answers 200 on every GET view"
    assert _curl(head.repro or "")["method"] == "HEAD"


def test_ignored_auth_reproduces_the_probe_that_was_sent() -> None:
    with serve_in_thread(create_app(defects=["no_auth"], data=default_data(CANARY))) as served:
        report = _run(served)
    ignored = next(r for r in report.results if r.name == "schemathesis.ignored_auth")
    assert ignored.outcome == "fail" and ignored.repro
    assert "$LABEL_STUDIO_API_KEY" not in ignored.repro, "the probe did not carry the real key"
    headers = _curl(ignored.repro)["headers"]
    assert headers.get("Authorization") in (
        None,
        "SCHEMATHESIS-INVALID-VALUE",
        "Bearer SCHEMATHESIS-INVALID-VALUE",
    )


# -- reproductions are the exact request, and paste safely (item 5) --------------------------


def _curl(line: str) -> dict[str, Any]:
    import shlex

    words = shlex.split(line)
    assert words[0] == "curl"
    method, headers, url, index = "GET", {}, None, 1
    while index < len(words):
        word = words[index]
        if word == "-H":
            name, _, value = words[index + 1].partition(": ")
            headers[name] = value
            index += 2
        elif word == "-X":
            method, index = words[index + 1], index + 2
        elif word == "-I":
            method, index = "HEAD", index + 1
        elif word.startswith("-"):
            index += 1
        else:
            url, index = word, index + 1
    return {"method": method, "url": url, "headers": headers}


def test_every_reproduction_is_the_request_the_server_saw() -> None:
    defects = ["no_auth", "wrong_type", "non_json_errors", "500_non_integer_id"]
    with _bent(lambda *_: None, defects=defects, data=default_data(CANARY)) as (served, seen):
        report = _run(served)
    repros = [r.repro for r in report.results if r.repro]
    assert len(repros) >= 5
    for line in repros:
        parsed = _curl(line.replace('"$LABEL_STUDIO_API_KEY"', CANARY))
        url = httpx.URL(parsed["url"])
        matches = [
            s for s in seen
            if s.method == parsed["method"] and s.path == url.path
            and all(s.headers.get(k.lower()) == v for k, v in parsed["headers"].items())
            and ("authorization" in s.headers) == ("Authorization" in parsed["headers"])
        ]  # fmt: skip
        assert matches, f"no request the server saw matches {line}"


def test_secrets_travel_as_shell_variables_only_where_they_were_sent() -> None:
    from ls_model_providers.toolkit.text import curl

    line = curl(
        "GET",
        "http://h/x/",
        [("Authorization", f"Token {CANARY}")],
        {CANARY: "LABEL_STUDIO_API_KEY"},
    )
    assert CANARY not in line
    assert _curl(line)["headers"]["Authorization"] == "Token $LABEL_STUDIO_API_KEY"


def test_a_hostile_header_value_runs_nothing_when_pasted(tmp_path: Path) -> None:
    import shutil
    import subprocess

    from ls_model_providers.toolkit.text import curl

    marker = tmp_path / "ran"
    value = f"x $(touch {marker}) `touch {marker}` '; touch {marker}; '\"$HOME"
    line = curl("GET", "http://h/a'b/", [("Authorization", value)], {})
    # The line, with curl replaced by a function printing its arguments one per line.
    script = 'curl() { printf "%s\\n" "$@"; }; ' + line
    bash = shutil.which("bash")
    assert bash is not None
    printed = subprocess.run(
        [bash, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert not marker.exists(), "pasting the reproduction ran a command"
    assert f"Authorization: {value}" in printed.splitlines()
    assert _curl(line)["headers"]["Authorization"] == value


def test_server_text_reaches_no_terminal_or_xml_raw(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile_detail = "nope\x00\x1b[2J\x1b[31mred\x1b]0;pwned\x07\x08\x7f\ud800 end"

    def rule(method: str, path: str, headers: dict[str, str]) -> Any:
        if "authorization" not in headers:
            status, extra, _ = ls_error(401, "")
            body = {
                "id": "e",
                "status_code": 401,
                "version": "x",
                "detail": hostile_detail,
                "exc_info": None,
            }
            return status, extra, json.dumps(body).encode()
        return None

    junit, report_json = tmp_path / "junit.xml", tmp_path / "report.json"
    with _bent(rule, data=default_data(CANARY)) as (served, _):
        code = main([
            "conformance", "--base-url", served.base_url, "--api-key", CANARY, "--id", "1",
            "--max-examples", "2", "--junit-xml", str(junit), "--json-report", str(report_json),
        ])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0
    for text in (out, err):
        assert (
            "\x1b" not in text and "\x00" not in text and "\x07" not in text and "\x08" not in text
        )
    assert "red" in out, "the text is kept, its control sequences are not"
    # Parsable: NUL and lone surrogates were removed.
    tree = ET.parse(junit)  # noqa: S314 - a file this test wrote
    assert tree.getroot().get("tests")
    assert json.loads(report_json.read_text())["exit_code"] == 0


# -- every ending is a verdict, an exit code and full reports (item 4) -----------------------


def test_community_server_exits_3_and_says_why() -> None:
    with serve_in_thread(create_app(defects=["community"])) as served:
        report = _run(served)
    assert report.exit_code == 3
    assert "Community Edition" in report.verdict
    assert _failed(report) == {"endpoint.served"}


def test_non_label_studio_url_exits_2_and_says_check_the_url() -> None:
    # Exit 3 is for a Label Studio without the endpoint; a URL of something else is the
    # user's to fix.
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, html="<html>nginx</html>")

    report = run(
        RunConfig(
            base_url="http://x.example", api_key="f" * 40, transport=httpx.MockTransport(handler)
        )
    )
    assert report.exit_code == 2
    assert "the URL does not point at Label Studio (check the base URL" in report.verdict


def test_rejected_credentials_exit_4(conformant: ServedMock) -> None:
    report = _run(conformant, api_key="0" * 40)
    assert report.exit_code == 4
    assert "Invalid token." in report.verdict
    assert _failed(report) == {"auth.credentials"}


def test_credentials_without_permission_exit_4() -> None:
    app = create_app()
    viewer = next(u for u in app.state.mock.data.users if not u.can_view)
    with serve_in_thread(app) as served:
        report = _run(served, api_key=viewer.token)
    assert report.exit_code == 4
    assert "permission" in report.verdict


def test_a_closed_port_exits_5() -> None:
    with hostile.serve(hostile.hang) as served:
        port = served.base_url.rsplit(":", 1)[1]
    report = _run(f"http://127.0.0.1:{port}")
    assert report.exit_code == 5
    assert report.verdict.startswith(
        f"UNREACHABLE: connection refused: nothing listens at 127.0.0.1:{port} "
    )
    assert _failed(report) == {"run.reachable"}


def test_a_timeout_before_any_answer_exits_5() -> None:
    with hostile.serve(hostile.hang) as served:
        report = _run(served.base_url, timeout=0.5)
    assert report.exit_code == 5
    assert "no answer within 0.5 s" in report.verdict


def test_missing_credentials_against_a_deployment_exit_2(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    conformant: ServedMock,
    tmp_path: Path,
) -> None:
    monkeypatch.delenv("LABEL_STUDIO_API_KEY", raising=False)
    junit = tmp_path / "new" / "folder" / "junit.xml"
    assert main(["conformance", "--base-url", conformant.base_url, "--junit-xml", str(junit)]) == 2
    out, err = capsys.readouterr()
    assert "no credentials: pass --api-key" in err
    assert out == "", "no run, no table"
    assert ET.parse(junit).getroot().get("failures") == "1"  # noqa: S314 - a file this test wrote


def test_a_url_without_a_scheme_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conformance", "--base-url", "ls.example.com", "--api-key", CANARY]) == 2
    assert "http(s) URL" in capsys.readouterr().err
    with pytest.raises(UsageError, match="http"):
        run(RunConfig(base_url="ls.example.com", api_key=CANARY))


def test_unknown_id_exit_2(conformant: ServedMock) -> None:
    report = _run(conformant, connection_id=424242)
    assert report.exit_code == 2
    assert "does not exist" in report.verdict and "--id" in report.verdict


@pytest.mark.parametrize(
    ("exit_code", "server"),
    [(1, "defect"), (3, "community"), (4, "wrong key"), (5, "closed port")],
)
def test_junit_has_a_failing_testcase_whenever_the_exit_code_is_not_0(
    exit_code: int, server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junit, report_json = tmp_path / "a" / "junit.xml", tmp_path / "b" / "report.json"
    argv = ["conformance", "--id", "1", "--max-examples", "2", "--junit-xml", str(junit),
            "--json-report", str(report_json)]  # fmt: skip
    app = create_app(defects={"defect": ["wrong_type"], "community": ["community"]}.get(server, []))
    with serve_in_thread(app) as served:
        url = served.base_url
        key = "0" * 40 if server == "wrong key" else served.token
        if server != "closed port":
            assert main([*argv, "--base-url", url, "--api-key", key]) == exit_code
    if server == "closed port":
        assert main([*argv, "--base-url", url, "--api-key", key]) == exit_code
    capsys.readouterr()
    root = ET.parse(junit).getroot()  # noqa: S314 - a file this test wrote
    assert int(root.get("failures") or 0) >= 1
    assert root.find("testcase/failure") is not None
    data = json.loads(report_json.read_text())
    assert data["exit_code"] == exit_code and data["failed"]


# -- personal access tokens: the client's auth, refreshed like the client does (item 2) ------


def test_personal_access_token_uses_only_the_refresh_post() -> None:
    app = create_app()
    refresh = app.state.mock.issue_refresh_token(1)
    with serve_in_thread(app) as served:
        report = _run(served, api_key=refresh)
        methods = dict(app.state.mock.methods)
    assert report.exit_code == 0, report.verdict
    assert methods.pop("POST") == 1 == report.methods["POST"], "the one token refresh"
    assert set(methods) <= {"GET", "HEAD", "OPTIONS"}


def _ours(app: Any, seen: list[Seen]) -> list[Seen]:
    """The requests that carried an access token the mock minted (not a forged or generated one)."""
    import jwt

    ours = []
    for request in seen:
        kind, _, token = request.headers.get("authorization", "").partition(" ")
        with contextlib.suppress(jwt.PyJWTError):
            claims = jwt.decode(token, app.state.mock.jwt_secret, algorithms=["HS256"],
                                options={"verify_exp": False, "verify_iat": False})  # fmt: skip
            if kind == "Bearer" and claims.get("token_type") == "access":
                ours.append(request)
    return ours


def test_a_run_outlives_access_tokens_refreshed_before_expiry() -> None:
    # An access token lives 1 s on the server. The server's clock runs REFRESH_MARGIN - 0.7 s
    # ahead of the client's, so the client finds each token due 0.3 s after it was minted,
    # 0.7 s before it dies (0.5 s was too little for a request on a loaded machine).
    # The rate makes the run last longer than 1 s (38 requests at 30/s): it outlives tokens.
    skew = C.REFRESH_MARGIN - 0.7
    app = create_app(access_ttl=1.0, clock=lambda: time.time() + skew)
    refresh = app.state.mock.issue_refresh_token(1)
    seen: list[Seen] = []
    app.add_middleware(Recorder, log=seen)
    with serve_in_thread(app) as served:
        report = _run(served, api_key=refresh, rate=30.0, max_examples=10)
    assert report.exit_code == 0, [(r.name, r.details) for r in report.failed]
    assert report.duration > 1.0, "the run outlived a token's 1 s"
    assert report.methods["POST"] >= 2, "refreshed again during the run"
    ours = _ours(app, seen)
    assert len(ours) > 10
    assert all(r.status != 401 for r in ours), "refreshed before it expired"


def test_a_run_outlives_access_tokens_refreshed_on_a_401() -> None:
    # The server's clock runs far ahead of the client's (so the client never sees a token
    # due) and 0.1 s further for every request: an access token dies after ~10 requests.
    # Only the 401 tells the client; it refreshes once and the run goes on.
    seen: list[Seen] = []
    app = create_app(access_ttl=1.0, clock=lambda: time.time() + 1000 + 0.1 * len(seen))
    app.add_middleware(Recorder, log=seen)
    refresh = app.state.mock.issue_refresh_token(1)
    with serve_in_thread(app) as served:
        report = _run(served, api_key=refresh, max_examples=10)
    assert report.exit_code == 0, [(r.name, r.details) for r in report.failed]
    assert report.methods["POST"] >= 3, "a fresh access token after each 401"
    assert any(r.status == 401 for r in _ours(app, seen)), "tokens did expire mid-run"
    assert report.requests == len(seen)


def test_a_refused_personal_access_token_exits_4() -> None:
    app = create_app()
    forged = app.state.mock.issue_refresh_token(1)[:-4] + "AAAA"
    with serve_in_thread(app) as served:
        report = _run(served, api_key=forged)
    assert report.exit_code == 4
    assert "personal access token refused" in report.verdict


def test_a_refresh_answer_nested_100000_deep_is_a_failed_check() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    behaviour = hostile.routes(
        refresh=hostile.answer("200 OK", deep, content_type="application/json"),
        connection=hostile.answer("200 OK", b"{}", content_type="application/json"),
    )
    with hostile.serve(behaviour) as served:
        report = _run(served.base_url, api_key=create_app().state.mock.issue_refresh_token(1))
    assert report.exit_code == 1
    assert _failed(report) == {"auth.token_refresh"}
    assert "nested deeper than 64" in report.failed[0].summary


# -- the token never shows ---------------------------------------------------------------------


def test_token_never_printed_or_reported(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    app = create_app(data=default_data(CANARY), defects=["secret_field", "any_bearer"])
    junit, report_json = tmp_path / "junit.xml", tmp_path / "report.json"
    with serve_in_thread(app) as served:
        code = main([
            "conformance", "--base-url", served.base_url, "--api-key", CANARY, "--id", "1",
            "--max-examples", "5", "--junit-xml", str(junit), "--json-report", str(report_json),
        ])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 1
    everything = out + err + junit.read_text() + report_json.read_text()
    assert CANARY not in everything
    assert "sk-mock-LEAKED" not in everything
    assert '"$LABEL_STUDIO_API_KEY"' in out, "reproductions use the variable"
    data = json.loads(report_json.read_text())
    assert "connection.no_secrets" in data["failed"]


def test_seeded_runs_send_the_same_requests() -> None:
    with _bent(lambda method, path, headers: None) as (served, seen):
        first = _run(served, seed=7, max_examples=5)
        sent_first = [(s.method, s.path, s.query, s.headers.get("authorization")) for s in seen]
        seen.clear()
        second = _run(served, seed=7, max_examples=5)
        sent_second = [(s.method, s.path, s.query, s.headers.get("authorization")) for s in seen]
    assert first.requests == second.requests
    assert [r.summary for r in first.results] == [r.summary for r in second.results]
    assert sent_first == sent_second, "the same requests, the unknown token's key included"


def test_cli_without_arguments_runs_the_embedded_mock(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
    assert main(["conformance", "--max-examples", "5"]) == 0
    out, err = capsys.readouterr()
    assert "verdict: CONFORMANT (exit 0)" in out
    assert "(embedded mock)" in out
    assert "connection.valid_200" in err, "progress is shown while it runs"


# -- generated cases: a bounded number, drawn within the run's deadline ------------------------


def test_max_examples_has_a_documented_bound_checked_before_any_output(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from ls_model_providers.toolkit.options import MAX_EXAMPLES

    from .conftest import ROOT

    readme = " ".join((ROOT / "README.md").read_text().split())
    assert f"`--max-examples`, 50 by default and at most {MAX_EXAMPLES:,}," in readme
    report = tmp_path / "r.json"
    too_many = str(MAX_EXAMPLES + 1)
    # One wording with 0 (argparse's usage error, naming the option), before any output.
    for value, problem in (
        (too_many, f"must be at most {MAX_EXAMPLES:,}"),
        ("0", "must be at least 1"),
    ):
        with pytest.raises(SystemExit) as usage:
            main(["conformance", "--max-examples", value, "--json-report", str(report)])
        assert usage.value.code == 2
        out, err = capsys.readouterr()
        assert out == "", "refused before the run: no table"
        assert f"error: argument --max-examples: {problem}, got '{value}'" in err
    with pytest.raises(SystemExit):
        main(["conformance", "--help"])
    assert f"at most {MAX_EXAMPLES:,})" in " ".join(capsys.readouterr().out.split())
    with pytest.raises(UsageError, match=f"--max-examples must be at most {MAX_EXAMPLES}"):
        run(RunConfig(max_examples=MAX_EXAMPLES + 1))
    with pytest.raises(UsageError, match="--ls-max-examples must be at most"):
        run(RunConfig(max_examples=10**6, options={"max_examples": "--ls-max-examples"}))


def test_drawing_cases_stops_at_the_run_deadline() -> None:
    from schemathesis import GenerationMode

    from ls_model_providers.conformance import _fuzz
    from ls_model_providers.toolkit.guard import DeadlineExceeded, Stop

    schema = _fuzz.schemathesis.openapi.from_dict(_fuzz_spec(), config=_fuzz.SchemathesisConfig())
    operation = next(iter(schema.get_all_operations())).ok()
    calls = 0

    def deadline_after_ten_cases() -> None:
        nonlocal calls
        calls += 1
        if calls > 10:
            raise DeadlineExceeded("run deadline of 1 s reached")

    with pytest.raises(Stop, match="run deadline of 1 s reached"):
        _fuzz._draw(operation, GenerationMode.POSITIVE, 1000, None, deadline_after_ten_cases)
    assert calls == 11, "checked for every case, and no case drawn after it passed"


def _fuzz_spec() -> dict[str, Any]:
    from ls_model_providers._spec import load_spec

    return load_spec()


def test_a_deadline_reached_while_drawing_ends_with_full_reports(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from ls_model_providers.toolkit.options import MAX_EXAMPLES

    junit, report = tmp_path / "j.xml", tmp_path / "r.json"
    code = main(["conformance", "--max-examples", str(MAX_EXAMPLES), "--deadline", "2",
                 "--junit-xml", str(junit), "--json-report", str(report)])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 6, out  # inconclusive
    data = json.loads(report.read_text())
    assert (data["exit_code"], data["failed"]) == (6, ["run.deadline"]), data["verdict"]
    assert {"connection.valid_200", "http.head"} <= {r["name"] for r in data["results"]}
    failing = [c.get("name") for c in ET.parse(junit).getroot().iter("testcase")  # noqa: S314
               if c.find("failure") is not None]  # fmt: skip
    assert failing == ["run.deadline"]
    assert "run deadline of 2 s reached" in out


def test_a_refused_url_with_a_password_stays_out_of_the_reports(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    report, junit = tmp_path / "r.json", tmp_path / "j.xml"
    url = "https://ada:s3cr3t-passw0rd@ls.example.com"
    argv = ["conformance", "--base-url", url, "--api-key", CANARY, "--json-report", str(report),
            "--junit-xml", str(junit)]  # fmt: skip
    assert main(argv) == 2
    _, err = capsys.readouterr()
    assert "user:password@" in err
    for text in (err, report.read_text(), junit.read_text()):
        assert "s3cr3t-passw0rd" not in text
    assert json.loads(report.read_text())["target"] == "(an unusable --base-url)"
