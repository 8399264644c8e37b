"""The request engine: every decision of a call, and no I/O.

A call is a generator. It yields *steps*; the client driving it performs each step and
sends the outcome back:

=================  =========================================  ==========================
step               the client does                            and sends back
=================  =========================================  ==========================
``Send``           ``http.send(request, stream=True)``        ``(response, raw chunks)``
``Read``           read the next raw chunk                    the bytes (``b""``: the end)
``Sleep``          ``time.sleep`` / ``asyncio.sleep``          ``None``
``Acquire``        take the token-refresh lock                 the held lock, or ``None``
=================  =========================================  ==========================

A transport failure (an ``httpx.HTTPError``) is thrown into the generator at the step that
failed. The generator's return value is the call's result; what it raises is the call's
error, always a ``LabelStudioError``.

So all a call decides lives here, once: the attempts and redirects, the body limits, the
deadline, what an answer means, whether and how long to wait before the next attempt, and
the personal-access-token refresh (its requests are attempts like the GET's: same timeouts,
same deadline, same retries). ``Client`` and ``AsyncClient`` (``_client.py``) only perform
steps, so they cannot drift apart. The shape is httpx's ``Auth.auth_flow`` and h11's (a
protocol that never touches a socket). It is a generator rather than an explicit state
machine because its local variables *are* the state, and a token refresh is simply
``yield from`` the same attempt loop as the GET.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Generator
from typing import Any, Generic, NamedTuple, TypeVar

import httpx

from ._auth import PersonalAccessTokenAuth, TokenAuth
from ._body import BodyExpired, BodyReader, BodyTooLarge, UndecodableBody
from ._constants import ENDPOINT_PATH, LOGGER_NAME, MAX_REDIRECTS, RESENDABLE
from ._errors import (
    Answer,
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    CertificateError,
    LabelStudioError,
    ResponseTooLargeError,
    ResponseValidationError,
    certificate_problem,
    make_status_error,
    wrong_tls_version,
)
from ._models import Connection, DetailedResponse, parse_connection
from ._retry import RetryPolicy, is_retryable_status, may_retry, parse_retry_after, retry_delay
from ._secrets import Scrubber

log = logging.getLogger(LOGGER_NAME)

R = TypeVar("R")


# -- steps ---------------------------------------------------------------------------------
class Send(NamedTuple):
    request: httpx.Request
    #: A caller's own ``httpx.Auth``, for httpx to apply; ``None`` for ours (already applied).
    auth: httpx.Auth | None


class Read(NamedTuple):
    #: The Iterator[bytes] / AsyncIterator[bytes] the client handed back for ``Send``
    #: (``None`` there when an in-process transport had read the body already).
    chunks: Any


class Sleep(NamedTuple):
    seconds: float


class Acquire(NamedTuple):
    auth: PersonalAccessTokenAuth
    #: Seconds to wait at most (``None``: no deadline).
    timeout: float | None


Step = Send | Read | Sleep | Acquire
#: A call: yields steps, is sent their outcomes, returns ``R``.
Flow = Generator[Step, Any, R]


class Run(Generic[R]):
    """A flow being driven: what to send into it next, and the responses it opened.

    The clients' loop is then only::

        run = Run(flow)
        while (step := run.next()) is not None:
            try:
                run.took(perform(step))
            except httpx.HTTPError as exc:
                run.failed(exc)
        return run.value          # and, finally: close run.opened
    """

    __slots__ = ("_failure", "_flow", "_outcome", "_step", "opened", "value")

    def __init__(self, flow: Flow[R]) -> None:
        self._flow = flow
        self._outcome: Any = None
        self._failure: BaseException | None = None
        self._step: Step | None = None
        #: Streamed responses not known to be closed (a redirect, a body left unread).
        self.opened: list[httpx.Response] = []
        self.value: R

    def next(self) -> Step | None:
        """The next step to perform, or ``None`` when the flow returned (see ``value``)."""
        try:
            if self._failure is None:
                step = self._flow.send(self._outcome)
            else:
                failure, self._failure = self._failure, None
                step = self._flow.throw(failure)
        except StopIteration as stop:
            self.value = stop.value
            return None
        self._step = step
        return step

    def took(self, outcome: Any) -> None:
        """The outcome of the step just performed."""
        if type(self._step) is Send:
            self.opened.append(outcome[0])
        self._outcome = outcome

    def failed(self, exc: BaseException) -> None:
        """The step just performed raised ``exc`` (thrown into the flow next)."""
        self._failure = exc

    def close(self) -> list[httpx.Response]:
        """End the flow (releasing any lock it holds); the responses to close."""
        self._flow.close()
        return self.opened


class _Failure(Exception):
    """An attempt failed with ``error``; ``retryable`` says whether another may follow."""

    def __init__(
        self, error: LabelStudioError, retryable: bool, retry_after: float | None = None
    ) -> None:
        self.error, self.retryable, self.retry_after = error, retryable, retry_after


def _about(request: httpx.Request, response: httpx.Response, shown_url: str) -> dict[str, Any]:
    """What an error made of an answer carries besides its message and body."""
    return {"status_code": response.status_code, "headers": response.headers,
            "method": request.method, "url": shown_url}  # fmt: skip


class Config:
    """What a client decided once, when it was built; shared by all its calls."""

    def __init__(
        self,
        *,
        base_url: str,
        auth: httpx.Auth,
        timeout: httpx.Timeout,
        policy: RetryPolicy,
        max_body_size: int,
        http: httpx.Client | httpx.AsyncClient,
        headers: dict[str, str],
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        url = httpx.URL(base_url)
        self.endpoint = base_url + ENDPOINT_PATH
        self.origin = (url.scheme, url.host, url.port)
        #: Ours are applied by the engine; anyone else's by httpx (``Send.auth``).
        self.pat = auth if isinstance(auth, PersonalAccessTokenAuth) else None
        self.token_header = auth.authorization() if isinstance(auth, TokenAuth) else None
        self.foreign_auth = None if isinstance(auth, TokenAuth | PersonalAccessTokenAuth) else auth
        self.scrub = (
            auth.scrub if isinstance(auth, TokenAuth | PersonalAccessTokenAuth) else Scrubber()
        )
        self.timeout = timeout
        self._timeout_dict = timeout.as_dict()
        limits = self._timeout_dict.values()
        #: The longest per-attempt timeout (None: unbounded), to skip capping on the hot path.
        self.timeout_max = None if None in limits else max(v for v in limits if v is not None)
        self.policy = policy
        self.max_body_size = max_body_size
        self.http = http
        #: Headers the caller's http client lacks (``DEFAULT_HEADERS``), added to every request.
        self.headers = headers
        # The GET's headers are the http client's, as httpx would merge them, read once here;
        # kept per Authorization value (one entry: a Token, or the current access token).
        self._merged: tuple[str | None, httpx.Headers] | None = None
        self._urls: dict[str, httpx.URL] = {}
        #: The last URL written out, with its text: the GET's parsed URL is the same object on
        #: every call, and ``str()`` of one costs more than this lookup.
        self._written: tuple[httpx.URL | None, str] = (None, "")
        self.clock = clock
        self.jitter = jitter

    def shown_url(self, url: httpx.URL) -> str:
        """``url`` as messages and logs show it: written out, credentials scrubbed."""
        written = self._written
        if written[0] is not url:
            self._written = written = (url, str(url))
        return self.scrub(written[1])

    def request(
        self, method: str, url: str, authorization: str | None, json: Any, timeout: httpx.Timeout
    ) -> httpx.Request:
        """A request as ``http.build_request`` would make it, built faster for the GET.

        The GET is the hot path, and its URL is absolute and already checked: parsed URLs and
        merged headers are reused instead of being rebuilt on every call. Anything else (the
        refresh POST, a client with default query params) goes through ``build_request``.
        """
        http = self.http
        if method != "GET" or http.params:
            headers = (
                self.headers
                if authorization is None
                else {**self.headers, "Authorization": authorization}
            )
            request = http.build_request(method, url, headers=headers, json=json, timeout=timeout)
            if method == "POST":  # the token refresh, the only POST a call sends
                request.extensions[RESENDABLE] = True
            return request
        merged = self._merged
        if merged is None or merged[0] != authorization:
            combined = httpx.Headers(http.headers)
            combined.update(self.headers)
            if authorization is not None:
                combined["Authorization"] = authorization
            self._merged = merged = (authorization, combined)
        parsed = self._urls.get(url)
        if parsed is None:
            if len(self._urls) >= 256:
                self._urls.clear()
            parsed = self._urls[url] = httpx.URL(url)
        extensions = {
            "timeout": self._timeout_dict if timeout is self.timeout else timeout.as_dict()
        }
        return httpx.Request(
            "GET", parsed, headers=merged[1], cookies=http.cookies or None, extensions=extensions
        )


class Call:
    """One call's state: its start, its deadline, the client's configuration.

    ``Call(config).get_connection(url)`` is the flow for ``get_connection``; once it returned,
    ``detailed()`` adds the status, headers, raw body and attempt count.
    """

    __slots__ = ("answer", "attempts", "config", "deadline", "started")

    def __init__(self, config: Config) -> None:
        self.config = config
        self.started = config.clock()
        deadline = config.policy.deadline
        self.deadline = None if deadline is None else self.started + deadline

    def remaining(self) -> float | None:
        """Seconds left before the call's deadline (``None``: no deadline)."""
        return None if self.deadline is None else self.deadline - self.config.clock()

    def deadline_error(
        self, url: str, method: str = "GET", status_code: int | None = None
    ) -> APITimeoutError:
        """``status_code``: the answer had begun (its status arrived, not all of its body)."""
        return APITimeoutError(
            f"call deadline of {self.config.policy.deadline:g} s exceeded",
            method=method, url=self.config.scrub(url), status_code=status_code,
        )  # fmt: skip

    # -- the GET ---------------------------------------------------------------------------
    def get_connection(self, url: str) -> Flow[Connection]:
        (self.answer, connection), self.attempts = yield from self._retrying(
            lambda: self._get_once(url)
        )
        return connection

    def detailed(self, connection: Connection) -> DetailedResponse:
        """``connection``, as the flow returned it, with the answer it came in: built only
        when asked for (``get_connection`` is the hot path and needs none of it)."""
        answer = self.answer
        return DetailedResponse(
            status_code=answer.status_code, headers=answer.headers, content=answer.content,
            parsed=connection, url=answer.url, attempts=self.attempts,
        )  # fmt: skip

    def _get_once(self, url: str) -> Flow[tuple[Answer, Connection]]:
        pat = self.config.pat
        authorization, generation = self.config.token_header, 0
        for second_try in (False, True):
            if pat is not None:
                authorization, generation = yield from self._authorization(pat)
            answer = yield from self._exchange("GET", url, authorization, follow_redirects=True)
            if answer.status_code == 401 and pat is not None and not second_try:
                pat.invalidate(generation)  # the access token was refused: one fresh one
                continue
            break
        try:
            if not 200 <= answer.status_code < 300:
                raise make_status_error(answer, self._scrubber(authorization))
            connection = parse_connection(answer)
            connection._scrub = self.config.scrub
            return answer, connection
        except (APIStatusError, ResponseValidationError) as error:
            raise self._failure(error) from None

    # -- the personal access token ------------------------------------------------------
    def _authorization(self, pat: PersonalAccessTokenAuth) -> Flow[tuple[str, int]]:
        """The Bearer header to send, refreshing the access token when it is due."""
        header, generation = pat.bearer()
        if header is not None:
            return header, generation
        lock = yield Acquire(pat, self.remaining())
        if lock is None:
            raise self.deadline_error(pat.refresh_url, "POST")
        try:
            if pat.needs_refresh(generation):
                refused = pat.refused()  # by the server, for a caller before this one
                if refused is not None:
                    raise refused
                yield from self._retrying(lambda: self._refresh_once(pat))
        finally:
            lock.release()
        header, generation = pat.bearer()
        # An access token that expires within the refresh margin (a short lifetime, or clock
        # skew) is still the best there is: send it, and refresh on the next call.
        return header or pat.current_bearer() or "", generation

    def _refresh_once(self, pat: PersonalAccessTokenAuth) -> Flow[None]:
        answer = yield from self._exchange(
            "POST", pat.refresh_url, None, json=pat.refresh_payload(), follow_redirects=False
        )
        try:
            pat.accept(answer)
        except (APIStatusError, ResponseValidationError) as error:
            raise self._failure(error) from None

    # -- attempts --------------------------------------------------------------------------
    def _retrying(self, once: Callable[[], Flow[R]]) -> Flow[tuple[R, int]]:
        """Run ``once`` until it succeeds, fails for good, or no retry fits in the deadline."""
        policy, attempt = self.config.policy, 0
        while True:
            try:
                return (yield from once()), attempt + 1
            except _Failure as failure:
                error = failure.error
                if not failure.retryable:
                    raise error from error.__cause__
                delay = retry_delay(
                    attempt, policy, retry_after=failure.retry_after, random=self.config.jitter
                )
                if not may_retry(attempt, delay, self.config.clock() - self.started, policy):
                    raise error from error.__cause__
                log.debug("retrying in %.3f s after %s", delay, error)
                yield Sleep(delay)
                attempt += 1

    def _failure(self, error: APIStatusError | ResponseValidationError) -> _Failure:
        if isinstance(error, ResponseValidationError):
            return _Failure(error, error.malformed and self.config.policy.retry_on_malformed_body)
        if is_retryable_status(error.status_code, self.config.policy):
            return _Failure(error, True, parse_retry_after(error.headers))
        return _Failure(error, False)

    def _exchange(
        self,
        method: str,
        url: str,
        authorization: str | None,
        *,
        json: Any = None,
        follow_redirects: bool,
    ) -> Flow[Answer]:
        """One request (and the redirects it leads to), read whole within the limits."""
        auth = self.config.foreign_auth
        for _ in range(MAX_REDIRECTS + 1):
            remaining = self.remaining()
            if remaining is not None and remaining <= 0:
                raise self.deadline_error(url, method)
            request = self.config.request(
                method, url, authorization, json, self._timeout(remaining)
            )
            sent_at, response = self.config.clock(), None
            try:
                response, chunks = yield Send(request, auth)
                if not (follow_redirects and response.has_redirect_location):
                    return (yield from self._read(request, response, chunks, sent_at))
            except (_Failure, LabelStudioError):
                raise  # decided by _read
            except Exception as exc:  # noqa: BLE001 - anything a transport raises gets a type
                status = None if response is None else response.status_code
                raise self._transport_failure(exc, request, status) from None
            target = self._redirect(request, response)
            url = str(target)
            if not self._trusted(target):  # another origin never gets the credentials
                authorization = auth = None
        raise APIConnectionError(
            f"more than {MAX_REDIRECTS} redirects", method=method, url=self.config.scrub(url)
        )

    def _read(
        self, request: httpx.Request, response: httpx.Response, chunks: Any, sent_at: float
    ) -> Flow[Answer]:
        limit = self.config.max_body_size
        # A URL comes from the server after a redirect: it may carry what it was sent.
        shown_url = self.config.shown_url(request.url)
        reader: BodyReader | None = None
        try:
            if chunks is None:  # an in-process transport handed over a body it had read
                content = response.content
                if len(content) > limit:
                    raise BodyTooLarge(limit, len(content))
                if self._expired():
                    raise BodyExpired
            else:
                reader = BodyReader(limit, response.headers, expired=self._expired)
                while chunk := (yield Read(chunks)):
                    reader.feed(chunk)
                content = reader.finish()
        except BodyExpired:
            raise self.deadline_error(shown_url, request.method, response.status_code) from None
        except BodyTooLarge as exc:
            error = ResponseTooLargeError(
                str(exc),
                limit=limit,
                body=reader.partial() if reader else b"",
                **_about(request, response, shown_url),
            )
            raise _Failure(error, False) from None
        except UndecodableBody as exc:
            # The coding named is the server's text.
            why = self._scrubber(request.headers.get("authorization"))(str(exc))
            invalid = ResponseValidationError(
                f"HTTP {response.status_code} with a body that cannot be decoded: {why}",
                malformed=True, **_about(request, response, shown_url),
            )  # fmt: skip
            raise _Failure(invalid, self.config.policy.retry_on_malformed_body) from None
        if log.isEnabledFor(logging.DEBUG):
            took = (self.config.clock() - sent_at) * 1000  # this attempt's, not the call's
            log.debug(
                "%s %s -> %d (%.1f ms)", request.method, shown_url, response.status_code, took
            )
        return Answer(
            response.status_code, response.headers, content, request.method,
            shown_url, response.reason_phrase,
        )  # fmt: skip

    # -- helpers ---------------------------------------------------------------------------
    def _expired(self) -> bool:
        return self.deadline is not None and self.config.clock() > self.deadline

    def _timeout(self, remaining: float | None) -> httpx.Timeout:
        """The per-attempt timeout, shortened so no attempt outlives the call's deadline."""
        t = self.config.timeout
        maximum = self.config.timeout_max
        if remaining is None or (maximum is not None and maximum <= remaining):
            return t
        cap = max(remaining, 0.001)
        return httpx.Timeout(
            connect=cap if t.connect is None else min(t.connect, cap),
            read=cap if t.read is None else min(t.read, cap),
            write=cap if t.write is None else min(t.write, cap),
            pool=cap if t.pool is None else min(t.pool, cap),
        )

    def _trusted(self, url: httpx.URL) -> bool:
        scheme, host, port = self.config.origin
        return url.host == host and url.port == port and url.scheme in (scheme, "https")

    def _redirect(self, request: httpx.Request, response: httpx.Response) -> httpx.URL:
        """Where a redirect leads, refusing https -> http and anything but http(s)."""
        url = self.config.shown_url(request.url)
        if response.next_request is None:  # httpx builds it for every redirect it does not follow
            raise APIConnectionError("redirect without a usable Location", url=url)
        target = response.next_request.url
        if target.scheme not in ("http", "https") or (
            request.url.scheme == "https" and target.scheme != "https"
        ):
            scheme = self.config.scrub(target.scheme[:20])
            raise APIConnectionError(
                f"refused redirect to {scheme}:// (credentials would travel unencrypted)", url=url
            )
        return target

    def _scrubber(self, authorization: str | None) -> Callable[[str], str]:
        """Hides our credentials, and the one this request carried, in text the server sent."""
        base = self.config.scrub
        if not authorization:
            return base
        sent = Scrubber(authorization, authorization.partition(" ")[2])
        return lambda text: sent(base(text))

    def _transport_failure(
        self, exc: Exception, request: httpx.Request, status: int | None
    ) -> _Failure:
        """``status``: the answer's, when it failed after its status arrived (mid-body)."""
        method, url = request.method, self.config.shown_url(request.url)
        problem = certificate_problem(exc)
        scrub = self._scrubber(request.headers.get("authorization"))
        if self.deadline is not None and self.config.clock() >= self.deadline:
            failure = _Failure(self.deadline_error(url, method, status), False)
        elif isinstance(exc, httpx.TimeoutException):
            timeout = APITimeoutError(
                f"timed out: {type(exc).__name__}", method=method, url=url, status_code=status
            )
            failure = _Failure(timeout, True)
        elif wrong_tls_version(exc):  # an https:// URL of a plain-HTTP server: not retried
            plain = self.config.scrub(str(request.url.copy_with(scheme="http")))
            failure = _Failure(
                APIConnectionError(
                    f"the server speaks plain HTTP, not HTTPS: use {plain}", method=method, url=url
                ),
                False,
            )
        elif problem is not None:
            untrusted = CertificateError(
                f"TLS certificate not trusted ({problem}): give the client the deployment's CA "
                "bundle (verify=..., or SSL_CERT_FILE)",
                reason=problem, method=method, url=url,
            )  # fmt: skip
            failure = _Failure(untrusted, False)
        else:
            # httpx's own failures say what happened; anything else a transport raised (an
            # invalid redirect Location, an out-of-range port) is typed here too, not retried.
            text = f"{type(exc).__name__}: {exc}"
            if not isinstance(exc, httpx.HTTPError):
                text = f"the request failed: {text}"
            shown = scrub(text)
            error = APIConnectionError(shown, method=method, url=url, status_code=status)
            retryable = isinstance(exc, httpx.NetworkError | httpx.RemoteProtocolError)
            failure = _Failure(error, retryable)
            if shown != text:  # the exception's text quoted a credential: keep it out
                return failure
        failure.error.__cause__ = exc  # as `raise ... from exc` would
        return failure
