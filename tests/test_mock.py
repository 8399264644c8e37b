"""The mock behaves like Label Studio Enterprise, in-process and served (both pinned here)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_schema_validator import OAS30Validator

from ls_model_providers import Client, Connection, NotFoundError
from ls_model_providers._spec import load_spec
from ls_model_providers.mock import (
    DEFECTS,
    FaultPlan,
    MockData,
    MockState,
    SyncASGITransport,
    create_app,
    default_data,
    serve_in_thread,
)
from ls_model_providers.mock._data import MAX_DATA_FILE_SIZE

ENDPOINT = "/api/model-provider-connections/{}/"
LS_ERROR_KEYS = {"id", "status_code", "version", "detail", "exc_info"}
SPEC = load_spec()


def _schema_validator(name: str) -> OAS30Validator:
    schema = {"$ref": f"#/components/schemas/{name}", "components": SPEC["components"]}
    return OAS30Validator(schema)


CONNECTION = _schema_validator("ModelProviderConnection")
LS_ERROR = _schema_validator("LabelStudioError")


class Mock:
    """One way of reaching the mock: an httpx.Client plus the app's state."""

    def __init__(self, http: httpx.Client, state: MockState) -> None:
        self.http, self.state = http, state
        self.token = state.data.users[0].token

    def get(
        self, connection_id: object, auth: str | None = "token", method: str = "GET"
    ) -> httpx.Response:
        headers = {}
        if auth == "token":
            headers["Authorization"] = f"Token {self.token}"
        elif auth is not None:
            headers["Authorization"] = auth
        return self.http.request(method, ENDPOINT.format(connection_id), headers=headers)


@pytest.fixture(params=["in-process", "served"])
def make_mock(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A factory: make_mock(**create_app_kwargs) -> Mock, in each mode."""
    stack: list[Any] = []

    def factory(**kwargs: Any) -> Mock:
        app = create_app(**kwargs)
        if request.param == "in-process":
            transport = SyncASGITransport(app)
            stack.append(transport)
            http = httpx.Client(base_url="http://testserver", transport=transport)
        else:
            served = serve_in_thread(app)
            stack.append(served)
            http = httpx.Client(base_url=served.__enter__().base_url)
        stack.append(http)
        return Mock(http, app.state.mock)

    yield factory
    for item in reversed(stack):
        if isinstance(item, (httpx.Client, SyncASGITransport)):
            item.close()
        else:
            item.__exit__(None, None, None)


@pytest.fixture
def mock(make_mock: Any) -> Mock:
    m: Mock = make_mock()
    return m


def assert_ls_error(response: httpx.Response, status: int, detail: str) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert set(body) >= LS_ERROR_KEYS
    assert set(body) - LS_ERROR_KEYS <= {"validation_errors", "display_context"}
    LS_ERROR.validate(body)
    uuid.UUID(body["id"])
    assert body["status_code"] == status
    assert body["exc_info"] is None
    assert body["detail"] == detail
    return body


def test_every_connection_validates_against_the_fragment(mock: Mock) -> None:
    for conn in mock.state.data.connections:
        if conn["organization"] != 1:
            continue
        response = mock.get(conn["id"])
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.headers["allow"] == "GET, HEAD, OPTIONS"
        CONNECTION.validate(response.json())
        assert Connection.from_dict(response.json()).id == conn["id"]


def test_numbers_and_datetimes_look_like_the_real_server(mock: Mock) -> None:
    text = mock.get(1).text
    assert '"budget_limit":1.0' in text
    assert json.loads(text)["created_at"].endswith("Z")


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        (None, "Authentication credentials were not provided."),
        ("Token wrong", "Invalid token."),
        ("Token", "Invalid token header. No credentials provided."),
        ("Token a b", "Invalid token header. Token string should not contain spaces."),
        ("Bearer not-a-jwt", "Authentication credentials were not provided."),
        ("Basic YTpi", "Authentication credentials were not provided."),
    ],
)
def test_401s(mock: Mock, header: str | None, detail: str) -> None:
    response = mock.get(1, auth=header)
    assert_ls_error(response, 401, detail)
    assert response.headers["www-authenticate"] == "Token"
    assert "allow" in response.headers


def test_auth_is_checked_before_existence_and_method(mock: Mock) -> None:
    assert_ls_error(
        mock.get(999_999, auth=None), 401, "Authentication credentials were not provided."
    )
    assert_ls_error(
        mock.get("abc", auth=None), 401, "Authentication credentials were not provided."
    )
    assert_ls_error(
        mock.get(1, auth=None, method="DELETE"),
        401,
        "Authentication credentials were not provided.",
    )


def test_legacy_tokens_disabled(make_mock: Any) -> None:
    mock = make_mock(legacy_tokens=False)
    detail = "Authentication token no longer valid: legacy token authentication has been disabled for this organization"
    assert_ls_error(mock.get(1), 401, detail)


def test_404s(mock: Mock) -> None:
    missing = assert_ls_error(
        mock.get(999_999), 404, "No ModelProviderConnection matches the given query."
    )
    other_org = assert_ls_error(
        mock.get(8), 404, "No ModelProviderConnection matches the given query."
    )
    assert missing["detail"] == other_org["detail"]
    assert_ls_error(mock.get("abc"), 404, "Not found.")
    # Measured on the real stack (nox -s realserver): DRF's router reads ".5" as a format
    # suffix, and an unknown format is a JSON 404; a suffix it cannot match never routes.
    assert_ls_error(mock.get("1.5"), 404, "Not found.")
    assert mock.get("1.json").status_code == 200
    routed_away = mock.get("1.JSON")
    assert routed_away.status_code == 404
    assert routed_away.headers["content-type"].startswith("text/html")


def test_other_organisation_sees_its_own(mock: Mock) -> None:
    grace = mock.state.data.users[2].token
    assert mock.get(8, auth=f"Token {grace}").status_code == 200
    assert mock.get(1, auth=f"Token {grace}").status_code == 404


def test_403_without_view_permission(mock: Mock) -> None:
    alan = mock.state.data.users[1].token
    assert_ls_error(
        mock.get(1, auth=f"Token {alan}"), 403, "You do not have permission to perform this action."
    )


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_other_methods_are_405(mock: Mock, method: str) -> None:
    response = mock.get(1, method=method)
    assert_ls_error(response, 405, f'Method "{method}" not allowed.')
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"
    assert mock.get(1).status_code == 200, "nothing was changed"


def test_head_and_options(mock: Mock) -> None:
    get = mock.get(1)
    head = mock.get(1, method="HEAD")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]
    options = mock.get(1, method="OPTIONS")
    assert options.status_code == 200
    assert options.json()["renders"] == ["application/json"]


def test_unknown_paths_are_the_html_404_page(mock: Mock) -> None:
    response = mock.http.get("/api/nope/", headers={"Authorization": f"Token {mock.token}"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "404 | Label Studio" in response.text


def test_server_age_switches(make_mock: Any) -> None:
    old = make_mock(model_params="string", created_by_username=False)
    body = old.get(1).json()
    assert isinstance(body["model_params"], str)
    assert json.loads(body["model_params"])["type"] == "object"
    assert "username" not in body["created_by"]
    CONNECTION.validate(body)
    new = make_mock().get(1).json()
    assert isinstance(new["model_params"], dict)
    assert new["created_by"]["username"] == "ada"


def test_deleted_creator_is_null(mock: Mock) -> None:
    assert mock.get(6).json()["created_by"] is None


def test_personal_access_tokens(make_mock: Any) -> None:
    now = [1_900_000_000.0]
    mock = make_mock(clock=lambda: now[0], access_ttl=300)
    created = mock.http.post("/api/token/", headers={"Authorization": f"Token {mock.token}"})
    assert created.status_code == 201
    refresh = created.json()["token"]
    again = mock.http.post("/api/token/", headers={"Authorization": f"Token {mock.token}"})
    assert again.status_code == 409
    listed = mock.http.get("/api/token/", headers={"Authorization": f"Token {mock.token}"})
    assert listed.json() == [{"token": refresh}]
    access = mock.http.post("/api/token/refresh/", json={"refresh": refresh})
    assert access.status_code == 200
    bearer = f"Bearer {access.json()['access']}"
    assert mock.get(1, auth=bearer).status_code == 200
    assert (
        mock.http.get("/api/current-user/whoami", headers={"Authorization": bearer}).json()["id"]
        == 1
    )
    now[0] += 301
    expired = mock.get(1, auth=bearer)
    assert_ls_error(expired, 401, "Authentication credentials were not provided.")
    bad = mock.http.post("/api/token/refresh/", json={"refresh": refresh + "x"})
    assert_ls_error(bad, 401, "Token is invalid")
    assert bad.headers["www-authenticate"] == 'Bearer realm="api"'
    missing = mock.http.post("/api/token/refresh/", json={})
    body = assert_ls_error(missing, 400, "Validation error")
    assert body["validation_errors"] == {"refresh": ["This field is required."]}


@pytest.mark.parametrize(
    ("kind", "status"),
    [("429", 429), ("502", 502), ("503", 503), ("504", 504), ("html", 200), ("latency", 200)],
)
def test_faults(make_mock: Any, kind: str, status: int) -> None:
    mock = make_mock(faults=FaultPlan(script=[kind], latency=0.001, retry_after=2))
    response = mock.get(1)
    assert response.status_code == status
    if kind == "429":
        assert response.headers["retry-after"] == "2"
        assert_ls_error(response, 429, "Request was throttled. Expected available in 2 seconds.")
    if kind in ("html", "502"):
        assert response.headers["content-type"].startswith("text/html")
    assert mock.get(1).status_code == 200, "a script is consumed once"
    assert mock.state.faults.stats[kind] == 1
    assert mock.state.faults.stats["requests"] == 2


def test_truncated_body(make_mock: Any) -> None:
    mock = make_mock(faults=FaultPlan(script=["truncate"]))
    response = mock.get(1)
    assert response.status_code == 200
    assert int(response.headers["content-length"]) == len(response.content)
    with pytest.raises(ValueError, match=r"Unterminated|Expecting|Invalid"):
        json.loads(response.content)


def test_dropped_connection_when_served() -> None:
    app = create_app(faults=FaultPlan(script=["drop"]))
    with serve_in_thread(app) as served, httpx.Client(base_url=served.base_url) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            http.get(ENDPOINT.format(1), headers={"Authorization": f"Token {served.token}"})
        assert (
            http.get(
                ENDPOINT.format(1), headers={"Authorization": f"Token {served.token}"}
            ).status_code
            == 200
        )
        stats = http.get("/_mock/stats").json()
    assert stats["faults"]["drop"] == 1


def test_seeded_fault_plans_are_deterministic() -> None:
    first = FaultPlan(rate=0.5, seed=42)
    second = FaultPlan(rate=0.5, seed=42)
    sequence = [first.next_fault() for _ in range(200)]
    assert sequence == [second.next_fault() for _ in range(200)]
    assert 60 < sum(1 for f in sequence if f) < 140
    assert first.stats["faults"] == sum(1 for f in sequence if f)


def test_fault_spec_parsing() -> None:
    plan = FaultPlan.parse("rate=0.25,seed=3,kinds=429+drop,latency=0.01,retry_after=0")
    assert (plan.rate, plan.seed, plan.kinds, plan.latency, plan.retry_after) == (
        0.25,
        3,
        ("429", "drop"),
        0.01,
        0,
    )
    assert FaultPlan.parse("script=503+ok").script == ["503", "ok"]
    with pytest.raises(ValueError, match="unknown fault"):
        FaultPlan.parse("kinds=meteor")
    with pytest.raises(ValueError, match="unknown fault option"):
        FaultPlan.parse("speed=1")


def test_unknown_defect_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown defect"):
        create_app(defects=["gremlins"])
    assert len(DEFECTS) == 15


def test_data_round_trips_through_json(tmp_path: Path) -> None:
    path = tmp_path / "data.json"
    path.write_text(default_data().to_json())
    loaded = MockData.from_json(path)
    assert loaded == default_data()
    assert [c["id"] for c in loaded.connections] == list(range(1, 10))
    providers = {c["provider"] for c in loaded.connections}
    assert providers == {
        "OpenAI",
        "AzureOpenAI",
        "AzureAIFoundry",
        "VertexAI",
        "Gemini",
        "Anthropic",
        "Custom",
    }


def _padded(path: Path, size: int) -> Path:
    """Valid data, made ``size`` bytes long with trailing white space (still valid JSON)."""
    text = default_data().to_json()
    path.write_text(text + " " * (size - len(text)))
    return path


def test_a_data_file_is_read_bounded(tmp_path: Path) -> None:
    assert MockData.from_json(_padded(tmp_path / "fits.json", MAX_DATA_FILE_SIZE))
    big = _padded(tmp_path / "big.json", MAX_DATA_FILE_SIZE + 1)
    with pytest.raises(
        ValueError, match=rf"^{re.escape(str(big))}: larger than {MAX_DATA_FILE_SIZE} bytes"
    ):
        MockData.from_json(big)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_an_endless_data_file_is_refused_after_the_limit() -> None:
    import tracemalloc

    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"^/dev/zero: larger than"):
            MockData.from_json("/dev/zero")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * MAX_DATA_FILE_SIZE, f"{peak} bytes to refuse it"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[" * 200_000, "nested deeper than"),
        ('{"users": NaN, "connections": []}', "is not JSON"),
        ('{"users": [], "connections": [1e400]}', "is not JSON"),
        ("not json", "is not JSON: Expecting value: line 1 column 1"),
        (b"\xff\xfe{", "is not JSON"),
    ],
    ids=["deep", "nan", "overflow", "garbage", "not-utf"],
)
def test_a_data_file_outside_rfc_8259_is_a_value_error_naming_it(
    tmp_path: Path, content: str | bytes, message: str
) -> None:
    path = tmp_path / "bad.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(ValueError, match=rf"^{re.escape(str(path))}") as caught:
        MockData.from_json(path)
    assert message in str(caught.value)


def test_served_schema_is_the_fragment(mock: Mock) -> None:
    served = mock.http.get("/docs/api/schema/json/").json()
    assert served == SPEC


def test_our_client_against_the_served_mock(ls_mock_server: Any) -> None:
    with Client(base_url=ls_mock_server.base_url, api_key=ls_mock_server.token) as client:
        assert client.get_connection(2).deployment_name == "gpt-4o-prod"
        with pytest.raises(NotFoundError):
            client.get_connection(8)
        results = client.get_connections(range(1, 10), concurrency=4)
    assert [isinstance(r, Connection) for r in results] == [True] * 7 + [False] * 2


def test_our_client_pat_flow_against_the_served_mock() -> None:
    app = create_app()
    refresh = app.state.mock.issue_refresh_token(1)
    with (
        serve_in_thread(app) as served,
        Client(base_url=served.base_url + "/", api_key=refresh) as client,
    ):
        assert client.get_connection(1).id == 1
        assert client._auth.refresh_count == 1


@pytest.mark.anyio
async def test_in_process_through_asgi_transport(ls_mock_app: Any) -> None:
    from ls_model_providers import AsyncClient

    token = ls_mock_app.state.mock.data.users[0].token
    transport = httpx.ASGITransport(ls_mock_app)
    async with AsyncClient(base_url="http://mock", api_key=token, transport=transport) as client:
        conn = await client.get_connection(4)
    assert conn.provider == "VertexAI"
    assert conn.google_project_id == "acme-ml"


def test_community_serves_a_schema_without_the_endpoint(make_mock: Any) -> None:
    community = make_mock(defects=["community"])
    served = community.http.get("/docs/api/schema/json/")
    assert served.status_code == 200
    schema = served.json()
    assert schema["components"] == SPEC["components"], "the rest of the schema is served"
    assert not any(path.startswith("/api/model-provider-connections") for path in schema["paths"])


def test_importing_the_mock_without_its_extra_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib
    import sys

    import ls_model_providers

    monkeypatch.setattr(ls_model_providers, "mock", ls_model_providers.mock)  # put back after
    for name in list(sys.modules):
        if name.startswith("ls_model_providers.mock") or name == "jwt":
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "jwt", None)
    with pytest.raises(ModuleNotFoundError) as info:
        importlib.import_module("ls_model_providers.mock")
    assert str(info.value) == (
        "install the mock extra: pip install 'ls-model-providers[mock]' (missing module: jwt)"
    )
    assert info.value.name == "jwt"
