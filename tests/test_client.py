"""Client behaviour through httpx.MockTransport. Every test takes ``kind`` and runs through
both ``Client`` and ``AsyncClient``: URLs, parsing, errors, retries, redirects, deadlines."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from ls_model_providers import (
    UNSET,
    APIConnectionError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    AsyncClient,
    AuthenticationError,
    CertificateError,
    Client,
    Connection,
    EndpointNotAvailableError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseTooLargeError,
    ResponseValidationError,
    RetryPolicy,
    ServerError,
)
from ls_model_providers_api.models import ProviderEnum, ScopeEnum

from .helpers import (
    BASE,
    TOKEN,
    Chunks,
    Harness,
    Script,
    StreamingTransport,
    body,
    ls_error,
    never,
    ok,
    url,
)
from .payloads import UNKNOWN_PROVIDER


def test_get_connection_sends_token_and_parses(kind: str) -> None:
    script = Script(("GET", url(1), ok()))
    client = Harness(kind, script)
    conn = client.get(1)
    assert isinstance(conn, Connection)
    assert conn.id == 1
    assert conn.provider == "OpenAI"
    assert conn.deployment_name is None
    assert conn.budget_limit == 1.0
    sent = script.requests[0]
    assert sent.headers["Authorization"] == f"Token {TOKEN}"
    assert sent.headers["Accept"] == "application/json"
    assert sent.headers["Accept-Encoding"] == "gzip, deflate"
    assert script.done()


@pytest.mark.parametrize("base", ["https://h.example/ls", "https://h.example/ls/"])
def test_base_url_path_prefix_is_kept(kind: str, base: str) -> None:
    script = Script(("GET", "https://h.example/ls/api/model-provider-connections/5/", ok(id=5)))
    assert Harness(kind, script, base_url=base).get(5).id == 5


def test_forward_compatible_values_are_kept(kind: str) -> None:
    answer = ok(
        provider=UNKNOWN_PROVIDER, scope="Team", created_by=None, new_field={"a": 1},
        model_params={"x": 1},
    )  # fmt: skip
    conn = Harness(kind, Script(("GET", url(1), answer))).get(1)
    assert conn.provider == UNKNOWN_PROVIDER
    assert type(conn.provider) is ProviderEnum, "kept as a value of the enum, not a bare str"
    assert conn.scope == "Team"
    assert type(conn.scope) is ScopeEnum
    assert conn.created_by is None
    assert conn.additional_properties == {"new_field": {"a": 1}}
    assert conn.model_params_dict == {"x": 1}
    assert conn.to_dict()["provider"] == UNKNOWN_PROVIDER


def test_known_enum_values_are_the_members_themselves(kind: str) -> None:
    conn = Harness(kind, Script(("GET", url(1), ok(provider="OpenAI", scope="User")))).get(1)
    assert conn.provider is ProviderEnum.OPENAI
    assert conn.scope is ScopeEnum.USER


def test_model_params_both_forms(kind: str) -> None:
    text = '{"type": "object"}'
    client = Harness(
        kind,
        Script(
            ("GET", url(1), ok(model_params=text)), ("GET", url(1), ok(model_params="not json"))
        ),
    )
    first = client.get(1)
    assert first.model_params == text
    assert first.model_params_dict == {"type": "object"}
    assert client.get(1).model_params_dict is None


def test_optional_fields_absent_are_unset(kind: str) -> None:
    payload = {k: v for k, v in body().items() if k not in {"provider", "endpoint"}}
    conn = Harness(kind, Script(("GET", url(1), httpx.Response(200, json=payload)))).get(1)
    assert conn.provider is UNSET
    assert conn.endpoint is UNSET


@pytest.mark.parametrize("bad", [True, False, "1", 1.0, None, "1?x=1", b"1", [1]])
def test_non_int_ids_are_refused_before_any_request(kind: str, bad: Any) -> None:
    with pytest.raises(TypeError, match="connection_id must be an int"):
        Harness(kind, never).get(bad)


@pytest.mark.parametrize("bad", [0, -1, 2**63, 10**30])
def test_out_of_range_ids_are_refused_before_any_request(kind: str, bad: int) -> None:
    with pytest.raises(ValueError, match="between 1 and 2"):
        Harness(kind, never).get(bad)


def test_int_subclass_cannot_inject_into_the_path(kind: str) -> None:
    class Sneaky(int):
        def __str__(self) -> str:
            return "1/../../admin?x="

        __repr__ = __format__ = lambda self, *a: "1/../../admin?x="  # type: ignore[assignment]

    assert Harness(kind, Script(("GET", url(1), ok()))).get(Sneaky(1)).id == 1


def test_largest_id_is_accepted(kind: str) -> None:
    big = 2**63 - 1
    assert Harness(kind, Script(("GET", url(big), ok(id=big)))).get(big).id == big


@pytest.mark.parametrize(
    ("status", "text", "cls", "detail"),
    [
        (401, "Invalid token.", AuthenticationError, "Invalid token."),
        (403, "You do not have permission to perform this action.", PermissionDeniedError, None),
        (404, "No ModelProviderConnection matches the given query.", NotFoundError, None),
        (400, "Bad.", APIStatusError, "Bad."),
        (405, 'Method "GET" not allowed.', APIStatusError, None),
        (418, None, APIStatusError, None),
    ],
)
def test_status_errors_are_typed_and_not_retried(
    kind: str, status: int, text: str | None, cls: type, detail: str | None
) -> None:
    response = ls_error(status, text) if text else httpx.Response(status, text="teapot")
    client = Harness(kind, Script(("GET", url(3), response)))
    with pytest.raises(cls) as info:
        client.get(3)
    error = info.value
    assert type(error) is cls
    assert error.status_code == status
    assert error.url == url(3)
    assert client.sleeps == []
    if detail:
        assert error.detail == detail
        assert detail in str(error)


def test_ls_error_body_fields_are_exposed(kind: str) -> None:
    script = Script(
        ("GET", url(3), ls_error(404, "No ModelProviderConnection matches the given query."))
    )
    with pytest.raises(NotFoundError) as info:
        Harness(kind, script).get(3)
    assert info.value.error_id == "3f1c1f5e-5d1c-4a8e-9d0e-6b9b1c2f7a10"
    assert info.value.version == "1.23.2"
    assert "error id 3f1c1f5e" in str(info.value)
    assert repr(info.value).startswith("NotFoundError(")


def test_html_404_means_endpoint_not_available(kind: str) -> None:
    page = "<!DOCTYPE html><html><head><title>404 | Label Studio</title></head></html>"
    response = httpx.Response(404, text=page, headers={"Content-Type": "text/html; charset=utf-8"})
    client = Harness(kind, Script(("GET", url(1), response)))
    with pytest.raises(EndpointNotAvailableError) as info:
        client.get(1)
    error = info.value
    assert "endpoint not available on this deployment" in str(error)
    assert "Community Edition" in str(error)
    assert isinstance(error, APIStatusError)
    assert isinstance(error, APIResponseError)
    assert not isinstance(error, NotFoundError), "no id is ever found on such a server"
    assert (error.status_code, error.body) == (404, page.encode())
    assert "<title>" not in str(error)
    assert client.sleeps == []


@pytest.mark.parametrize("status", [408, 429, 502, 503, 504])
def test_retryable_statuses_are_retried_then_succeed(kind: str, status: int) -> None:
    script = Script(
        ("GET", url(1), httpx.Response(status)),
        ("GET", url(1), httpx.Response(status)),
        ("GET", url(1), ok()),
    )
    client = Harness(kind, script)
    detailed = client.detailed(1)
    assert (detailed.attempts, detailed.status_code) == (3, 200)
    assert len(client.sleeps) == 2
    assert script.done()


def test_retries_are_bounded_and_the_last_error_is_raised(kind: str) -> None:
    script = Script(*[("GET", url(1), httpx.Response(503))] * 3)
    client = Harness(kind, script)
    with pytest.raises(ServerError) as info:
        client.get(1)
    assert info.value.status_code == 503
    assert len(client.sleeps) == 2
    assert script.done()


def test_rate_limit_error_after_retries(kind: str) -> None:
    script = Script(*[("GET", url(1), httpx.Response(429, headers={"Retry-After": "1"}))] * 2)
    client = Harness(kind, script, max_retries=1)
    with pytest.raises(RateLimitError):
        client.get(1)
    assert client.sleeps == [1.0]


def test_500_is_retried_only_when_asked(kind: str) -> None:
    client = Harness(kind, Script(("GET", url(1), httpx.Response(500))))
    with pytest.raises(ServerError):
        client.get(1)
    assert client.sleeps == []
    script = Script(("GET", url(1), httpx.Response(500)), ("GET", url(1), ok()))
    client = Harness(kind, script, retry=RetryPolicy(retry_on_500=True))
    assert client.get(1).id == 1
    assert len(client.sleeps) == 1


def test_non_standard_status_is_a_server_error(kind: str) -> None:
    client = Harness(kind, Script(("GET", url(1), httpx.Response(520, text="cloudflare"))))
    with pytest.raises(ServerError) as info:
        client.get(1)
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
def test_retry_after_is_honoured_and_capped(
    kind: str, headers: dict[str, str], expected: float
) -> None:
    script = Script(("GET", url(1), httpx.Response(503, headers=headers)), ("GET", url(1), ok()))
    client = Harness(kind, script)
    client.get(1)
    assert client.sleeps == [expected]


def test_backoff_uses_the_jitter_hook(kind: str) -> None:
    script = Script(*[("GET", url(1), httpx.Response(502))] * 2, ("GET", url(1), ok()))
    client = Harness(kind, script, jitter=lambda: 0.5)
    client.get(1)
    assert client.sleeps == [0.25, 0.5], "half of 0.5 s, then half of 1 s"


def test_connection_errors_are_retried_then_wrapped(kind: str) -> None:
    script = Script(*[("GET", url(1), httpx.ConnectError("connection refused"))] * 3)
    client = Harness(kind, script)
    with pytest.raises(APIConnectionError) as info:
        client.get(1)
    assert not isinstance(info.value, APITimeoutError)
    assert isinstance(info.value.__cause__, httpx.ConnectError)
    assert str(info.value).startswith("ConnectError: connection refused")
    assert (info.value.method, info.value.url, info.value.status_code) == ("GET", url(1), None)
    assert len(client.sleeps) == 2


def test_read_timeout_is_retried_then_succeeds(kind: str) -> None:
    script = Script(("GET", url(1), httpx.ReadTimeout("slow")), ("GET", url(1), ok()))
    assert Harness(kind, script).get(1).id == 1


def test_timeouts_raise_api_timeout_error(kind: str) -> None:
    script = Script(*[("GET", url(1), httpx.ReadTimeout("slow"))] * 3)
    with pytest.raises(APITimeoutError) as info:
        Harness(kind, script).get(1)
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)
    assert str(info.value).startswith("timed out: ReadTimeout")
    assert (info.value.method, info.value.url, info.value.status_code) == ("GET", url(1), None)


def test_a_transport_failure_at_the_deadline_is_the_deadline(kind: str) -> None:
    now = [0.0]

    def late(request: httpx.Request) -> httpx.Response:
        now[0] = 10.0  # exactly the deadline
        raise httpx.ConnectError("refused")

    client = Harness(kind, late, retry=RetryPolicy(deadline=10.0), clock=lambda: now[0])
    with pytest.raises(APITimeoutError, match="deadline of 10 s exceeded") as info:
        client.get(1)
    assert (info.value.method, info.value.url, info.value.status_code) == ("GET", url(1), None)
    assert client.sleeps == []


def test_a_failure_quoting_a_foreign_credential_does_not_show_it(kind: str) -> None:
    """With an httpx.Auth of the caller's own, the header it set is hidden from the error too."""
    secret = "Bearer foreign-credential-0123456789"

    class Foreign(httpx.Auth):
        def auth_flow(self, request: httpx.Request) -> Any:
            request.headers["Authorization"] = secret
            yield request

    def quoting(request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == secret, "the caller's auth was applied"
        raise httpx.ConnectError(f"proxy refused {secret.split()[1]}")

    with pytest.raises(APIConnectionError) as info:
        Harness(kind, quoting, auth=Foreign(), max_retries=0).get(1)
    assert "foreign-credential" not in str(info.value)
    assert info.value.url == url(1)


def test_other_transport_errors_are_typed_and_not_retried(kind: str) -> None:
    client = Harness(kind, Script(("GET", url(1), httpx.UnsupportedProtocol("nope"))))
    with pytest.raises(APIConnectionError, match="UnsupportedProtocol"):
        client.get(1)
    assert client.sleeps == []


def test_deadline_stops_retrying(kind: str) -> None:
    now = [0.0]
    script = Script(("GET", url(1), httpx.Response(503, headers={"Retry-After": "20"})))
    client = Harness(
        kind, script, retry=RetryPolicy(deadline=10.0, max_retries=5), clock=lambda: now[0]
    )
    with pytest.raises(ServerError):
        client.get(1)
    assert client.sleeps == [], "a 20 s wait would end past the 10 s deadline"


def test_deadline_counts_time_spent_reading(kind: str) -> None:
    now = [0.0]

    def slow(request: httpx.Request) -> httpx.Response:
        now[0] += 11.0  # the answer took longer than the deadline
        return ok()

    client = Harness(
        kind, Script(("GET", url(1), slow)), retry=RetryPolicy(deadline=10.0), clock=lambda: now[0]
    )
    with pytest.raises(APITimeoutError, match="deadline of 10 s exceeded"):
        client.get(1)


def test_per_attempt_timeout_is_capped_by_the_deadline(kind: str) -> None:
    seen: list[dict[str, float]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return ok()

    Harness(kind, Script(("GET", url(1), answer)), retry=RetryPolicy(deadline=2.0)).get(1)
    assert max(seen[0].values()) <= 2.0


def test_default_timeout_is_5s_connect_30s_read(kind: str) -> None:
    seen: list[dict[str, float]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return ok()

    Harness(kind, Script(("GET", url(1), answer))).get(1)
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
        (b'{"id": NaN}', "NaN is not a JSON number", False),
        (b'{"id": 1, "budget_limit": Infinity}', "Infinity is not a JSON number", False),
        (b'{"budget_limit": -Infinity}', "-Infinity is not a JSON number", False),
        (b'{"budget_limit": 1e400}', "overflows a float", False),
        (b'{"id": ' + b"9" * 5000 + b"}", "too many digits", False),
    ],
)
def test_bodies_that_are_not_accepted_json(
    kind: str, content: bytes, why: str, malformed: bool
) -> None:
    attempts = 3 if malformed else 1  # bytes that are not JSON were garbled on the way: retried
    client = Harness(
        kind, Script(*[("GET", url(1), httpx.Response(200, content=content))] * attempts)
    )
    with pytest.raises(ResponseValidationError) as info:
        client.get(1)
    assert info.value.status_code == 200
    assert info.value.body == content
    assert info.value.malformed is malformed
    assert why in str(info.value)
    assert len(client.sleeps) == attempts - 1


def test_deep_nesting_is_refused_and_nothing_recurses(kind: str) -> None:
    deep: Any = "x"
    for _ in range(600):
        deep = {"a": deep}
    client = Harness(kind, Script(("GET", url(1), ok(extra=deep))))
    with pytest.raises(ResponseValidationError, match="nested deeper than 64") as info:
        client.get(1)
    assert info.value.malformed is False
    assert repr(info.value) == (
        "ResponseValidationError('HTTP 200 with an invalid body: body is not accepted JSON: "
        f"nested deeper than 64 (GET {url(1)})')"
    ), "one line that names the limit, the body itself not in it"
    hundred_thousand = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    client = Harness(kind, Script(("GET", url(1), httpx.Response(200, content=hundred_thousand))))
    with pytest.raises(ResponseValidationError, match="nested"):
        client.get(1)


def test_truncated_body_is_retried_then_parsed(kind: str) -> None:
    script = Script(
        ("GET", url(1), httpx.Response(200, content=b'{"id": 1, "pro')), ("GET", url(1), ok())
    )
    assert Harness(kind, script).detailed(1).attempts == 2


def test_malformed_body_retry_can_be_turned_off(kind: str) -> None:
    client = Harness(
        kind,
        Script(("GET", url(1), httpx.Response(200, content=b"{"))),
        retry=RetryPolicy(retry_on_malformed_body=False),
    )
    with pytest.raises(ResponseValidationError):
        client.get(1)
    assert client.sleeps == []


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
    kind: str, overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ResponseValidationError) as info:
        Harness(kind, Script(("GET", url(1), ok(**overrides)))).get(1)
    assert message in str(info.value)


def test_missing_required_field_is_named(kind: str) -> None:
    payload = body()
    del payload["updated_at"]
    client = Harness(kind, Script(("GET", url(1), httpx.Response(200, json=payload))))
    with pytest.raises(ResponseValidationError, match="missing required field 'updated_at'"):
        client.get(1)


def test_same_origin_redirect_keeps_auth(kind: str) -> None:
    moved = httpx.Response(301, headers={"Location": "/api/model-provider-connections/1/?moved=1"})
    script = Script(("GET", url(1), moved), ("GET", url(1) + "?moved=1", ok()))
    Harness(kind, script).get(1)
    assert script.requests[1].headers["Authorization"] == f"Token {TOKEN}"


def test_cross_origin_redirect_drops_auth(kind: str) -> None:
    moved = httpx.Response(302, headers={"Location": "https://elsewhere.example/x/"})
    script = Script(("GET", url(1), moved), ("GET", "https://elsewhere.example/x/", ok()))
    Harness(kind, script).get(1)
    assert "Authorization" not in script.requests[1].headers


def test_http_to_https_upgrade_on_same_host_keeps_auth(kind: str) -> None:
    moved = httpx.Response(308, headers={"Location": url(1)})
    script = Script(("GET", url(1, "http://ls.example.com"), moved), ("GET", url(1), ok()))
    Harness(kind, script, base_url="http://ls.example.com").get(1)
    assert script.requests[1].headers["Authorization"] == f"Token {TOKEN}"


@pytest.mark.parametrize(
    ("location", "scheme"),
    [
        (url(1, "http://ls.example.com"), "http"),
        ("abcdefghijklmnopqrstuvwxyz://ls.example.com/", "abcdefghijklmnopqrst"),
    ],
    ids=["https to http", "another scheme"],
)
def test_a_redirect_that_would_expose_the_credentials_is_refused(
    kind: str, location: str, scheme: str
) -> None:
    moved = httpx.Response(302, headers={"Location": location})
    client = Harness(kind, Script(("GET", url(1), moved)))
    with pytest.raises(APIConnectionError) as info:
        client.get(1)
    assert str(info.value).startswith(
        f"refused redirect to {scheme}:// (credentials would travel unencrypted)"
    ), "the scheme named, at most 20 characters of it"
    assert info.value.url == url(1)
    assert client.sleeps == []


def test_redirect_loops_are_bounded(kind: str) -> None:
    loop = httpx.Response(302, headers={"Location": url(1)})
    with pytest.raises(APIConnectionError, match=r"^more than 5 redirects") as info:
        Harness(kind, Script(*[("GET", url(1), loop)] * 6), max_retries=0).get(1)
    assert (info.value.method, info.value.url) == ("GET", url(1))
    five = Script(*[("GET", url(1), loop)] * 5, ("GET", url(1), ok()))
    assert Harness(kind, five).get(1).id == 1, "five redirects are followed"


def test_a_redirect_answered_at_the_deadline_is_not_followed(kind: str) -> None:
    now = [0.0]

    def late(request: httpx.Request) -> httpx.Response:
        now[0] = 10.0
        return httpx.Response(302, headers={"Location": "/moved/"})

    client = Harness(kind, late, retry=RetryPolicy(deadline=10.0), clock=lambda: now[0])
    with pytest.raises(APITimeoutError, match="deadline of 10 s") as info:
        client.get(1)
    assert (info.value.method, info.value.url) == ("GET", "https://ls.example.com/moved/")
    assert len(client.transport.streams) == 1


def test_the_last_millisecond_of_a_deadline_is_the_timeout(kind: str) -> None:
    now = [0.0]
    seen: list[dict[str, float]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        if len(seen) == 1:
            now[0] = 9.9995
            return httpx.Response(302, headers={"Location": "/moved/"})
        return ok()

    client = Harness(kind, answer, retry=RetryPolicy(deadline=10.0), clock=lambda: now[0])
    client.get(1)
    assert seen[1] == dict.fromkeys(("connect", "read", "write", "pool"), 0.001)


def test_a_caller_auth_is_applied_to_every_request(kind: str) -> None:
    class Foreign(httpx.Auth):
        def auth_flow(self, request: httpx.Request) -> Any:
            request.headers["X-Signed"] = "yes"
            yield request

    moved = httpx.Response(302, headers={"Location": "/api/model-provider-connections/1/?x=1"})
    script = Script(("GET", url(1), moved), ("GET", url(1) + "?x=1", ok()))
    Harness(kind, script, auth=Foreign()).get(1)
    assert [r.headers.get("X-Signed") for r in script.requests] == ["yes", "yes"]


def test_a_3xx_without_location_is_a_status_error(kind: str) -> None:
    client = Harness(kind, Script(("GET", url(1), httpx.Response(300, json=body()))))
    with pytest.raises(APIStatusError) as info:
        client.get(1)
    assert info.value.status_code == 300


def test_get_connections_keeps_order_and_errors_in_place(kind: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        connection_id = int(request.url.path.rstrip("/").rsplit("/", 1)[1])
        if connection_id == 2:
            return ls_error(404, "No ModelProviderConnection matches the given query.")
        return ok(id=connection_id)

    results = Harness(kind, handler).many([3, 2, 1, 5], concurrency=2)
    shown = [r.id if isinstance(r, Connection) else type(r) for r in results]
    assert shown == [3, NotFoundError, 1, 5]


def test_get_connections_checks_every_id_and_the_concurrency_first(kind: str) -> None:
    client = Harness(kind, never)
    with pytest.raises(TypeError):
        client.many([1, 2, "3"])
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="concurrency"):
            client.many([1], concurrency=bad)
    assert client.many([]) == []


def test_get_connections_bounds_concurrency_with_threads() -> None:
    lock, active, peak = threading.Lock(), [0], [0]

    def handler(request: httpx.Request) -> httpx.Response:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.01)
        with lock:
            active[0] -= 1
        return ok()

    assert len(Harness("sync", handler).many(range(1, 21), concurrency=3)) == 20
    assert 1 < peak[0] <= 3


def test_get_connections_bounds_concurrency_with_tasks() -> None:
    active, peak = [0], [0]

    async def handler(request: httpx.Request) -> httpx.Response:
        active[0] += 1
        peak[0] = max(peak[0], active[0])
        await asyncio.sleep(0.005)
        active[0] -= 1
        return ok()

    assert len(Harness("async", handler).many(range(1, 21), concurrency=4)) == 20
    assert peak[0] == 4


def test_detailed_response(kind: str) -> None:
    answer = httpx.Response(200, json=body(), headers={"X-Request-Id": "r1"})
    detailed = Harness(kind, Script(("GET", url(1), answer))).detailed(1)
    assert detailed.status_code == 200
    assert detailed.headers["x-request-id"] == "r1"
    assert detailed.parsed.id == 1
    assert detailed.url == url(1)
    assert detailed.attempts == 1
    assert b'"id": 1' in detailed.content or b'"id":1' in detailed.content


def test_same_public_methods_but_aclose() -> None:
    def public(cls: type) -> set[str]:
        return {n for n in dir(cls) if not n.startswith("_")}

    assert public(AsyncClient) - {"aclose"} == public(Client) - {"close"}


def test_context_manager_closes_own_client_only() -> None:
    with Client(base_url=BASE, api_key=TOKEN, transport=httpx.MockTransport(never)) as client:
        pass
    assert client._http.is_closed
    mine = httpx.Client(transport=httpx.MockTransport(never))
    with Client(base_url=BASE, api_key=TOKEN, http_client=mine):
        pass
    assert not mine.is_closed
    mine.close()


def test_async_context_manager_and_aclose() -> None:
    async def main() -> tuple[bool, bool]:
        async with AsyncClient(
            base_url=BASE, api_key=TOKEN, transport=httpx.MockTransport(never)
        ) as client:
            pass
        mine = httpx.AsyncClient(transport=httpx.MockTransport(never))
        other = AsyncClient(base_url=BASE, api_key=TOKEN, http_client=mine)
        await other.aclose()
        return client._http.is_closed, mine.is_closed

    assert asyncio.run(main()) == (True, False)


def test_an_untrusted_certificate_is_typed_and_not_retried(kind: str) -> None:
    import ssl

    failure = httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED]")
    failure.__cause__ = ssl.SSLCertVerificationError(1, "certificate verify failed")
    failure.__cause__.verify_message = "unable to get local issuer certificate"
    client = Harness(kind, Script(("GET", url(1), failure)))
    with pytest.raises(CertificateError, match="CA bundle") as info:
        client.get(1)
    assert info.value.reason == "unable to get local issuer certificate"
    assert (info.value.method, info.value.url) == ("GET", url(1))
    assert client.sleeps == []


@pytest.mark.parametrize("location", ["javascript:alert(1)", "http://[::1", "http://h:99999999/"])
def test_an_unusable_redirect_location_is_a_typed_error(kind: str, location: str) -> None:
    moved = httpx.Response(302, headers={"Location": location})
    client = Harness(kind, lambda request: moved, max_retries=1)
    with pytest.raises(APIConnectionError):  # httpx's InvalidURL or RemoteProtocolError, typed
        client.get(1)


def test_a_failure_mid_body_keeps_the_status(kind: str) -> None:
    def cut(request: httpx.Request) -> httpx.Response:
        class Cut(httpx.SyncByteStream, httpx.AsyncByteStream):
            def __iter__(self) -> Any:
                yield b'{"id": 1'
                raise httpx.RemoteProtocolError("peer closed connection")

            async def __aiter__(self) -> Any:
                yield b'{"id": 1'
                raise httpx.RemoteProtocolError("peer closed connection")

        return httpx.Response(200, stream=Cut())

    with pytest.raises(APIConnectionError) as info:
        Harness(kind, cut, max_retries=0).get(1)
    assert info.value.status_code == 200, "an answer had begun"
    with pytest.raises(APIConnectionError) as info:
        Harness(kind, Script(("GET", url(1), httpx.ConnectError("refused"))), max_retries=0).get(1)
    assert info.value.status_code is None, "no answer at all"


def test_the_debug_line_times_the_attempt_not_the_wait(
    kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    caplog.set_level(logging.DEBUG, logger="ls_model_providers")
    now = [0.0]

    def sleep_hook(seconds: float) -> None:
        now[0] += seconds

    async def async_sleep(seconds: float) -> None:
        now[0] += seconds

    script = Script(
        ("GET", url(1), httpx.Response(503, headers={"Retry-After": "5"})), ("GET", url(1), ok())
    )
    Harness(
        kind, script, clock=lambda: now[0], sleep=sleep_hook if kind == "sync" else async_sleep
    ).get(1)
    lines = [r.getMessage() for r in caplog.records if "->" in r.getMessage()]
    assert lines[-1].endswith("-> 200 (0.0 ms)"), lines


# -- the streaming read: bodies arrive chunk by chunk, as from a socket -----------------------------


def test_an_http_client_with_default_params_still_sends_the_credentials(kind: str) -> None:
    """Default query params take the request through httpx's own builder: it must still carry
    the Authorization header and the client's default headers."""
    script = Script(("GET", url(1) + "?tenant=a", ok()))
    transport = StreamingTransport(script)
    http: Any = (
        httpx.Client(params={"tenant": "a"}, transport=transport)
        if kind == "sync"
        else httpx.AsyncClient(params={"tenant": "a"}, transport=transport)
    )
    assert Harness(kind, None, http_client=http).get(1).id == 1
    sent = script.requests[0]
    assert sent.headers["Authorization"] == f"Token {TOKEN}"
    assert sent.headers["Accept"] == "application/json"
    assert script.done()


def test_no_per_attempt_timeout_is_bounded_by_the_call_deadline(kind: str) -> None:
    """timeout=None leaves each attempt to the call's deadline (120 s by default)."""
    seen: list[dict[str, float]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return ok()

    Harness(kind, Script(("GET", url(1), answer)), timeout=None).get(1)
    assert set(seen[0]) == {"connect", "read", "write", "pool"}
    assert all(119.0 < value <= 120.0 for value in seen[0].values()), seen


def test_a_partial_timeout_is_completed_by_the_deadline(kind: str) -> None:
    seen: list[dict[str, float]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return ok()

    timeout = httpx.Timeout(None, connect=1.0)
    Harness(
        kind, Script(("GET", url(1), answer)), timeout=timeout, retry=RetryPolicy(deadline=2.0)
    ).get(1)
    assert seen[0]["connect"] == 1.0, "a limit under the deadline is kept"
    assert all(1.9 < seen[0][name] <= 2.0 for name in ("read", "write", "pool")), seen


def test_limits_under_the_deadline_are_kept_whichever_they_are(kind: str) -> None:
    seen: list[dict[str, float]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return ok()

    timeout = httpx.Timeout(1.0, connect=None)
    client = Harness(
        kind, Script(("GET", url(1), answer)), timeout=timeout, retry=RetryPolicy(deadline=2.0)
    )
    client.get(1)
    assert seen[0]["read"] == seen[0]["write"] == seen[0]["pool"] == 1.0
    assert 1.9 < seen[0]["connect"] <= 2.0


def test_a_body_dripping_past_the_deadline_ends_the_call(kind: str) -> None:
    """The deadline is checked between chunks: the bound for a transport that has no
    deadline of its own (a caller's http_client)."""
    now = [0.0]

    def tick() -> None:
        now[0] += 1.0

    def dripping(request: httpx.Request) -> httpx.Response:
        data = json.dumps(body()).encode()
        return httpx.Response(200, stream=Chunks(data, size=20, pace=tick))

    client = Harness(kind, dripping, retry=RetryPolicy(deadline=10.0), clock=lambda: now[0])
    with pytest.raises(APITimeoutError, match="deadline of 10 s exceeded") as info:
        client.get(1)
    assert info.value.status_code == 200, "the answer had begun"
    assert (info.value.method, info.value.url) == ("GET", url(1))
    assert client.sleeps == []
    assert 10.0 < now[0] <= 12.0, "reading stopped at the deadline"
    stream = client.transport.streams[0]
    assert stream.served < len(stream.data)
    assert not client.transport.unclosed()


def test_a_body_arriving_within_the_deadline_is_read(kind: str) -> None:
    now = [0.0]

    def tick() -> None:
        now[0] += 0.25

    def slow(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Chunks(json.dumps(body()).encode(), size=100, pace=tick))

    client = Harness(kind, slow, retry=RetryPolicy(deadline=10.0), clock=lambda: now[0])
    assert client.get(1).id == 1


@pytest.mark.parametrize(
    "scenario", ["redirect", "too large", "retried", "undecodable", "status error"]
)
def test_every_streamed_response_is_closed(kind: str, scenario: str) -> None:
    """Each answer is closed once the call is done with it, read or not: a redirect's, an
    answer over the limit, one that was retried (else its connection never goes back to the
    pool)."""
    moved = httpx.Response(
        301, headers={"Location": "/api/model-provider-connections/1/?moved=1"}, text="moved here"
    )
    corrupt = httpx.Response(
        200, headers={"Content-Encoding": "gzip"}, stream=httpx.ByteStream(b"not gzip" * 20)
    )
    cases: dict[str, tuple[list[httpx.Response], dict[str, Any], type[Exception] | None]] = {
        "redirect": ([moved, ok()], {}, None),
        "too large": ([ok()], {"max_body_size": 100}, ResponseTooLargeError),
        "retried": ([httpx.Response(503, text="busy" * 30), ok()], {}, None),
        "undecodable": ([corrupt], {"max_retries": 0}, ResponseValidationError),
        "status error": ([ls_error(404, "Not found.")], {}, NotFoundError),
    }
    steps, options, error = cases[scenario]
    urls = [url(1), url(1) + "?moved=1"] if scenario == "redirect" else [url(1)] * len(steps)
    client = Harness(kind, Script(*zip(["GET"] * len(steps), urls, steps, strict=True)), **options)
    if error is None:
        client.get(1)
    else:
        with pytest.raises(error):
            client.get(1)
    assert len(client.transport.streams) == len(steps)
    assert not client.transport.unclosed()


@pytest.mark.parametrize("declared", [True, False], ids=["Content-Length", "chunked"])
def test_an_answer_over_the_limit_is_not_read_to_its_end(kind: str, declared: bool) -> None:
    data = json.dumps(body(cached_available_models="m" * 5000)).encode()
    big = (
        httpx.Response(200, content=data)
        if declared
        else httpx.Response(200, stream=httpx.ByteStream(data))
    )
    client = Harness(kind, Script(("GET", url(1), big)), max_body_size=1000)
    with pytest.raises(ResponseTooLargeError) as info:
        client.get(1)
    assert info.value.limit == 1000
    assert info.value.status_code == 200
    stream = client.transport.streams[0]
    if declared:
        assert "Content-Length 5" in str(info.value)
        assert (stream.served, info.value.body) == (0, b""), "refused before reading a byte"
    else:
        assert data.startswith(info.value.body), "what was read before the limit"
        assert 1000 - stream.size < len(info.value.body) <= 1000
        assert stream.served <= 1000 + stream.size
    assert client.sleeps == [], "an answer over the limit is not fetched again"


@pytest.mark.parametrize("coding", ["gzip", "deflate", "raw deflate", "gzip, gzip"])
def test_compressed_bodies_are_decoded_chunk_by_chunk(kind: str, coding: str) -> None:
    import gzip
    import zlib

    payload = json.dumps(body(cached_available_models="gpt-4o " * 200)).encode()
    encode: Callable[[bytes], bytes] = {
        "gzip": gzip.compress,
        "deflate": zlib.compress,
        "raw deflate": lambda data: zlib.compress(data, wbits=-15),
        "gzip, gzip": lambda data: gzip.compress(gzip.compress(data)),
    }[coding]
    header = "deflate" if coding == "raw deflate" else coding
    answer = httpx.Response(
        200, headers={"Content-Encoding": header}, stream=httpx.ByteStream(encode(payload))
    )
    detailed = Harness(kind, Script(("GET", url(1), answer))).detailed(1)
    assert detailed.content == payload
    assert detailed.parsed.cached_available_models == "gpt-4o " * 200


def test_a_corrupt_gzip_body_is_retried(kind: str) -> None:
    """A 2xx whose compressed body is garbled is malformed: retried like a truncated one."""
    import gzip

    def corrupt() -> httpx.Response:
        return httpx.Response(
            200, headers={"Content-Encoding": "gzip"}, stream=httpx.ByteStream(b"not gzip at all")
        )

    good = httpx.Response(
        200,
        headers={"Content-Encoding": "gzip"},
        stream=httpx.ByteStream(gzip.compress(json.dumps(body()).encode())),
    )
    client = Harness(kind, Script(("GET", url(1), corrupt()), ("GET", url(1), good)))
    assert client.detailed(1).attempts == 2
    assert len(client.sleeps) == 1
    client = Harness(
        kind,
        Script(("GET", url(1), corrupt())),
        retry=RetryPolicy(retry_on_malformed_body=False),
    )
    with pytest.raises(ResponseValidationError, match="cannot be decoded") as info:
        client.get(1)
    assert info.value.malformed
    assert client.sleeps == []


def test_a_gzip_bomb_stops_at_the_limit_of_decoded_bytes(kind: str) -> None:
    import gzip

    bomb = httpx.Response(
        200,
        headers={"Content-Encoding": "gzip"},
        stream=httpx.ByteStream(gzip.compress(b"\0" * 10_000_000)),
    )
    client = Harness(kind, Script(("GET", url(1), bomb)), max_body_size=50_000)
    with pytest.raises(ResponseTooLargeError) as info:
        client.get(1)
    assert len(info.value.body) <= 50_000


def test_the_in_process_path_keeps_the_limits(kind: str) -> None:
    """An in-process transport hands over a body already read: the size limit and the
    deadline still hold."""
    client = Harness(kind, Script(("GET", url(1), ok())), stream=False, max_body_size=100)
    with pytest.raises(ResponseTooLargeError) as info:
        client.get(1)
    assert info.value.limit == 100
    size = len(ok().content)
    assert str(info.value).startswith(f"response body over the 100-byte limit ({size}+ bytes)")
    exact = Harness(kind, Script(("GET", url(1), ok())), stream=False, max_body_size=size)
    assert exact.get(1).id == 1, "a body exactly at the limit is read"
    now = [0.0]

    def slow(request: httpx.Request) -> httpx.Response:
        now[0] += 11.0
        return ok()

    client = Harness(
        kind, Script(("GET", url(1), slow)), stream=False,
        retry=RetryPolicy(deadline=10.0), clock=lambda: now[0],
    )  # fmt: skip
    with pytest.raises(APITimeoutError, match="deadline of 10 s exceeded") as timed_out:
        client.get(1)
    assert timed_out.value.status_code == 200
    assert Harness(kind, Script(("GET", url(1), ok())), stream=False).get(1).id == 1


def test_a_timeout_mid_body_keeps_the_status(kind: str) -> None:
    class Slow(httpx.SyncByteStream, httpx.AsyncByteStream):
        def __iter__(self) -> Any:
            yield b'{"id": 1'
            raise httpx.ReadTimeout("slow")

        async def __aiter__(self) -> Any:
            yield b'{"id": 1'
            raise httpx.ReadTimeout("slow")

    client = Harness(kind, lambda request: httpx.Response(200, stream=Slow()), max_retries=0)
    with pytest.raises(APITimeoutError) as info:
        client.get(1)
    assert (info.value.method, info.value.url, info.value.status_code) == ("GET", url(1), 200)
