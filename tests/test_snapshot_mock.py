"""The mock's list route (what ``snapshot --all`` reads) and what a replay serves beyond the
recorded requests."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ls_model_providers.mock import SyncASGITransport, create_app
from ls_model_providers.snapshot import ALL, Snapshot, SnapshotError, record

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
