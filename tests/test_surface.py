"""The public surface: configuration checks, the error tree, a caller's own httpx client."""

from __future__ import annotations

import math
from typing import Any

import httpx
import pytest

from ls_model_providers import (
    APIConnectionError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    AsyncClient,
    AuthenticationError,
    Client,
    EndpointNotAvailableError,
    LabelStudioError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseTooLargeError,
    ResponseValidationError,
    RetryPolicy,
    ServerError,
    TokenAuth,
    _errors,
)

from .helpers import BASE, TOKEN, Script, never, ok, url


def test_the_error_tree_matches_its_docstring() -> None:
    tree = {
        APIConnectionError: LabelStudioError,
        APITimeoutError: APIConnectionError,
        APIResponseError: LabelStudioError,
        ResponseValidationError: APIResponseError,
        ResponseTooLargeError: APIResponseError,
        APIStatusError: APIResponseError,
        AuthenticationError: APIStatusError,
        PermissionDeniedError: APIStatusError,
        NotFoundError: APIStatusError,
        EndpointNotAvailableError: APIStatusError,
        RateLimitError: APIStatusError,
        ServerError: APIStatusError,
    }
    for cls, parent in tree.items():
        assert cls.__bases__ == (parent,), cls
        assert cls.__name__ in (_errors.__doc__ or ""), f"{cls.__name__} missing from the tree"


def test_errors_are_built_whole_by_their_constructors() -> None:
    error = ResponseValidationError("bad", malformed=True, status_code=200, body=b"x", url="u")
    assert (error.malformed, error.status_code, error.body, error.url) == (True, 200, b"x", "u")
    big = ResponseTooLargeError("big", limit=10, status_code=200)
    assert (big.limit, big.body, big.headers) == (10, b"", httpx.Headers())
    status = NotFoundError("gone", status_code=404, detail="d", error_id="i", version="v")
    assert (status.detail, status.error_id, status.version) == ("d", "i", "v")
    assert str(status) == "gone [error id i, server v]"
    caught: list[type] = []
    for raised in (status, big, error, EndpointNotAvailableError("x", status_code=404)):
        try:
            raise raised
        except APIResponseError as exc:  # one name to catch anything with a status and a body
            caught.append(type(exc))
    assert len(caught) == 4


def test_max_retries_and_retry_together_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="not both"):
        Client(base_url=BASE, api_key=TOKEN, max_retries=3, retry=RetryPolicy())
    assert Client(base_url=BASE, api_key=TOKEN, max_retries=5).retry.max_retries == 5
    assert Client(base_url=BASE, api_key=TOKEN).retry == RetryPolicy()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"deadline": -5}, {"deadline": 0}, {"deadline": math.inf}, {"deadline": math.nan},
        {"deadline": "10"}, {"max_retries": -1}, {"max_retries": 1.5}, {"max_retries": True},
        {"backoff_base": -1}, {"backoff_cap": math.inf}, {"retry_after_cap": math.nan},
        {"retry_on_500": 1}, {"retry_on_malformed_body": "yes"},
    ],
)  # fmt: skip
def test_retry_policy_checks_every_field(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="RetryPolicy"):
        RetryPolicy(**kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"timeout": -1}, {"timeout": 0}, {"timeout": math.nan}, {"timeout": math.inf},
        {"timeout": httpx.Timeout(5, read=-1)}, {"max_body_size": 0}, {"max_body_size": 1.5},
    ],
)  # fmt: skip
def test_bad_timeouts_and_limits_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"timeout|max_body_size"):
        Client(base_url=BASE, api_key=TOKEN, **kwargs)


def test_no_timeout_is_allowed_explicitly() -> None:
    seen: list[dict[str, Any]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return ok()

    client = Client(
        base_url=BASE, api_key=TOKEN, timeout=None, retry=RetryPolicy(deadline=None),
        transport=httpx.MockTransport(Script(("GET", url(1), answer))),
    )  # fmt: skip
    client.get_connection(1)
    assert seen == [{"connect": None, "read": None, "write": None, "pool": None}]


def test_default_headers_are_added_to_your_client_without_overwriting() -> None:
    script = Script(("GET", url(1), ok()), ("GET", url(1), ok()))
    mine = httpx.Client(
        transport=httpx.MockTransport(script),
        headers={"X-Team": "a", "Accept": "application/vnd+json"},
    )
    with Client(base_url=BASE, api_key=TOKEN, http_client=mine) as client:
        client.get_connection(1)
    sent = script.requests[0].headers
    assert (sent["X-Team"], sent["Accept"]) == ("a", "application/vnd+json"), "yours are kept"
    assert sent["Authorization"] == f"Token {TOKEN}"
    plain = httpx.Client(transport=httpx.MockTransport(script))
    Client(base_url=BASE, api_key=TOKEN, http_client=plain).get_connection(1)
    assert script.requests[1].headers["Accept"] == "application/json", "ours are added"
    mine.close()
    plain.close()


def test_codings_the_client_cannot_bound_are_not_asked_for() -> None:
    script = Script(("GET", url(1), ok()), ("GET", url(1), ok()))
    brotli = httpx.Client(
        transport=httpx.MockTransport(script), headers={"Accept-Encoding": "br, gzip"}
    )
    Client(base_url=BASE, api_key=TOKEN, http_client=brotli).get_connection(1)
    assert script.requests[0].headers["Accept-Encoding"] == "gzip, deflate"
    identity = httpx.Client(
        transport=httpx.MockTransport(script), headers={"Accept-Encoding": "identity"}
    )
    Client(base_url=BASE, api_key=TOKEN, http_client=identity).get_connection(1)
    assert script.requests[1].headers["Accept-Encoding"] == "identity"


def test_your_clients_cookies_and_params_are_sent() -> None:
    script = Script(("GET", url(1) + "?tenant=a", ok()))
    mine = httpx.Client(
        transport=httpx.MockTransport(script), params={"tenant": "a"}, cookies={"sso": "c1"}
    )
    Client(base_url=BASE, api_key=TOKEN, http_client=mine).get_connection(1)
    assert script.requests[0].headers["Cookie"] == "sso=c1"
    only_cookies = Script(("GET", url(1), ok()))
    mine = httpx.Client(transport=httpx.MockTransport(only_cookies), cookies={"sso": "c2"})
    Client(base_url=BASE, api_key=TOKEN, http_client=mine).get_connection(1)
    assert only_cookies.requests[0].headers["Cookie"] == "sso=c2"


def test_http_client_and_transport_together_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="not both"):
        Client(
            base_url=BASE,
            api_key=TOKEN,
            http_client=httpx.Client(),
            transport=httpx.MockTransport(never),
        )


def test_from_env_reads_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABEL_STUDIO_URL", "https://env.example/ls")
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "envtoken\n")
    client = Client.from_env(transport=httpx.MockTransport(never), max_retries=4)
    assert client.base_url == "https://env.example/ls/"
    assert isinstance(client._auth, TokenAuth)
    assert client.retry.max_retries == 4
    assert Client.from_env(base_url="https://given.example").base_url == "https://given.example/"
    assert isinstance(AsyncClient.from_env(), AsyncClient)
    monkeypatch.delenv("LABEL_STUDIO_URL")
    with pytest.raises(ValueError, match="LABEL_STUDIO_URL"):
        Client.from_env()
    monkeypatch.setenv("LABEL_STUDIO_URL", "https://env.example/ls")
    monkeypatch.delenv("LABEL_STUDIO_API_KEY")
    with pytest.raises(ValueError, match="api_key is required"):
        Client.from_env()


@pytest.mark.parametrize(
    ("variable", "argument"),
    [("LABEL_STUDIO_URL", "base_url"), ("LABEL_STUDIO_API_KEY", "api_key")],
)
def test_from_env_refuses_a_variable_set_to_nothing(
    monkeypatch: pytest.MonkeyPatch, variable: str, argument: str
) -> None:
    """A variable set but empty (a CI secret the job cannot read) is named as such, not taken
    for unset; an argument given wins over it."""
    monkeypatch.setenv("LABEL_STUDIO_URL", "https://env.example")
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "envtoken")
    monkeypatch.setenv(variable, " ")
    with pytest.raises(ValueError, match=f"^{variable} is set but empty: .* or pass {argument}$"):
        Client.from_env()
    if argument == "base_url":
        assert (
            Client.from_env(base_url="https://given.example").base_url == "https://given.example/"
        )
    else:
        assert Client.from_env(api_key="giventoken").base_url == "https://env.example/"


def test_configuration_errors() -> None:
    with pytest.raises(ValueError, match="http"):
        Client(base_url="ftp://x", api_key="k")
    with pytest.raises(TypeError, match="api_key must be a str"):
        Client(base_url=BASE, api_key=123)  # type: ignore[arg-type]


def test_the_wrong_httpx_flavour_is_refused_when_the_client_is_built() -> None:
    with pytest.raises(TypeError, match=r"http_client must be an httpx\.Client"):
        Client(base_url=BASE, api_key=TOKEN, http_client=httpx.AsyncClient())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="transport must be an httpx"):
        Client(base_url=BASE, api_key=TOKEN, transport=httpx.AsyncHTTPTransport())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"http_client must be an httpx\.AsyncClient"):
        AsyncClient(base_url=BASE, api_key=TOKEN, http_client=httpx.Client())  # type: ignore[arg-type]
    import time

    with pytest.raises(TypeError, match="sleep must be an async function"):
        AsyncClient(base_url=BASE, api_key=TOKEN, sleep=time.sleep)  # type: ignore[arg-type]


@pytest.mark.parametrize("prefix", ["Token ", "Bearer ", "token "])
def test_a_key_pasted_with_its_scheme_is_refused_with_a_hint(prefix: str) -> None:
    with pytest.raises(ValueError, match="pass the key alone") as info:
        Client(base_url=BASE, api_key=prefix + TOKEN)
    assert TOKEN[:8] not in str(info.value)


def test_a_base_url_without_a_scheme_says_so() -> None:
    with pytest.raises(ValueError, match="got a URL without a scheme: start it with https://"):
        Client(base_url="localhost:8080", api_key=TOKEN)


def test_the_api_key_message_points_at_from_env() -> None:
    with pytest.raises(ValueError, match=r"from_env\(\) reads it from LABEL_STUDIO_API_KEY"):
        Client(base_url=BASE)


def test_import_leaves_asyncio_and_httpcore_for_later() -> None:
    """The README's import figure rests on this: a blocking program never pays for them."""
    import subprocess
    import sys

    code = (
        "import sys, ls_model_providers; "
        "print(sorted(m for m in ('asyncio', 'httpcore') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("seconds", [1e10, 10**7])
def test_absurd_times_are_refused_where_they_are_given(seconds: float) -> None:
    with pytest.raises(ValueError, match="at most 1,000,000"):
        Client(base_url=BASE, api_key=TOKEN, timeout=seconds)
    with pytest.raises(ValueError, match="at most 1,000,000"):
        RetryPolicy(deadline=seconds)
    with pytest.raises(ValueError, match="1,000,000"):
        RetryPolicy(backoff_cap=seconds)
