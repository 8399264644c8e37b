"""Against a real Label Studio 1.23.2 (Community): what it serves, and how our mock compares."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ls_model_providers import (
    AsyncClient,
    Client,
    EndpointNotAvailableError,
    PersonalAccessTokenAuth,
)
from ls_model_providers.cli import main
from ls_model_providers.mock import ServedMock, create_app, default_data, serve_in_thread

FORGED_JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwidXNlcl9pZCI6MSwiZXhwIjo0MTAy"
    "NDQ0ODAwfQ.c2lnbmF0dXJl"
)


@pytest.fixture(scope="module")
def mock(real_token: str) -> Iterator[ServedMock]:
    with serve_in_thread(create_app(data=default_data(real_token))) as served:
        yield served


def test_client_says_endpoint_not_available(real_url: str, real_token: str) -> None:
    with (
        Client(base_url=real_url, api_key=real_token) as client,
        pytest.raises(EndpointNotAvailableError) as info,
    ):
        client.get_connection(1)
    assert "Community Edition" in str(info.value)
    assert info.value.status_code == 404
    assert real_token not in str(info.value)


@pytest.mark.anyio
async def test_async_client_says_endpoint_not_available(real_url: str, real_token: str) -> None:
    async with AsyncClient(base_url=real_url, api_key=real_token) as client:
        with pytest.raises(
            EndpointNotAvailableError, match="endpoint not available on this deployment"
        ):
            await client.get_connection(1)


def test_conformance_exits_3_naming_community(
    real_url: str, real_token: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["conformance", "--base-url", real_url, "--api-key", real_token])
    out, err = capsys.readouterr()
    assert code == 3
    assert "ENDPOINT NOT SERVED" in out
    assert "Label Studio 1.23.2 answered" in out
    assert "Community Edition" in out
    assert real_token not in out + err


def test_spec_diff_says_not_in_the_served_schema(
    real_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["spec-diff", "--base-url", real_url]) == 3
    assert "endpoint not in the served schema" in capsys.readouterr().out


def test_personal_access_token_refresh_for_real(real_url: str, real_token: str) -> None:
    with httpx.Client(base_url=real_url) as http:
        legacy = {"Authorization": f"Token {real_token}"}
        created = http.post("/api/token/", headers=legacy)
        # 409 means an earlier run made one (the list shows it without its signature): the
        # harness gives every run a fresh data dir, so this is always the first.
        assert created.status_code == 201, created.text
        refresh = created.json()["token"]
        auth = PersonalAccessTokenAuth(refresh, base_url=real_url)
        whoami = http.get("/api/current-user/whoami", auth=auth)
        assert whoami.status_code == 200, whoami.text
        assert whoami.json()["email"] == "admin@example.com"
        assert auth.refresh_count == 1
        assert http.get("/api/current-user/whoami", auth=auth).status_code == 200
        assert auth.refresh_count == 1, "the access token is reused until it nears exp"
    with Client(base_url=real_url + "/", api_key=refresh) as client:
        with pytest.raises(EndpointNotAvailableError):
            client.get_connection(1)
        assert client._auth.refresh_count == 1


# -- differential: the real server's nearest DRF detail endpoint vs our mock's endpoint -----

SCENARIOS: dict[str, tuple[str, str | None]] = {
    "no header": ("GET", None),
    "unknown token": ("GET", "Token wrong"),
    "Token without key": ("GET", "Token"),
    "Token with spaces": ("GET", "Token a b"),
    "Bearer garbage": ("GET", "Bearer garbage"),
    "Bearer forged JWT": ("GET", f"Bearer {FORGED_JWT}"),
    "missing id": ("GET", "valid"),
    "wrong method": ("POST", "valid"),
}


def _shape(response: httpx.Response, model: str) -> dict[str, Any]:
    try:
        body = response.json()
    except json.JSONDecodeError:
        body = None
    detail = body.get("detail") if isinstance(body, dict) else None
    return {
        "status": response.status_code,
        "json": response.headers.get("content-type", "").startswith("application/json"),
        "www-authenticate": response.headers.get("www-authenticate"),
        "allow present": "allow" in response.headers,
        "keys": sorted(body) if isinstance(body, dict) else None,
        "detail": detail.replace(model, "<Model>") if isinstance(detail, str) else detail,
    }


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_mock_answers_like_the_real_server(
    scenario: str, real_url: str, real_token: str, mock: ServedMock
) -> None:
    method, header = SCENARIOS[scenario]
    headers = (
        {}
        if header is None
        else {"Authorization": f"Token {real_token}" if header == "valid" else header}
    )
    real = httpx.request(method, f"{real_url}/api/projects/999999/", headers=headers)
    ours = httpx.request(
        method, f"{mock.base_url}/api/model-provider-connections/999999/", headers=headers
    )
    assert _shape(ours, "ModelProviderConnection") == _shape(real, "Project")


@pytest.mark.parametrize(
    "payload", [{"refresh": "not-a-token"}, {}], ids=["bad refresh", "no refresh"]
)
def test_token_refresh_errors_match(
    payload: dict[str, str], real_url: str, mock: ServedMock
) -> None:
    real = httpx.post(f"{real_url}/api/token/refresh/", json=payload)
    ours = httpx.post(f"{mock.base_url}/api/token/refresh/", json=payload)
    assert _shape(ours, "") == _shape(real, "")
    assert ours.json().get("validation_errors") == real.json().get("validation_errors")
