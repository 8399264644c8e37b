"""Shared test helpers: a valid body and transports that fail on any unexpected request."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from typing import Any

import httpx

from ls_model_providers import AsyncClient, Client, Connection, DetailedResponse

BASE = "https://ls.example.com"
TOKEN = "0123456789abcdef0123456789abcdef01234567"


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


KINDS = ("sync", "async")


class Harness:
    """One client, blocking or async, behind the same blocking methods.

    The behaviour tests take a ``kind`` ("sync" or "async") and run the same assertions
    through both; the async calls each run in ``asyncio.run``. Sleeps are recorded, not slept.
    """

    def __init__(self, kind: str, handler: Any, **kwargs: Any) -> None:
        self.kind = kind
        self.sleeps: list[float] = []
        kwargs.setdefault("base_url", BASE)
        if "auth" not in kwargs:
            kwargs.setdefault("api_key", TOKEN)
        if handler is not None:
            kwargs["transport"] = httpx.MockTransport(handler)
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
