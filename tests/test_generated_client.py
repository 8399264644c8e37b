"""The generated library on its own, against the mock: sync and async, plain and detailed,
a legacy token (``prefix="Token"``) and a Bearer access token."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from http import HTTPStatus

import httpx
import pytest

from ls_model_providers import PersonalAccessTokenAuth
from ls_model_providers.mock import ServedMock, SyncASGITransport, create_app, serve_in_thread
from ls_model_providers_api import AuthenticatedClient
from ls_model_providers_api.api.model_providers import (
    api_model_provider_connections_retrieve as retrieve,
)
from ls_model_providers_api.models import LabelStudioError, ModelProviderConnection


@pytest.fixture(scope="module")
def served() -> Iterator[ServedMock]:
    with serve_in_thread(create_app()) as mock:
        yield mock


def access_token(served: ServedMock) -> str:
    refresh = served.state.issue_refresh_token(served.state.data.users[0].id)
    answer = httpx.post(f"{served.base_url}/api/token/refresh/", json={"refresh": refresh})
    token: str = answer.json()["access"]
    return token


@pytest.mark.parametrize("scheme", ["Token", "Bearer"])
def test_sync_and_detailed(served: ServedMock, scheme: str) -> None:
    token = served.token if scheme == "Token" else access_token(served)
    with AuthenticatedClient(base_url=served.base_url, token=token, prefix=scheme) as client:
        conn = retrieve.sync(1, client=client)
        assert isinstance(conn, ModelProviderConnection)
        assert conn.id == 1
        detailed = retrieve.sync_detailed(999, client=client)
    assert detailed.status_code == HTTPStatus.NOT_FOUND
    assert isinstance(detailed.parsed, LabelStudioError)
    assert detailed.parsed.detail == "No ModelProviderConnection matches the given query."


@pytest.mark.parametrize("scheme", ["Token", "Bearer"])
def test_async_and_detailed(served: ServedMock, scheme: str) -> None:
    token = served.token if scheme == "Token" else access_token(served)

    async def main() -> tuple[object, object]:
        async with AuthenticatedClient(
            base_url=served.base_url, token=token, prefix=scheme
        ) as client:
            return await retrieve.asyncio(2, client=client), await retrieve.asyncio_detailed(
                2, client=client
            )

    conn, detailed = asyncio.run(main())
    assert isinstance(conn, ModelProviderConnection)
    assert conn.id == 2
    assert detailed.status_code == HTTPStatus.OK  # type: ignore[attr-defined]


def test_the_wrong_prefix_is_a_401_model(served: ServedMock) -> None:
    with AuthenticatedClient(base_url=served.base_url, token=served.token) as client:  # Bearer
        answer = retrieve.sync_detailed(1, client=client)
    assert answer.status_code == HTTPStatus.UNAUTHORIZED
    assert isinstance(answer.parsed, LabelStudioError)


def test_in_process_with_the_mock_transport() -> None:
    app = create_app()
    token = app.state.mock.data.users[0].token
    client = AuthenticatedClient(
        base_url="http://mock", token=token, prefix="Token",
        httpx_args={"transport": SyncASGITransport(app)},
    )  # fmt: skip
    with client:
        conn = retrieve.sync(3, client=client)
    assert isinstance(conn, ModelProviderConnection)


def test_personal_access_token_auth_refreshes_for_plain_httpx(served: ServedMock) -> None:
    refresh = served.state.issue_refresh_token(served.state.data.users[0].id)
    auth = PersonalAccessTokenAuth(refresh, base_url=served.base_url)
    with httpx.Client(auth=auth, timeout=5) as http:
        assert http.get(f"{served.base_url}/api/model-provider-connections/1/").status_code == 200
        assert http.get(f"{served.base_url}/api/model-provider-connections/2/").status_code == 200
    assert auth.refresh_count == 1
