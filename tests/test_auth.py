"""Legacy Token and personal access tokens (refresh -> Bearer), through both clients."""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import re
import threading
import time
from typing import Any

import httpx
import pytest

from ls_model_providers import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AsyncClient,
    AuthenticationError,
    Client,
    PersonalAccessTokenAuth,
    ResponseValidationError,
    RetryPolicy,
    ServerError,
    TokenAuth,
)
from ls_model_providers._constants import DEFAULT_TIMEOUT, RESENDABLE
from ls_model_providers._errors import Answer

from .helpers import Harness, Script, StreamingTransport, jwt, ls_error, never, ok

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


def pat(kind: str, script: Any, **kwargs: Any) -> Harness:
    return Harness(kind, script, base_url=BASE, api_key=REFRESH, **kwargs)


def test_api_key_shape_picks_the_auth() -> None:
    assert isinstance(Client(base_url=BASE, api_key="abc123")._auth, TokenAuth)
    assert isinstance(Client(base_url=BASE, api_key=REFRESH)._auth, PersonalAccessTokenAuth)


def test_refresh_then_bearer_under_a_path_prefix(kind: str) -> None:
    access = access_token(time.time() + 3600)
    script = Script(
        ("POST", REFRESH_URL, refreshed(access)), ("GET", CONN_URL, ok()), ("GET", CONN_URL, ok())
    )
    client = Harness(kind, script, base_url="https://h.example/ls", api_key=REFRESH)
    client.get(1)
    client.get(1)
    assert script.done(), "one refresh serves both calls"
    assert script.requests[1].headers["Authorization"] == f"Bearer {access}"
    assert "Authorization" not in script.requests[0].headers


def test_refreshes_before_exp(kind: str) -> None:
    now = [1_000_000.0]
    first, second = access_token(now[0] + 100), access_token(now[0] + 10_000)
    script = Script(
        ("POST", REFRESH_URL, refreshed(first)),
        ("GET", CONN_URL, ok()),
        ("POST", REFRESH_URL, refreshed(second)),
        ("GET", CONN_URL, ok()),
    )
    auth = PersonalAccessTokenAuth(REFRESH, base_url=BASE, clock=lambda: now[0])
    client = Harness(kind, script, base_url=BASE, auth=auth)
    client.get(1)
    now[0] += 75  # within the 30 s margin of exp
    client.get(1)
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


def test_refreshes_once_on_401_then_retries(kind: str) -> None:
    script, fresh = refresh_on_401()
    client = pat(kind, script)
    assert client.get(1).id == 1
    assert script.requests[3].headers["Authorization"] == f"Bearer {fresh}"
    assert client.sleeps == [], "a refused access token is not a retry: no wait"


def test_second_401_is_raised_not_looped(kind: str) -> None:
    token = access_token(time.time() + 3600)
    script = Script(
        ("POST", REFRESH_URL, refreshed(token)),
        ("GET", CONN_URL, ls_error(401, "nope")),
        ("POST", REFRESH_URL, refreshed(token)),
        ("GET", CONN_URL, ls_error(401, "nope")),
    )
    with pytest.raises(AuthenticationError):
        pat(kind, script).get(1)
    assert script.done()


def test_bad_refresh_token_is_an_authentication_error(kind: str) -> None:
    refused = httpx.Response(
        401, json={"detail": "Token is invalid or expired", "code": "token_not_valid"},
        headers={"WWW-Authenticate": 'Bearer realm="api"'},
    )  # fmt: skip
    client = pat(kind, Script(("POST", REFRESH_URL, refused)))
    with pytest.raises(AuthenticationError) as info:
        client.get(1)
    assert str(info.value).startswith(f"personal access token refused at {REFRESH_URL}: HTTP 401")
    assert info.value.method == "POST"
    for text in (str(info.value), repr(info.value)):
        assert REFRESH not in text
    assert client.sleeps == [], "a refused token is not retried"


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_refresh_answered_with_a_retryable_status_is_retried(kind: str, status: int) -> None:
    access = access_token(time.time() + 3600)
    script = Script(
        ("POST", REFRESH_URL, httpx.Response(status, headers={"Retry-After": "1"})),
        ("POST", REFRESH_URL, httpx.Response(status)),
        ("POST", REFRESH_URL, refreshed(access)),
        ("GET", CONN_URL, ok()),
    )
    client = pat(kind, script, jitter=lambda: 0.5)
    assert client.get(1).id == 1
    assert script.done()
    assert client.sleeps == [1.0, 0.5]


def test_refresh_transport_failures_are_retried_like_the_gets(kind: str) -> None:
    access = access_token(time.time() + 3600)
    script = Script(
        ("POST", REFRESH_URL, httpx.ConnectError("refused")),
        ("POST", REFRESH_URL, httpx.ReadTimeout("slow")),
        ("POST", REFRESH_URL, refreshed(access)),
        ("GET", CONN_URL, ok()),
    )
    assert pat(kind, script).get(1).id == 1
    assert script.done()


def test_refresh_failures_end_with_the_typed_error(kind: str) -> None:
    script = Script(*[("POST", REFRESH_URL, httpx.Response(503))] * 3)
    with pytest.raises(
        ServerError, match=f"^token refresh failed at {REFRESH_URL}: HTTP 503"
    ) as info:
        pat(kind, script).get(1)
    assert info.value.status_code == 503
    assert script.done()
    script = Script(*[("POST", REFRESH_URL, httpx.ConnectError("refused"))] * 3)
    with pytest.raises(APIConnectionError):
        pat(kind, script).get(1)


def test_refresh_requests_carry_the_attempt_timeout(kind: str) -> None:
    seen: list[dict[str, float]] = []
    access = access_token(time.time() + 3600)

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(200, json={"access": access})

    script = Script(("POST", REFRESH_URL, answer), ("GET", CONN_URL, ok()))
    pat(kind, script, timeout=1.0, retry=RetryPolicy(deadline=3.0)).get(1)
    assert seen == [{"connect": 1.0, "read": 1.0, "write": 1.0, "pool": 1.0}]


def test_refresh_counts_against_the_call_deadline(kind: str) -> None:
    now = [0.0]

    def slow_refresh(request: httpx.Request) -> httpx.Response:
        now[0] += 5.0
        return ls_error(503, "Service Unavailable")

    script = Script(("POST", REFRESH_URL, slow_refresh))
    client = pat(kind, script, retry=RetryPolicy(deadline=4.0), clock=lambda: now[0])
    with pytest.raises(APITimeoutError, match="deadline of 4 s exceeded"):
        client.get(1)


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (httpx.Response(200, json={"nope": 1}), "without a usable access token"),
        (httpx.Response(200, json={"access": "a\nb"}), "without a usable access token"),
        (httpx.Response(200, json={"access": ""}), "without a usable access token"),
        (httpx.Response(200, content=b'{"access":' * 50_000), "not usable JSON"),
        (httpx.Response(200, content=b"[" * 100_000), "nested"),
    ],
    ids=["no access", "control character", "empty", "deep", "deeper"],
)
def test_unusable_refresh_answers_are_typed(kind: str, answer: httpx.Response, why: str) -> None:
    script = Script(*[("POST", REFRESH_URL, httpx.Response(200, content=answer.content))] * 3)
    with pytest.raises(ResponseValidationError, match=why):
        pat(kind, script).get(1)


@pytest.mark.parametrize(
    "claims",
    [{"exp": 10**400 // 10**10}, {"exp": "soon"}, {"exp": True}, {"exp": None}, {}],
    ids=["400 digits", "text", "bool", "null", "absent"],
)
def test_nonsense_exp_claims_are_ignored(kind: str, claims: dict[str, Any]) -> None:
    access = jwt(claims)
    script = Script(
        ("POST", REFRESH_URL, refreshed(access)), ("GET", CONN_URL, ok()), ("GET", CONN_URL, ok())
    )
    client = pat(kind, script)
    client.get(1)
    client.get(1)
    assert script.done(), "an unknown expiry: kept until the server refuses it"


def test_deeply_nested_jwt_claims_are_ignored(kind: str) -> None:
    import base64

    payload = base64.urlsafe_b64encode(b'{"a":' * 5000 + b"1" + b"}" * 5000).rstrip(b"=").decode()
    access = f"eyJhbGciOiJIUzI1NiJ9.{payload}.c2ln"
    script = Script(("POST", REFRESH_URL, refreshed(access)), ("GET", CONN_URL, ok()))
    assert pat(kind, script).get(1).id == 1


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

    results = pat("sync", handler).many([1] * 16, concurrency=8)
    assert all(not isinstance(r, Exception) for r in results)
    assert refreshes[0] == 1


def test_single_flight_refresh_under_tasks() -> None:
    refreshes = [0]
    token = access_token(time.time() + 3600)

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token/refresh/"):
            refreshes[0] += 1
            await asyncio.sleep(0.02)
            return httpx.Response(200, json={"access": token})
        assert request.headers["Authorization"] == f"Bearer {token}"
        return ok()

    results = pat("async", handler).many([1] * 16, concurrency=16)
    assert all(not isinstance(r, Exception) for r in results)
    assert refreshes[0] == 1


def test_one_auth_serves_several_event_loops() -> None:
    """Each asyncio.run() is a new loop; the refresh lock must not be bound to the first."""
    now = [1_000_000.0]
    tokens = iter([access_token(now[0] + 60), access_token(now[0] + 10_000)])

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token/refresh/"):
            await asyncio.sleep(0)
            return httpx.Response(200, json={"access": next(tokens)})
        return ok()

    auth = PersonalAccessTokenAuth(REFRESH, base_url=BASE, clock=lambda: now[0])

    async def fetch_twice() -> None:
        client = AsyncClient(base_url=BASE, auth=auth, transport=httpx.MockTransport(handler))
        await asyncio.gather(client.get_connection(1), client.get_connection(1))

    asyncio.run(fetch_twice())
    now[0] += 45  # the first access token is now within the refresh margin
    asyncio.run(fetch_twice())
    assert auth.refresh_count == 2


def test_auth_reprs_hide_credentials() -> None:
    assert "secret-token" not in repr(TokenAuth("secret-token"))
    auth = PersonalAccessTokenAuth(REFRESH, base_url=BASE)
    assert REFRESH not in repr(auth)
    assert REFRESH_URL in repr(auth)


def test_personal_access_token_auth_works_with_plain_httpx() -> None:
    """Usable as an httpx.Auth on its own (the generated library, scripts)."""
    script, fresh = refresh_on_401()
    seen: list[dict[str, float]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions.get("timeout", {}))
        return script(request)

    auth = PersonalAccessTokenAuth(REFRESH, base_url=BASE)
    with httpx.Client(transport=httpx.MockTransport(handler), timeout=2.0) as http:
        assert http.get(CONN_URL, auth=auth).status_code == 200
    assert script.requests[3].headers["Authorization"] == f"Bearer {fresh}"
    assert seen[0] == {"connect": 2.0, "read": 2.0, "write": 2.0, "pool": 2.0}, (
        "the refresh inherits the timeout"
    )


def _two_refreshes(
    kind: str, first: httpx.Response, second: httpx.Response, now: list[float]
) -> tuple[Script, Harness]:
    """A refresh answered ``first``, two GETs, a refresh answered ``second``, a GET; the
    client's clock reads ``now[0]``."""
    script = Script(
        ("POST", REFRESH_URL, first),
        ("GET", CONN_URL, ok()),
        ("GET", CONN_URL, ok()),
        ("POST", REFRESH_URL, second),
        ("GET", CONN_URL, ok()),
    )
    auth = PersonalAccessTokenAuth(REFRESH, base_url=BASE, clock=lambda: now[0])
    return script, Harness(kind, script, base_url=BASE, auth=auth)


def test_a_short_lived_access_token_is_used_until_half_its_life(kind: str) -> None:
    """A 20 s token is within the 30 s margin on arrival: refreshed at 10 s, not on every call."""
    now = [1_000_000.0]
    first, second = access_token(now[0] + 20), access_token(now[0] + 40)
    script, client = _two_refreshes(kind, refreshed(first), refreshed(second), now)
    client.get(1)
    now[0] += 9
    client.get(1)
    now[0] += 2  # past half of the first token's life
    client.get(1)
    assert script.done()
    assert script.requests[4].headers["Authorization"] == f"Bearer {second}"


def test_a_redirected_refresh_is_not_followed(kind: str) -> None:
    """A 307 would re-send the refresh token to wherever it points: the answer is an error."""
    moved = httpx.Response(307, headers={"Location": "https://elsewhere.example/collect/"})
    script = Script(("POST", REFRESH_URL, moved))
    client = pat(kind, script)
    with pytest.raises(APIStatusError) as info:
        client.get(1)
    assert info.value.status_code == 307
    assert info.value.method == "POST"
    assert str(info.value).startswith(f"token refresh failed at {REFRESH_URL}: HTTP 307")
    assert len(script.requests) == 1, "nothing was sent anywhere else"
    assert client.sleeps == []


def test_a_personal_access_token_with_an_http_client_that_has_default_params(kind: str) -> None:
    access = access_token(time.time() + 3600)
    script = Script(
        ("POST", REFRESH_URL + "?tenant=a", refreshed(access)),
        ("GET", CONN_URL + "?tenant=a", ok()),
    )
    transport = StreamingTransport(script)
    http: Any = (
        httpx.Client(params={"tenant": "a"}, transport=transport)
        if kind == "sync"
        else httpx.AsyncClient(params={"tenant": "a"}, transport=transport)
    )
    assert Harness(kind, None, base_url=BASE, api_key=REFRESH, http_client=http).get(1).id == 1
    assert "Authorization" not in script.requests[0].headers
    assert script.requests[1].headers["Authorization"] == f"Bearer {access}"


def test_auth_reprs_show_the_length_only() -> None:
    assert repr(TokenAuth("0123456789abcdef")) == "TokenAuth(token=<16 chars>)"
    auth = PersonalAccessTokenAuth(REFRESH, base_url=BASE)
    assert repr(auth) == (
        f"PersonalAccessTokenAuth(refresh_token=<{len(REFRESH)} chars>, url={REFRESH_URL})"
    )


def _padded_access(exp: float, claims_length: int) -> str:
    """An access JWT whose claims part is ``claims_length`` base64url characters long."""
    claims = {"exp": exp, "pad": ""}
    size = len(json.dumps(claims))
    claims["pad"] = "p" * (claims_length * 3 // 4 - size)
    token = jwt(claims)
    assert len(token.split(".")[1]) == claims_length
    return token


@pytest.mark.parametrize(("claims_length", "read"), [(16_384, True), (16_388, False)])
def test_the_expiry_of_a_huge_access_token_is_not_read(
    kind: str, claims_length: int, read: bool
) -> None:
    """Claims past 16 KiB of base64 are not decoded: such a token is kept until a 401."""
    now = [1_000_000.0]
    access = _padded_access(now[0] + 100, claims_length)
    steps: list[Any] = [("POST", REFRESH_URL, refreshed(access)), ("GET", CONN_URL, ok())]
    if read:  # within 30 s of its exp: refreshed first
        steps.append(("POST", REFRESH_URL, refreshed(access_token(now[0] + 10_000))))
    steps.append(("GET", CONN_URL, ok()))
    script = Script(*steps)
    auth = PersonalAccessTokenAuth(REFRESH, base_url=BASE, clock=lambda: now[0])
    client = Harness(kind, script, base_url=BASE, auth=auth)
    client.get(1)
    now[0] += 80
    client.get(1)
    assert script.done()


def test_an_opaque_access_token_is_kept_until_refused(kind: str) -> None:
    script = Script(
        ("POST", REFRESH_URL, refreshed("opaque-access-token-0123")),
        ("GET", CONN_URL, ok()),
        ("GET", CONN_URL, ok()),
    )
    client = pat(kind, script)
    client.get(1)
    client.get(1)
    assert script.requests[2].headers["Authorization"] == "Bearer opaque-access-token-0123"


def test_plain_httpx_refreshes_once_and_sends_once() -> None:
    access = access_token(time.time() + 3600)
    script = Script(("POST", REFRESH_URL, refreshed(access)), ("GET", CONN_URL, ok()))
    auth = PersonalAccessTokenAuth(REFRESH, base_url=BASE)
    with httpx.Client(transport=httpx.MockTransport(script)) as http:
        assert http.get(CONN_URL, auth=auth).status_code == 200
    assert script.done()
    assert len(script.requests) == 2, "no second refresh, no second GET"


def test_plain_httpx_gives_up_after_one_refresh_on_401() -> None:
    token = access_token(time.time() + 3600)
    script = Script(
        ("POST", REFRESH_URL, refreshed(token)),
        ("GET", CONN_URL, ls_error(401, "nope")),
        ("POST", REFRESH_URL, refreshed(token)),
        ("GET", CONN_URL, ls_error(401, "nope")),
    )
    auth = PersonalAccessTokenAuth(REFRESH, base_url=BASE)
    with httpx.Client(transport=httpx.MockTransport(script)) as http:
        assert http.get(CONN_URL, auth=auth).status_code == 401
    assert script.done()


def test_an_access_token_due_at_once_is_still_sent_through_plain_httpx() -> None:
    """A clock ahead of the server's makes a fresh token look expired: it is still the best
    there is (as inside Client), not an empty Authorization header."""
    now = [1_000_000.0]
    stale = access_token(now[0] - 60)
    script = Script(("POST", REFRESH_URL, refreshed(stale)), ("GET", CONN_URL, ok()))
    auth = PersonalAccessTokenAuth(REFRESH, base_url=BASE, clock=lambda: now[0])
    with httpx.Client(transport=httpx.MockTransport(script)) as http:
        assert http.get(CONN_URL, auth=auth).status_code == 200
    assert script.requests[1].headers["Authorization"] == f"Bearer {stale}"


def test_a_call_waiting_for_another_refresh_ends_at_its_deadline() -> None:
    """While another thread holds the refresh (a hung server), a call waits for it no longer
    than its own deadline, and says which request it was waiting to make."""
    auth = PersonalAccessTokenAuth(REFRESH, base_url=BASE)
    client = Client(
        base_url=BASE, auth=auth, transport=httpx.MockTransport(never),
        retry=RetryPolicy(deadline=0.3),
    )  # fmt: skip
    errors: list[BaseException] = []

    def call() -> None:
        try:
            client.get_connection(1)
        except BaseException as exc:
            errors.append(exc)

    lock = auth.thread_lock()
    lock.acquire()
    try:
        waiter = threading.Thread(target=call, daemon=True)
        waiter.start()
        waiter.join(timeout=5)
        assert not waiter.is_alive(), "the call waited past its deadline"
    finally:
        lock.release()
    assert len(errors) == 1 and isinstance(errors[0], APITimeoutError), errors
    assert (errors[0].method, errors[0].url) == ("POST", REFRESH_URL)


def test_a_refused_refresh_echoing_the_token_hides_it(kind: str) -> None:
    refused = ls_error(401, f"Token is invalid: {REFRESH}")
    with pytest.raises(AuthenticationError) as info:
        pat(kind, Script(("POST", REFRESH_URL, refused))).get(1)
    assert REFRESH not in str(info.value)
    assert info.value.detail == "Token is invalid: <redacted>"


def test_a_refresh_answered_with_an_array_is_a_typed_error(kind: str) -> None:
    script = Script(*[("POST", REFRESH_URL, httpx.Response(200, json=[]))] * 3)
    with pytest.raises(ResponseValidationError, match="without a usable access token") as info:
        pat(kind, script).get(1)
    assert info.value.malformed is False and script.done() is False, "JSON: not retried"


@pytest.mark.parametrize(
    ("lifetime", "refreshed_again"),
    [(30.0, False), (-60.0, True)],
    ids=["exactly the margin", "already expired"],
)
def test_a_token_within_the_margin_on_arrival(
    kind: str, lifetime: float, refreshed_again: bool
) -> None:
    """A token living exactly the 30 s margin is used for half of it; one already expired
    (clock skew) is sent, and refreshed again on the next call."""
    now = [1_000_000.0]
    first = access_token(now[0] + lifetime)
    steps: list[Any] = [("POST", REFRESH_URL, refreshed(first)), ("GET", CONN_URL, ok())]
    if refreshed_again:
        steps.append(("POST", REFRESH_URL, refreshed(access_token(now[0] + 10_000))))
    steps.append(("GET", CONN_URL, ok()))
    script = Script(*steps)
    auth = PersonalAccessTokenAuth(REFRESH, base_url=BASE, clock=lambda: now[0])
    client = Harness(kind, script, base_url=BASE, auth=auth)
    client.get(1)
    assert script.requests[1].headers["Authorization"] == f"Bearer {first}"
    now[0] += 10
    client.get(1)
    assert script.done()


@pytest.mark.parametrize(("exp", "read"), [(0, False), (1, True)])
def test_an_exp_of_zero_is_nonsense_and_one_is_long_past(kind: str, exp: int, read: bool) -> None:
    steps: list[Any] = [
        ("POST", REFRESH_URL, refreshed(jwt({"exp": exp}))),
        ("GET", CONN_URL, ok()),
    ]
    if read:
        steps.append(("POST", REFRESH_URL, refreshed(access_token(time.time() + 3600))))
    steps.append(("GET", CONN_URL, ok()))
    script = Script(*steps)
    client = pat(kind, script)
    client.get(1)
    client.get(1)
    assert script.done()


@pytest.mark.parametrize("pad", range(4))
def test_the_expiry_is_read_whatever_the_base64_padding(kind: str, pad: int) -> None:
    now = [1_000_000.0]
    first = jwt({"exp": now[0] + 100, "p": "q" * pad})
    script = Script(
        ("POST", REFRESH_URL, refreshed(first)),
        ("GET", CONN_URL, ok()),
        ("POST", REFRESH_URL, refreshed(access_token(now[0] + 10_000))),
        ("GET", CONN_URL, ok()),
    )
    auth = PersonalAccessTokenAuth(REFRESH, base_url=BASE, clock=lambda: now[0])
    client = Harness(kind, script, base_url=BASE, auth=auth)
    client.get(1)
    now[0] += 75
    client.get(1)
    assert script.done(), "refreshed within 30 s of its exp"


def test_a_token_with_an_array_for_claims_is_kept(kind: str) -> None:
    header = "eyJhbGciOiJIUzI1NiJ9"
    claims = "WzEsMiwzXQ"  # [1,2,3]
    access = f"{header}.{claims}.c2ln"
    script = Script(
        ("POST", REFRESH_URL, refreshed(access)), ("GET", CONN_URL, ok()), ("GET", CONN_URL, ok())
    )
    client = pat(kind, script)
    client.get(1)
    client.get(1)
    assert script.done()


def test_replaced_access_tokens_are_not_kept_forever() -> None:
    """The scrubber holds the refresh token, the current access token and the one before it
    (an answer in flight may still quote it), not every token of a long-lived client."""
    now = [1_000_000.0]
    tokens = [access_token(now[0] + 100 * (i + 1)) + "" for i in range(5)]
    auth = PersonalAccessTokenAuth(REFRESH, base_url=BASE, clock=lambda: now[0])
    for token in tokens:
        auth.accept(
            Answer.of(
                httpx.Response(
                    200, json={"access": token}, request=httpx.Request("POST", REFRESH_URL)
                )
            )
        )
    assert repr(auth.scrub) == "Scrubber(3 secrets)"
    assert auth.scrub(tokens[-1]) == auth.scrub(tokens[-2]) == "<redacted>"
    assert auth.scrub(tokens[0]) == tokens[0]


def test_plain_httpx_keeps_a_refused_token_after_giving_up() -> None:
    """After the second 401 the flow ends; the next request starts with the token it has,
    as the client does."""
    token = access_token(time.time() + 3600)
    script = Script(
        ("POST", REFRESH_URL, refreshed(token)),
        ("GET", CONN_URL, ls_error(401, "nope")),
        ("POST", REFRESH_URL, refreshed(token)),
        ("GET", CONN_URL, ls_error(401, "nope")),
        ("GET", CONN_URL, ok()),
    )
    auth = PersonalAccessTokenAuth(REFRESH, base_url=BASE)
    with httpx.Client(transport=httpx.MockTransport(script)) as http:
        assert http.get(CONN_URL, auth=auth).status_code == 401
        assert http.get(CONN_URL, auth=auth).status_code == 200
    assert script.done()


def test_the_refresh_is_due_exactly_30_s_before_exp(kind: str) -> None:
    now = [1_000_000.0]
    first, second = access_token(now[0] + 100), access_token(now[0] + 10_000)
    script = Script(
        ("POST", REFRESH_URL, refreshed(first)),
        ("GET", CONN_URL, ok()),
        ("GET", CONN_URL, ok()),
        ("POST", REFRESH_URL, refreshed(second)),
        ("GET", CONN_URL, ok()),
    )
    auth = PersonalAccessTokenAuth(REFRESH, base_url=BASE, clock=lambda: now[0])
    client = Harness(kind, script, base_url=BASE, auth=auth)
    client.get(1)
    now[0] += 69.999
    client.get(1)
    now[0] = 1_000_000.0 + 70
    client.get(1)
    assert script.done()


def test_a_refresh_answer_cut_short_is_retried_as_malformed(kind: str) -> None:
    access = access_token(time.time() + 3600)
    script = Script(
        ("POST", REFRESH_URL, httpx.Response(200, content=b'{"access": "ey')),
        ("POST", REFRESH_URL, refreshed(access)),
        ("GET", CONN_URL, ok()),
    )
    assert pat(kind, script).get(1).id == 1
    script = Script(("POST", REFRESH_URL, httpx.Response(200, content=b"{")))
    with pytest.raises(ResponseValidationError, match="not usable JSON") as info:
        pat(kind, script, max_retries=0).get(1)
    assert info.value.malformed is True
    assert (info.value.method, info.value.url, info.value.status_code) == ("POST", REFRESH_URL, 200)


def test_a_refresh_that_cannot_connect_names_the_post(kind: str) -> None:
    script = Script(("POST", REFRESH_URL, httpx.ConnectError("refused")))
    with pytest.raises(APIConnectionError) as info:
        pat(kind, script, max_retries=0).get(1)
    assert (info.value.method, info.value.url) == ("POST", REFRESH_URL)


def _refreshed_with_date(token: str, date: str) -> Any:
    def answer(request: httpx.Request) -> httpx.Response:
        response: httpx.Response = refreshed(token)(request)
        response.headers["Date"] = date
        return response

    return answer


@pytest.mark.parametrize("server_clock", ["iat", "Date"])
def test_a_client_clock_ahead_of_the_server_reads_the_lifetime_on_the_server_clock(
    kind: str, server_clock: str
) -> None:
    """The access token's lifetime is ``exp`` minus its ``iat`` (or, without one, minus the
    answer's ``Date``): a client clock hours ahead does not refresh on every call."""
    now = [1_000_000.0]
    server_now = now[0] - 10_000
    if server_clock == "iat":
        first = jwt({"token_type": "access", "iat": server_now, "exp": server_now + 3600})
        answer = refreshed(first)
    else:
        first = access_token(server_now + 3600)
        answer = _refreshed_with_date(first, email.utils.formatdate(server_now, usegmt=True))
    second = access_token(now[0] + 10_000)
    script, client = _two_refreshes(kind, answer, refreshed(second), now)
    client.get(1)
    now[0] += 3569
    client.get(1)
    now[0] = 1_000_000.0 + 3570  # 30 s before the end of its hour, on the client's clock
    client.get(1)
    assert script.done()
    assert script.requests[2].headers["Authorization"] == f"Bearer {first}"


def test_a_date_header_without_a_time_zone_is_not_the_server_clock(kind: str) -> None:
    """A ``Date`` in ``-0000`` names no time zone: the client's own clock reads the lifetime."""
    now = [1_000_000.0]
    first = access_token(now[0] + 100)
    undated = email.utils.formatdate(now[0] - 500_000)
    assert undated.endswith("-0000")
    script = Script(
        ("POST", REFRESH_URL, _refreshed_with_date(first, undated)),
        ("GET", CONN_URL, ok()),
        ("GET", CONN_URL, ok()),
        ("POST", REFRESH_URL, refreshed(access_token(now[0] + 10_000))),
        ("GET", CONN_URL, ok()),
    )
    auth = PersonalAccessTokenAuth(REFRESH, base_url=BASE, clock=lambda: now[0])
    client = Harness(kind, script, base_url=BASE, auth=auth)
    client.get(1)
    now[0] += 69
    client.get(1)
    now[0] += 1  # 30 s before exp on the client's clock
    client.get(1)
    assert script.done()


@pytest.mark.parametrize(("iat", "read"), [(2**53, False), (2**53 - 1, True)])
def test_an_iat_past_2_53_is_nonsense(kind: str, iat: int, read: bool) -> None:
    """An ``iat`` of 2**53 or more is ignored (the client clock is used); one just below is
    read, and, being far past ``exp``, makes the token due at once."""
    now = [1_000_000.0]
    first = jwt({"token_type": "access", "iat": iat, "exp": now[0] + 100})
    steps: list[Any] = [("POST", REFRESH_URL, refreshed(first)), ("GET", CONN_URL, ok())]
    if read:
        steps.append(("POST", REFRESH_URL, refreshed(access_token(now[0] + 10_000))))
    steps.append(("GET", CONN_URL, ok()))
    script = Script(*steps)
    auth = PersonalAccessTokenAuth(REFRESH, base_url=BASE, clock=lambda: now[0])
    client = Harness(kind, script, base_url=BASE, auth=auth)
    client.get(1)
    now[0] += 10
    client.get(1)
    assert script.done()


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_personal_access_token_is_not_sent_again(kind: str, status: int) -> None:
    """After a 401 or 403 to the refresh, every later call gets that error without a request."""
    script = Script(("POST", REFRESH_URL, ls_error(status, "Token is blacklisted")))
    client = pat(kind, script)
    for _ in range(2):
        with pytest.raises(
            APIStatusError,
            match=f"^personal access token refused at {re.escape(REFRESH_URL)}: HTTP {status}",
        ) as info:
            client.get(1)
        assert info.value.status_code == status
        assert info.value.detail == "Token is blacklisted"
    assert len(script.requests) == 1


def test_plain_httpx_does_not_send_a_refused_token_again() -> None:
    """Through plain httpx too, a refused personal access token is not sent a second time."""
    script = Script(("POST", REFRESH_URL, ls_error(401, "Token is blacklisted")))
    auth = PersonalAccessTokenAuth(REFRESH, base_url=BASE)
    with httpx.Client(transport=httpx.MockTransport(script)) as http:
        for _ in range(2):
            with pytest.raises(
                AuthenticationError,
                match=f"^personal access token refused at {re.escape(REFRESH_URL)}: HTTP 401",
            ):
                http.get(CONN_URL, auth=auth)
    assert len(script.requests) == 1


def test_a_refused_opaque_refresh_token_echoed_back_is_hidden(kind: str) -> None:
    """A refresh token of no known shape, quoted by the server, is still hidden: in the
    error of the refusal and in the error every later call gets."""
    token = "pat-0123456789abcdef0123"
    script = Script(("POST", REFRESH_URL, ls_error(401, f"Token {token} is invalid")))
    auth = PersonalAccessTokenAuth(token, base_url=BASE)
    client = Harness(kind, script, base_url=BASE, auth=auth)
    for _ in range(2):
        with pytest.raises(AuthenticationError) as info:
            client.get(1)
        assert info.value.detail == "Token <redacted> is invalid"
        assert token not in str(info.value)


def test_an_auth_flow_driven_by_hand_gives_its_refresh_the_default_timeouts() -> None:
    """Driven through the ``httpx.Auth`` protocol with a request that has no timeouts of its
    own, the refresh gets the default ones, and is marked safe to re-send on a stale
    kept-alive connection; its answer puts the access token on the request."""
    access = access_token(time.time() + 3600)
    auth = PersonalAccessTokenAuth(REFRESH, base_url=BASE)
    request = httpx.Request("GET", CONN_URL)
    flow = auth.sync_auth_flow(request)
    refresh = next(flow)
    assert (refresh.method, str(refresh.url)) == ("POST", REFRESH_URL)
    assert refresh.extensions["timeout"] == DEFAULT_TIMEOUT.as_dict()
    assert refresh.extensions[RESENDABLE] is True
    answer: httpx.Response = refreshed(access)(refresh)
    answer.request = refresh
    assert flow.send(answer) is request
    assert request.headers["Authorization"] == f"Bearer {access}"


def test_plain_httpx_reads_a_streamed_refresh_answer(kind: str) -> None:
    """The refresh answer arrives in pieces, as from a socket: httpx reads it whole for
    the auth before its access token is taken."""
    access = access_token(time.time() + 3600)
    script = Script(("POST", REFRESH_URL, refreshed(access)), ("GET", CONN_URL, ok()))
    transport = StreamingTransport(script)
    auth = PersonalAccessTokenAuth(REFRESH, base_url=BASE)
    if kind == "sync":
        with httpx.Client(transport=transport) as http:
            status = http.get(CONN_URL, auth=auth).status_code
    else:

        async def get() -> int:
            async with httpx.AsyncClient(transport=transport) as http:
                return (await http.get(CONN_URL, auth=auth)).status_code

        status = asyncio.run(get())
    assert status == 200
    assert script.requests[1].headers["Authorization"] == f"Bearer {access}"


def test_a_refresh_is_logged_on_the_library_logger_without_tokens(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The refresh is a debug record of the ``ls_model_providers`` logger; no token in it."""
    access = access_token(time.time() + 3600)
    script = Script(("POST", REFRESH_URL, refreshed(access)), ("GET", CONN_URL, ok()))
    auth = PersonalAccessTokenAuth(REFRESH, base_url=BASE)
    with (
        caplog.at_level(logging.DEBUG, logger="ls_model_providers"),
        httpx.Client(transport=httpx.MockTransport(script)) as http,
    ):
        assert http.get(CONN_URL, auth=auth).status_code == 200
    records = [r for r in caplog.records if "refreshed access token" in r.getMessage()]
    assert [(r.name, r.levelno) for r in records] == [("ls_model_providers", logging.DEBUG)]
    assert REFRESH_URL in records[0].getMessage()
    assert access not in caplog.text and REFRESH not in caplog.text


def test_a_waiting_caller_refreshes_again_when_the_new_token_is_already_due() -> None:
    """A call that waited for another's refresh does not settle for the token it brought if
    that one is already due (issued expired, by the client's clock): it refreshes again."""
    now = 1_000_000.0
    refreshes = [0]

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token/refresh/"):
            refreshes[0] += 1
            await asyncio.sleep(0.02)  # the other call comes to wait meanwhile
            return httpx.Response(200, json={"access": access_token(now - 60)})
        return ok()

    auth = PersonalAccessTokenAuth(REFRESH, base_url=BASE, clock=lambda: now)
    results = Harness("async", handler, base_url=BASE, auth=auth).many([1, 1], concurrency=2)
    assert all(not isinstance(r, Exception) for r in results)
    assert refreshes[0] == 2


def test_claims_one_character_past_16_kib_are_not_read(kind: str) -> None:
    """The 16 KiB limit counts the characters sent, before decoding: a claims part of
    16,385 characters is not read even when base64 would skip the stray one."""
    now = [1_000_000.0]
    header, claims, signature = _padded_access(now[0] + 100, 16_384).split(".")
    access = f"{header}.{claims}!.{signature}"
    script = Script(
        ("POST", REFRESH_URL, refreshed(access)), ("GET", CONN_URL, ok()), ("GET", CONN_URL, ok())
    )
    auth = PersonalAccessTokenAuth(REFRESH, base_url=BASE, clock=lambda: now[0])
    client = Harness(kind, script, base_url=BASE, auth=auth)
    client.get(1)
    now[0] += 80  # past exp - 30 s, had it been read
    client.get(1)
    assert script.done(), "kept until the server refuses it"
