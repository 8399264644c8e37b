"""``Client`` and ``AsyncClient``: identical methods, one blocking, one ``async``.

What a call does is decided by the request engine (``_engine.py``) once for both; the two
classes here only perform its steps: send a request, read a chunk, sleep, take a lock.
Configuration is checked once, in ``_Base.__init__``.
"""

from __future__ import annotations

import http.cookiejar
import os
import random
import ssl
import time
import weakref
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any, Generic, Self, TypedDict, TypeVar, Unpack

import httpx

from ._args import check_api_key, check_base_url, check_connection_id, check_seconds
from ._auth import auth_from_api_key
from ._constants import (
    ACCEPT_ENCODING,
    DEFAULT_CONCURRENCY,
    DEFAULT_HEADERS,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    ENV_API_KEY,
    ENV_URL,
    MAX_BODY_SIZE,
)
from ._engine import Acquire, Call, Config, Flow, Read, Run, Send, Sleep, Step
from ._errors import LabelStudioError
from ._models import Connection, DetailedResponse
from ._retry import RetryPolicy
from ._secrets import scrubbing_logs

__all__ = ["AsyncClient", "Client"]

HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)
TransportT = TypeVar("TransportT", httpx.BaseTransport, httpx.AsyncBaseTransport)
SleepT = TypeVar("SleepT", Callable[[float], None], Callable[[float], Awaitable[None]])
T = TypeVar("T")


def _timeout(value: float | httpx.Timeout | None) -> httpx.Timeout:
    if isinstance(value, httpx.Timeout):
        for name, seconds in value.as_dict().items():
            check_seconds(seconds, f"timeout.{name}")
        return value
    return httpx.Timeout(check_seconds(value, "timeout"))


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False


def no_cookies() -> http.cookiejar.CookieJar:
    """A cookie jar that keeps nothing, for every client this package builds. A
    token-authenticated client has no use for cookies: a server setting thousands per answer
    would grow every later request and the jar without bound, and a session cookie would
    authenticate requests meant to go without credentials. (An ``http_client`` of yours keeps
    what you tell it to.)"""
    # A jar, not httpx.Cookies: httpx copies the cookies of a Cookies into a jar of its own
    # (dropping the policy), and keeps a CookieJar as it is.
    return http.cookiejar.CookieJar(policy=_NoCookies())


def _missing_headers(http: httpx.Client | httpx.AsyncClient) -> dict[str, str]:
    """The default headers the client does not set itself (what the user set stays).

    Accept-Encoding is the exception: the engine decodes bodies itself, to bound their
    decoded size, so it asks only for the codings it can decode unless you did too.
    """
    # httpx's own default (Accept: */*) is not a choice of the caller's: ours replaces it.
    headers = {k: v for k, v in DEFAULT_HEADERS.items() if http.headers.get(k, "*/*") == "*/*"}
    codings = {
        c.split(";")[0].strip().lower() for c in http.headers.get("accept-encoding", "").split(",")
    }
    if not codings <= {"gzip", "x-gzip", "deflate", "identity", ""}:
        headers["Accept-Encoding"] = ACCEPT_ENCODING
    return headers


class _Options(TypedDict, Generic[HttpT, TransportT, SleepT], total=False):
    """The constructor's keyword arguments after ``base_url`` and ``api_key`` (for from_env)."""

    auth: httpx.Auth | None
    timeout: float | httpx.Timeout | None
    max_retries: int | None
    retry: RetryPolicy | None
    max_body_size: int
    http_client: HttpT | None
    transport: TransportT | None
    verify: ssl.SSLContext | str | bool
    clock: Callable[[], float]
    sleep: SleepT | None
    jitter: Callable[[], float]


class _Base(Generic[HttpT, TransportT, SleepT]):
    """Everything the two clients share: configuration, checked once, and the call API."""

    #: What ``http_client`` and ``transport`` must be (the subclass's httpx flavour).
    _http_type: type[Any]
    _transport_type: type[Any]

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str | None = None,
        auth: httpx.Auth | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        max_body_size: int = MAX_BODY_SIZE,
        http_client: HttpT | None = None,
        transport: TransportT | None = None,
        verify: ssl.SSLContext | str | bool = True,
        clock: Callable[[], float] = time.monotonic,
        sleep: SleepT | None = None,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        """Check the configuration and build the client; nothing is sent yet.

        Args (all keyword-only):
            base_url: the deployment's URL, path prefix included (``https://host/ls/``). No
                user:password, query or fragment (``ValueError``).
            api_key: a legacy token (sent as ``Token``) or a personal access token (a JWT,
                exchanged for ``Bearer`` access tokens). Surrounding white space is stripped;
                a key with control characters is refused. Ignored when ``auth`` is given.
                ``from_env()`` reads it from ``LABEL_STUDIO_API_KEY``.
            auth: any ``httpx.Auth`` instead of ``api_key``.
            timeout: per attempt; default 5 s connect, 30 s read. Applies to your own
                ``http_client`` too. ``None``: no per-attempt timeout.
            max_retries: retries after the first attempt (default 2). Not with ``retry``.
            retry: a full ``RetryPolicy``: retries, backoff, the call's deadline (120 s).
            max_body_size: the largest body read, raw and decompressed (default 1 MiB).
            http_client: your own ``httpx.Client`` (``httpx.AsyncClient`` for
                ``AsyncClient``); you close it. Its base_url is not used; its headers are
                read when this client is built, its cookies on every call.
            transport: an httpx transport (``httpx.BaseTransport``, or
                ``httpx.AsyncBaseTransport`` for ``AsyncClient``) for the client built here.
            verify: TLS verification of the client built here: ``True`` (certifi's CA
                bundle, or ``SSL_CERT_FILE``/``SSL_CERT_DIR`` when set), a CA bundle path, an
                ``ssl.SSLContext``, or ``False``.
            clock, sleep, jitter: test hooks: a monotonic clock in seconds, the sleep used
                between attempts (an ``async`` function for ``AsyncClient``), and a random
                number in [0, 1) for backoff jitter.
        """
        self.base_url = check_base_url(base_url)
        for value, kind, name in (
            (http_client, self._http_type, "http_client"),
            (transport, self._transport_type, "transport"),
        ):
            if value is not None and not isinstance(value, kind):
                raise TypeError(
                    f"{name} must be an {kind.__module__}.{kind.__qualname__} for "
                    f"{type(self).__name__}, not {type(value).__name__}"
                )
        if auth is None:
            if api_key is None:
                raise ValueError(
                    f"api_key is required (Client.from_env() reads it from {ENV_API_KEY})"
                )
            auth = auth_from_api_key(check_api_key(api_key), base_url=self.base_url)
        if retry is not None and max_retries is not None:
            raise TypeError(
                "pass max_retries or retry, not both (retry=RetryPolicy(max_retries=...))"
            )
        if type(max_body_size) is not int or max_body_size < 1:
            raise ValueError(f"max_body_size must be a positive int, got {max_body_size!r}")
        if http_client is not None and (transport is not None or verify is not True):
            raise TypeError(
                "pass http_client or transport/verify, not both (configure your client)"
            )
        self.retry = retry or RetryPolicy(
            max_retries=DEFAULT_MAX_RETRIES if max_retries is None else max_retries
        )
        self._auth = auth
        self._owns_http = http_client is None
        self._http: HttpT = (
            http_client if http_client is not None else self._new_http(transport, verify)
        )
        self._sleep: SleepT = (
            self._check_sleep(sleep) if sleep is not None else self._default_sleep()
        )
        self._config = Config(
            base_url=self.base_url, auth=auth, timeout=_timeout(timeout), policy=self.retry,
            max_body_size=max_body_size, http=self._http,
            headers=_missing_headers(self._http), clock=clock, jitter=jitter,
        )  # fmt: skip

    def _new_http(self, transport: TransportT | None, verify: ssl.SSLContext | str | bool) -> HttpT:
        raise NotImplementedError

    def _default_sleep(self) -> SleepT:
        raise NotImplementedError

    def _check_sleep(self, sleep: SleepT) -> SleepT:
        return sleep

    @classmethod
    def from_env(
        cls,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        **options: Unpack[_Options[HttpT, TransportT, SleepT]],
    ) -> Self:
        """Build from ``LABEL_STUDIO_URL`` and ``LABEL_STUDIO_API_KEY`` (read now, not at import);
        arguments given win over the environment; ``options`` are the constructor's."""
        if base_url is None:
            base_url = _environment(ENV_URL, "the deployment's URL", "base_url")
            if base_url is None:
                raise ValueError(f"no base URL: pass base_url or set {ENV_URL}")
        if api_key is None:
            api_key = _environment(ENV_API_KEY, "an API key", "api_key")
        return cls(base_url=base_url, api_key=api_key, **options)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, auth={self._auth!r})"

    def _call(self, connection_id: int) -> tuple[Call, Flow[Connection], str]:
        url = f"{self._config.endpoint}{check_connection_id(connection_id)}/"
        call = Call(self._config)
        return call, call.get_connection(url), url

    @staticmethod
    def _check_many(connection_ids: Iterable[int], concurrency: int) -> list[int]:
        ids = [check_connection_id(i) for i in connection_ids]
        if type(concurrency) is not int or concurrency < 1:
            raise ValueError("concurrency must be an int >= 1")
        return ids


def _environment(name: str, what: str, argument: str) -> str | None:
    """The variable's value; one set to nothing (a CI secret the job may not read) is refused,
    not taken for unset."""
    value = os.environ.get(name)
    if value is not None and not value.strip():
        raise ValueError(f"{name} is set but empty: set it to {what}, or pass {argument}")
    return value


class Client(_Base[httpx.Client, httpx.BaseTransport, Callable[[float], None]]):
    """Blocking client for ``GET /api/model-provider-connections/{id}/``.

    Example::

        with Client(base_url="https://ls.example.com", api_key="...") as client:
            conn = client.get_connection(1)

    Arguments: see ``__init__`` (all keyword-only).
    """

    _http_type = httpx.Client
    _transport_type = httpx.BaseTransport

    #: Set when the connections of this client's own transport obey the call deadline.
    _deadline_scope: Callable[[float | None], AbstractContextManager[None]] | None = None

    def _new_http(
        self, transport: httpx.BaseTransport | None, verify: ssl.SSLContext | str | bool
    ) -> httpx.Client:
        if transport is not None:
            return httpx.Client(transport=transport, headers=DEFAULT_HEADERS, cookies=no_cookies())
        from . import _transport  # imports httpcore, as httpx does for its own transport

        # Every socket operation bounded by the call's deadline; the environment's proxy read
        # (and checked) by the transport, so httpx must not mount its own (trust_env).
        self._deadline_scope = _transport.deadline_scope
        ours = _transport.Transport(
            verify=verify, proxy=_transport.environment_proxy(self.base_url)
        )
        return httpx.Client(
            transport=ours, headers=DEFAULT_HEADERS, cookies=no_cookies(), trust_env=False
        )

    def _default_sleep(self) -> Callable[[float], None]:
        return time.sleep

    def get_connection(self, connection_id: int) -> Connection:
        """Fetch one connection; raises a ``LabelStudioError`` subclass on any failure.

        Raises ``TypeError``/``ValueError`` before any request when the id is not an int in
        ``1..2**63-1``.
        """
        return self._fetch(connection_id)[1]

    def get_connection_detailed(self, connection_id: int) -> DetailedResponse:
        """Like ``get_connection``, with the status, headers, raw body and attempt count."""
        call, connection = self._fetch(connection_id)
        return call.detailed(connection)

    def _fetch(self, connection_id: int) -> tuple[Call, Connection]:
        call, flow, _ = self._call(connection_id)
        with scrubbing_logs(self._config.scrub):
            if self._deadline_scope is None:
                return call, self._drive(flow)
            with self._deadline_scope(call.remaining()):
                return call, self._drive(flow)

    def _drive(self, flow: Flow[T]) -> T:
        run = Run(flow)
        try:
            while (step := run.next()) is not None:
                try:
                    run.took(self._perform(step))
                except Exception as exc:  # noqa: BLE001 - the engine types it
                    run.failed(exc)
            return run.value
        finally:
            for response in run.close():
                response.close()

    def _perform(self, step: Step) -> Any:
        if type(step) is Read:
            return next(step.chunks, b"")
        if type(step) is Send:
            response = self._http.send(step.request, auth=step.auth, stream=True)
            return response, None if response.is_stream_consumed else response.iter_raw()
        if type(step) is Sleep:
            return self._sleep(step.seconds)
        assert type(step) is Acquire
        lock = step.auth.thread_lock()
        return (
            lock
            if lock.acquire(timeout=-1 if step.timeout is None else max(step.timeout, 0))
            else None
        )

    def get_connections(
        self, connection_ids: Iterable[int], *, concurrency: int = DEFAULT_CONCURRENCY
    ) -> list[Connection | LabelStudioError]:
        """Fetch many, ``concurrency`` at a time (threads); results in input order.

        A failed id does not lose the others: its slot holds the ``LabelStudioError``.
        Every id is checked before the first request.
        """
        ids = self._check_many(connection_ids, concurrency)
        if not ids:
            return []
        from concurrent.futures import ThreadPoolExecutor

        def one(connection_id: int) -> Connection | LabelStudioError:
            try:
                return self.get_connection(connection_id)
            except LabelStudioError as error:
                return error

        with ThreadPoolExecutor(max_workers=min(concurrency, len(ids))) as pool:
            return list(pool.map(one, ids))

    def close(self) -> None:
        """Close the connection pool (not an ``http_client`` you passed in)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncClient(
    _Base[httpx.AsyncClient, httpx.AsyncBaseTransport, Callable[[float], Awaitable[None]]]
):
    """The ``async`` twin of ``Client``: same arguments, same methods, awaited.

    Example::

        async with AsyncClient(base_url="https://ls.example.com", api_key="...") as client:
            conn = await client.get_connection(1)

    Arguments: see ``__init__``. The whole call, refresh and waits included, is cancelled at
    the deadline (asyncio).
    """

    _http_type = httpx.AsyncClient
    _transport_type = httpx.AsyncBaseTransport

    def _check_sleep(
        self, sleep: Callable[[float], Awaitable[None]]
    ) -> Callable[[float], Awaitable[None]]:
        import inspect

        if not inspect.iscoroutinefunction(sleep) and not inspect.iscoroutinefunction(
            getattr(sleep, "__call__", None)  # noqa: B004 - an object with an async __call__
        ):
            raise TypeError("sleep must be an async function for AsyncClient (asyncio.sleep)")
        return sleep

    #: Whether the connections are this client's own (an AsyncTransport it built).
    _own_transport = False

    def _new_http(
        self, transport: httpx.AsyncBaseTransport | None, verify: ssl.SSLContext | str | bool
    ) -> httpx.AsyncClient:
        if transport is not None:
            return httpx.AsyncClient(
                transport=transport, headers=DEFAULT_HEADERS, cookies=no_cookies()
            )
        from . import _transport

        ours = _transport.AsyncTransport(
            verify=verify, proxy=_transport.environment_proxy(self.base_url)
        )
        self._own_transport = True
        return httpx.AsyncClient(
            transport=ours, headers=DEFAULT_HEADERS, cookies=no_cookies(), trust_env=False
        )

    def _default_sleep(self) -> Callable[[float], Awaitable[None]]:
        import asyncio  # not at import time: a blocking program never pays for it

        return asyncio.sleep

    async def get_connection(self, connection_id: int) -> Connection:
        """Fetch one connection; see ``Client.get_connection``."""
        return (await self._fetch(connection_id))[1]

    async def get_connection_detailed(self, connection_id: int) -> DetailedResponse:
        """See ``Client.get_connection_detailed``."""
        call, connection = await self._fetch(connection_id)
        return call.detailed(connection)

    #: The event loop this client's connections belong to (set by its first call).
    _loop: weakref.ref[Any] | None = None

    def _check_loop(self) -> None:
        """Connections (and the refresh lock) belong to the loop that opened them: a second
        ``asyncio.run()`` would find them bound to a closed loop ("Event loop is closed",
        deep inside a request). Said plainly, before any request, instead."""
        import asyncio

        if not self._own_transport:  # connections of yours: yours to manage
            return
        loop = asyncio.get_running_loop()
        first = self._loop() if self._loop is not None else None
        if first is None:
            self._loop = weakref.ref(loop)
        elif first is not loop:
            raise RuntimeError(
                "this AsyncClient was first used in another event loop (an earlier "
                "asyncio.run()?): its connections belong to that loop; create the AsyncClient "
                "inside the loop that uses it (async with AsyncClient(...) as client: ...)"
            )

    async def _fetch(self, connection_id: int) -> tuple[Call, Connection]:
        import asyncio

        self._check_loop()
        call, flow, url = self._call(connection_id)
        try:
            with scrubbing_logs(self._config.scrub):
                async with asyncio.timeout(call.remaining()):
                    return call, await self._drive(flow)
        except TimeoutError:
            raise call.deadline_error(url) from None

    async def _drive(self, flow: Flow[T]) -> T:
        run = Run(flow)
        try:
            while (step := run.next()) is not None:
                try:
                    run.took(await self._perform(step))
                except Exception as exc:  # noqa: BLE001 - the engine types it
                    run.failed(exc)
            return run.value
        finally:
            for response in run.close():
                await response.aclose()

    async def _perform(self, step: Step) -> Any:
        if type(step) is Read:
            return await anext(step.chunks, b"")
        if type(step) is Send:
            response = await self._http.send(step.request, auth=step.auth, stream=True)
            return response, None if response.is_stream_consumed else response.aiter_raw()
        if type(step) is Sleep:
            return await self._sleep(step.seconds)
        assert type(step) is Acquire
        lock = step.auth.loop_lock()
        await lock.acquire()  # bounded: the whole call runs under asyncio.timeout
        return lock

    async def get_connections(
        self, connection_ids: Iterable[int], *, concurrency: int = DEFAULT_CONCURRENCY
    ) -> list[Connection | LabelStudioError]:
        """See ``Client.get_connections``: bounded concurrency (tasks), input order, errors in place."""
        ids = self._check_many(connection_ids, concurrency)
        import asyncio

        gate = asyncio.Semaphore(concurrency)

        async def one(connection_id: int) -> Connection | LabelStudioError:
            async with gate:
                try:
                    return await self.get_connection(connection_id)
                except LabelStudioError as error:
                    return error

        return list(await asyncio.gather(*(one(i) for i in ids)))

    async def aclose(self) -> None:
        """Close the connection pool (not an ``http_client`` you passed in)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
