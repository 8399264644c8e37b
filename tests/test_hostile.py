"""Hostile servers on real loopback sockets, through both clients: every call ends in time,
in bounded memory, with a typed error.

The time bounds asserted here are correctness bounds (the call must end near its deadline
instead of when the server pleases), with seconds of slack for a loaded machine; the
servers give up after ``hostile.GIVE_UP`` seconds, so an unbounded client fails instead of
hanging the run.
"""

from __future__ import annotations

import asyncio
import gc
import json
import threading
import time
import tracemalloc
from typing import Any

import pytest

from ls_model_providers import (
    APITimeoutError,
    AsyncClient,
    Client,
    LabelStudioError,
    ResponseTooLargeError,
    ResponseValidationError,
    RetryPolicy,
)

from . import hostile
from .helpers import TOKEN, body, jwt

DEADLINE = 1.0
SLACK = 3.0  # the call must end by DEADLINE + SLACK; an unbounded one runs GIVE_UP (20 s)
MiB = 1024 * 1024
REFRESH = jwt({"token_type": "refresh", "exp": 4_000_000_000})


def call(kind: str, base_url: str, connection_id: int = 1, **kwargs: Any) -> Any:
    """One get_connection through a real socket, with real timeouts and sleeps."""
    kwargs.setdefault("api_key", TOKEN)
    kwargs.setdefault("retry", RetryPolicy(deadline=DEADLINE, backoff_base=0.01))
    if kind == "sync":
        with Client(base_url=base_url, **kwargs) as client:
            return client.get_connection(connection_id)

    async def main() -> Any:
        async with AsyncClient(base_url=base_url, **kwargs) as client:
            return await client.get_connection(connection_id)

    return asyncio.run(main())


@pytest.mark.parametrize(
    "behaviour",
    [hostile.hang, hostile.drip_head, hostile.drip_body],
    ids=["hang", "drip head", "drip body"],
)
def test_the_deadline_holds_from_first_byte_sent_to_last_byte_read(
    kind: str, behaviour: Any
) -> None:
    with (
        hostile.serve(behaviour) as server,
        hostile.elapsed() as took,
        pytest.raises(APITimeoutError, match=r"deadline of 1 s exceeded") as info,
    ):
        call(kind, server.base_url)
    assert took[0] < DEADLINE + SLACK
    assert info.value.method == "GET"
    assert info.value.url == f"{server.base_url}/api/model-provider-connections/1/"
    if kind == "sync":  # (asyncio.timeout ends the async call first: the status is not known)
        begun = behaviour is hostile.drip_body
        assert info.value.status_code == (200 if begun else None), "whether the answer had begun"


def test_the_deadline_holds_with_a_transport_of_the_callers_own(kind: str) -> None:
    """A caller's http_client has no deadline of its own on its sockets: the deadline is
    checked between chunks, so a body dripping in still ends the call in time."""
    import httpx

    http: Any = httpx.Client() if kind == "sync" else httpx.AsyncClient()
    with (
        hostile.serve(hostile.drip_body) as server,
        hostile.elapsed() as took,
        pytest.raises(APITimeoutError, match=r"deadline of 1 s exceeded") as info,
    ):
        call(kind, server.base_url, http_client=http)
    assert took[0] < DEADLINE + SLACK
    if kind == "sync":  # (asyncio.timeout ends the async call first: the status is not known)
        assert info.value.status_code == 200, "the answer had begun"
        http.close()
    else:
        asyncio.run(http.aclose())


def test_a_per_attempt_timeout_alone_bounds_a_hang(kind: str) -> None:
    policy = RetryPolicy(max_retries=1, backoff_base=0)
    with (
        hostile.serve(hostile.hang) as server,
        hostile.elapsed() as took,
        pytest.raises(APITimeoutError),
    ):
        call(kind, server.base_url, timeout=0.3, retry=policy)
    assert len(server.requests) == 2, "a read timeout is retried"
    assert took[0] < 0.6 + SLACK


def test_a_declared_huge_body_is_refused_unread(kind: str) -> None:
    with (
        hostile.serve(hostile.flood(400 * MiB)) as server,
        pytest.raises(ResponseTooLargeError, match="over the 1048576-byte limit") as info,
    ):
        call(kind, server.base_url)
    assert info.value.limit == 1 * MiB
    assert info.value.status_code == 200
    assert len(server.requests) == 1, "a body over the limit is not fetched again"
    assert server.sent[0] < 64 * MiB, "the client hung up instead of reading on"


@pytest.mark.parametrize(
    ("behaviour", "limit", "size"),
    [
        (hostile.flood(16 * MiB, declare=False), 64 * 1024, "16 MiB chunked"),
        # ~260 KB on the wire, under the limit: it is the decoded bytes that hit it
        (hostile.gzip_bomb(256 * MiB), 1 * MiB, "gzip bomb"),
    ],
    ids=["chunked", "gzip bomb"],
)
def test_bodies_stop_at_the_limit_in_flat_memory(
    kind: str, behaviour: Any, limit: int, size: str
) -> None:
    with hostile.serve(behaviour) as server:
        gc.collect()
        tracemalloc.start()
        try:
            with pytest.raises(ResponseTooLargeError) as info:
                call(kind, server.base_url, max_body_size=limit)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert len(info.value.body) <= limit
    assert peak < 8 * MiB, f"{size}: peak {peak / MiB:.1f} MiB of Python memory"


def test_a_body_limit_can_be_raised(kind: str) -> None:
    big = body(cached_available_models="m" * 2 * MiB)
    with hostile.serve(
        hostile.answer("200 OK", json.dumps(big).encode(), content_type="application/json")
    ) as server:
        with pytest.raises(ResponseTooLargeError):
            call(kind, server.base_url)
        conn = call(kind, server.base_url, max_body_size=4 * MiB)
    assert conn.cached_available_models == "m" * 2 * MiB


def test_gzip_and_deflate_bodies_within_the_limit_are_read(kind: str) -> None:
    import gzip
    import zlib

    payload = json.dumps(body()).encode()
    for encoding, data in (("gzip", gzip.compress(payload)), ("deflate", zlib.compress(payload))):
        answer = hostile.answer(
            "200 OK", data, content_type="application/json", content_encoding=encoding
        )
        with hostile.serve(answer) as server:
            assert call(kind, server.base_url).id == 1


def test_a_gzip_header_on_garbage_is_a_typed_error(kind: str) -> None:
    answer = hostile.answer(
        "200 OK", b"not gzip at all", content_type="application/json", content_encoding="gzip"
    )
    with (
        hostile.serve(answer) as server,
        pytest.raises(ResponseValidationError, match="cannot be decoded") as info,
    ):
        call(kind, server.base_url, retry=RetryPolicy(max_retries=0))
    assert info.value.malformed


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "nested"),
        (
            json.dumps(body(extra=json.loads("[" * 600 + "]" * 600))).encode(),
            "nested deeper than 64",
        ),
        (json.dumps(body()).replace('"budget_limit": 1.0', '"budget_limit": NaN').encode(), "NaN"),
    ],
    ids=["100,000 deep", "600 deep extra field", "NaN"],
)
def test_json_outside_the_rules_is_a_typed_error(kind: str, content: bytes, why: str) -> None:
    with (
        hostile.serve(hostile.answer("200 OK", content, content_type="application/json")) as server,
        pytest.raises(ResponseValidationError, match=why) as info,
    ):
        call(kind, server.base_url)
    assert not info.value.malformed, "JSON the server meant: not fetched again"
    assert len(server.requests) == 1
    assert len(str(info.value)) < 300, "the message names the problem, not the body"


def test_a_refresh_that_never_answers_is_bounded_for_every_caller(kind: str) -> None:
    """The refresh gets the call's timeouts and deadline; callers queued behind its lock too."""
    behaviour = hostile.routes(refresh=hostile.hang, connection=hostile.hang)
    errors: list[BaseException] = []
    with hostile.serve(behaviour) as server, hostile.elapsed() as took:
        policy = RetryPolicy(deadline=2.0, max_retries=5, backoff_base=0.01)
        if kind == "sync":
            with Client(
                base_url=server.base_url, api_key=REFRESH, timeout=1.0, retry=policy
            ) as client:
                results = client.get_connections([1, 2, 3], concurrency=3)
        else:

            async def main() -> list[Any]:
                async with AsyncClient(
                    base_url=server.base_url, api_key=REFRESH, timeout=1.0, retry=policy
                ) as client:
                    return await client.get_connections([1, 2, 3], concurrency=3)

            results = asyncio.run(main())
        errors = [r for r in results if isinstance(r, BaseException)]
    assert len(errors) == 3
    assert all(isinstance(e, APITimeoutError) for e in errors), errors
    assert all(method == "POST" for method, _ in server.requests), "no GET without a token"
    assert took[0] < 2.0 + SLACK


def test_a_client_stays_usable_after_a_refresh_timed_out() -> None:
    hung = threading.Event()

    def refresh(sock: Any, method: str, path: str) -> None:
        if not hung.is_set():
            hung.set()
            time.sleep(hostile.GIVE_UP)
            return
        hostile.answer("200 OK", json.dumps({"access": jwt({"exp": 4_000_000_000})}).encode())(
            sock, method, path
        )

    behaviour = hostile.routes(
        refresh=refresh,
        connection=hostile.answer(
            "200 OK", json.dumps(body()).encode(), content_type="application/json"
        ),
    )
    with (
        hostile.serve(behaviour) as server,
        Client(
            base_url=server.base_url,
            api_key=REFRESH,
            retry=RetryPolicy(deadline=1.0, max_retries=0),
        ) as client,
    ):
        with pytest.raises(LabelStudioError):
            client.get_connection(1)
        assert client.get_connection(1).id == 1, "the refresh lock was released"


def test_a_redirect_to_an_impossible_port_is_a_typed_error(kind: str) -> None:
    moved = hostile.answer("302 Found", b"", location="http://127.0.0.1:999999/")
    with hostile.serve(moved) as server, pytest.raises(LabelStudioError) as info:
        call(kind, server.base_url, retry=RetryPolicy(max_retries=0))
    assert "999999" in str(info.value) or info.value.__cause__ is not None
