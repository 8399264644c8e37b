"""The transports of the clients this package builds: one answer per request, bounded sockets,
the environment's proxy checked before use.

``Transport`` (blocking) and ``AsyncTransport`` are httpx transports over public httpcore
pools (``httpcore.ConnectionPool(network_backend=..., proxy=...)``), used by ``Client`` and
``AsyncClient`` when you pass neither ``http_client`` nor ``transport``, and by every request
the tools send. Three things set them apart from httpx's own:

* **One answer per request.** A server may close an idle keep-alive connection at any moment
  (RFC 9112 section 9.6); uwsgi, which Label Studio's image runs, closes every connection after
  its answer without saying ``Connection: close``. A GET, HEAD or OPTIONS that fails before a
  byte of its answer arrived, on a connection that had already carried a request, says nothing
  about the server: it is sent again on another connection, as curl and urllib3 do
  (``resent`` counts them). The same failure on a connection opened for it is real.
* **Bounded sockets** (blocking only). httpx's timeouts bound each read, not a whole answer:
  a server dripping a byte every few seconds is never timed out. Every connect, read and
  write is given at most the time left before the deadline of the call running in this
  thread (``deadline_scope``, a context variable), and fails at once when none is left. The
  async client cancels the whole call at its deadline instead.
* **Proxies** come from the environment (``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY``,
  ``NO_PROXY``, as curl reads them), are checked when the transport is built (``ValueError``
  naming the variable, never its password), never apply to loopback, and a proxy's own
  refusal (407) is a ``httpx.ProxyError`` naming it, not an answer of the deployment.
"""

from __future__ import annotations

import contextlib
import importlib.util
import ipaddress
import os
import ssl
import time
import typing
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from typing import Any, NamedTuple

import httpcore
import httpx

from ._constants import RESENDABLE

__all__ = [
    "AsyncTransport",
    "Proxy",
    "Transport",
    "deadline_scope",
    "environment_proxy",
]

#: Sends of one request on reused connections that may fail before a new one is tried.
MAX_RESENDS = 2
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_DEADLINE: ContextVar[float | None] = ContextVar("ls_model_providers_deadline", default=None)


@contextlib.contextmanager
def deadline_scope(seconds: float | None) -> Iterator[None]:
    """Socket operations in this block end at most ``seconds`` from now (``None``: unbounded)."""
    token = _DEADLINE.set(None if seconds is None else time.monotonic() + seconds)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def _bound(timeout: float | None, exceeded: type[httpcore.TimeoutException]) -> float | None:
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise exceeded("the call's deadline passed")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bound(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bound(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bound(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    """httpcore's own blocking backend, every operation bounded by ``deadline_scope``."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bound(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_tcp(host, port, bounded, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        bounded = _bound(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_unix_socket(path, bounded, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def speaks_tls(host: str, port: int, timeout: float = 2.0) -> bool:
    """Whether the server at ``host:port`` completes a TLS handshake (certificate unchecked:
    this asks which protocol it speaks, nothing is sent over it). For telling a user whose
    ``http://`` URL got no answer that the server speaks HTTPS."""
    import socket

    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # a question, no data
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=host),
        ):
            return True
    except (OSError, ValueError):
        return False


# -- proxies ----------------------------------------------------------------------------------


class Proxy(NamedTuple):
    """A proxy the environment names: its URL, and the variable that named it (for messages)."""

    url: httpx.URL
    variable: str

    def shown(self) -> str:
        """The proxy as messages show it: scheme, host and port, never a user or password."""
        return f"{self.url.scheme}://{self.url.host}:{self.url.port or ''}".rstrip(":")


_SCHEMES = ("http", "https", "socks5", "socks5h")


def _is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.") or host.lower().endswith(".localhost"):
        return True
    with contextlib.suppress(ValueError):
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    return False


def _bypassed(host: str, no_proxy: str) -> bool:
    """Whether ``NO_PROXY`` covers ``host``: ``*``, the host itself, a domain it is in
    (``example.com`` and ``.example.com`` both cover ``a.example.com``), or an address range
    (``10.0.0.0/8``), as curl reads it."""
    host = host.lower().strip("[]")
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        if not entry:
            continue
        if entry == "*" or host == entry.lstrip(".") or host.endswith("." + entry.lstrip(".")):
            return True
        with contextlib.suppress(ValueError):
            if ipaddress.ip_address(host) in ipaddress.ip_network(entry.strip("[]"), strict=False):
                return True
    return False


def environment_proxy(url: str | httpx.URL, environ: Mapping[str, str] | None = None) -> Proxy | None:  # fmt: skip
    """The proxy the environment names for ``url`` (``None``: connect directly).

    ``{scheme}_proxy`` then ``all_proxy`` (either case; lower case wins, as in curl), unless
    ``no_proxy`` covers the host; loopback never goes through a proxy. ``ValueError`` names the
    variable of a proxy that cannot be used (not a URL, an unknown scheme, SOCKS without the
    ``socksio`` package), never its value.
    """
    environ = os.environ if environ is None else environ
    target = httpx.URL(url) if isinstance(url, str) else url
    if not target.host or _is_loopback(target.host):
        return None
    found = None
    for name in (f"{target.scheme}_proxy", "all_proxy"):
        for variable in (name, name.upper()):
            if environ.get(variable):
                found = variable, environ[variable]
                break
        if found:
            break
    if found is None:
        return None
    if _bypassed(target.host, environ.get("no_proxy") or environ.get("NO_PROXY") or ""):
        return None
    variable, value = found
    try:
        proxy = httpx.URL(value if "://" in value else f"http://{value}")
    except (httpx.InvalidURL, ValueError, UnicodeError):
        raise ValueError(f"{variable} is not a valid proxy URL") from None
    if proxy.scheme not in _SCHEMES or not proxy.host:
        raise ValueError(f"{variable} must be an http://, https:// or socks5:// URL with a host")
    if proxy.scheme.startswith("socks") and importlib.util.find_spec("socksio") is None:
        raise ValueError(
            f"{variable} names a SOCKS proxy, which needs the socksio package: "
            "pip install 'httpx[socks]' (or unset it)"
        )
    return Proxy(proxy, variable)


def _core_proxy(proxy: Proxy | None) -> httpcore.Proxy | None:
    if proxy is None:
        return None
    url = proxy.url
    auth = (url.username, url.password) if url.username or url.password else None
    core_url = httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=b"/")
    return httpcore.Proxy(core_url, auth=auth)


# -- requests, answers and failures between httpx and httpcore -------------------------------

#: httpcore's exceptions as httpx's (the most specific match wins), as httpx's own transport
#: maps them.
_FAILURES: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


@contextlib.contextmanager
def _as_httpx() -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        for core, mapped in _FAILURES:
            if isinstance(exc, core):
                raise mapped(str(exc)) from exc
        raise


def _core_request(request: httpx.Request, trace: Callable[..., Any]) -> httpcore.Request:
    url = request.url
    return httpcore.Request(
        method=request.method,
        url=httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path),
        headers=request.headers.raw,
        content=typing.cast(Any, request.stream),
        extensions={**request.extensions, "trace": trace},
    )  # fmt: skip


class _Attempt:
    """What one send of a request did: whether it opened a connection of its own."""

    __slots__ = ("opened",)

    def __init__(self) -> None:
        self.opened = False

    def trace(self, event: str, info: object) -> None:
        """httpcore's ``trace`` extension: called with every step of the send."""
        if event.startswith(("connection.connect_tcp", "connection.connect_unix")):
            self.opened = True

    async def async_trace(self, event: str, info: object) -> None:
        self.trace(event, info)

    def stale(self, request: httpx.Request, failure: httpx.TransportError) -> bool:
        """The send failed before any answer on a connection an earlier request had used."""
        cause = failure.__cause__
        return (
            not self.opened
            and (request.method in SAFE_METHODS or request.extensions.get(RESENDABLE) is True)
            and isinstance(cause, httpcore.RemoteProtocolError | httpcore.ReadError | httpcore.WriteError)
        )  # fmt: skip


def _refused_by_proxy(proxy: Proxy | None, status: int) -> httpx.ProxyError | None:
    if proxy is None or status != 407:
        return None
    return httpx.ProxyError(
        f"the proxy {proxy.shown()} (from {proxy.variable}) refused the request: "
        "407 Proxy Authentication Required"
    )


class _SyncBody(httpx.SyncByteStream):
    def __init__(self, stream: Iterable[bytes]) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        with _as_httpx():
            yield from self._stream

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()


class _AsyncBody(httpx.AsyncByteStream):
    def __init__(self, stream: typing.AsyncIterable[bytes]) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _as_httpx():
            async for part in self._stream:
                yield part

    async def aclose(self) -> None:
        close = getattr(self._stream, "aclose", None)
        if close is not None:
            await close()


def _ssl_context(verify: ssl.SSLContext | str | bool) -> ssl.SSLContext:
    if isinstance(verify, str):  # a CA bundle file or folder
        is_dir = os.path.isdir(verify)
        return ssl.create_default_context(
            cafile=None if is_dir else verify, capath=verify if is_dir else None
        )
    return httpx.create_ssl_context(verify=verify)  # True: certifi, or SSL_CERT_FILE/DIR


class Transport(httpx.BaseTransport):
    """The blocking transport (see the module docstring).

    Args:
        verify: TLS trust: ``True`` (certifi's bundle, or ``SSL_CERT_FILE``/``SSL_CERT_DIR``), a
            CA bundle path, an ``ssl.SSLContext``, or ``False``.
        proxy: where to connect through (``environment_proxy(base_url)``), ``None``: directly.
    """

    def __init__(self, *, verify: ssl.SSLContext | str | bool = True, proxy: Proxy | None = None) -> None:  # fmt: skip
        self.proxy = proxy
        self._pool = httpcore.ConnectionPool(
            ssl_context=_ssl_context(verify), proxy=_core_proxy(proxy), network_backend=_Backend()
        )
        #: Requests sent again after their reused connection turned out closed.
        self.resent = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        for sends_left in range(MAX_RESENDS, -1, -1):
            attempt = _Attempt()
            try:
                with _as_httpx():
                    answer = self._pool.handle_request(_core_request(request, attempt.trace))
            except httpx.TransportError as exc:
                if sends_left and attempt.stale(request, exc):
                    self.resent += 1
                    continue
                raise
            break
        refused = _refused_by_proxy(self.proxy, answer.status)
        if refused is not None:
            answer.close()
            raise refused
        return httpx.Response(
            answer.status, headers=answer.headers, extensions=answer.extensions,
            stream=_SyncBody(typing.cast(Iterable[bytes], answer.stream)),
        )  # fmt: skip

    def close(self) -> None:
        self._pool.close()


class AsyncTransport(httpx.AsyncBaseTransport):
    """The ``async`` twin of ``Transport`` (its deadline is the caller's cancellation)."""

    def __init__(self, *, verify: ssl.SSLContext | str | bool = True, proxy: Proxy | None = None) -> None:  # fmt: skip
        self.proxy = proxy
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=_ssl_context(verify), proxy=_core_proxy(proxy)
        )
        self.resent = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        for sends_left in range(MAX_RESENDS, -1, -1):
            attempt = _Attempt()
            try:
                with _as_httpx():
                    answer = await self._pool.handle_async_request(
                        _core_request(request, attempt.async_trace)
                    )
            except httpx.TransportError as exc:
                if sends_left and attempt.stale(request, exc):
                    self.resent += 1
                    continue
                raise
            break
        refused = _refused_by_proxy(self.proxy, answer.status)
        if refused is not None:
            await answer.aclose()
            raise refused
        return httpx.Response(
            answer.status, headers=answer.headers, extensions=answer.extensions,
            stream=_AsyncBody(typing.cast(typing.AsyncIterable[bytes], answer.stream)),
        )  # fmt: skip

    async def aclose(self) -> None:
        await self._pool.aclose()
