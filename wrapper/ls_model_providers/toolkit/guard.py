"""The one path from the tools to a deployment: an httpx transport every request goes through.

The conformance suite's checks, schemathesis's generated cases and its auth probes, the id
discovery, a snapshot's recording, spec-diff's schema fetch and every token refresh use
httpx clients whose transport is one ``Guard`` (``Guard.open`` builds it, ``guard.client(auth)``
a client for each identity). The guard, per request, in this order:

1. refuses any method but GET, HEAD and OPTIONS (the one exception: the token refresh POST)
   and any header that could not be sent as it is;
2. stops the run at its request budget or its deadline (``Stop``);
3. spaces requests to the rate;
4. records the request (``Sent``: what the report counts and reproduces);
5. sends it, every socket operation bounded by what is left of the request's timeout and of
   the run's deadline, and reads the body within the size limit (the client's
   ``BodyReader``: gzip and deflate decoded here, never past the limit);
6. honours rate limits: a 429 is waited for (its ``Retry-After``, or a backoff) and sent again
   (the token refresh's too), within the deadline and the budget, else the run stops as
   ``RateLimited`` (inconclusive);
7. shows every answer to its ``observers`` (the conformance suite's secret check reads them
   all).

The network under it is the package's own ``Transport``: a request that fails before any
answer on a keep-alive connection the server had closed is sent again on a fresh one
(``resent`` counts them), the environment's proxy is checked, loopback never goes through one.

A request that gets no answer raises ``NoAnswer``; an answer that cannot be read (too large,
undecodable) raises ``BadAnswer``. Neither is an ``httpx.HTTPError``: they pass through httpx
and the auth flow untouched, to the code that sent the request.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable
from typing import Final

import attrs
import httpx

from ls_model_providers._auth import auth_from_api_key
from ls_model_providers._body import (
    BodyExpired,
    BodyReader,
    BodyTooLarge,
    JSONRejected,
    UndecodableBody,
    loads,
)
from ls_model_providers._client import no_cookies
from ls_model_providers._constants import (
    ACCEPT_ENCODING,
    DEFAULT_TIMEOUT,
    MAX_BODY_SIZE,
    TOKEN_REFRESH_PATH,
)
from ls_model_providers._errors import Answer, certificate_problem
from ls_model_providers._retry import parse_retry_after
from ls_model_providers._transport import SAFE_METHODS, Transport, deadline_scope, environment_proxy

from .options import Limits

#: A request extension raising the body limit for that one request (the served schema, which
#: is over a megabyte on a real deployment, where a connection is about a kilobyte).
BODY_LIMIT: Final = "ls_model_providers.max_body_size"
#: Header bytes h11 refuses to send: a request carrying one would be counted, never sent.
_UNSENDABLE: Final = frozenset(range(0x20)) - {0x09} | {0x7F}
#: Consecutive 429s one request may get before the run stops as rate limited; and the wait
#: before the next try when a 429 says nothing (``Retry-After``): doubled each time, capped.
MAX_RATE_LIMITED: Final = 8
RATE_LIMIT_BACKOFF: Final = 1.0
RATE_LIMIT_BACKOFF_CAP: Final = 30.0
REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})


class Stop(Exception):
    """The run must end here; ``check`` names the failing result the report gets."""

    check = "run.stopped"


class BudgetExceeded(Stop):
    check = "run.budget"


class DeadlineExceeded(Stop):
    check = "run.deadline"


class RateLimited(Stop):
    """The deployment kept answering 429 past what the run's deadline or budget allows."""

    check = "run.rate_limited"


class UnsafeRequest(Stop):
    """A request the suite must never send (a write to a production deployment)."""

    check = "run.safety"


#: The stops that say nothing against the deployment: the run could not finish in its limits.
INCONCLUSIVE: Final = (BudgetExceeded, DeadlineExceeded, RateLimited)


@attrs.define
class Sent:
    """One request as it was sent (after auth), and the status it got."""

    method: str
    url: str
    headers: list[tuple[str, str]]
    status: int | None = None


class NoAnswer(Exception):
    """A request got no answer: DNS, refused, reset, TLS, or a timeout."""

    def __init__(self, message: str, sent: Sent, tls_problem: str | None) -> None:
        super().__init__(message)
        self.sent, self.tls_problem = sent, tls_problem


class BadAnswer(Exception):
    """An answer the suite cannot read: a body over the size limit, or undecodable."""

    def __init__(self, message: str, sent: Sent) -> None:
        super().__init__(message)
        self.sent = sent


class Unsendable(Exception):
    """A generated request httpx or h11 cannot put on the wire (never counted or sent)."""


#: Called with every answer the guard reads, whole (its body decoded), and its request.
Observer = Callable[[Answer, "Sent"], None]
#: Told each access token a refresh brings, and the refresh token that asked for it.
AccessTokenHook = Callable[[str, "str | None"], None]


class Guard(httpx.BaseTransport):
    """The transport of the tools' clients; see the module docstring.

    Args:
        network: the client that reaches the deployment (its own transport, TLS and proxies).
        refresh_url: the only URL a POST may go to.
        limits: the budget (the next request raises ``BudgetExceeded``), the rate, the time one
            request may take whole (connect, send, the complete answer), and the deadline of
            the run, counted from now.
        on_access_token: called with every access token a refresh answer carries, and the
            refresh token its request sent (``None`` if it cannot be read): which credentials
            the new token stands for, when several users share the guard.
    """

    def __init__(
        self,
        network: httpx.Client,
        *,
        refresh_url: str,
        limits: Limits,
        on_access_token: AccessTokenHook = lambda _access, _refresh: None,
        max_body_size: int = MAX_BODY_SIZE,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        transport: Transport | None = None,
    ) -> None:
        self._network, self._refresh_url = network, refresh_url
        #: The network client's transport, when it is the package's own (it counts resends).
        self._transport = transport
        self.limits = limits
        self._interval = 1.0 / limits.rate if limits.rate else 0.0
        self._on_access_token, self._max_body = on_access_token, max_body_size
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._end = clock() + limits.deadline
        self._next_slot = 0.0
        self.sent: list[Sent] = []
        #: Requests that got an answer (a status line), whatever it was.
        self.answered = 0
        #: 429 answers waited for, and the seconds spent waiting.
        self.rate_limited = 0
        self.waited = 0.0
        self.observers: list[Observer] = []
        #: A wrong scheme learnt from the first request that got no answer ("": none).
        self._hint: str | None = None

    @classmethod
    def open(
        cls,
        base_url: str,
        *,
        verify: ssl.SSLContext | bool = True,
        limits: Limits = Limits(),  # noqa: B008 - frozen
        on_access_token: AccessTokenHook = lambda _access, _refresh: None,
        transport: httpx.BaseTransport | None = None,
        read_timeout: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> Guard:
        """A guard over the package's own ``Transport`` to ``base_url`` (``transport`` replaces
        it in tests): TLS trust (``verify``) and the environment's proxy as ``Client`` reads
        them. ``ValueError`` names a proxy variable that cannot be used. ``read_timeout``:
        seconds each connect, read or write may wait (default: ``limits.timeout``, which
        bounds a request whole)."""
        each = read_timeout or limits.timeout
        per_operation = httpx.Timeout(each, connect=min(each, DEFAULT_TIMEOUT.connect or each))
        ours = None if transport else Transport(verify=verify, proxy=environment_proxy(base_url))
        network = httpx.Client(
            transport=transport or ours, timeout=per_operation, cookies=no_cookies(),
            trust_env=False,
        )  # fmt: skip
        return cls(
            network, refresh_url=base_url + TOKEN_REFRESH_PATH, limits=limits,
            on_access_token=on_access_token, transport=ours, clock=clock,
        )  # fmt: skip

    def client(self, auth: httpx.Auth | None = None) -> httpx.Client:
        """A client all of whose requests go through this guard, authenticated by ``auth``.
        Close the guard (``close``) once, when the run ends."""
        timeout = self._network.timeout
        return httpx.Client(
            transport=self, auth=auth, timeout=timeout, follow_redirects=False,
            cookies=no_cookies(), headers={"Accept-Encoding": ACCEPT_ENCODING}, trust_env=False,
        )  # fmt: skip

    @property
    def resent(self) -> int:
        """Requests the transport sent again after a keep-alive connection turned out closed."""
        return 0 if self._transport is None else self._transport.resent

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        for attempt in range(MAX_RATE_LIMITED + 1):
            response = self._once(request)
            # A 429 was not acted on (RFC 6585): the token refresh is sent again like a GET.
            refresh = request.method == "POST" and str(request.url) == self._refresh_url
            if response.status_code != 429 or not (request.method in SAFE_METHODS or refresh):
                return response
            wait = parse_retry_after(response.headers)
            if wait is None:
                wait = min(RATE_LIMIT_BACKOFF * 2**attempt, RATE_LIMIT_BACKOFF_CAP)
            if attempt == MAX_RATE_LIMITED:
                raise RateLimited(
                    f"rate limited: {attempt + 1} answers 429 in a row to one request"
                )
            if self._clock() + wait >= self._end:
                raise RateLimited(
                    f"rate limited: the server asks to wait {wait:g} s, past the run's deadline "
                    f"of {self.limits.deadline:g} s ({self.rate_limited} 429 answer(s) "
                    "waited for before)"
                )
            with self._lock:
                self.rate_limited += 1
                self.waited += wait
            self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def check_deadline(self) -> None:
        """Raise ``DeadlineExceeded`` once the run's deadline has passed: for work between
        requests (drawing generated cases), which no request would otherwise stop."""
        if self._clock() >= self._end:
            raise DeadlineExceeded(f"run deadline of {self.limits.deadline:g} s reached")

    # -- steps -------------------------------------------------------------------------------
    def _once(self, request: httpx.Request) -> httpx.Response:
        sent, start = self._admit(request)
        if start > self._clock():
            self._sleep(start - self._clock())
        limit = min(self.limits.timeout, self._end - self._clock())
        if limit <= 0:
            raise DeadlineExceeded(f"run deadline of {self.limits.deadline:g} s reached")
        ends = self._clock() + limit
        try:
            with deadline_scope(limit):
                response = self._network.send(request, stream=True)
                try:
                    limit_bytes = request.extensions.get(BODY_LIMIT, self._max_body)
                    content = self._read(response, ends, sent, limit_bytes)
                finally:
                    response.close()
        except httpx.TransportError as exc:
            raise self._no_answer(exc, sent) from None
        for observe in self.observers:
            observe(
                Answer(response.status_code, response.headers, content, sent.method, sent.url),
                sent,
            )
        return self._answer(request, response, content, sent)

    def _admit(self, request: httpx.Request) -> tuple[Sent, float]:
        """Refuse, or count and record the request; when it may start."""
        method, url = request.method, str(request.url)
        if method not in SAFE_METHODS and not (method == "POST" and url == self._refresh_url):
            raise UnsafeRequest(f"refused to send {method} {url}: the suite is read-only")
        for name, value in request.headers.raw:
            if _UNSENDABLE.intersection(name + value):
                raise Unsendable(f"header {name.decode('latin-1')!r} has a control character")
        with self._lock:
            if len(self.sent) >= self.limits.max_requests:
                raise BudgetExceeded(f"request budget of {self.limits.max_requests} reached")
            now = self._clock()
            start = max(now, self._next_slot)
            if start >= self._end:
                raise DeadlineExceeded(f"run deadline of {self.limits.deadline:g} s reached")
            self._next_slot = start + self._interval
            headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
            sent = Sent(method, url, headers)
            self.sent.append(sent)
        return sent, start

    def _read(self, response: httpx.Response, ends: float, sent: Sent, limit: int) -> bytes:
        with self._lock:
            self.answered += 1
        sent.status = response.status_code
        if sent.method == "HEAD":
            return b""  # h11 reads no body after a HEAD, whatever the headers announce
        try:
            if response.is_stream_consumed:  # an in-process transport read (and decoded) it
                if len(response.content) > limit:
                    raise BodyTooLarge(limit, len(response.content))
                return response.content
            reader = BodyReader(limit, response.headers, expired=lambda: self._clock() > ends)
            for chunk in response.iter_raw():
                reader.feed(chunk)
            return reader.finish()
        except BodyExpired:
            raise httpx.ReadTimeout("the request's time ran out while reading the body") from None
        except BodyTooLarge as exc:
            raise BadAnswer(f"HTTP {response.status_code}: {exc}", sent) from None
        except UndecodableBody as exc:
            raise BadAnswer(
                f"HTTP {response.status_code} with a body that cannot be decoded: {exc}", sent
            ) from None

    def _answer(
        self, request: httpx.Request, response: httpx.Response, content: bytes, sent: Sent
    ) -> httpx.Response:
        headers = httpx.Headers(response.headers)
        if "content-encoding" in headers:  # decoded here: httpx must not decode it again
            del headers["content-encoding"]
            headers.pop("content-length", None)
        if request.method == "POST" and response.status_code == 200:
            self._note_access_token(content, request.content)
        return httpx.Response(
            response.status_code,
            headers=headers,
            # A stream, not content=: httpx reads and closes it, and only then sets .elapsed.
            stream=httpx.ByteStream(content),
            extensions={
                "http_version": response.extensions.get("http_version", b"HTTP/1.1"),
                "reason_phrase": response.extensions.get("reason_phrase", b""),
                "sent": sent,
            },
        )

    def _note_access_token(self, content: bytes, sent: bytes) -> None:
        try:
            data = loads(content)
        except JSONRejected:
            return
        access = data.get("access") if isinstance(data, dict) else None
        if not isinstance(access, str):
            return
        try:  # the refresh request is ours: {"refresh": "..."}
            refresh = loads(sent).get("refresh")
        except (JSONRejected, AttributeError):
            refresh = None
        self._on_access_token(access, refresh if isinstance(refresh, str) else None)

    def _no_answer(self, exc: httpx.TransportError, sent: Sent) -> Exception:
        if self._clock() >= self._end:
            return DeadlineExceeded(f"run deadline of {self.limits.deadline:g} s reached")
        from .answers import unreachable_hint

        hint = self._scheme_hint(exc) or unreachable_hint(self._base_url(), exc)
        if hint is not None:
            return NoAnswer(hint, sent, None)
        problem = certificate_problem(exc)
        timeout = self.limits.timeout
        if problem is not None:
            message = f"TLS certificate not trusted ({problem})"
        elif isinstance(exc, httpx.TimeoutException) and sent.status is not None:
            message = f"HTTP {sent.status}, but the body did not arrive within {timeout:g} s"
        elif isinstance(exc, httpx.TimeoutException):
            message = f"no answer within {timeout:g} s ({type(exc).__name__})"
        else:
            message = f"no answer: {type(exc).__name__}: {exc}"
        return NoAnswer(message, sent, problem)

    def _scheme_hint(self, exc: httpx.TransportError) -> str | None:
        """The wrong scheme, named (asked of the server once per guard: it costs a handshake)."""
        if self._hint is None:
            from .answers import scheme_hint

            self._hint = scheme_hint(self._base_url(), failure=exc) or ""
        return self._hint or None

    def _base_url(self) -> str:
        return self._refresh_url.removesuffix(TOKEN_REFRESH_PATH)

    def close(self) -> None:
        self._network.close()


def sent_of(response: httpx.Response) -> Sent:
    """The recorded request a response answers."""
    sent = response.extensions.get("sent")
    assert isinstance(sent, Sent), "every response comes through the guard"
    return sent


def redirect_of(response: httpx.Response, base_url: str) -> str | None:
    """Where a redirect answer to a request under ``base_url`` says the deployment is: the new
    base URL when the redirect keeps the request's path below it (http -> https, another host
    name), else the Location itself; ``None`` for any answer but a redirect."""
    location: str | None = response.headers.get("location")
    if response.status_code not in REDIRECTS or not location:
        return None
    url = str(response.request.url)
    try:
        target = str(response.request.url.join(location))
    except (httpx.InvalidURL, ValueError, UnicodeError):
        return location[:200]
    rest = url[len(base_url) :] if url.startswith(base_url) else ""
    if rest and target.endswith(rest):
        return target[: len(target) - len(rest)]
    return target


def open_client(
    base_url: str,
    api_key: str,
    *,
    verify: ssl.SSLContext | bool,
    limits: Limits,
    on_access_token: AccessTokenHook,
    transport: httpx.BaseTransport | None = None,
) -> tuple[httpx.Client, Guard]:
    """A guard (``Guard.open``) and a client of it with ``api_key``'s credentials."""
    guard = Guard.open(
        base_url, verify=verify, limits=limits, on_access_token=on_access_token,
        transport=transport,
    )  # fmt: skip
    return guard.client(auth_from_api_key(api_key, base_url=base_url)), guard
