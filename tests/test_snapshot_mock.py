"""The mock's list route (what ``snapshot --all`` reads) and what a replay serves beyond the
recorded requests."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ls_model_providers._spec import load_spec
from ls_model_providers.mock import SyncASGITransport, create_app, serve_in_thread
from ls_model_providers.snapshot import ALL, Snapshot, SnapshotError, record
from ls_model_providers.snapshot._format import PROBES
from ls_model_providers.snapshot._record import KEPT_HEADERS
from ls_model_providers.toolkit.schemas import schema_sha256

from . import hostile

LIST = "/api/model-provider-connections/"


def client(**options: Any) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    app = create_app(**options)
    token = app.state.mock.data.users[0].token
    with httpx.Client(transport=SyncASGITransport(app), base_url="http://mock") as http:
        yield http, {"Authorization": f"Token {token}"}


@pytest.fixture
def plain() -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    yield from client()


@pytest.fixture
def paged() -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    yield from client(list_page_size=3)


def test_the_list_is_a_json_array_of_the_callers_organisation(
    plain: tuple[httpx.Client, dict[str, str]],
) -> None:
    http, auth = plain
    answer = http.get(LIST, headers=auth)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert [c["id"] for c in answer.json()] == [1, 2, 3, 4, 5, 6, 7]  # not organisation 2's 8, 9
    assert answer.json()[1] == http.get(f"{LIST}2/", headers=auth).json()  # the detail's body
    assert http.get(LIST.rstrip("/"), headers=auth).json() == answer.json()  # no redirect


def test_the_list_checks_like_the_detail_route(plain: tuple[httpx.Client, dict[str, str]]) -> None:
    http, auth = plain
    anonymous = http.get(LIST)
    assert (anonymous.status_code, anonymous.headers["www-authenticate"]) == (401, "Token")
    assert http.post(LIST, headers=auth).json()["detail"] == 'Method "POST" not allowed.'
    assert http.head(LIST, headers=auth).content == b""
    assert http.options(LIST, headers=auth).json()["name"] == "Model Provider Connection List"


def test_with_a_page_size_the_list_is_drf_pages(paged: tuple[httpx.Client, dict[str, str]]) -> None:
    http, auth = paged
    first = http.get(LIST, headers=auth).json()
    assert (first["count"], first["previous"], [c["id"] for c in first["results"]]) == (
        7,
        None,
        [1, 2, 3],
    )
    second = http.get(first["next"], headers=auth).json()
    assert second["previous"] == "http://mock/api/model-provider-connections/"
    last = http.get(second["next"], headers=auth).json()
    assert ([c["id"] for c in last["results"]], last["next"]) == ([7], None)
    assert last["previous"] == "http://mock/api/model-provider-connections/?page=2"
    for page in ("4", "0", "x"):
        beyond = http.get(LIST, params={"page": page}, headers=auth)
        assert (beyond.status_code, beyond.json()["detail"]) == (404, "Invalid page.")


def test_create_app_refuses_what_it_cannot_serve(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="list_page_size must be a positive integer"):
        create_app(list_page_size=0)
    app = create_app()
    snapshot = record(
        "http://mock", app.state.mock.data.users[0].token, ids=[1], transport=SyncASGITransport(app)
    ).snapshot
    with pytest.raises(ValueError, match="defects apply to the mock's own data"):
        create_app(snapshot=snapshot, defects=["wrong_type"])
    (tmp_path / "bad.json").write_text('{"format": "ls-model-providers-snapshot", "version": 1}')
    with pytest.raises(SnapshotError, match=r'bad\.json: #: lacks the required key "server"'):
        create_app(snapshot=tmp_path / "bad.json")


def test_a_replay_serves_the_schema_only_when_the_deployment_served_ours() -> None:
    app = create_app()
    token = app.state.mock.data.users[0].token
    ours = record("http://mock", token, ids=[1], transport=SyncASGITransport(app)).snapshot
    data = copy.deepcopy(dict(ours.data))
    data["server"]["schema_sha256"] = data["answers"]["schema"]["sha256"] = "0" * 64
    theirs = Snapshot.from_data(data)
    for snapshot, status in ((ours, 200), (theirs, 404)):
        with httpx.Client(transport=SyncASGITransport(create_app(snapshot=snapshot))) as http:
            assert http.get("http://mock/docs/api/schema/json/").status_code == status


def test_a_replay_of_a_paginated_list_pages_the_same_way() -> None:
    app = create_app(list_page_size=2)
    token = app.state.mock.data.users[0].token
    snapshot = record("http://mock", token, ids=ALL, transport=SyncASGITransport(app)).snapshot
    replay = create_app(snapshot=snapshot)
    with httpx.Client(transport=SyncASGITransport(replay), base_url="http://mock") as http:
        first = http.get(LIST, headers={"Authorization": f"Token {token}"}).json()
    assert (first["count"], len(first["results"])) == (7, 2)
    assert first["results"][0] == snapshot.connections[1]


def _paged_apps() -> Iterator[tuple[str, Any, str]]:
    app = create_app(list_page_size=2)
    token = app.state.mock.data.users[0].token
    yield "list_page_size", app, token
    snapshot = record("http://mock", token, ids=ALL, transport=SyncASGITransport(app)).snapshot
    yield "replay", create_app(snapshot=snapshot), token


#: ``?page=`` as Django's ``int()`` reads it (DRF's PageNumberPagination): a page, or "Invalid
#: page." for anything int() refuses ("²" is a digit to str.isdigit, no int to int()) or
#: outside 1..4 (7 connections, 2 a page).
PAGES = {
    "²": None, "9" * 5000: None, "9" * 40: None, "0": None, "-1": None, "5": None, "x": None,
    "2.0": None, "": 1, " 2 ": 2, "٣": 3, "last": 4,
}  # fmt: skip


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_an_invalid_page_is_drfs_404_never_a_server_error(method: str) -> None:
    for name, app, token in _paged_apps():
        auth = {"Authorization": f"Token {token}"}
        with httpx.Client(transport=SyncASGITransport(app), base_url="http://mock") as http:
            for page, number in PAGES.items():
                answer = http.request(method, LIST, params={"page": page}, headers=auth)
                got = (name, page[:10], answer.status_code)
                assert got == (name, page[:10], 404 if number is None else 200)
                if method == "HEAD":
                    continue
                body = answer.json()
                if number is None:
                    assert body["detail"] == "Invalid page.", got
                else:
                    assert body["results"][0]["id"] == 2 * number - 1, got


# -- every file that loads replays without a server error --------------------------------------


class _Switch:
    """An ASGI app that forwards to ``app`` (swapped per example: one server for them all) and
    keeps every exception the app raised, h11's refusals of what it was asked to send too."""

    def __init__(self) -> None:
        self.app: Any = None
        self.errors: list[BaseException] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            self.errors.append(exc)
            raise


@pytest.fixture(scope="module")
def switch() -> Iterator[tuple[_Switch, str]]:
    switch = _Switch()
    with serve_in_thread(cast(Any, switch)) as served:
        yield switch, served.base_url


def replay_every_route(switch: _Switch, base_url: str, snapshot: Snapshot) -> int:
    """Serve ``snapshot`` on a real socket (uvicorn and h11, as ``mock --snapshot`` does) and
    send what the replay answers from it: every route, with and without credentials. Fails
    on an exception in the server or an answer the client cannot read. How many requests."""
    app = create_app(snapshot=snapshot)
    token = app.state.mock.data.users[0].token
    switch.app, switch.errors[:] = app, []
    detail = [f"{LIST}{i}/" for i in [*sorted(snapshot.connections)[:2], 2**63 - 1, "abc"]]
    paths = [*detail, LIST, f"{LIST}?page=2", "/api/version", "/api/token/refresh/",
             "/docs/api/schema/json/"]  # fmt: skip
    sent = 0
    with httpx.Client(base_url=base_url, timeout=10) as http:
        for authorization in (f"Token {token}", None, "Token " + "0" * 40):
            headers = {"Authorization": authorization} if authorization else {}
            for path in paths:
                http.get(path, headers=headers)
                sent += 1
            for method in ("HEAD", "OPTIONS", "PUT", "DELETE"):
                http.request(method, detail[0], headers=headers)
                http.request(method, LIST, headers=headers)
                sent += 2
    assert switch.errors == []
    return sent


def _hostile_deployment(sock: hostile.Sock, method: str, path: str) -> None:
    """What no snapshot can hold as it came: lone surrogates (as JSON escapes: raw bytes of
    one are not UTF-8, and not JSON) in bodies, keys and error text, header values that are
    not latin-1 or hold a control."""
    connection = (
        b'{"id": 1, "provider": "OpenAI", "deployment_name": "a\\ud800b", '
        b'"endpoint": "\\udc01", "\\udfff": 1, "model_params": {"x": "\\udbff"}}'
    )
    # "ÿĀ" in UTF-8 (httpx reads it as text no latin-1 encoder takes), and a BEL.
    strange = b"WWW-Authenticate: \xc3\xbf\xc4\x80\r\nAllow: GET,\x07HEAD\r\n\r\n"
    if path.rstrip("/").endswith("model-provider-connections"):
        body, status = b"[" + connection + b"]", "200 OK"
    elif path.endswith("/1/"):
        body, status = connection, "200 OK"
    else:
        error = '{"id": "e", "status_code": 401, "version": "2.30\\ud800", "detail": "no \\udc00"}'
        body, status = error.encode(), "401 Unauthorized"
    head = hostile.head(status, content_type="application/json", content_length=len(body))
    head = head.removesuffix(b"\r\n") + strange
    sock.sendall(head if method == "HEAD" else head + body)


def test_a_hostile_deployment_is_recorded_as_a_file_the_mock_serves(
    switch: tuple[_Switch, str], tmp_path: Path
) -> None:
    with hostile.serve(_hostile_deployment) as deployment:
        recording = record(deployment.base_url, "k" * 40, ids=[1])
    warnings = "\n".join(recording.warnings)
    assert "lone surrogate(s) in the deployment's text replaced by U+FFFD" in warnings
    assert "its www-authenticate header left out" in warnings and "(U+0100)" in warnings
    assert "its allow header left out" in warnings and "(U+0007)" in warnings
    path = tmp_path / "hostile.json"
    recording.snapshot.write(path)
    loaded = Snapshot.load(path)  # what `mock --snapshot` does first
    assert loaded.connections[1]["deployment_name"] == "a\ufffdb"
    assert loaded.connections[1]["endpoint"] == "\ufffd"
    assert loaded.server_version == "2.30\ufffd"
    assert replay_every_route(*switch, loaded) > 30


def _characters(hostile: bool) -> st.SearchStrategy[str]:
    """Any character; ``hostile``: lone surrogates too (hypothesis leaves them out by default)."""
    return st.characters(exclude_categories=()) if hostile else st.characters()


def _json(hostile: bool) -> st.SearchStrategy[Any]:
    """JSON values; ``hostile``: with lone surrogates, NaN, Infinity and huge integers too."""
    scalars = (
        st.none() | st.booleans() | st.floats(allow_nan=hostile, allow_infinity=hostile)
        | st.integers(min_value=-(2**70), max_value=2**70)
        | st.text(_characters(hostile), max_size=8)
    )  # fmt: skip
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
        max_leaves=8,
    )  # fmt: skip


def _header(hostile: bool) -> st.SearchStrategy[str]:
    usual = st.sampled_from(["Token", "application/json", "text/html; charset=utf-8", "GET, HEAD"])
    if not hostile:
        return usual | st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=6)
    return usual | st.text(st.characters(max_codepoint=0x17F, exclude_categories=()), max_size=6)


@st.composite
def _snapshots(draw: st.DrawFn) -> dict[str, Any]:
    """Snapshot documents: half of them hostile (most of those the format refuses), and
    some it takes that no recording would make (204s with bodies, 5xx errors, odd types)."""
    hostile = draw(st.booleans())
    largest = 2**64 if hostile else 2**63 - 1
    ids = sorted(draw(st.sets(st.integers(min_value=1, max_value=largest), max_size=3)))
    keys = st.text(_characters(hostile), max_size=6)
    bodies = [{**draw(st.dictionaries(keys, _json(hostile), max_size=4)), "id": i} for i in ids]
    statuses = st.sampled_from([200, 201, 204, 205, 304, 401, 404, 405, 500, 599])
    answers = {}
    for name in (*PROBES, "get"):
        answer: dict[str, Any] = {
            "request": name,
            "status": draw(statuses | st.integers(0, 999) if hostile else statuses),
            "headers": draw(st.dictionaries(st.sampled_from(KEPT_HEADERS), _header(hostile), max_size=3)),
        }  # fmt: skip
        if draw(st.booleans()):
            error = st.fixed_dictionaries({"detail": _json(hostile), "id": st.just("<uuid>")})
            answer["body"] = draw(error | _json(hostile))
        if name == "list" and draw(st.booleans()):
            answer["form"] = draw(st.sampled_from(["array", "paginated"]))
            answer["page_size"] = draw(st.none() | st.integers(min_value=1, max_value=3))
        answers[name] = answer
    version = st.none() | st.text(_characters(hostile), max_size=6)
    return {
        "format": "ls-model-providers-snapshot", "version": 1,
        "server": {"version": draw(version),
                   "schema_sha256": draw(st.sampled_from([None, "0" * 64, schema_sha256(load_spec())]))},
        "connections": [{"id": i, "body": b} for i, b in zip(ids, bodies, strict=True)],
        "answers": answers,
    }  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=_snapshots())
def test_every_file_that_loads_replays_without_a_server_error(
    switch: tuple[_Switch, str], document: dict[str, Any]
) -> None:
    text = json.dumps(document).encode("utf-8", "surrogatepass")  # what a file could hold
    try:
        snapshot = Snapshot.from_json(text, "fuzzed.json")
    except SnapshotError as refused:
        assert str(refused).startswith("fuzzed.json: ")
        event("refused")
        return
    event("loaded")
    replay_every_route(*switch, snapshot)


@pytest.mark.parametrize("raw_id", ["²", "1" * 5000, "9" * 20, "-1", "0"])
def test_replay_never_fails_on_an_odd_id(raw_id: str) -> None:
    source = create_app()
    token = source.state.mock.data.users[0].token
    snapshot = record("http://mock", token, ids=[1], transport=SyncASGITransport(source)).snapshot
    replay = create_app(snapshot=snapshot)
    with httpx.Client(transport=SyncASGITransport(replay)) as http:
        answer = http.get(
            f"http://mock/api/model-provider-connections/{raw_id}/",
            headers={"Authorization": f"Token {token}"},
        )
    assert answer.status_code == 404
