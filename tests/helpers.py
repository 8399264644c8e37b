"""Shared test helpers: a valid body, and transports that fail on any unexpected request and
hand bodies over chunk by chunk, as a socket does."""

from __future__ import annotations

import asyncio
import base64
import json
import os
from collections.abc import Callable
from typing import Any

import httpx

from ls_model_providers import AsyncClient, Client, Connection, DetailedResponse

BASE = "https://ls.example.com"
TOKEN = "0123456789abcdef0123456789abcdef01234567"


def environ_without_target() -> dict[str, str]:
    """This process's environment without a deployment: a command run in it checks the
    embedded mock (a variable set empty is refused, not taken as unset)."""
    names = ("LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY", "LABEL_STUDIO_DENIED_KEYS")
    return {k: v for k, v in os.environ.items() if k not in names}


def body(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": 1,
        "provider": "OpenAI",
        "scope": "Organization",
        "organization": 1,
        "created_by": {
            "id": 1,
            "first_name": "Ada",
            "last_name": "L",
            "email": "a@example.com",
            "avatar": None,
        },
        "created_at": "2026-01-05T09:30:00.000000Z",
        "updated_at": "2026-02-01T12:00:00Z",
        "model_params": '{"type": "object", "properties": {"max_tokens": {"type": "integer"}}}',
        "deployment_name": None,
        "endpoint": None,
        "google_project_id": None,
        "google_location": None,
        "cached_available_models": "gpt-4o",
        "is_internal": False,
        "budget_limit": 1.0,
        "budget_alert_threshold": None,
        "budget_total_spent": 0.0,
        "budget_reset_period": None,
        "budget_last_reset_date": None,
    }
    data.update(overrides)
    return data


def ls_error(status: int, detail: str, **extra: Any) -> httpx.Response:
    payload = {
        "id": "3f1c1f5e-5d1c-4a8e-9d0e-6b9b1c2f7a10",
        "status_code": status,
        "version": "1.23.2",
        "detail": detail,
        "exc_info": None,
    }
    headers = {"WWW-Authenticate": "Token"} if status == 401 else {}
    return httpx.Response(status, json=payload, headers={**headers, **extra})


def ok(**overrides: Any) -> httpx.Response:
    return httpx.Response(200, json=body(**overrides))


class Script:
    """A MockTransport handler answering a fixed sequence, failing on anything unexpected.

    Each step is ``(method, url, response_or_exception_or_callable)``; ``requests`` records
    what was sent.
    """

    def __init__(self, *steps: tuple[str, str, Any]) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self.steps:
            raise AssertionError(f"unexpected request: {request.method} {request.url}")
        method, url, answer = self.steps.pop(0)
        assert (request.method, str(request.url)) == (method, url), "unexpected request"
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            result: httpx.Response = answer(request)
            return result
        assert isinstance(answer, httpx.Response)
        return answer

    def done(self) -> bool:
        return not self.steps


def never(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"no request expected, got {request.method} {request.url}")


def jwt(claims: dict[str, Any]) -> str:
    def enc(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{enc({'alg': 'HS256', 'typ': 'JWT'})}.{enc(claims)}.c2lnbmF0dXJl"


def url(connection_id: int, base: str = BASE) -> str:
    return f"{base.rstrip('/')}/api/model-provider-connections/{connection_id}/"


Handler = Callable[[httpx.Request], httpx.Response]

#: Bytes per chunk of a streamed body: small and odd, so JSON and gzip are cut mid-token.
CHUNK = 37


class Chunks(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body that arrives in ``size``-byte pieces and is not read ahead: the client's chunk
    loop runs as it does on a socket. ``pace`` runs before each piece (to move a test clock);
    ``closed`` says whether the client closed the response."""

    def __init__(
        self, data: bytes, size: int = CHUNK, pace: Callable[[], None] | None = None
    ) -> None:
        self.data, self.size, self.pace = data, size, pace
        self.closed = False
        self.served = 0

    def _pieces(self) -> Any:
        for start in range(0, len(self.data), self.size):
            if self.pace is not None:
                self.pace()
            piece = self.data[start : start + self.size]
            self.served += len(piece)
            yield piece

    def __iter__(self) -> Any:
        yield from self._pieces()

    async def __aiter__(self) -> Any:
        for piece in self._pieces():
            yield piece

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


class StreamingTransport(httpx.MockTransport):
    """``httpx.MockTransport`` whose answers stream: each body the handler gives is handed
    over in ``Chunks`` (a response built with ``stream=`` of its own is left as it is).
    ``MockTransport`` alone hands back bodies already read, so the client would skip the
    streaming read that production runs. ``streams`` holds every body handed over."""

    def __init__(self, handler: Any, chunk: int = CHUNK) -> None:
        super().__init__(handler)
        self.chunk = chunk
        self.streams: list[Chunks] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._streamed(super().handle_request(request))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return self._streamed(await super().handle_async_request(request))

    def _streamed(self, response: httpx.Response) -> httpx.Response:
        if not isinstance(response.stream, httpx.ByteStream | Chunks):
            return response
        if isinstance(response.stream, httpx.ByteStream):
            raw = b"".join(response.stream)  # as sent: still compressed, if it was
            # Large bodies in at most ~1,000 pieces, to keep the tests quick.
            stream = Chunks(raw, max(self.chunk, len(raw) // 1000 + 1))
        else:
            stream = response.stream
        self.streams.append(stream)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=stream,
            extensions=response.extensions,
        )

    def unclosed(self) -> list[Chunks]:
        """The bodies handed over that the client did not close."""
        return [s for s in self.streams if not s.closed]


KINDS = ("sync", "async")


class Harness:
    """One client, blocking or async, behind the same blocking methods.

    The behaviour tests take a ``kind`` ("sync" or "async") and run the same assertions
    through both; the async calls each run in ``asyncio.run``. Sleeps are recorded, not slept.
    Bodies stream chunk by chunk (``StreamingTransport``); ``stream=False`` hands them over
    already read, as the mock's in-process transport does.
    """

    def __init__(self, kind: str, handler: Any, *, stream: bool = True, **kwargs: Any) -> None:
        self.kind = kind
        self.sleeps: list[float] = []
        #: The transport built from ``handler`` (``StreamingTransport`` unless ``stream=False``).
        self.transport: Any = None
        kwargs.setdefault("base_url", BASE)
        if "auth" not in kwargs:
            kwargs.setdefault("api_key", TOKEN)
        if handler is not None:
            self.transport = StreamingTransport(handler) if stream else httpx.MockTransport(handler)
            kwargs["transport"] = self.transport
        if kind == "sync":
            kwargs.setdefault("sleep", self.sleeps.append)
            self.client: Any = Client(**kwargs)
        else:

            async def sleep(seconds: float) -> None:
                self.sleeps.append(seconds)

            kwargs.setdefault("sleep", sleep)
            self.client = AsyncClient(**kwargs)

    def run(self, name: str, *args: Any, **kwargs: Any) -> Any:
        result = getattr(self.client, name)(*args, **kwargs)
        return asyncio.run(result) if self.kind == "async" else result

    def get(self, connection_id: Any) -> Connection:
        result: Connection = self.run("get_connection", connection_id)
        return result

    def detailed(self, connection_id: Any) -> DetailedResponse:
        result: DetailedResponse = self.run("get_connection_detailed", connection_id)
        return result

    def many(self, ids: Any, **kwargs: Any) -> list[Any]:
        result: list[Any] = self.run("get_connections", ids, **kwargs)
        return result

    def close(self) -> None:
        self.run("close" if self.kind == "sync" else "aclose")
