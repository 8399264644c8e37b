"""Snapshots: the round trip through the mock, the format, the classification of changes, and
no credential or secret anywhere. Recording runs in-process (the mock through
``SyncASGITransport``) unless a socket is the point."""

from __future__ import annotations

import copy
import json
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import jsonschema  # type: ignore[import-untyped]  # installed with schemathesis, no stubs
import pytest

import ls_model_providers
from ls_model_providers import Client
from ls_model_providers.cli import main
from ls_model_providers.mock import SyncASGITransport, create_app, default_data, serve_in_thread
from ls_model_providers.snapshot import (
    ALL,
    RecordError,
    Snapshot,
    SnapshotError,
    diff,
    diff_live,
    record,
)
from ls_model_providers.snapshot._diff import MAX_COMPARED_FIELDS, enum_fields
from ls_model_providers.snapshot._format import MAX_FILE_SIZE, MAX_FILE_TOKENS
from ls_model_providers.snapshot._validate import ANNOTATIONS, KEYWORDS, schema
from ls_model_providers.toolkit.guard import SAFE_METHODS

CANARY = "canarycanarycanarycanarycanarycanary0001"
LEAKED = "sk-mock-LEAKED-provider-key-0123456789"  # the mock's secret_field defect


def snap(ids: Any = ALL, **app_options: Any) -> Snapshot:
    """A snapshot of an in-process mock built with ``app_options``."""
    app = create_app(**app_options)
    token = app.state.mock.data.users[0].token
    return record("http://mock", token, ids=ids, transport=SyncASGITransport(app)).snapshot


@pytest.fixture(scope="module")
def base() -> Snapshot:
    return snap()


def edited(snapshot: Snapshot, change: Callable[[dict[str, Any]], object]) -> Snapshot:
    data = copy.deepcopy(dict(snapshot.data))
    change(data)
    return Snapshot.from_data(data)


# -- the round trip ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "requests"),
    [
        ({}, 17),
        ({"list_page_size": 3}, 19),
        ({"model_params": "string", "created_by_username": False}, 17),
    ],
    ids=["default", "paginated-3-pages", "older-server"],
)
def test_snapshot_of_a_replay_is_byte_identical(options: dict[str, Any], requests: int) -> None:
    with serve_in_thread(create_app(**options)) as served:
        first = record(served.base_url, served.token, ids=ALL)
    with serve_in_thread(create_app(snapshot=first.snapshot)) as replay:
        second = record(replay.base_url, replay.token, ids=ALL)
    assert second.snapshot.to_json() == first.snapshot.to_json()
    assert len(first.snapshot.connections) == 7  # organisation 1's
    assert first.requests == second.requests == requests


def test_a_recording_sends_only_reads_and_names_what_it_did(base: Snapshot) -> None:
    app = create_app()
    sent: list[str] = []
    inner = SyncASGITransport(app)

    def spy(request: httpx.Request) -> httpx.Response:
        sent.append(request.method)
        return inner.handle_request(request)

    recording = record(
        "http://mock",
        app.state.mock.data.users[0].token,
        ids=[2, 1],
        transport=httpx.MockTransport(spy),
    )
    assert set(sent) <= SAFE_METHODS
    assert recording.requests == len(sent) == 12  # list, 2 connections, 9 probes
    assert recording.methods == {"GET": 10, "HEAD": 1, "OPTIONS": 1}
    assert list(recording.snapshot.connections) == [1, 2]
    assert recording.snapshot.answers["list"]["form"] == "array"
    answers = base.answers
    assert (answers["no_header"]["status"], answers["bad_token"]["status"]) == (401, 401)
    assert answers["no_header"]["headers"]["www-authenticate"] == "Token"
    assert (
        answers["missing_id"]["body"]["detail"]
        == "No ModelProviderConnection matches the given query."
    )
    assert answers["non_integer_id"]["body"]["detail"] == "Not found."
    assert answers["method_not_allowed"]["body"]["detail"] == 'Method "GET" not allowed.'
    assert answers["no_header"]["body"]["id"] == "<uuid>"  # a fresh uuid per request
    assert base.server_version == "2.30.0+ls-model-providers-mock"
    assert base.schema_sha256 is not None and len(base.schema_sha256) == 64


def test_the_replay_answers_the_mocks_own_users_with_the_recorded_bodies(base: Snapshot) -> None:
    app = create_app(snapshot=base)
    state = app.state.mock
    personal = state.issue_refresh_token(state.data.users[0].id)  # a token the mock issues
    with Client(
        base_url="http://mock", api_key=personal, transport=SyncASGITransport(app)
    ) as client:
        detailed = client.get_connection_detailed(4)
    assert json.loads(detailed.content) == base.connections[4]
    with httpx.Client(transport=SyncASGITransport(app), base_url="http://mock") as http:
        headers = {"Authorization": f"Token {state.data.users[0].token}"}
        put = http.put("/api/model-provider-connections/1/", headers=headers)
        forbidden = http.get(
            "/api/model-provider-connections/1/",
            headers={"Authorization": f"Token {state.data.users[1].token}"},  # may not view
        )
        malformed = http.get(
            "/api/model-provider-connections/1/", headers={"Authorization": "Token"}
        )
    assert put.status_code == 405 and put.json()["detail"] == 'Method "PUT" not allowed.'
    assert put.headers["allow"] == base.answers["get"]["headers"]["allow"]  # the endpoint's
    assert forbidden.status_code == 403  # the mock's own checks stay
    assert malformed.status_code == 401
    assert malformed.json().keys() == base.answers["bad_token"]["body"].keys()


def test_the_replay_keeps_the_list_route_the_deployment_had(base: Snapshot) -> None:
    absent = edited(base, lambda d: d["answers"].update(
        list={"request": "GET api/model-provider-connections/", "status": 404,
              "headers": {"content-type": "text/html; charset=utf-8"}}
    ))  # fmt: skip
    app = create_app(snapshot=absent)
    token = app.state.mock.data.users[0].token
    with pytest.raises(RecordError, match="no list route") as raised:
        record("http://mock", token, ids=ALL, transport=SyncASGITransport(app))
    assert raised.value.exit_code == 2
    again = record(
        "http://mock", token, ids=[1], transport=SyncASGITransport(create_app(snapshot=absent))
    )
    assert again.snapshot.answers["list"] == absent.answers["list"]


# -- no credential and no secret, anywhere ---------------------------------------------------


def echoing_deployment(access_token: str) -> httpx.MockTransport:
    """A hostile deployment: every answer quotes the Authorization header it got, and a
    connection carries secrets in fields and values."""

    def handle(request: httpx.Request) -> httpx.Response:
        sent = request.headers.get("authorization", "")
        path = request.url.path
        if path.endswith("/api/token/refresh/") and request.method == "POST":
            return httpx.Response(200, json={"access": access_token})
        if path.endswith("/api/model-provider-connections/"):
            return httpx.Response(200, json=[{"id": 1}])
        if path.endswith("/1/") and sent == f"Bearer {access_token}":
            body = {"id": 1, "provider": "OpenAI", "note": f"you sent {sent}", "auth_token": "tok-123456",
                    "nested": {"clientSecret": "s3cr3t-value", "other": "AIza" + "x" * 35}}  # fmt: skip
            return httpx.Response(200, json=body, headers={"Allow": f"GET {sent}"})
        detail = f"bad header {sent!r}; see s3cr3t-value"
        return httpx.Response(
            401, json={"detail": detail, "id": sent}, headers={"WWW-Authenticate": sent or "Token"}
        )

    return httpx.MockTransport(handle)


def test_no_token_and_no_secret_value_reaches_a_snapshot_or_a_diff() -> None:
    refresh = "eyJhbGciOiJIUzI1NiJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCIsImV4cCI6NDEwMjQ0NDgwMH0.c2ln"
    access = "eyJhbGciOiJIUzI1NiJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiY2FuYXJ5IjoxfQ.Y2FuYXJ5"
    recording = record(
        "https://ls.example.com", refresh, ids=ALL, transport=echoing_deployment(access)
    )
    text = recording.snapshot.to_json()
    report = "\n".join(diff(recording.snapshot, recording.snapshot).lines())
    for secret in (refresh, access, "tok-123456", "s3cr3t-value", "AIza" + "x" * 35):
        assert secret not in text + report + repr(recording)
    body = recording.snapshot.connections[1]
    assert (
        body["auth_token"]
        == body["nested"]["clientSecret"]
        == body["nested"]["other"]
        == "<redacted>"
    )
    assert body["note"] == "you sent Bearer <redacted>"


def test_a_leaked_provider_key_and_the_canary_token_stay_out_of_a_served_snapshot(
    tmp_path: Path,
) -> None:
    with serve_in_thread(create_app(data=default_data(CANARY), defects=["secret_field"])) as served:
        recording = record(served.base_url, CANARY, ids=ALL)
    recording.snapshot.write(tmp_path / "s.json")
    text = (tmp_path / "s.json").read_text()
    assert CANARY not in text and LEAKED not in text
    assert all(body["api_key"] == "<redacted>" for body in recording.snapshot.connections.values())


# -- the format --------------------------------------------------------------------------------


def test_the_file_is_canonical_and_validates_against_its_schema(
    base: Snapshot, tmp_path: Path
) -> None:
    path = tmp_path / "s.json"
    base.write(path)
    text = path.read_text("ascii")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"
    assert Snapshot.load(path).to_json() == text
    jsonschema.Draft202012Validator(schema()).validate(json.loads(text))
    assert json.loads(text)["format"] == "ls-model-providers-snapshot"
    assert json.loads(text)["version"] == 1


def test_the_schema_file_uses_only_what_the_loader_interprets() -> None:
    jsonschema.Draft202012Validator.check_schema(schema())

    def keywords(node: dict[str, Any]) -> set[str]:
        """The keywords of a schema and of every schema inside it."""
        found = set(node)
        for sub in [*node.get("properties", {}).values(), *node.get("$defs", {}).values()]:
            found |= keywords(sub)
        for key in ("items", "additionalProperties"):
            if isinstance(node.get(key), dict):
                found |= keywords(node[key])
        return found

    assert keywords(schema()) <= KEYWORDS | ANNOTATIONS


def _text(edit: Callable[[str], str]) -> Callable[[dict[str, Any]], str]:
    """A change made to the file's text (for what ``json.dumps`` would never write)."""
    return lambda d: edit(json.dumps(d))


def _header(value: str) -> Callable[[dict[str, Any]], object]:
    return lambda d: d["answers"]["no_header"]["headers"].update({"www-authenticate": value})


NOT_HEADER = "an HTTP header value is printable latin-1"
MALFORMED: list[tuple[str, Callable[[dict[str, Any]], object] | str, str]] = [
    ("not-json", "{", "not JSON"),
    ("nan", '{"version": NaN}', "#/version: not a JSON number"),
    ("infinity", _text(lambda t: t.replace('"budget_limit": 1.0', '"budget_limit": Infinity')),
     "#/connections/0/body/budget_limit: not a JSON number"),
    ("overflow", _text(lambda t: t.replace('"budget_limit": 1.0', '"budget_limit": 1e400')),
     "#/connections/0/body/budget_limit: not a JSON number"),
    ("digits", _text(lambda t: t.replace('"budget_limit": 1.0', '"budget_limit": ' + "9" * 5000)),
     "not JSON"),
    ("surrogate-body", lambda d: d["connections"][0]["body"].update(endpoint="a\ud800"),
     "#/connections/0/body/endpoint: holds a lone surrogate"),
    # Written with surrogatepass: the three bytes ED A0 80 (UTF-8 forbids them) in the file.
    ("surrogate-raw", _text(lambda t: t.replace('"endpoint": null', '"endpoint": "\ud800"', 1)),
     "#/connections/0/body/endpoint: holds a lone surrogate"),
    ("surrogate-key", lambda d: d["connections"][0]["body"].update({"\udfff": 1}),
     "#/connections/0/body/\udfff: a key holds a lone surrogate"),
    ("surrogate-error", lambda d: d["answers"]["missing_id"]["body"].update(detail="\ud800 not found"),
     "#/answers/missing_id/body/detail: holds a lone surrogate"),
    ("surrogate-version", lambda d: d["server"].update(version="2.30\udbff"), "#/server/version: holds a lone surrogate"),
    ("header-not-latin-1", _header("\u00ff\u0100"), '/headers/www-authenticate: holds "\\u0100" (U+0100) at character 1'),
    ("header-crlf", _header("Token\r\nSet-Cookie: a=b"), 'www-authenticate: holds "\\r" (U+000D) at character 5'),
    ("header-nul", _header("Tok\x00en"), 'www-authenticate: holds "\\u0000" (U+0000) at character 3'),
    ("header-control", _header("Token\x7f"), "(U+007F) at character 5: " + NOT_HEADER),
    ("header-space", _header("Token "), "starts or ends with a space: " + NOT_HEADER),
    ("status-100", lambda d: d["answers"]["head"].update(status=100), "#/answers/head/status: must be at least 200, not 100"),
    ("status-600", lambda d: d["answers"]["missing_id"].update(status=600), "#/answers/missing_id/status: must be at most 599"),
    ("id-2**70", lambda d: (d["connections"][-1].update(id=2**70), d["connections"][-1]["body"].update(id=2**70)),
     "#/connections/6/id: must be at most 9223372036854775807"),
    ("body-id-true", lambda d: d["connections"][0]["body"].update(id=True), "#/connections/0/body/id: must be 1"),
    ("deep", "[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ("a-list", "[]", "#: must be object, not array"),
    ("other-format", lambda d: d.update(format="har"), "#/format: must be 'ls-model-providers-snapshot'"),
    ("newer-version", lambda d: d.update(version=2), "#/version: format version 2 is newer"),
    ("version-text", lambda d: d.update(version="1"), '#/version: must be 1, not "1"'),
    ("unknown-key", lambda d: d.update(extra=1), "#/extra: is not a key of this format"),
    ("id-text", lambda d: d["connections"][0].update(id="1"), "#/connections/0/id: must be integer, not string"),
    ("id-zero", lambda d: d["connections"][0].update(id=0), "#/connections/0/id: must be at least 1"),
    ("body-text", lambda d: d["connections"][1].update(body="{}"), "#/connections/1/body: must be object"),
    ("unordered", lambda d: d["connections"].reverse(), "#/connections/1/id: ids must be unique and ascending"),
    ("body-id", lambda d: d["connections"][2]["body"].update(id=99), "#/connections/2/body/id: must be 3"),
    ("no-probe", lambda d: d["answers"].pop("no_header"), '#/answers: lacks the required key "no_header"'),
    ("header", lambda d: d["answers"]["no_header"]["headers"].update(vary="x"), "#/answers/no_header/headers/vary: is not a key"),
    ("sha", lambda d: d["server"].update(schema_sha256="abc"), "#/server/schema_sha256: does not match"),
    ("form", lambda d: d["answers"]["list"].update(form="csv"), '#/answers/list/form: must be one of "array", "paginated"'),
]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "message"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED]
)
def test_a_malformed_snapshot_is_refused_naming_the_spot(
    base: Snapshot, tmp_path: Path, change: Any, message: str
) -> None:
    if isinstance(change, str):
        text = change
    else:
        data = copy.deepcopy(dict(base.data))
        edited_text = change(data)
        text = edited_text if isinstance(edited_text, str) else json.dumps(data)
    path = tmp_path / "bad.json"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    with pytest.raises(SnapshotError) as raised:
        Snapshot.load(path)
    assert str(raised.value).startswith(f"{path}: ")
    assert message in str(raised.value)
    document = None
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return
    beyond_a_schema = ("body/id", "ascending", "lone surrogate", "not a JSON number")
    if not any(words in message for words in beyond_a_schema):
        # What a schema can say, jsonschema says too: the file is the definition.
        assert not jsonschema.Draft202012Validator(schema()).is_valid(document)


def test_a_file_bigger_than_any_snapshot_is_refused_before_parsing(
    base: Snapshot, tmp_path: Path
) -> None:
    # A 40 MB file of zeros took 1.6 GB once parsed: what a file takes grows with its
    # values, so they are counted first (2,000,000 here, in 6 MB).
    data = copy.deepcopy(dict(base.data))
    data["connections"][0]["body"]["cached_available_models"] = [0] * 2_000_000
    path = tmp_path / "zeros.json"
    path.write_text(json.dumps(data, separators=(",", ":")))
    tracemalloc.start()
    try:
        with pytest.raises(SnapshotError) as raised:
            Snapshot.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert f"values or more, over the {MAX_FILE_TOKENS}" in str(raised.value)
    assert "refused before parsing" in str(raised.value)
    assert peak < 4 * path.stat().st_size, (
        f"{peak} bytes to refuse a {path.stat().st_size}-byte file"
    )
    path.write_bytes(b" " * (MAX_FILE_SIZE + 1))
    with pytest.raises(SnapshotError, match=f"larger than {MAX_FILE_SIZE} bytes"):
        Snapshot.load(path)


def test_the_limits_leave_room_for_thousands_of_connections(base: Snapshot) -> None:
    data = copy.deepcopy(dict(base.data))
    bodies = list(base.connections.values())
    data["connections"] = [
        {"id": i, "body": {**bodies[i % len(bodies)], "id": i}} for i in range(1, 10_001)
    ]
    text = json.dumps(data, indent=2, sort_keys=True)  # as written
    assert len(text) * 2 < MAX_FILE_SIZE
    assert (text.count("{") + text.count("[") + text.count(",")) * 2 < MAX_FILE_TOKENS
    assert len(Snapshot.from_json(text).connections) == 10_000


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match=r"missing\.json: cannot read it"):
        Snapshot.load(tmp_path / "missing.json")


# -- comparing ---------------------------------------------------------------------------------


def lines(old: Snapshot, new: Snapshot) -> list[str]:
    return diff(old, new).lines()


def test_servers_of_two_ages_compare_as_the_spec_diff_table_says() -> None:
    data = default_data()
    data.connections[6]["provider"] = "OpenRouter"  # a provider this fragment does not know
    older = snap(model_params="string", created_by_username=False, version="1.20.0")
    newer = snap(data=data)
    result = diff(older, newer)
    changes = {(c.where, c.what): c.breaking for c in result.changes}
    assert changes == {
        ("body.model_params", "type string -> object"): True,  # a type replaced
        ("body.created_by.username", "field added (required)"): False,  # a field added
        ("body.provider", 'enum value added: "OpenRouter"'): True,
        ("body.provider", 'enum value removed: "Custom"'): False,
        ("server.version", '"1.20.0" -> "2.30.0+ls-model-providers-mock"'): False,
    }
    assert result.exit_code == 1
    notes = {(n.connection, n.where, n.what, n.breaking) for n in result.connections}
    assert (7, "body.provider", 'enum value "Custom" -> "OpenRouter"', True) in notes
    assert (6, "body.created_by.username", "field added", False) not in notes  # created by nobody
    assert (1, "body.created_by.username", "field added", False) in notes
    assert (1, "body.model_params", "type string -> object", True) in notes
    back = {(c.where, c.what): c.breaking for c in diff(newer, older).changes}
    assert back[("body.created_by.username", "field removed")] is True
    assert back[("body.model_params", "type object -> string")] is True
    assert back[("body.provider", 'enum value added: "Custom"')] is True
    assert back[("body.provider", 'enum value removed: "OpenRouter"')] is False


def test_nothing_changed_is_exit_0(base: Snapshot) -> None:
    result = diff(base, base)
    assert (result.changes, result.connections, result.exit_code) == ((), (), 0)
    assert (
        result.lines()[-1]
        == "0 difference(s), 0 breaking (7 connection(s) in both snapshots compared)"
    )


def _null(field: str) -> Callable[[dict[str, Any]], object]:
    return lambda d: [c["body"].update({field: None}) for c in d["connections"][:1]]


@pytest.mark.parametrize(
    ("change", "where", "what", "breaking"),
    [
        (_null("scope"), "body.scope", "now nullable", True),
        (lambda d: d["connections"][0]["body"].pop("endpoint"), "body.endpoint", "no longer required", True),
        (lambda d: [c["body"].pop("endpoint") for c in d["connections"]], "body.endpoint", "field removed", True),
        (lambda d: d["connections"][0]["body"].update(budget_limit="1.0"), "body.budget_limit", "type number -> number/string", True),
        (lambda d: d["answers"]["missing_id"]["body"].update(detail="Not found."), "answer.missing_id.body.detail",
         'text "No ModelProviderConnection matches the given query." -> "Not found."', False),
        (lambda d: d["answers"]["no_header"]["body"].pop("exc_info"), "answer.no_header.body.exc_info", "field removed", True),
        (lambda d: d["answers"]["no_header"]["body"].update(hint="x"), "answer.no_header.body.hint", "field added (required)", False),
        (lambda d: d["answers"]["no_header"].update(status=403), "answer.no_header", "status 401 -> 403", True),
        (lambda d: d["answers"]["no_header"]["headers"].pop("www-authenticate"), "answer.no_header",
         'header www-authenticate removed (was "Token")', True),
        (lambda d: d["answers"]["missing_id"]["headers"].update(allow="GET, PUT"), "answer.missing_id",
         'header allow "GET, HEAD, OPTIONS" -> "GET, PUT"', False),
        # A proxy answering OPTIONS itself (nginx's 204): no client of this endpoint sends OPTIONS.
        (lambda d: d["answers"]["options"].update(status=204, headers={}), "answer.options",
         "status 200 -> 204 (OPTIONS: no client of this endpoint depends on it)", False),
        (lambda d: d["answers"]["options"].update(status=204, headers={}), "answer.options",
         'header allow removed (was "GET, HEAD, OPTIONS") (OPTIONS: no client of this endpoint depends on it)', False),
        (lambda d: d["answers"]["head"].update(status=405), "answer.head",
         "status 200 -> 405 (HEAD: no client of this endpoint depends on it)", False),
        (lambda d: d["answers"]["non_integer_id"]["headers"].update({"content-type": "text/html"}), "answer.non_integer_id",
         'content type "application/json" -> "text/html"', True),
        (lambda d: d["answers"]["list"].update(form="paginated", page_size=3), "answer.list", "form array -> paginated", True),
        (lambda d: d["server"].update(schema_sha256="0" * 64), "server.schema_sha256",
         "the served schema changed (spec-diff --base-url URL says how)", False),
    ],
    ids=["newly-nullable", "no-longer-required", "field-removed", "type-added", "detail-text", "error-key-removed",
         "error-key-added", "status", "challenge-removed", "allow-changed", "options-by-a-proxy",
         "options-allow-gone", "head-status", "content-type", "list-form", "schema"],
)  # fmt: skip
def test_each_kind_of_change_is_classified(
    base: Snapshot,
    change: Callable[[dict[str, Any]], object],
    where: str,
    what: str,
    breaking: bool,
) -> None:
    new = edited(base, change)
    found = [c for c in diff(base, new).changes if (c.where, c.what) == (where, what)]
    assert found and found[0].breaking is breaking, diff(base, new).changes
    assert diff(base, new).exit_code == int(any(c.breaking for c in diff(base, new).changes))


def test_the_reverse_of_a_narrowing_is_compatible(base: Snapshot) -> None:
    nullable = edited(base, _null("scope"))
    changes = {(c.where, c.what): c.breaking for c in diff(nullable, base).changes}
    assert changes == {("body.scope", "no longer nullable"): False}
    served = edited(
        base,
        lambda d: d["answers"]["list"].update(status=404, headers={"content-type": "text/html"}),
    )
    assert [str(c) for c in diff(served, base).changes] == [
        "compatible  answer.list: now served: status 404 -> 200"
    ]


def _bytecodes(run: Callable[[], object]) -> int:
    """The Python bytecodes ls_model_providers executes while ``run`` runs: work, not time."""
    package = str(Path(ls_model_providers.__file__).parent)
    count = 0

    def opcodes(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal count
        count += event == "opcode"
        return opcodes

    def calls(frame: FrameType, event: str, arg: object) -> Any:
        if not frame.f_code.co_filename.startswith(package):
            return None
        frame.f_trace_opcodes = True
        return opcodes

    sys.settrace(calls)
    try:
        run()
    finally:
        sys.settrace(None)
    return count


def test_comparing_is_linear_in_the_size_of_the_snapshots(base: Snapshot) -> None:
    # N connections with keys of their own took N**2 steps per key set (a 10 MB pair of
    # files, N=800: 127 s and 1.6 GB): four times the connections must be four times the work.
    def sized(connections: int, value: object) -> Snapshot:
        data = copy.deepcopy(dict(base.data))
        body = data["connections"][0]["body"]
        data["connections"] = [
            {"id": i, "body": {**body, "id": i, **{f"x{i}_{k}": value for k in range(4)}}}
            for i in range(1, connections + 1)
        ]
        return Snapshot.from_data(data)

    enum_fields()  # cached: read the fragment outside the count
    work = {}
    for connections in (50, 200):
        old, new = sized(connections, 1), sized(connections, "now a string")
        work[connections] = _bytecodes(lambda: diff(old, new).lines())  # noqa: B023
        assert len(diff(old, new).connections) == connections * 4
    assert work[200] < 4.4 * work[50], work


def test_more_distinct_fields_than_a_deployment_has_are_not_compared(
    base: Snapshot, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Linear, but each distinct field costs a schema and a shape a side: 640,000 of them
    # (800 connections with 800 keys of their own, a 10 MB file) took 1.6 GB.
    data = copy.deepcopy(dict(base.data))
    for index, connection in enumerate(data["connections"]):
        connection["body"].update({f"own{index}_{k}": k for k in range(MAX_COMPARED_FIELDS // 7)})
    many = Snapshot.from_data(data, "many.json")
    with pytest.raises(
        SnapshotError, match=f"many.json: its connections hold more than {MAX_COMPARED_FIELDS}"
    ):
        diff(base, many)
    (tmp_path / "base.json").write_text(base.to_json())
    many.write(tmp_path / "many.json")
    code = main(["snapshot-diff", str(tmp_path / "many.json"), str(tmp_path / "base.json")])
    assert code == 2
    assert (
        "distinct fields (a deployment's have a few hundred): not compared"
        in capsys.readouterr().err
    )


def test_connections_only_one_side_holds_are_listed_not_compared(base: Snapshot) -> None:
    fewer = snap(ids=[1, 2])
    result = diff(base, fewer)
    assert result.compared == 2 and result.exit_code == 0
    assert {(n.connection, n.what) for n in result.connections} == {
        (i, "only in the old snapshot") for i in range(3, 8)
    }


def test_a_live_deployment_is_compared_with_a_baseline(base: Snapshot) -> None:
    app = create_app(model_params="string")
    token = app.state.mock.data.users[0].token
    result, recording = diff_live(base, "http://mock", token, transport=SyncASGITransport(app))
    assert sorted(recording.snapshot.connections) == sorted(base.connections)
    assert [str(c) for c in result.breaking] == [
        "BREAKING    body.model_params: type object -> string"
    ]


# -- when a recording cannot complete ----------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "ids", "key", "code", "message"),
    [
        ({"defects": ["community"]}, ALL, None, 3, "not served"),
        ({}, [1], "f" * 40, 4, "credentials rejected (401: Invalid token.)"),
        (
            {},
            [1, 8],
            None,
            2,
            "connection 8 does not exist for these credentials",
        ),  # another organisation's
        ({"faults": "script=ok+503"}, [1, 2], None, 1, "connection 2: HTTP 503"),
    ],
    ids=["community", "bad-key", "missing-id", "server-error"],
)
def test_a_recording_that_cannot_complete_says_why_with_its_exit_code(
    options: dict[str, Any], ids: Any, key: str | None, code: int, message: str
) -> None:
    from ls_model_providers.mock import FaultPlan

    if "faults" in options:
        options = {"faults": FaultPlan.parse(options["faults"])}
    app = create_app(**options)
    with pytest.raises(RecordError) as raised:
        record(
            "http://mock",
            key or app.state.mock.data.users[0].token,
            ids=ids,
            transport=SyncASGITransport(app),
        )
    assert raised.value.exit_code == code
    assert message in str(raised.value)


def test_limits_and_unreachable_deployments() -> None:
    app = create_app()
    token = app.state.mock.data.users[0].token
    with pytest.raises(
        RecordError, match="request budget of 5 reached: raise --max-requests"
    ) as budget:
        record("http://mock", token, ids=ALL, max_requests=5, transport=SyncASGITransport(app))
    assert budget.value.exit_code == 6  # inconclusive: the recording ran out of its budget
    with serve_in_thread(create_app()) as served:
        closed = served.base_url
    with pytest.raises(RecordError, match="unreachable") as unreachable:
        record(closed, token, ids=[1], timeout=2)
    assert unreachable.value.exit_code == 5
    with pytest.raises(RecordError, match="base_url must be an http") as usage:
        record("ls.example.com", token, ids=[1])
    assert usage.value.exit_code == 2


def test_every_page_of_the_list_is_read_and_only_from_the_deployment() -> None:
    app = create_app(list_page_size=2)
    token = app.state.mock.data.users[0].token
    recording = record("http://mock", token, ids=ALL, transport=SyncASGITransport(app))
    assert sorted(recording.snapshot.connections) == list(range(1, 8))
    assert recording.snapshot.answers["list"] == {
        "request": "GET api/model-provider-connections/", "status": 200, "form": "paginated",
        "page_size": 2, "headers": {"allow": "GET, HEAD, OPTIONS", "content-type": "application/json"},
    }  # fmt: skip

    def elsewhere(request: httpx.Request) -> httpx.Response:
        assert request.url.host == "ls.example.com", "credentials sent to another host"
        page = {
            "count": 9,
            "next": "https://attacker.example/api/?page=2",
            "previous": None,
            "results": [{"id": 1}],
        }
        return httpx.Response(200, json=page)

    with pytest.raises(RecordError, match=r"not a new page of https://ls\.example\.com/") as raised:
        record("https://ls.example.com", token, ids=ALL, transport=httpx.MockTransport(elsewhere))
    assert raised.value.exit_code == 1


def test_a_next_page_quoting_the_key_is_scrubbed_before_it_is_cut() -> None:
    # The message shows 200 characters of the URL, where this one's key starts at 181.
    def elsewhere(request: httpx.Request) -> httpx.Response:
        key = request.headers["authorization"].split()[-1]
        page = {"next": "http://other.example/" + "a" * 160 + key, "results": [{"id": 1}]}
        return httpx.Response(200, json=page)

    with pytest.raises(RecordError, match="not a new page") as raised:
        record("https://ls.example.com", CANARY, ids=ALL, transport=httpx.MockTransport(elsewhere))
    assert "a" * 160 + "<redacted>" in str(raised.value)
    assert CANARY[:8] not in str(raised.value)


@pytest.mark.parametrize(
    ("odd", "message"),
    [
        (lambda r: httpx.Response(599, content=b"\x1b[31m<html>"), "connection 1: HTTP 599"),
        (lambda r: httpx.Response(200, json=[[[]]] if r.url.path.endswith("/1/") else {"results": "x"}),
         "connection 1: a 200 that is not this connection as a JSON object"),
        (lambda r: httpx.Response(200, json={"id": True}), "a 200 that is not this connection"),
        (lambda r: httpx.Response(200, content=b"[" * 1000), "a 200 that is not this connection"),
    ],
    ids=["599-html", "lists", "id-true", "deep"],
)  # fmt: skip
def test_an_odd_deployment_ends_in_an_exit_code_never_a_crash(
    odd: Callable[[httpx.Request], httpx.Response], message: str
) -> None:
    with pytest.raises(RecordError) as raised:
        record("https://ls.example.com", "k" * 40, ids=[1], transport=httpx.MockTransport(odd))
    assert (raised.value.exit_code, message in str(raised.value)) == (1, True)


def test_odd_probe_answers_are_recorded_as_they_came() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if (
            request.url.path.endswith("/1/")
            and request.method == "GET"
            and "authorization" in request.headers
        ):
            return httpx.Response(200, json={"id": 1})
        return httpx.Response(599, json=[1, {"x": None}], headers={"WWW-Authenticate": "x\x07y"})

    recording = record(
        "https://ls.example.com", "k" * 40, ids=[1], transport=httpx.MockTransport(handle)
    )
    odd = recording.snapshot.answers["no_header"]
    assert odd == {
        "request": "GET api/model-provider-connections/1/ without an Authorization header", "status": 599,
        "headers": {"content-type": "application/json"}, "body": [1, {"x": None}],
    }  # fmt: skip
    assert recording.snapshot.answers["list"]["status"] == 599
    # A BEL in a header: no HTTP server could replay it, so it is left out, and said so.
    assert any(
        "without an Authorization header: its www-authenticate header left out" in w
        and '"\\u0007" (U+0007)' in w
        for w in recording.warnings
    )


def test_a_schema_the_size_of_label_studios_is_hashed_past_the_body_limit() -> None:
    # Label Studio's full served schema is about 1.2 MB, over the 1 MiB every other answer
    # may have: the schema probe alone reads up to spec-diff's limit. Past that, only the
    # status is recorded.
    app = create_app()
    inner = SyncASGITransport(app)
    padding = ["x" * 1_300_000]

    def big_schema(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/docs/api/schema/json/":
            return httpx.Response(200, json={"paths": {}, "padding": padding[0]})
        return inner.handle_request(request)

    token = app.state.mock.data.users[0].token
    recording = record("http://mock", token, ids=[1], transport=httpx.MockTransport(big_schema))
    assert recording.snapshot.schema_sha256 is not None
    assert recording.warnings == ()
    padding[0] = "x" * (9 * 1024 * 1024)  # over spec-diff's 8 MiB
    recording = record("http://mock", token, ids=[1], transport=httpx.MockTransport(big_schema))
    assert recording.snapshot.schema_sha256 is None
    assert recording.snapshot.answers["schema"]["status"] == 200
    assert len(recording.warnings) == 1
    assert "only its status is recorded" in recording.warnings[0]


def test_a_schema_of_more_values_than_any_schema_is_not_parsed() -> None:
    # 63 MB of [{},{},...] took 3.1 GB once parsed; 3 MB of it took 70 MB for a hash.
    app = create_app()
    inner = SyncASGITransport(app)
    values = b"[" + b"{}," * 1_000_000 + b"{}]"

    def many_values(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/docs/api/schema/json/":
            return httpx.Response(200, content=values, headers={"content-type": "application/json"})
        return inner.handle_request(request)

    token = app.state.mock.data.users[0].token
    tracemalloc.start()
    try:
        recording = record(
            "http://mock", token, ids=[1], transport=httpx.MockTransport(many_values)
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert recording.snapshot.schema_sha256 is None
    assert len(recording.warnings) == 1
    assert "values or more, over the 500000" in recording.warnings[0]
    assert "refused before parsing): no sha256" in recording.warnings[0]
    assert peak < 8 * len(values), f"{peak} bytes for a {len(values)}-byte schema"


#: README row -> an edit of the base snapshot that is a change of that row.
README_ANSWER_ROWS: dict[str, Callable[[dict[str, Any]], object]] = {
    "an answer's status or content type changed": lambda d: d["answers"]["no_header"].update(status=403),
    "an answer's `Allow` or `WWW-Authenticate` removed": lambda d: d["answers"]["no_header"]["headers"].pop("www-authenticate"),
    "an answer's form": lambda d: d["answers"]["list"].update(form="paginated"),
    "any difference in the OPTIONS or HEAD answers": lambda d: d["answers"]["options"].update(status=204, headers={}),
    "the server's version, or its served schema": lambda d: d["server"].update(version="9.9", schema_sha256="0" * 64),
}  # fmt: skip


def test_the_readme_rows_about_answers_are_what_the_engine_says(base: Snapshot) -> None:
    from .conftest import ROOT

    table = (ROOT / "README.md").read_text().split("<!-- spec-diff table", 1)[1]
    rows = {}
    for line in table.splitlines()[1:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.split("|")[1:4]]
        for name in README_ANSWER_ROWS:
            if cells[0].startswith(name):
                rows[name] = cells[1].strip("*")
    assert set(rows) == set(README_ANSWER_ROWS), "each answer row of the README is checked"
    for name, edit in README_ANSWER_ROWS.items():
        changes = diff(base, edited(base, edit)).changes
        assert changes, name
        assert {c.breaking for c in changes} == {rows[name] == "breaking"}, (name, changes)
