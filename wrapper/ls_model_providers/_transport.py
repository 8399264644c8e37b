"""The blocking client's own transport: every socket operation bounded by the call deadline.

httpx's timeouts bound each read, not a whole response: a server that sends one byte of
its headers or body every few seconds is never timed out. The async client cancels the
whole call at its deadline; a blocking call cannot be cancelled, so instead every
connect, read and write on a connection ``Client`` built itself is given at most the time
left before the deadline of the call running in this thread (a context variable), and
fails at once when none is left.

The hook is httpcore's public network-backend interface, installed on the pool httpx's
``HTTPTransport`` builds (``install``). With an ``http_client`` or ``transport`` of your own,
the engine still checks the deadline between chunks of the body, so a call overruns it by
at most one read timeout.
"""

from __future__ import annotations

import contextlib
import time
import typing
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from typing import Any

import httpcore
import httpx

__all__ = ["deadline_scope", "install"]

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
        ssl_context: typing.Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bound(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bound(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_tcp(host, port, bounded, local_address, socket_options))

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bound(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_unix_socket(path, bounded, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def install(client: httpx.Client) -> int:
    """Bound the connections of ``client``'s own transports (proxies included); how many."""
    # httpx keeps its transports in private attributes: if a release renames them, this
    # installs nothing (the engine's between-chunk deadline check still holds) instead of
    # failing; tests/test_hostile.py's dripping-header test then fails for the blocking client.
    mounts: dict[Any, Any] = getattr(client, "_mounts", {})
    transports = [getattr(client, "_transport", None), *mounts.values()]
    done = 0
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if isinstance(backend, httpcore.NetworkBackend) and not isinstance(backend, _Backend):
            pool._network_backend = _Backend(backend)  # type: ignore[union-attr]
            done += 1
    return done
