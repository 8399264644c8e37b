"""The one path from the suite to a deployment: an httpx transport every request goes through.

Our checks, schemathesis's generated cases and its auth probes, the id discovery and the
personal-access-token refresh all use one ``httpx.Client`` whose transport is a ``Guard``
(``open_client``). The guard, per request, in this order:

1. refuses any method but GET, HEAD and OPTIONS (the one exception: the token refresh POST)
   and any header that could not be sent as it is;
2. stops the run at its request budget or its deadline (``Stop``);
3. spaces requests to the rate;
4. records the request (``Exchange``: what the report counts and reproduces);
5. sends it, every socket operation bounded by what is left of the request's timeout and of
   the run's deadline, and reads the body within the client's size limit, decoding gzip and
   deflate itself (``BodyReader``).

A request that gets no answer raises ``NoAnswer``; an answer that cannot be read (too large,
undecodable) raises ``BadAnswer``. Neither is an ``httpx.HTTPError``: they pass through httpx
and the auth flow untouched, to the check that sent the request.
"""

from __future__ import annotations

import http.cookiejar
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any

import attrs
import httpx

from ls_model_providers import _constants as C
from ls_model_providers._auth import auth_from_api_key
from ls_model_providers._body import BodyReader, BodyTooLarge, JSONRejected, UndecodableBody, loads
from ls_model_providers._errors import certificate_problem
from ls_model_providers._transport import deadline_scope, install

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: A request extension raising the body limit for that one request (the served schema, which
#: is over a megabyte on a real deployment, where a connection is about a kilobyte).
BODY_LIMIT = "ls_model_providers.max_body_size"
#: Header bytes h11 refuses to send: a request carrying one would be counted, never sent.
_UNSENDABLE = frozenset(range(0x20)) - {0x09} | {0x7F}


class Stop(Exception):
    """The run must end here; ``check`` names the failing result the report gets."""

    check = "run.stopped"


class BudgetExceeded(Stop):
    check = "run.budget"


class DeadlineExceeded(Stop):
    check = "run.deadline"


class UnsafeRequest(Stop):
    """A request the suite must never send (a write to a production deployment)."""

    check = "run.safety"


class NoAnswer(Exception):
    """A request got no answer: DNS, refused, reset, TLS, or a timeout."""

    def __init__(self, message: str, exchange: Exchange, tls_problem: str | None) -> None:
        super().__init__(message)
        self.exchange, self.tls_problem = exchange, tls_problem


class BadAnswer(Exception):
    """An answer the suite cannot read: a body over the size limit, or undecodable."""

    def __init__(self, message: str, exchange: Exchange) -> None:
        super().__init__(message)
        self.exchange = exchange


class Unsendable(Exception):
    """A generated request httpx or h11 cannot put on the wire (never counted or sent)."""


@attrs.define
class Exchange:
    """One request as it was sent (after auth), and the status it got."""

    method: str
    url: str
    headers: list[tuple[str, str]]
    status: int | None = None


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    """A session cookie would authenticate the requests the auth checks send without
    credentials: the suite keeps none."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False


def no_cookies() -> http.cookiejar.CookieJar:
    return http.cookiejar.CookieJar(policy=_NoCookies())


class Guard(httpx.BaseTransport):
    """The transport of the suite's one client; see the module docstring.

    Args:
        network: the client that reaches the deployment (its own transport, TLS and proxies).
        refresh_url: the only URL a POST may go to.
        max_requests: the budget; the next request raises ``BudgetExceeded``.
        rate: at most this many requests per second (``None``: unlimited).
        timeout: seconds one request may take, whole: connect, send, the complete answer.
        deadline: seconds the run may take from now.
        on_access_token: called with every access token a refresh answer carries.
    """

    def __init__(
        self,
        network: httpx.Client,
        *,
        refresh_url: str,
        max_requests: int,
        rate: float | None,
        timeout: float,
        deadline: float,
        on_access_token: Callable[[str], None] = lambda _token: None,
        max_body_size: int = C.MAX_BODY_SIZE,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._network, self._refresh_url = network, refresh_url
        self.max_requests, self.timeout, self.deadline = max_requests, timeout, deadline
        self._interval = 1.0 / rate if rate else 0.0
        self._on_access_token, self._max_body = on_access_token, max_body_size
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._end = clock() + deadline
        self._next_slot = 0.0
        self.exchanges: list[Exchange] = []
        #: Requests that got an answer (a status line), whatever it was.
        self.answered = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        exchange, start = self._admit(request)
        if start > self._clock():
            self._sleep(start - self._clock())
        limit = min(self.timeout, self._end - self._clock())
        if limit <= 0:
            raise DeadlineExceeded(f"run deadline of {self.deadline:g} s reached")
        ends = self._clock() + limit
        try:
            with deadline_scope(limit):
                response = self._network.send(request, stream=True)
                try:
                    limit_bytes = request.extensions.get(BODY_LIMIT, self._max_body)
                    content = self._read(response, ends, exchange, limit_bytes)
                finally:
                    response.close()
        except httpx.TransportError as exc:
            raise self._no_answer(exc, exchange) from None
        return self._answer(request, response, content, exchange)

    def check_deadline(self) -> None:
        """Raise ``DeadlineExceeded`` once the run's deadline has passed: for work between
        requests (drawing generated cases), which no request would otherwise stop."""
        if self._clock() >= self._end:
            raise DeadlineExceeded(f"run deadline of {self.deadline:g} s reached")

    # -- steps -------------------------------------------------------------------------------
    def _admit(self, request: httpx.Request) -> tuple[Exchange, float]:
        """Refuse, or count and record the request; when it may start."""
        method, url = request.method, str(request.url)
        if method not in SAFE_METHODS and not (method == "POST" and url == self._refresh_url):
            raise UnsafeRequest(f"refused to send {method} {url}: the suite is read-only")
        for name, value in request.headers.raw:
            if _UNSENDABLE.intersection(name + value):
                raise Unsendable(f"header {name.decode('latin-1')!r} has a control character")
        with self._lock:
            if len(self.exchanges) >= self.max_requests:
                raise BudgetExceeded(f"request budget of {self.max_requests} reached")
            now = self._clock()
            start = max(now, self._next_slot)
            if start >= self._end:
                raise DeadlineExceeded(f"run deadline of {self.deadline:g} s reached")
            self._next_slot = start + self._interval
            headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
            exchange = Exchange(method, url, headers)
            self.exchanges.append(exchange)
        return exchange, start

    def _read(self, response: httpx.Response, ends: float, exchange: Exchange, limit: int) -> bytes:
        with self._lock:
            self.answered += 1
        exchange.status = response.status_code
        if exchange.method == "HEAD":
            return b""  # h11 reads no body after a HEAD, whatever the headers announce
        try:
            if response.is_stream_consumed:  # an in-process transport read (and decoded) it
                if len(response.content) > limit:
                    raise BodyTooLarge(limit, len(response.content))
                return response.content
            reader = BodyReader(limit, response.headers)
            for chunk in response.iter_raw():
                reader.feed(chunk)
                if self._clock() > ends:
                    raise httpx.ReadTimeout("the request's time ran out while reading the body")
            return reader.finish()
        except BodyTooLarge as exc:
            raise BadAnswer(f"HTTP {response.status_code}: {exc}", exchange) from None
        except UndecodableBody as exc:
            raise BadAnswer(
                f"HTTP {response.status_code} with a body that cannot be decoded: {exc}", exchange
            ) from None

    def _answer(
        self, request: httpx.Request, response: httpx.Response, content: bytes, exchange: Exchange
    ) -> httpx.Response:
        headers = httpx.Headers(response.headers)
        if "content-encoding" in headers:  # decoded here: httpx must not decode it again
            del headers["content-encoding"]
            headers.pop("content-length", None)
        if request.method == "POST" and response.status_code == 200:
            self._note_access_token(content)
        return httpx.Response(
            response.status_code,
            headers=headers,
            # A stream, not content=: httpx reads and closes it, and only then sets .elapsed.
            stream=httpx.ByteStream(content),
            extensions={
                "http_version": response.extensions.get("http_version", b"HTTP/1.1"),
                "reason_phrase": response.extensions.get("reason_phrase", b""),
                "exchange": exchange,
            },
        )

    def _note_access_token(self, content: bytes) -> None:
        try:
            data = loads(content)
        except JSONRejected:
            return
        access = data.get("access") if isinstance(data, dict) else None
        if isinstance(access, str):
            self._on_access_token(access)

    def _no_answer(self, exc: httpx.TransportError, exchange: Exchange) -> Exception:
        if self._clock() >= self._end:
            return DeadlineExceeded(f"run deadline of {self.deadline:g} s reached")
        problem = certificate_problem(exc)
        if problem is not None:
            message = f"TLS certificate not trusted ({problem})"
        elif isinstance(exc, httpx.TimeoutException) and exchange.status is not None:
            message = (
                f"HTTP {exchange.status}, but the body did not arrive within {self.timeout:g} s"
            )
        elif isinstance(exc, httpx.TimeoutException):
            message = f"no answer within {self.timeout:g} s ({type(exc).__name__})"
        else:
            message = f"no answer: {type(exc).__name__}: {exc}"
        return NoAnswer(message, exchange, problem)

    def close(self) -> None:
        self._network.close()


def exchange_of(response: httpx.Response) -> Exchange:
    """The recorded request a response answers."""
    exchange = response.extensions.get("exchange")
    assert isinstance(exchange, Exchange), "every response comes through the guard"
    return exchange


def open_client(
    base_url: str,
    api_key: str,
    *,
    verify: ssl.SSLContext | bool,
    max_requests: int,
    rate: float | None,
    timeout: float,
    deadline: float,
    on_access_token: Callable[[str], None],
    transport: httpx.BaseTransport | None = None,
) -> tuple[httpx.Client, Guard]:
    """The suite's one client (its auth: the credentials) and the guard under it.

    The network side is a plain ``httpx.Client``, so TLS trust (``verify``) and the proxy
    variables (``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``) are read exactly as
    ``Client`` and ``spec-diff`` read them; ``transport`` replaces it in tests.
    """
    per_operation = httpx.Timeout(
        timeout, connect=min(timeout, C.DEFAULT_TIMEOUT.connect or timeout)
    )
    if transport is None:
        network = httpx.Client(verify=verify, timeout=per_operation, cookies=no_cookies())
        install(network)  # every socket operation bounded by the guard's deadline_scope
    else:
        network = httpx.Client(transport=transport, timeout=per_operation, cookies=no_cookies())
    auth = auth_from_api_key(api_key, base_url=base_url)
    guard = Guard(
        network, refresh_url=base_url + C.TOKEN_REFRESH_PATH, max_requests=max_requests,
        rate=rate, timeout=timeout, deadline=deadline, on_access_token=on_access_token,
    )  # fmt: skip
    client = httpx.Client(
        transport=guard, auth=auth, timeout=per_operation, follow_redirects=False,
        cookies=no_cookies(), headers={"Accept-Encoding": C.ACCEPT_ENCODING},
    )  # fmt: skip
    return client, guard
