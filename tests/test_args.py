"""The checks on what a caller passes in: each refusal names the argument and the problem,
and the edges are where the README puts them."""

from __future__ import annotations

import re
from typing import Any

import pytest

from ls_model_providers import Client, PersonalAccessTokenAuth, RetryPolicy, TokenAuth
from ls_model_providers._args import check_api_key, check_base_url, check_connection_id
from ls_model_providers._auth import auth_from_api_key
from ls_model_providers._constants import MAX_SECONDS

BASE = "https://h.example/"


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("abc def", "api_key has a white-space or control character at position 3"),
        ("abc\x7fdef", "api_key has a white-space or control character at position 3"),
        ("abc\x80def", "api_key has a non-ASCII character at position 3"),
        ("abcédef", "api_key has a non-ASCII character at position 3"),
    ],
)
def test_a_key_that_cannot_travel_is_refused_by_kind_and_position(key: str, message: str) -> None:
    with pytest.raises(ValueError, match=r"^" + message):
        check_api_key(key)


def test_printable_ascii_is_a_key_from_bang_to_tilde() -> None:
    assert check_api_key("!" + "k" * 8 + "~") == "!" + "k" * 8 + "~"
    assert check_api_key("Token") == "Token", "a key that only looks like a scheme"
    with pytest.raises(ValueError, match="starts with 'Bearer '"):
        check_api_key("Bearer abc def")


def test_the_messages_name_the_argument() -> None:
    with pytest.raises(TypeError, match=r"^connection_id must be an int, not str$"):
        check_connection_id("1")
    with pytest.raises(TypeError, match=r"^api_key must be a str, not int$"):
        check_api_key(5)
    with pytest.raises(ValueError, match=r"^token has a white-space"):
        TokenAuth("a b c d e f")
    with pytest.raises(ValueError, match=r"^refresh_token has a white-space"):
        PersonalAccessTokenAuth("eyJ a.b.c", base_url=BASE)
    with pytest.raises(TypeError, match=r"^base_url must be a str, not int$"):
        check_base_url(5)
    with pytest.raises(ValueError, match=r"^base_url is not a valid URL \(check its host name\)$"):
        check_base_url("http://[::1")
    with pytest.raises(
        ValueError, match=r"^base_url must be an http.s. URL with a host, got 'ftp://h.example'$"
    ):
        check_base_url("ftp://h.example")
    with pytest.raises(ValueError, match=r"got a URL without a scheme$"):
        check_base_url("://h.example")


@pytest.mark.parametrize(
    "url", ["https://h.example/#", "https://h.example/?", "https://h.example/ls?a=1"]
)
def test_an_empty_query_or_fragment_is_refused_too(url: str) -> None:
    with pytest.raises(ValueError, match="must not have a query"):
        check_base_url(url)


def test_a_key_shaped_like_a_jwt_only_with_both_marks() -> None:
    assert isinstance(auth_from_api_key("abc.def.ghi", base_url=BASE), TokenAuth)
    assert isinstance(auth_from_api_key("eyJabcdefgh", base_url=BASE), TokenAuth)
    assert isinstance(auth_from_api_key("eyJa.b.c", base_url=BASE), PersonalAccessTokenAuth)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (True, "timeout must be a finite number of seconds, got True"),
        ("5", "timeout must be a finite number of seconds, got '5'"),
        (float("inf"), "timeout must be a finite number of seconds, got inf"),
        (float("nan"), "timeout must be a finite number of seconds, got nan"),
        (0, "timeout must be > 0 and at most 1,000,000 seconds, got 0"),
        (MAX_SECONDS + 1, "timeout must be > 0 and at most 1,000,000 seconds"),
    ],
)
def test_timeouts_are_checked(value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=r"^" + message.replace("(", r"\(")):
        Client(base_url=BASE, api_key="k" * 40, timeout=value)


def test_the_largest_times_are_accepted() -> None:
    Client(base_url=BASE, api_key="k" * 40, timeout=MAX_SECONDS)
    RetryPolicy(backoff_base=MAX_SECONDS, deadline=MAX_SECONDS)


@pytest.mark.parametrize(
    "fields",
    [{"backoff_base": True}, {"backoff_cap": "1"}, {"deadline": True}, {"deadline": "1"},
     {"retry_after_cap": MAX_SECONDS + 1}, {"deadline": MAX_SECONDS + 1}],
)  # fmt: skip
def test_retry_policy_fields_are_checked(fields: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"^RetryPolicy."):
        RetryPolicy(**fields)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://h.example:1", "http://h.example:1/"),
        ("http://h.example:65535", "http://h.example:65535/"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/"),
        ("http://[::1]:8080", "http://[::1]:8080/"),
        ("http://H.Example.", "http://h.example./"),
        ("http://redis_1.example", "http://redis_1.example/"),
        ("http://xn--bcher-kva.example", "http://xn--bcher-kva.example/"),
        ("http://h.Xn--Bcher-KVA.example", "http://h.xn--bcher-kva.example/"),
    ],
)
def test_base_urls_that_can_be_connected_to_are_accepted(url: str, expected: str) -> None:
    """The last port, IP literals, a fully qualified host with its trailing dot, a container
    name with an underscore and valid Punycode labels in any letter case are all accepted."""
    assert check_base_url(url) == expected


@pytest.mark.parametrize("port", [0, 65536])
def test_a_port_outside_1_to_65535_is_refused_by_number(port: int) -> None:
    """A port no socket can use is refused up front, and the message says which one."""
    with pytest.raises(
        ValueError, match=rf"^base_url is not a valid URL: port {port} is not 1\.\.65535$"
    ):
        check_base_url(f"http://h.example:{port}/")


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://h.xn--a.example/", "h.xn--a.example"),
        ("http://h.XN--A.example/", "h.xn--a.example"),
        ("http://h.xN--zz.example/", "h.xn--zz.example"),
        ("http://h..example/", "h..example"),
        ("http://-h.example/", "-h.example"),
        ("http://h-.example/", "h-.example"),
        ("http://h.ex!ample/", "h.ex!ample"),
        ("http://" + "a" * 64 + ".example/", "a" * 64 + ".example"),
    ],
)
def test_a_host_that_is_not_a_dns_name_is_refused_by_name(url: str, host: str) -> None:
    """An invalid Punycode label (in any letter case), an empty, hyphen-edged, odd-character
    or over-long (64) label is refused with the host named, not left to the resolver."""
    with pytest.raises(
        ValueError,
        match=rf"^base_url is not a valid URL: the host name '{host}' is not a DNS name or an "
        r"IP address$",
    ):
        check_base_url(url)


def test_a_long_bad_host_is_shown_cut_at_100_characters() -> None:
    """A refused host name is echoed at most 100 characters long."""
    host = "a" * 64 + "." + "b" * 60 + ".example"
    message = (
        f"base_url is not a valid URL: the host name {host[:100]!r} is not a DNS name or an "
        "IP address"
    )
    with pytest.raises(ValueError, match=r"^" + re.escape(message) + r"$"):
        check_base_url(f"http://{host}/")


def test_a_long_foreign_scheme_url_is_shown_cut_at_100_characters() -> None:
    """A non-HTTP URL is echoed as its first 100 characters of scheme://host."""
    message = "base_url must be an http(s) URL with a host, got 'ftp://" + "a" * 94 + "'"
    with pytest.raises(ValueError, match=r"^" + re.escape(message) + r"$"):
        check_base_url("ftp://" + "a" * 120 + ".example/")


_HOST_253 = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61])


def test_a_host_name_of_253_characters_is_the_longest_accepted() -> None:
    """The DNS limit: 253 characters pass (the root's trailing dot not counted), 254 are
    refused with a message saying so."""
    assert len(_HOST_253) == 253
    assert check_base_url(f"https://{_HOST_253}") == f"https://{_HOST_253}/"
    assert check_base_url(f"https://{_HOST_253}.") == f"https://{_HOST_253}./"
    with pytest.raises(
        ValueError,
        match=r"^base_url is not a valid URL: the host name is longer than 253 characters$",
    ):
        check_base_url(f"https://{_HOST_253}d")


@pytest.mark.parametrize("url", ["https://h.example/?a=1", "https://h.example/#part"])
def test_a_query_alone_or_a_fragment_alone_is_refused(url: str) -> None:
    """Either one on its own is enough to refuse the base URL."""
    with pytest.raises(
        ValueError, match=r"^base_url must not have a query \(\?\.\.\.\) or fragment \(#\.\.\.\)"
    ):
        check_base_url(url)
