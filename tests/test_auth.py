"""Legacy Token and personal access tokens (refresh -> Bearer), sync and async."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import httpx
import pytest

from ls_model_providers import (
    AsyncClient,
    AuthenticationError,
    Client,
    PersonalAccessTokenAuth,
    TokenAuth,
)

from .helpers import Script, jwt, ls_error, ok

BASE = "https://h.example/ls/"
REFRESH_URL = "https://h.example/ls/api/token/refresh/"
CONN_URL = "https://h.example/ls/api/model-provider-connections/1/"
REFRESH = jwt({"token_type": "refresh", "exp": 4_000_000_000, "jti": "r"})


def access_token(exp: float) -> str:
    return jwt({"token_type": "access", "exp": exp})


def refreshed(token: str) -> Any:
    def answer(request: httpx.Request) -> httpx.Response:
        assert json.loads(request.content) == {"refresh": REFRESH}
        return httpx.Response(200, json={"access": token})

    return answer


def test_api_key_shape_picks_the_auth() -> None:
    assert isinstance(Client(base_url=BASE, api_key="abc123")._auth, TokenAuth)
    assert isinstance(Client(base_url=BASE, api_key=REFRESH)._auth, PersonalAccessTokenAuth)


def test_refresh_then_bearer_under_a_path_prefix() -> None:
    access = access_token(time.time() + 3600)
    script = Script(
        ("POST", REFRESH_URL, refreshed(access)), ("GET", CONN_URL, ok()), ("GET", CONN_URL, ok())
    )
    client = Client(
        base_url="https://h.example/ls", api_key=REFRESH, transport=httpx.MockTransport(script)
    )
    client.get_connection(1)
    client.get_connection(1)
    assert script.done(), "one refresh serves both calls"
    assert script.requests[1].headers["Authorization"] == f"Bearer {access}"
    assert "Authorization" not in script.requests[0].headers


def test_refreshes_before_exp() -> None:
    now = [1_000_000.0]
    first, second = access_token(now[0] + 100), access_token(now[0] + 10_000)
    script = Script(
        ("POST", REFRESH_URL, refreshed(first)),
        ("GET", CONN_URL, ok()),
        ("POST", REFRESH_URL, refreshed(second)),
        ("GET", CONN_URL, ok()),
    )
    auth = PersonalAccessTokenAuth(REFRESH, base_url=BASE, clock=lambda: now[0])
    client = Client(base_url=BASE, auth=auth, transport=httpx.MockTransport(script))
    client.get_connection(1)
    now[0] += 75  # within the 30 s margin of exp
    client.get_connection(1)
    assert script.requests[3].headers["Authorization"] == f"Bearer {second}"
    assert auth.refresh_count == 2


def refresh_on_401() -> tuple[Script, str]:
    """A server whose first access token is refused: refresh, 401, refresh, 200."""
    stale, fresh = access_token(time.time() + 3600), access_token(time.time() + 7200)
    script = Script(
        ("POST", REFRESH_URL, refreshed(stale)),
        ("GET", CONN_URL, ls_error(401, "Authentication credentials were not provided.")),
        ("POST", REFRESH_URL, refreshed(fresh)),
        ("GET", CONN_URL, ok()),
    )
    return script, fresh


def test_refreshes_once_on_401_then_retries() -> None:
    script, fresh = refresh_on_401()
    client = Client(base_url=BASE, api_key=REFRESH, transport=httpx.MockTransport(script))
    assert client.get_connection(1).id == 1
    assert script.requests[3].headers["Authorization"] == f"Bearer {fresh}"


def test_second_401_is_raised_not_looped() -> None:
    token = access_token(time.time() + 3600)
    script = Script(
        ("POST", REFRESH_URL, refreshed(token)),
        ("GET", CONN_URL, ls_error(401, "nope")),
        ("POST", REFRESH_URL, refreshed(token)),
        ("GET", CONN_URL, ls_error(401, "nope")),
    )
    client = Client(base_url=BASE, api_key=REFRESH, transport=httpx.MockTransport(script))
    with pytest.raises(AuthenticationError):
        client.get_connection(1)
    assert script.done()


def test_bad_refresh_token_is_an_authentication_error() -> None:
    refused = httpx.Response(
        401, json={"detail": "Token is invalid or expired", "code": "token_not_valid"},
        headers={"WWW-Authenticate": 'Bearer realm="api"'},
    )  # fmt: skip
    client = Client(
        base_url=BASE,
        api_key=REFRESH,
        transport=httpx.MockTransport(Script(("POST", REFRESH_URL, refused))),
    )
    with pytest.raises(AuthenticationError) as info:
        client.get_connection(1)
    assert "personal access token refused" in str(info.value)
    assert REFRESH not in str(info.value)
    assert REFRESH not in repr(info.value)


def test_refresh_answer_without_access_is_an_error() -> None:
    script = Script(("POST", REFRESH_URL, httpx.Response(200, json={"nope": 1})))
    client = Client(base_url=BASE, api_key=REFRESH, transport=httpx.MockTransport(script))
    with pytest.raises(Exception, match="without an access token") as info:
        client.get_connection(1)
    assert type(info.value).__module__.startswith("ls_model_providers")


def test_single_flight_refresh_under_threads() -> None:
    refreshes, lock = [0], threading.Lock()
    token = access_token(time.time() + 3600)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token/refresh/"):
            with lock:
                refreshes[0] += 1
            time.sleep(0.05)
            return httpx.Response(200, json={"access": token})
        assert request.headers["Authorization"] == f"Bearer {token}"
        return ok()

    client = Client(base_url=BASE, api_key=REFRESH, transport=httpx.MockTransport(handler))
    results = client.get_connections([1] * 16, concurrency=8)
    assert all(not isinstance(r, Exception) for r in results)
    assert refreshes[0] == 1


@pytest.mark.anyio
async def test_single_flight_refresh_under_tasks() -> None:
    refreshes = [0]
    token = access_token(time.time() + 3600)

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token/refresh/"):
            refreshes[0] += 1
            await asyncio.sleep(0.02)
            return httpx.Response(200, json={"access": token})
        assert request.headers["Authorization"] == f"Bearer {token}"
        return ok()

    client = AsyncClient(base_url=BASE, api_key=REFRESH, transport=httpx.MockTransport(handler))
    results = await client.get_connections([1] * 16, concurrency=16)
    assert all(not isinstance(r, Exception) for r in results)
    assert refreshes[0] == 1


@pytest.mark.anyio
async def test_async_refresh_on_401() -> None:
    script, fresh = refresh_on_401()
    client = AsyncClient(base_url=BASE, api_key=REFRESH, transport=httpx.MockTransport(script))
    assert (await client.get_connection(1)).id == 1
    assert script.requests[3].headers["Authorization"] == f"Bearer {fresh}"


def test_auth_reprs_hide_credentials() -> None:
    assert "secret-token" not in repr(TokenAuth("secret-token"))
    auth = PersonalAccessTokenAuth(REFRESH, base_url=BASE)
    assert REFRESH not in repr(auth)
    assert REFRESH_URL in repr(auth)
