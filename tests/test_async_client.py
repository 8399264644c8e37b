"""The async twin: same behaviour through httpx.MockTransport, awaited."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from ls_model_providers import (
    APIConnectionError,
    AsyncClient,
    AuthenticationError,
    Client,
    Connection,
    EndpointNotAvailableError,
    NotFoundError,
    ResponseValidationError,
    ServerError,
)

from .helpers import BASE, TOKEN, Script, ls_error, never, ok, url

pytestmark = pytest.mark.anyio


def make(handler: Any, **kwargs: Any) -> tuple[AsyncClient, list[float]]:
    client = AsyncClient(
        base_url=BASE, api_key=TOKEN, transport=httpx.MockTransport(handler), **kwargs
    )
    sleeps: list[float] = []

    async def record(seconds: float) -> None:
        sleeps.append(seconds)

    client._sleep = record
    return client, sleeps


def test_same_public_methods_as_the_sync_client() -> None:
    def public(cls: type) -> set[str]:
        return {n for n in dir(cls) if not n.startswith("_")}

    assert public(AsyncClient) == public(Client)


async def test_get_connection() -> None:
    script = Script(("GET", url(1), ok()))
    async with make(script)[0] as client:
        conn = await client.get_connection(1)
    assert isinstance(conn, Connection)
    assert script.requests[0].headers["Authorization"] == f"Token {TOKEN}"


async def test_ids_checked_before_any_request() -> None:
    client, _ = make(never)
    with pytest.raises(TypeError):
        await client.get_connection("1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="between"):
        await client.get_connection(0)


async def test_errors_are_typed() -> None:
    page = httpx.Response(
        404, text="<!DOCTYPE html><html></html>", headers={"Content-Type": "text/html"}
    )
    client, _ = make(
        Script(
            ("GET", url(1), ls_error(401, "Invalid token.")),
            ("GET", url(2), page),
            ("GET", url(3), httpx.Response(200, content=b"[]")),
        )
    )
    with pytest.raises(AuthenticationError, match=r"Invalid token\."):
        await client.get_connection(1)
    with pytest.raises(EndpointNotAvailableError, match="not available on this deployment"):
        await client.get_connection(2)
    with pytest.raises(ResponseValidationError):
        await client.get_connection(3)


async def test_retries_with_retry_after() -> None:
    script = Script(
        ("GET", url(1), httpx.Response(429, headers={"retry-after-ms": "20"})),
        ("GET", url(1), httpx.ConnectError("reset")),
        ("GET", url(1), ok()),
    )
    client, sleeps = make(script)
    detailed = await client.get_connection_detailed(1)
    assert detailed.attempts == 3
    assert sleeps[0] == 0.02
    assert len(sleeps) == 2


async def test_retries_exhausted() -> None:
    client, sleeps = make(Script(*[("GET", url(1), httpx.Response(502))] * 3))
    with pytest.raises(ServerError):
        await client.get_connection(1)
    assert len(sleeps) == 2


async def test_https_to_http_redirect_refused() -> None:
    moved = httpx.Response(302, headers={"Location": url(1, "http://ls.example.com")})
    client, _ = make(Script(("GET", url(1), moved)))
    with pytest.raises(APIConnectionError, match="refused redirect"):
        await client.get_connection(1)


async def test_get_connections_order_errors_and_concurrency() -> None:
    active, peak = [0], [0]

    async def handler(request: httpx.Request) -> httpx.Response:
        active[0] += 1
        peak[0] = max(peak[0], active[0])
        await asyncio.sleep(0.005)
        active[0] -= 1
        connection_id = int(request.url.path.rstrip("/").rsplit("/", 1)[1])
        if connection_id % 5 == 0:
            return ls_error(404, "No ModelProviderConnection matches the given query.")
        return ok(id=connection_id)

    client, _ = make(handler)
    results = await client.get_connections(range(1, 21), concurrency=4)
    assert peak[0] == 4
    for i, result in enumerate(results, start=1):
        if i % 5 == 0:
            assert isinstance(result, NotFoundError)
        else:
            assert isinstance(result, Connection)
            assert result.id == i
