"""Differential fidelity: the same requests to our mock and to the real stack, compared on
status, content type, Allow, WWW-Authenticate, error body keys, detail texts, and 200 body
keys and JSON types. The mock holds the same users, tokens and rows as the real database.

The one knowing difference (README "Known differences"): the mock implements no writes, so
its ``Allow`` lists GET, HEAD, OPTIONS where a ModelViewSet lists PUT, PATCH, DELETE too, and
its OPTIONS body has no ``actions`` (the form a client would PUT).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ls_model_providers.mock import MockData, ServedMock, User, create_app, serve_in_thread

from .lsaddon import model_params
from .stack import Stack

#: lsaddon.roles.MANAGING (that module needs Django, which lives in the server's venv only).
MANAGING = ("Administrator", "Manager")
REAL_ALLOW = "GET, PUT, PATCH, DELETE, HEAD, OPTIONS"
MOCK_ALLOW = "GET, HEAD, OPTIONS"
ENDPOINT = "/api/model-provider-connections/"
FORGED_JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwidXNlcl9pZCI6MSwiZXhwIjo0MTAy"
    "NDQ0ODAwfQ.c2lnbmF0dXJl"
)


def mock_data(stack: Stack) -> MockData:
    """The seeded users and rows, as the mock stores them."""
    orgs = {int(n): org_id for n, org_id in stack.seeded["orgs"].items()}
    users = [
        User(u["id"], u["email"], u["first_name"], u["last_name"], u["key"], orgs[u["org"]],
             u["token"], can_view=u["role"] in MANAGING or "owns" in u or u["key"] == "admin",
             is_active=u.get("state") != "deactivated", removed=u.get("state") == "removed")
        for u in stack.seeded["users"] if u["id"] is not None
    ]  # fmt: skip
    connections = []
    for row in stack.rows:
        if row["expected"] is None:
            continue  # a row of no organisation: nobody sees it (a 404 in both, like a missing id)
        creator = row["expected"]["created_by"]
        connections.append({**row["expected"], "created_by": creator and creator["id"],
                            "model_params": model_params.schema(row["expected"]["provider"])})  # fmt: skip
    return MockData(users=users, connections=connections)


@pytest.fixture(scope="module", params=["object", "string"])
def pair(request: pytest.FixtureRequest, stack: Stack) -> Iterator[tuple[str, str]]:
    """(real URL, mock URL) in one ``model_params`` form; the mock as old as 1.23.2
    (``created_by`` without ``username``)."""
    app = create_app(data=mock_data(stack), model_params=request.param, created_by_username=False)
    with stack.switched(request.param), serve_in_thread(app) as mock:
        yield stack.url, mock.base_url


@pytest.fixture(scope="module")
def legacy_off_mock(stack: Stack) -> Iterator[ServedMock]:
    with serve_in_thread(create_app(data=mock_data(stack), legacy_tokens=False)) as mock:
        yield mock


def _types(value: Any) -> Any:
    """The JSON types of a value, recursively (object keys kept)."""
    if isinstance(value, dict):
        return {k: _types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_types(v) for v in value]
    return {bool: "boolean", int: "integer", float: "number", str: "string", type(None): "null"}[
        type(value)
    ]


def shape(response: httpx.Response) -> dict[str, Any]:
    ctype = response.headers.get("content-type", "").split(";")[0]
    allow = response.headers.get("allow")
    out: dict[str, Any] = {
        "status": response.status_code,
        "content-type": ctype,
        # The knowing difference, by its exact values: anything else still differs.
        "allow": "<ModelViewSet>" if allow in (REAL_ALLOW, MOCK_ALLOW) else allow,
        "www-authenticate": response.headers.get("www-authenticate"),
        "body is empty": response.content == b"",
    }
    if ctype == "application/json" and response.content:
        body = response.json()
        if isinstance(body, dict) and "detail" in body:
            out["error keys"] = sorted(body)
            out["detail"] = body["detail"]
        elif isinstance(body, dict) and "renders" in body:  # OPTIONS metadata
            out["options"] = {k: v for k, v in body.items() if k != "actions"}
        else:
            out["200 types"] = _types(body)
    return out


def _auth(stack: Stack, who: str | None) -> dict[str, str]:
    if who is None:
        return {}
    if " " in who or who in ("Token", "Bearer"):
        return {"Authorization": who}
    return {"Authorization": f"Token {stack.token(who)}"}


def _compare(pair: tuple[str, str], method: str, path: str, headers: dict[str, str]) -> None:
    real_url, mock_url = pair
    real = httpx.request(method, real_url + path, headers=headers)
    ours = httpx.request(method, mock_url + path, headers=headers)
    assert shape(ours) == shape(real), f"{method} {path}"
    if shape(real)["allow"] == "<ModelViewSet>":
        assert (real.headers["allow"], ours.headers["allow"]) == (REAL_ALLOW, MOCK_ALLOW)


def test_every_seeded_row(pair: tuple[str, str], stack: Stack) -> None:
    for row in stack.rows:
        viewer = "grace" if row["org"] == 2 else "admin"
        _compare(pair, "GET", f"{ENDPOINT}{row['id']}/", _auth(stack, viewer))


ID_CASES = {
    "missing id": "999999/",
    "id 0": "0/",
    "negative id": "-1/",
    "non-integer id": "abc/",
    "beyond int32": f"{2**31}/",
    "max bigint": f"{2**63 - 1}/",
    "beyond bigint": f"{2**63}/",
    "beyond any integer": f"{10**30}/",
    "no trailing slash": "{id}",
    "format suffix": "{id}.json",
    "format suffix and slash": "{id}.json/",
    "unknown format suffix": "{id}.xml",
    "a dot in the id": "1.5",
    "a suffix the router cannot match": "{id}.JSON",
    "unknown format parameter": "{id}/?format=api",
}


@pytest.mark.parametrize("who", ["admin", None])
@pytest.mark.parametrize("case", ID_CASES)
def test_ids_and_paths(pair: tuple[str, str], stack: Stack, case: str, who: str | None) -> None:
    existing = stack.row("provider-OpenAI")["id"]
    _compare(pair, "GET", ENDPOINT + ID_CASES[case].format(id=existing), _auth(stack, who))


def test_another_organisations_id(pair: tuple[str, str], stack: Stack) -> None:
    _compare(pair, "GET", f"{ENDPOINT}{stack.row('other-org')['id']}/", _auth(stack, "admin"))


@pytest.mark.parametrize("who", ["admin", None])
@pytest.mark.parametrize("method", ["HEAD", "OPTIONS", "POST"])
def test_methods(pair: tuple[str, str], stack: Stack, method: str, who: str | None) -> None:
    # POST is the write method sent: a detail route never accepts it, so nothing changes
    # on the real stack (a PUT, PATCH or DELETE there would write).
    _compare(pair, method, f"{ENDPOINT}{stack.row('provider-OpenAI')['id']}/", _auth(stack, who))


AUTH_CASES = {
    "no header": None,
    "Token without a key": "Token",
    "Token with spaces": "Token a b",
    "unknown token": "Token 0123456789abcdef0123456789abcdef01234567",
    "Bearer without a token": "Bearer",
    "Bearer garbage": "Bearer garbage",
    "Bearer forged JWT": f"Bearer {FORGED_JWT}",
    "Basic": "Basic YWRtaW46cGFzcw==",
    "deactivated user": "deactivated@1",
    "a role without the permission": "annotator",
    "a manager": "manager",
}


@pytest.mark.parametrize("missing", [False, True], ids=["existing id", "missing id"])
@pytest.mark.parametrize("case", AUTH_CASES)
def test_auth(pair: tuple[str, str], stack: Stack, case: str, missing: bool) -> None:
    target = 999999 if missing else stack.row("provider-OpenAI")["id"]
    _compare(pair, "GET", f"{ENDPOINT}{target}/", _auth(stack, AUTH_CASES[case]))


def test_legacy_tokens_disabled(stack: Stack, legacy_off_mock: ServedMock) -> None:
    # Per organisation on the real stack (organisation 3), for the whole mock.
    headers = _auth(stack, "legacy-off")
    _compare((stack.url, legacy_off_mock.base_url), "GET", f"{ENDPOINT}1/", headers)


@pytest.fixture(scope="module")
def real_pat(stack: Stack) -> tuple[str, str]:
    """grace's personal access token on the real stack (refresh, access), made once."""
    created = httpx.post(stack.url + "/api/token/", headers=_auth(stack, "grace"))
    assert created.status_code == 201, created.text
    refresh = created.json()["token"]
    refreshed = httpx.post(stack.url + "/api/token/refresh/", json={"refresh": refresh})
    return refresh, refreshed.json()["access"]


def test_personal_access_tokens(
    pair: tuple[str, str], stack: Stack, real_pat: tuple[str, str]
) -> None:
    real_url, mock_url = pair
    created = httpx.post(mock_url + "/api/token/", headers=_auth(stack, "grace"))
    assert created.status_code == 201
    mock_refresh = created.json()["token"]
    refreshed = httpx.post(mock_url + "/api/token/refresh/", json={"refresh": mock_refresh})
    mock_pat = mock_refresh, refreshed.json()["access"]
    # grace's own organisation's row (200), another organisation's (404); then the refresh
    # token sent as if it were an access token (401 "not provided" on both).
    paths = [
        f"{ENDPOINT}{stack.row('other-org')['id']}/",
        f"{ENDPOINT}{stack.row('provider-Anthropic')['id']}/",
    ]
    for path, which in [(paths[0], 1), (paths[1], 1), (paths[0], 0)]:
        real = httpx.get(real_url + path, headers={"Authorization": f"Bearer {real_pat[which]}"})
        ours = httpx.get(mock_url + path, headers={"Authorization": f"Bearer {mock_pat[which]}"})
        assert shape(ours) == shape(real), (path, which)


def test_shape_sees_differences() -> None:
    # The comparison itself can fail: a type, a key or a detail that differs is seen.
    a = httpx.Response(200, json={"id": 1, "budget_limit": 1.0}, headers={"allow": REAL_ALLOW})
    b = httpx.Response(200, json={"id": 1, "budget_limit": "1.0"}, headers={"allow": MOCK_ALLOW})
    c = httpx.Response(404, json={"detail": "Not found.", "id": "x"})
    d = httpx.Response(404, json={"detail": "Not Found", "id": "x"})
    assert shape(a) != shape(b)
    assert shape(c) != shape(d)
    assert shape(a)["allow"] == "<ModelViewSet>" == shape(b)["allow"]
    assert json.dumps(_types({"x": [1, None]})) == '{"x": ["integer", "null"]}'
