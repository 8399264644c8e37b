"""Checks on what a user passes in, done before any request. Messages never echo a secret."""

from __future__ import annotations

import ipaddress
import math
import re

import httpx

from ._constants import MAX_ID, MAX_SECONDS

__all__ = ["check_api_key", "check_base_url", "check_connection_id", "check_seconds"]


def check_connection_id(connection_id: object, name: str = "connection_id") -> int:
    """Return the id if it is a valid connection id, else raise ``TypeError``/``ValueError``
    (``name`` is what the messages call it: ``--id`` for the CLI)."""
    if type(connection_id) is bool or not isinstance(connection_id, int):
        raise TypeError(f"{name} must be an int, not {type(connection_id).__name__}")
    if not 1 <= connection_id <= MAX_ID:
        raise ValueError(f"{name} must be between 1 and 2**63-1, got {connection_id}")
    return int(connection_id)  # a plain int: an int subclass cannot change how it is printed


def check_api_key(key: object, name: str = "api_key") -> str:
    """The key without surrounding white space (a key read from a file ends in a newline).

    A key that could not travel in a header (a control character, white space inside it,
    a non-ASCII character) is refused with its position, never its characters.
    """
    if not isinstance(key, str):
        raise TypeError(f"{name} must be a str, not {type(key).__name__}")
    key = key.strip()
    if not key:
        raise ValueError(f"{name} is empty")
    scheme, _, rest = key.partition(" ")
    if rest and scheme.lower() in ("token", "bearer"):
        raise ValueError(
            f"{name} starts with '{scheme} ': pass the key alone, the client adds the scheme"
        )
    for position, char in enumerate(key):
        if not 32 < ord(char) < 127:
            kind = "a non-ASCII" if ord(char) > 127 else "a white-space or control"
            raise ValueError(
                f"{name} has {kind} character at position {position}: a key is printable "
                "ASCII; check how it was copied or read"
            )
    return key


def check_base_url(base_url: object, name: str = "base_url") -> str:
    """The base URL with a trailing slash; ``ValueError`` naming what is wrong, never a password.

    ``name`` is what the messages call it (``--base-url`` for the CLI).
    """
    if not isinstance(base_url, str | httpx.URL):
        raise TypeError(f"{name} must be a str, not {type(base_url).__name__}")
    text = str(base_url).strip()
    if "://" not in text:  # "localhost:8080" would parse as the scheme "localhost"
        raise ValueError(
            f"{name} must be an http(s) URL with a host, got a URL without a scheme: "
            "start it with https:// (or http:// for a server without TLS)"
        )
    try:
        url = httpx.URL(text)
        host = url.host
    except (httpx.InvalidURL, ValueError):  # an IDNA error is a UnicodeError, a ValueError
        raise ValueError(f"{name} is not a valid URL (check its host name)") from None
    if url.userinfo:
        raise ValueError(
            f"{name} must not contain credentials (user:password@host): pass the key on its own"
        )
    if url.scheme not in ("http", "https") or not host:
        shown = repr(f"{url.scheme}://{host}"[:100]) if url.scheme else "a URL without a scheme"
        raise ValueError(f"{name} must be an http(s) URL with a host, got {shown}")
    problem = _host_problem(url)
    if problem:
        raise ValueError(f"{name} is not a valid URL: {problem}")
    if url.query or url.fragment or "?" in str(base_url) or "#" in str(base_url):
        raise ValueError(
            f"{name} must not have a query (?...) or fragment (#...): it is the prefix every "
            "request path is appended to"
        )
    text = str(url)
    return text if text.endswith("/") else text + "/"


#: A host name's label: letters, digits, hyphens (and underscores, which container names use).
_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")


def _host_problem(url: httpx.URL) -> str | None:
    """What keeps ``url``'s host and port from being connected to, or ``None``: a DNS resolver
    or the socket would raise later, as a traceback or as "unreachable"."""
    if url.port is not None and not 0 < url.port < 65536:
        return f"port {url.port} is not 1..65535"
    host = url.host
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return None
    try:
        ascii_host = url.raw_host.decode("ascii")
        for label in ascii_host.removesuffix(".").split("."):
            if label.lower().startswith("xn--"):
                label.encode("ascii").decode("idna")  # a valid Punycode label, or an error
            elif not _LABEL.fullmatch(label):
                raise ValueError(label)
    except (UnicodeError, ValueError):
        return f"the host name {host[:100]!r} is not a DNS name or an IP address"
    if len(ascii_host.removesuffix(".")) > 253:  # the root's dot is not counted
        return "the host name is longer than 253 characters"
    return None


def check_seconds(value: object, name: str, *, allow_none: bool = True) -> float | None:
    """A positive, finite number of seconds (or ``None`` when allowed)."""
    if value is None and allow_none:
        return None
    if type(value) is bool or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number of seconds, got {value!r}")
    if not 0 < value <= MAX_SECONDS:
        raise ValueError(
            f"{name} must be > 0 and at most {MAX_SECONDS:,.0f} seconds, got {value!r}"
        )
    return float(value)
