"""``Client`` and ``AsyncClient``: identical methods, one blocking, one ``async``.

Everything both share (configuration, id checks, URL building, redirects policy, what
counts as success/retryable) lives in ``_Base``; the twins only send and sleep.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Iterable
from types import TracebackType
from typing import Self

import httpx

from . import _constants as C
from ._auth import _with_slash, auth_from_api_key
from ._errors import (
    APIConnectionError,
    APITimeoutError,
    LabelStudioError,
    ResponseValidationError,
    make_status_error,
)
from ._models import Connection, DetailedResponse, parse_connection
from ._retry import RetryPolicy, is_retryable_status, may_retry, parse_retry_after, retry_delay

__all__ = ["AsyncClient", "Client"]

log = logging.getLogger(C.LOGGER_NAME)

_RETRYABLE_TRANSPORT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
_ACCEPT = {"Accept": "application/json"}


def check_connection_id(connection_id: object) -> int:
    """Return the id if it is a valid connection id, else raise ``TypeError``/``ValueError``."""
    if type(connection_id) is bool or not isinstance(connection_id, int):
        raise TypeError(f"connection_id must be an int, not {type(connection_id).__name__}")
    if not 1 <= connection_id <= C.MAX_ID:
        raise ValueError(f"connection_id must be between 1 and 2**63-1, got {connection_id}")
    return int(connection_id)  # a plain int: an int subclass cannot change how it is printed


class _Base:
    def __init__(
        self,
        *,
        base_url: str,
        api_key: str | None,
        auth: httpx.Auth | None,
        timeout: float | httpx.Timeout | None,
        max_retries: int,
        retry: RetryPolicy | None,
    ) -> None:
        url = httpx.URL(base_url)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"base_url must be an http(s) URL with a host, got {base_url!r}")
        if auth is None:
            if not api_key:
                raise ValueError(f"api_key is required (or set {C.ENV_API_KEY})")
            auth = auth_from_api_key(api_key, base_url=base_url)
        self.base_url = _with_slash(base_url)
        self._prefix = self.base_url + C.ENDPOINT_PATH
        self._origin = (url.scheme, url.host, url.port)
        self._auth = auth
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        limits = self._timeout.as_dict().values()
        #: The longest per-attempt timeout (None: unbounded), to skip capping on the hot path.
        self._timeout_max = None if None in limits else max(v for v in limits if v is not None)
        self.retry = retry if retry is not None else RetryPolicy(max_retries=max_retries)
        self._random = random.random
        self._clock = time.monotonic

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, auth={self._auth!r})"

    @staticmethod
    def _env(base_url: str | None, api_key: str | None) -> tuple[str, str | None]:
        base_url = base_url or os.environ.get(C.ENV_URL)
        if not base_url:
            raise ValueError(f"no base URL: pass base_url or set {C.ENV_URL}")
        return base_url, api_key or os.environ.get(C.ENV_API_KEY)

    def _url(self, connection_id: object) -> str:
        return f"{self._prefix}{check_connection_id(connection_id)}/"

    def _trusted(self, url: httpx.URL) -> bool:
        scheme, host, port = self._origin
        return url.host == host and url.port == port and url.scheme in (scheme, "https")

    def _timeout_within(self, remaining: float | None) -> httpx.Timeout:
        """The per-attempt timeout, shortened so no attempt outlives the call's deadline."""
        t = self._timeout
        if remaining is None or (self._timeout_max is not None and self._timeout_max <= remaining):
            return t
        cap = max(remaining, 0.001)
        return httpx.Timeout(
            connect=min(t.connect, cap) if t.connect is not None else cap,
            read=min(t.read, cap) if t.read is not None else cap,
            write=min(t.write, cap) if t.write is not None else cap,
            pool=min(t.pool, cap) if t.pool is not None else cap,
        )

    def _redirect(self, request: httpx.Request, response: httpx.Response) -> httpx.URL:
        """Where a redirect leads, refusing https -> http and anything but http(s)."""
        if response.next_request is None:  # httpx builds it for every redirect it does not follow
            raise APIConnectionError("redirect without a usable Location", url=str(request.url))
        target = response.next_request.url
        if target.scheme not in ("http", "https") or (
            request.url.scheme == "https" and target.scheme != "https"
        ):
            raise APIConnectionError(
                f"refused redirect from {request.url} to {target.scheme}:// (credentials would "
                "travel unencrypted)",
                url=str(request.url),
            )
        return target

    def _remaining(self, start: float) -> float | None:
        deadline = self.retry.deadline
        return None if deadline is None else deadline - (self._clock() - start)

    def _outcome(
        self, url: str, response: httpx.Response | None, exc: Exception | None
    ) -> tuple[Connection | None, LabelStudioError | None, bool, float | None]:
        """(connection, error, retryable?, server-requested wait) for one attempt."""
        if response is not None:
            status = response.status_code
            if 200 <= status < 300:
                try:
                    return parse_connection(response), None, False, None
                except ResponseValidationError as invalid:
                    # Bytes that are not JSON at all were cut or garbled on the way (a
                    # truncated body); a well-formed body of the wrong shape would come back
                    # the same, so only the former is worth another GET.
                    return (
                        None,
                        invalid,
                        invalid.malformed and self.retry.retry_on_malformed_body,
                        None,
                    )
            error = make_status_error(response)
            if is_retryable_status(status, self.retry):
                return None, error, True, parse_retry_after(response.headers)
            return None, error, False, None
        assert exc is not None
        if isinstance(exc, LabelStudioError):
            return None, exc, False, None
        wrapped: APIConnectionError
        if isinstance(exc, httpx.TimeoutException):
            wrapped = APITimeoutError(f"timed out: {type(exc).__name__}", url=url)
        else:
            wrapped = APIConnectionError(f"{type(exc).__name__}: {exc}", url=url)
        wrapped.__cause__ = exc  # as `raise ... from exc` would: the httpx error stays reachable
        return None, wrapped, isinstance(exc, _RETRYABLE_TRANSPORT), None

    def _next_delay(
        self,
        attempt: int,
        start: float,
        error: LabelStudioError,
        retryable: bool,
        retry_after: float | None,
    ) -> float:
        """Seconds to wait before the next attempt; raises ``error`` when there is none."""
        if not retryable:
            raise error
        delay = retry_delay(attempt, self.retry, retry_after=retry_after, random=self._random)
        if not may_retry(attempt, delay, self._clock() - start, self.retry):
            raise error
        log.debug("retrying in %.3f s after %s", delay, error)
        return delay

    def _log_attempt(self, url: str, attempt: int, start: float, result: object) -> None:
        if log.isEnabledFor(logging.DEBUG):
            took = (self._clock() - start) * 1000
            status = result.status_code if isinstance(result, httpx.Response) else repr(result)
            log.debug("GET %s attempt %d -> %s (%.1f ms)", url, attempt + 1, status, took)

    @staticmethod
    def _detailed(
        response: httpx.Response, attempts: int, connection: Connection
    ) -> DetailedResponse:
        return DetailedResponse(
            status_code=response.status_code,
            headers=response.headers,
            content=response.content,
            parsed=connection,
            url=str(response.request.url),
            attempts=attempts,
        )

    def _deadline_error(self, url: str) -> APITimeoutError:
        return APITimeoutError(f"call deadline of {self.retry.deadline} s exceeded", url=url)


class Client(_Base):
    """Blocking client for ``GET /api/model-provider-connections/{id}/``.

    Example::

        with Client(base_url="https://ls.example.com", api_key="...") as client:
            conn = client.get_connection(1)

    Args:
        base_url: the deployment's URL, path prefix included (``https://host/ls/``).
        api_key: a legacy token (sent as ``Token``) or a personal access token (a JWT,
            exchanged for ``Bearer`` access tokens). Ignored when ``auth`` is given.
        auth: any ``httpx.Auth`` instead of ``api_key``.
        timeout: per attempt; default 5 s connect, 30 s read. Applies to your own
            ``http_client`` too.
        max_retries: retries after the first attempt (default 2); see ``retry`` for more.
        retry: a full ``RetryPolicy`` (overrides ``max_retries``).
        http_client: your own ``httpx.Client`` (you close it); its base_url is not used.
        transport: an ``httpx.BaseTransport`` for the client built here (tests, proxies).
    """

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str | None = None,
        auth: httpx.Auth | None = None,
        timeout: float | httpx.Timeout | None = C.DEFAULT_TIMEOUT,
        max_retries: int = C.DEFAULT_MAX_RETRIES,
        retry: RetryPolicy | None = None,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(
            base_url=base_url,
            api_key=api_key,
            auth=auth,
            timeout=timeout,
            max_retries=max_retries,
            retry=retry,
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(transport=transport, headers=_ACCEPT)
        self._sleep = time.sleep

    @classmethod
    def from_env(
        cls, *, base_url: str | None = None, api_key: str | None = None, **kwargs: object
    ) -> Self:
        """Build from ``LABEL_STUDIO_URL`` and ``LABEL_STUDIO_API_KEY`` (read now, not at import)."""
        base_url, api_key = cls._env(base_url, api_key)
        return cls(base_url=base_url, api_key=api_key, **kwargs)  # type: ignore[arg-type]

    def get_connection(self, connection_id: int) -> Connection:
        """Fetch one connection; raises a ``LabelStudioError`` subclass on any failure.

        Raises ``TypeError``/``ValueError`` before any request when the id is not an int in
        ``1..2**63-1``.
        """
        return self._fetch(connection_id)[2]

    def get_connection_detailed(self, connection_id: int) -> DetailedResponse:
        """Like ``get_connection``, with the status, headers, raw body and attempt count."""
        return self._detailed(*self._fetch(connection_id))

    def _fetch(self, connection_id: int) -> tuple[httpx.Response, int, Connection]:
        """The first valid 2xx response, the attempts it took, its connection; raises on failure."""
        url = self._url(connection_id)
        start, attempt = self._clock(), 0
        while True:
            response: httpx.Response | None = None
            exc: Exception | None = None
            remaining = self._remaining(start)
            if remaining is not None and remaining <= 0:
                raise self._deadline_error(url)
            try:
                response = self._send(url, self._timeout_within(remaining))
            except (httpx.HTTPError, LabelStudioError) as caught:
                exc = caught
            self._log_attempt(url, attempt, start, response or exc)
            connection, error, retryable, retry_after = self._outcome(url, response, exc)
            if connection is not None and response is not None:
                return response, attempt + 1, connection
            assert error is not None
            self._sleep(self._next_delay(attempt, start, error, retryable, retry_after))
            attempt += 1

    def get_connections(
        self, connection_ids: Iterable[int], *, concurrency: int = C.DEFAULT_CONCURRENCY
    ) -> list[Connection | LabelStudioError]:
        """Fetch many, ``concurrency`` at a time; results in input order.

        A failed id does not lose the others: its slot holds the ``LabelStudioError``.
        Every id is checked before the first request.
        """
        ids = [check_connection_id(i) for i in connection_ids]
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")

        def one(connection_id: int) -> Connection | LabelStudioError:
            try:
                return self.get_connection(connection_id)
            except LabelStudioError as error:
                return error

        if not ids:
            return []
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(concurrency, len(ids))) as pool:
            return list(pool.map(one, ids))

    def _send(self, url: str, attempt_timeout: httpx.Timeout) -> httpx.Response:
        request = self._http.build_request("GET", url, timeout=attempt_timeout)
        auth: httpx.Auth | None = self._auth
        for _ in range(C.MAX_REDIRECTS + 1):
            response = self._http.send(request, auth=auth, follow_redirects=False)
            if not response.has_redirect_location:
                return response
            response.close()
            target = self._redirect(request, response)
            auth = self._auth if self._trusted(target) else None
            request = self._http.build_request("GET", target, timeout=attempt_timeout)
        raise APIConnectionError(f"more than {C.MAX_REDIRECTS} redirects", url=url)

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


class AsyncClient(_Base):
    """The ``async`` twin of ``Client``: same arguments, same methods, awaited.

    Example::

        async with AsyncClient(base_url="https://ls.example.com", api_key="...") as client:
            conn = await client.get_connection(1)
    """

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str | None = None,
        auth: httpx.Auth | None = None,
        timeout: float | httpx.Timeout | None = C.DEFAULT_TIMEOUT,
        max_retries: int = C.DEFAULT_MAX_RETRIES,
        retry: RetryPolicy | None = None,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(
            base_url=base_url,
            api_key=api_key,
            auth=auth,
            timeout=timeout,
            max_retries=max_retries,
            retry=retry,
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(transport=transport, headers=_ACCEPT)
        import asyncio

        self._sleep = asyncio.sleep

    @classmethod
    def from_env(
        cls, *, base_url: str | None = None, api_key: str | None = None, **kwargs: object
    ) -> Self:
        """Build from ``LABEL_STUDIO_URL`` and ``LABEL_STUDIO_API_KEY`` (read now, not at import)."""
        base_url, api_key = cls._env(base_url, api_key)
        return cls(base_url=base_url, api_key=api_key, **kwargs)  # type: ignore[arg-type]

    async def get_connection(self, connection_id: int) -> Connection:
        """Fetch one connection; see ``Client.get_connection``."""
        return (await self._fetch(connection_id))[2]

    async def get_connection_detailed(self, connection_id: int) -> DetailedResponse:
        """See ``Client.get_connection_detailed``."""
        return self._detailed(*(await self._fetch(connection_id)))

    async def _fetch(self, connection_id: int) -> tuple[httpx.Response, int, Connection]:
        """See ``Client._fetch``."""
        url = self._url(connection_id)
        start, attempt = self._clock(), 0
        while True:
            response: httpx.Response | None = None
            exc: Exception | None = None
            remaining = self._remaining(start)
            if remaining is not None and remaining <= 0:
                raise self._deadline_error(url)
            try:
                response = await self._send(url, self._timeout_within(remaining))
            except (httpx.HTTPError, LabelStudioError) as caught:
                exc = caught
            self._log_attempt(url, attempt, start, response or exc)
            connection, error, retryable, retry_after = self._outcome(url, response, exc)
            if connection is not None and response is not None:
                return response, attempt + 1, connection
            assert error is not None
            await self._sleep(self._next_delay(attempt, start, error, retryable, retry_after))
            attempt += 1

    async def get_connections(
        self, connection_ids: Iterable[int], *, concurrency: int = C.DEFAULT_CONCURRENCY
    ) -> list[Connection | LabelStudioError]:
        """See ``Client.get_connections``: bounded concurrency, input order, errors in place."""
        import asyncio

        ids = [check_connection_id(i) for i in connection_ids]
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        gate = asyncio.Semaphore(concurrency)

        async def one(connection_id: int) -> Connection | LabelStudioError:
            async with gate:
                try:
                    return await self.get_connection(connection_id)
                except LabelStudioError as error:
                    return error

        return list(await asyncio.gather(*(one(i) for i in ids)))

    async def _send(self, url: str, attempt_timeout: httpx.Timeout) -> httpx.Response:
        request = self._http.build_request("GET", url, timeout=attempt_timeout)
        auth: httpx.Auth | None = self._auth
        for _ in range(C.MAX_REDIRECTS + 1):
            response = await self._http.send(request, auth=auth, follow_redirects=False)
            if not response.has_redirect_location:
                return response
            await response.aclose()
            target = self._redirect(request, response)
            auth = self._auth if self._trusted(target) else None
            request = self._http.build_request("GET", target, timeout=attempt_timeout)
        raise APIConnectionError(f"more than {C.MAX_REDIRECTS} redirects", url=url)

    async def close(self) -> None:
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
        await self.close()
