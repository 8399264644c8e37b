"""The blocking client through httpx.MockTransport: URLs, parsing, errors, retries, redirects."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest

from ls_model_providers import (
    UNSET,
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    Client,
    Connection,
    EndpointNotAvailableError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseValidationError,
    RetryPolicy,
    ServerError,
    TokenAuth,
)

from .helpers import BASE, TOKEN, Script, body, ls_error, never, ok, url


def make(handler: Any, *, base_url: str = BASE, **kwargs: Any) -> tuple[Client, list[float]]:
    client = Client(
        base_url=base_url, api_key=TOKEN, transport=httpx.MockTransport(handler), **kwargs
    )
    sleeps: list[float] = []
    client._sleep = sleeps.append  # type: ignore[method-assign]
    return client, sleeps


def test_get_connection_sends_token_and_parses() -> None:
    script = Script(("GET", url(1), ok()))
    client, _ = make(script)
    conn = client.get_connection(1)
    assert isinstance(conn, Connection)
    assert conn.id == 1
    assert conn.provider == "OpenAI"
    assert conn.deployment_name is None
    assert conn.budget_limit == 1.0
    sent = script.requests[0]
    assert sent.headers["Authorization"] == f"Token {TOKEN}"
    assert sent.headers["Accept"] == "application/json"
    assert script.done()


@pytest.mark.parametrize("base", ["https://h.example/ls", "https://h.example/ls/"])
def test_base_url_path_prefix_is_kept(base: str) -> None:
    script = Script(("GET", "https://h.example/ls/api/model-provider-connections/5/", ok(id=5)))
    client, _ = make(script, base_url=base)
    assert client.get_connection(5).id == 5


def test_forward_compatible_values_are_kept() -> None:
    answer = ok(
        provider="Mistral", scope="Team", created_by=None, new_field={"a": 1}, model_params={"x": 1}
    )
    client, _ = make(Script(("GET", url(1), answer)))
    conn = client.get_connection(1)
    assert conn.provider == "Mistral"
    assert conn.scope == "Team"
    assert conn.created_by is None
    assert conn.additional_properties == {"new_field": {"a": 1}}
    assert conn.model_params_dict == {"x": 1}
    assert conn.to_dict()["provider"] == "Mistral"


def test_model_params_both_forms() -> None:
    text = '{"type": "object"}'
    client, _ = make(
        Script(("GET", url(1), ok(model_params=text)), ("GET", url(1), ok(model_params="not json")))
    )
    first = client.get_connection(1)
    assert first.model_params == text
    assert first.model_params_dict == {"type": "object"}
    assert client.get_connection(1).model_params_dict is None


def test_optional_fields_absent_are_unset() -> None:
    payload = {k: v for k, v in body().items() if k not in {"provider", "endpoint"}}
    client, _ = make(Script(("GET", url(1), httpx.Response(200, json=payload))))
    conn = client.get_connection(1)
    assert conn.provider is UNSET
    assert conn.endpoint is UNSET


@pytest.mark.parametrize("bad", [True, False, "1", 1.0, None, "1?x=1", b"1", [1]])
def test_non_int_ids_are_refused_before_any_request(bad: Any) -> None:
    client, _ = make(never)
    with pytest.raises(TypeError, match="connection_id must be an int"):
        client.get_connection(bad)


@pytest.mark.parametrize("bad", [0, -1, 2**63, 10**30])
def test_out_of_range_ids_are_refused_before_any_request(bad: int) -> None:
    client, _ = make(never)
    with pytest.raises(ValueError, match="between 1 and 2"):
        client.get_connection(bad)


def test_int_subclass_cannot_inject_into_the_path() -> None:
    class Sneaky(int):
        def __str__(self) -> str:
            return "1/../../admin?x="

        __repr__ = __format__ = lambda self, *a: "1/../../admin?x="  # type: ignore[assignment]

    client, _ = make(Script(("GET", url(1), ok())))
    assert client.get_connection(Sneaky(1)).id == 1


def test_largest_id_is_accepted() -> None:
    big = 2**63 - 1
    client, _ = make(Script(("GET", url(big), ok(id=big))))
    assert client.get_connection(big).id == big


@pytest.mark.parametrize(
    ("response", "cls", "detail"),
    [
        (ls_error(401, "Invalid token."), AuthenticationError, "Invalid token."),
        (
            ls_error(403, "You do not have permission to perform this action."),
            PermissionDeniedError,
            None,
        ),
        (ls_error(404, "No ModelProviderConnection matches the given query."), NotFoundError, None),
        (ls_error(400, "Bad."), APIStatusError, "Bad."),
        (ls_error(405, 'Method "GET" not allowed.'), APIStatusError, None),
        (httpx.Response(418, text="teapot"), APIStatusError, None),
    ],
)
def test_status_errors_are_typed_and_not_retried(
    response: httpx.Response, cls: type, detail: str | None
) -> None:
    client, sleeps = make(Script(("GET", url(3), response)))
    with pytest.raises(cls) as info:
        client.get_connection(3)
    error = info.value
    assert type(error) is cls
    assert error.status_code == response.status_code
    assert error.url == url(3)
    assert sleeps == []
    if detail:
        assert error.detail == detail
        assert detail in str(error)


def test_ls_error_body_fields_are_exposed() -> None:
    client, _ = make(
        Script(
            ("GET", url(3), ls_error(404, "No ModelProviderConnection matches the given query."))
        )
    )
    with pytest.raises(NotFoundError) as info:
        client.get_connection(3)
    assert info.value.error_id == "3f1c1f5e-5d1c-4a8e-9d0e-6b9b1c2f7a10"
    assert info.value.version == "1.23.2"
    assert "error id 3f1c1f5e" in str(info.value)
    assert repr(info.value).startswith("NotFoundError(")


def test_html_404_means_endpoint_not_available() -> None:
    page = "<!DOCTYPE html><html><head><title>404 | Label Studio</title></head></html>"
    response = httpx.Response(404, text=page, headers={"Content-Type": "text/html; charset=utf-8"})
    client, sleeps = make(Script(("GET", url(1), response)))
    with pytest.raises(EndpointNotAvailableError) as info:
        client.get_connection(1)
    message = str(info.value)
    assert "endpoint not available on this deployment" in message
    assert "Community Edition" in message
    assert info.value.status_code == 404
    assert info.value.body == page.encode()
    assert "<title>" not in message
    assert sleeps == []


@pytest.mark.parametrize("status", [408, 429, 502, 503, 504])
def test_retryable_statuses_are_retried_then_succeed(status: int) -> None:
    script = Script(
        ("GET", url(1), httpx.Response(status)),
        ("GET", url(1), httpx.Response(status)),
        ("GET", url(1), ok()),
    )
    client, sleeps = make(script)
    detailed = client.get_connection_detailed(1)
    assert detailed.attempts == 3
    assert detailed.status_code == 200
    assert len(sleeps) == 2
    assert script.done()


def test_retries_are_bounded_and_the_last_error_is_raised() -> None:
    script = Script(*[("GET", url(1), httpx.Response(503))] * 3)
    client, sleeps = make(script)
    with pytest.raises(ServerError) as info:
        client.get_connection(1)
    assert info.value.status_code == 503
    assert len(sleeps) == 2
    assert script.done()


def test_rate_limit_error_after_retries() -> None:
    script = Script(*[("GET", url(1), httpx.Response(429, headers={"Retry-After": "1"}))] * 2)
    client, sleeps = make(script, max_retries=1)
    with pytest.raises(RateLimitError):
        client.get_connection(1)
    assert sleeps == [1.0]


def test_500_is_retried_only_when_asked() -> None:
    client, sleeps = make(Script(("GET", url(1), httpx.Response(500))))
    with pytest.raises(ServerError):
        client.get_connection(1)
    assert sleeps == []
    script = Script(("GET", url(1), httpx.Response(500)), ("GET", url(1), ok()))
    client, sleeps = make(script, retry=RetryPolicy(retry_on_500=True))
    assert client.get_connection(1).id == 1
    assert len(sleeps) == 1


def test_non_standard_status_is_a_server_error() -> None:
    client, _ = make(Script(("GET", url(1), httpx.Response(520, text="cloudflare"))))
    with pytest.raises(ServerError) as info:
        client.get_connection(1)
    assert info.value.status_code == 520


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "3"}, 3.0),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": "250", "Retry-After": "9"}, 0.25),
        ({"Retry-After": "3600"}, 60.0),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),
    ],
)
def test_retry_after_is_honoured_and_capped(headers: dict[str, str], expected: float) -> None:
    script = Script(("GET", url(1), httpx.Response(503, headers=headers)), ("GET", url(1), ok()))
    client, sleeps = make(script)
    client.get_connection(1)
    assert sleeps == [expected]


def test_connection_errors_are_retried_then_wrapped() -> None:
    failure = httpx.ConnectError("connection refused")
    script = Script(*[("GET", url(1), failure)] * 3)
    client, sleeps = make(script)
    with pytest.raises(APIConnectionError) as info:
        client.get_connection(1)
    assert not isinstance(info.value, APITimeoutError)
    assert isinstance(info.value.__cause__, httpx.ConnectError)
    assert "ConnectError" in str(info.value)
    assert len(sleeps) == 2


def test_read_timeout_is_retried_then_succeeds() -> None:
    script = Script(("GET", url(1), httpx.ReadTimeout("slow")), ("GET", url(1), ok()))
    client, _ = make(script)
    assert client.get_connection(1).id == 1


def test_timeouts_raise_api_timeout_error() -> None:
    script = Script(*[("GET", url(1), httpx.ReadTimeout("slow"))] * 3)
    client, _ = make(script)
    with pytest.raises(APITimeoutError) as info:
        client.get_connection(1)
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)


def test_deadline_stops_retrying() -> None:
    now = [0.0]
    script = Script(("GET", url(1), httpx.Response(503, headers={"Retry-After": "20"})))
    client, sleeps = make(script, retry=RetryPolicy(deadline=10.0, max_retries=5))
    client._clock = lambda: now[0]
    with pytest.raises(ServerError):
        client.get_connection(1)
    assert sleeps == [], "a 20 s wait would end past the 10 s deadline"


def test_per_attempt_timeout_is_capped_by_the_deadline() -> None:
    seen: list[dict[str, float]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return ok()

    client, _ = make(Script(("GET", url(1), answer)), retry=RetryPolicy(deadline=2.0))
    client.get_connection(1)
    assert max(seen[0].values()) <= 2.0


def test_default_timeout_is_5s_connect_30s_read() -> None:
    seen: list[dict[str, float]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return ok()

    client, _ = make(Script(("GET", url(1), answer)))
    client.get_connection(1)
    assert seen[0] == {"connect": 5.0, "read": 30.0, "write": 30.0, "pool": 30.0}


@pytest.mark.parametrize(
    ("content", "why", "malformed"),
    [
        (b"<html>oops</html>", "not JSON", True),
        (b"", "not JSON", True),
        (b"\xff\xfe", "not JSON", True),
        (b'{"id": 1, "provid', "not JSON", True),
        (b"[]", "JSON array", False),
        (b"null", "JSON null", False),
        (b'"text"', "JSON string", False),
    ],
)
def test_malformed_200_bodies_raise_response_validation_error(
    content: bytes, why: str, malformed: bool
) -> None:
    attempts = 3 if malformed else 1  # bytes that are not JSON were garbled on the way: retried
    client, sleeps = make(
        Script(*[("GET", url(1), httpx.Response(200, content=content))] * attempts)
    )
    with pytest.raises(ResponseValidationError) as info:
        client.get_connection(1)
    assert info.value.status_code == 200
    assert info.value.body == content
    assert info.value.malformed is malformed
    assert why in str(info.value)
    assert len(sleeps) == attempts - 1


def test_truncated_body_is_retried_then_parsed() -> None:
    script = Script(
        ("GET", url(1), httpx.Response(200, content=b'{"id": 1, "pro')), ("GET", url(1), ok())
    )
    client, _ = make(script)
    assert client.get_connection_detailed(1).attempts == 2


def test_malformed_body_retry_can_be_turned_off() -> None:
    client, sleeps = make(
        Script(("GET", url(1), httpx.Response(200, content=b"{"))),
        retry=RetryPolicy(retry_on_malformed_body=False),
    )
    with pytest.raises(ResponseValidationError):
        client.get_connection(1)
    assert sleeps == []


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"budget_limit": "lots"},
            "field 'budget_limit': expected integer or number or null, got string",
        ),
        ({"id": 1.9}, "field 'id': expected integer, got number"),
        ({"id": True}, "field 'id': expected integer, got boolean"),
        ({"is_internal": "yes"}, "field 'is_internal': expected boolean or null, got string"),
        ({"created_at": "yesterday"}, "field 'created_at': not an ISO 8601 date-time"),
        (
            {"budget_last_reset_date": 5},
            "field 'budget_last_reset_date': expected string or null, got integer",
        ),
        ({"provider": 3}, "field 'provider': expected string, got integer"),
        ({"created_by": "ada"}, "field 'created_by': expected object or null, got string"),
        ({"created_by": {"email": "x"}}, "missing required field 'created_by.id'"),
        ({"model_params": 7}, "field 'model_params': expected object or string, got integer"),
    ],
)
def test_wrong_types_raise_response_validation_error(
    overrides: dict[str, Any], message: str
) -> None:
    client, _ = make(Script(("GET", url(1), ok(**overrides))))
    with pytest.raises(ResponseValidationError) as info:
        client.get_connection(1)
    assert message in str(info.value)


def test_missing_required_field_is_named() -> None:
    payload = body()
    del payload["updated_at"]
    client, _ = make(Script(("GET", url(1), httpx.Response(200, json=payload))))
    with pytest.raises(ResponseValidationError, match="missing required field 'updated_at'"):
        client.get_connection(1)


def test_same_origin_redirect_keeps_auth() -> None:
    moved = httpx.Response(301, headers={"Location": "/api/model-provider-connections/1/?moved=1"})
    script = Script(("GET", url(1), moved), ("GET", url(1) + "?moved=1", ok()))
    client, _ = make(script)
    client.get_connection(1)
    assert script.requests[1].headers["Authorization"] == f"Token {TOKEN}"


def test_cross_origin_redirect_drops_auth() -> None:
    moved = httpx.Response(302, headers={"Location": "https://elsewhere.example/x/"})
    script = Script(("GET", url(1), moved), ("GET", "https://elsewhere.example/x/", ok()))
    client, _ = make(script)
    client.get_connection(1)
    assert "Authorization" not in script.requests[1].headers


def test_http_to_https_upgrade_on_same_host_keeps_auth() -> None:
    moved = httpx.Response(308, headers={"Location": url(1)})
    script = Script(("GET", url(1, "http://ls.example.com"), moved), ("GET", url(1), ok()))
    client, _ = make(script, base_url="http://ls.example.com")
    client.get_connection(1)
    assert script.requests[1].headers["Authorization"] == f"Token {TOKEN}"


def test_https_to_http_redirect_is_refused() -> None:
    moved = httpx.Response(302, headers={"Location": url(1, "http://ls.example.com")})
    client, _ = make(Script(("GET", url(1), moved)))
    with pytest.raises(APIConnectionError, match="refused redirect"):
        client.get_connection(1)


def test_redirect_loops_are_bounded() -> None:
    loop = httpx.Response(302, headers={"Location": url(1)})
    client, _ = make(Script(*[("GET", url(1), loop)] * 6), max_retries=0)
    with pytest.raises(APIConnectionError, match="redirects"):
        client.get_connection(1)


def test_get_connections_keeps_order_and_errors_in_place() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        connection_id = int(request.url.path.rstrip("/").rsplit("/", 1)[1])
        if connection_id == 2:
            return ls_error(404, "No ModelProviderConnection matches the given query.")
        return ok(id=connection_id)

    client, _ = make(handler)
    results = client.get_connections([3, 2, 1, 5], concurrency=2)
    assert [r.id if isinstance(r, Connection) else type(r) for r in results] == [
        3,
        NotFoundError,
        1,
        5,
    ]


def test_get_connections_bounds_concurrency() -> None:
    lock, active, peak = threading.Lock(), [0], [0]

    def handler(request: httpx.Request) -> httpx.Response:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.01)
        with lock:
            active[0] -= 1
        return ok()

    client, _ = make(handler)
    assert len(client.get_connections(range(1, 21), concurrency=3)) == 20
    assert 1 < peak[0] <= 3


def test_get_connections_checks_every_id_first() -> None:
    client, _ = make(never)
    with pytest.raises(TypeError):
        client.get_connections([1, 2, "3"])  # type: ignore[list-item]


def test_detailed_response() -> None:
    client, _ = make(
        Script(("GET", url(1), httpx.Response(200, json=body(), headers={"X-Request-Id": "r1"})))
    )
    detailed = client.get_connection_detailed(1)
    assert detailed.status_code == 200
    assert detailed.headers["x-request-id"] == "r1"
    assert detailed.parsed.id == 1
    assert detailed.url == url(1)
    assert b'"id": 1' in detailed.content or b'"id":1' in detailed.content


def test_from_env_reads_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABEL_STUDIO_URL", "https://env.example/ls")
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "envtoken")
    client = Client.from_env(transport=httpx.MockTransport(never))
    assert client.base_url == "https://env.example/ls/"
    assert isinstance(client._auth, TokenAuth)
    monkeypatch.delenv("LABEL_STUDIO_URL")
    with pytest.raises(ValueError, match="LABEL_STUDIO_URL"):
        Client.from_env()


def test_configuration_errors() -> None:
    with pytest.raises(ValueError, match="http"):
        Client(base_url="ftp://x", api_key="k")
    with pytest.raises(ValueError, match="api_key is required"):
        Client(base_url=BASE)


def test_context_manager_closes_own_client_only() -> None:
    with Client(base_url=BASE, api_key=TOKEN, transport=httpx.MockTransport(never)) as client:
        pass
    assert client._http.is_closed
    mine = httpx.Client(transport=httpx.MockTransport(never))
    with Client(base_url=BASE, api_key=TOKEN, http_client=mine):
        pass
    assert not mine.is_closed
    mine.close()


def test_own_http_client_is_used() -> None:
    script = Script(("GET", url(1), ok()))
    mine = httpx.Client(transport=httpx.MockTransport(script), headers={"X-Team": "a"})
    client = Client(base_url=BASE, api_key=TOKEN, http_client=mine)
    client.get_connection(1)
    assert script.requests[0].headers["X-Team"] == "a"
