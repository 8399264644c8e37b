"""The exceptions this package raises. Catch ``LabelStudioError`` to catch them all.

::

    LabelStudioError
    ├── APIConnectionError              no response: DNS, refused, reset, TLS, bad redirect
    │   ├── APITimeoutError             connect/read/write/pool timeout, or the call's deadline
    │   └── CertificateError            the server's TLS certificate is not trusted
    └── APIResponseError                the server answered: status_code, headers, body
        ├── ResponseValidationError     a 2xx whose body is not a valid connection, or any
        │                               body that is not JSON this package accepts
        ├── ResponseTooLargeError       a body over the size limit (read no further)
        └── APIStatusError              any other non-2xx answer
            ├── AuthenticationError     401 (also a refused token refresh)
            ├── PermissionDeniedError   403
            ├── NotFoundError           404 with Label Studio's JSON error body
            ├── EndpointNotAvailableError  404 HTML page: Community Edition, or a wrong URL
            ├── RateLimitError          429
            └── ServerError             5xx

Every error is built whole by its constructor and keeps what a person needs to act (the
method and URL, the status, the server's ``detail``, its error ``id`` and ``version``),
never the credentials: no header value and no body is part of ``str()`` or ``repr()``, and
text the server sent (``detail``) has had the API key and access token scrubbed out of it
before the error is built. The raw body stays available, unchanged, as ``.body``.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import httpx

from ._body import JSONRejected, loads
from ._secrets import hide_secret_values

__all__ = [
    "APIConnectionError",
    "APIResponseError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "CertificateError",
    "EndpointNotAvailableError",
    "LabelStudioError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseTooLargeError",
    "ResponseValidationError",
    "ServerError",
]


class LabelStudioError(Exception):
    """Base class of every error raised while calling Label Studio."""

    def __init__(self, message: str, *, method: str = "GET", url: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        #: The request URL (never holds credentials: the base URL may not have userinfo).
        self.url = url

    def __str__(self) -> str:
        return f"{self.message} ({self.method} {self.url})" if self.url else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class APIConnectionError(LabelStudioError):
    """The request got no usable response (connection refused or reset, DNS, TLS, a refused
    redirect, a body cut off).

    ``status_code`` is the status of an answer that began and then failed (a body cut off or
    too slow); ``None`` when no answer arrived at all.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str = "GET",
        url: str | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.status_code = status_code


class APITimeoutError(APIConnectionError):
    """A timeout expired: connect, read, write, pool, or the whole call's deadline."""


class CertificateError(APIConnectionError):
    """The server's TLS certificate did not verify (a private CA, self-signed, expired, wrong
    host). Not retried. ``reason`` is OpenSSL's reason, e.g. "unable to get local issuer
    certificate"; the fix is to give the client the deployment's CA bundle (``verify=``)."""

    def __init__(
        self, message: str, *, reason: str, method: str = "GET", url: str | None = None
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.reason = reason


def causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it was raised from or during, at most 8 deep (httpx wraps httpcore's
    error, which wraps the socket's or OpenSSL's)."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return
        yield seen
        seen = seen.__cause__ or seen.__context__


def certificate_problem(exc: BaseException) -> str | None:
    """The reason of a certificate verification failure in ``exc``'s chain, else ``None``."""
    for seen in causes(exc):
        if isinstance(seen, ssl.SSLCertVerificationError):
            return str(seen.verify_message or seen.reason or "verification failed")
    return None


#: OpenSSL's reasons for a handshake answered with something that is not TLS (a plain-HTTP
#: server's "HTTP/1.1 400 ..." read as a TLS record).
_NOT_TLS = frozenset(
    {"WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG", "HTTP_REQUEST",
     "UNKNOWN_PROTOCOL", "UNEXPECTED_EOF_WHILE_READING"}
)  # fmt: skip


def wrong_tls_version(exc: BaseException) -> bool:
    """Whether ``exc``'s chain holds a TLS handshake that got no TLS back: an ``https://`` URL
    of a plain-HTTP server."""
    return any(
        isinstance(seen, ssl.SSLError) and getattr(seen, "reason", None) in _NOT_TLS
        for seen in causes(exc)
    )


class APIResponseError(LabelStudioError):
    """The server answered, but not with a valid connection.

    Attributes: ``status_code``; ``headers``; ``body``, the raw body as received (never
    shown in ``str()``/``repr()``: it may hold secrets).
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: bytes = b"",
        headers: httpx.Headers | None = None,
        method: str = "GET",
        url: str | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.status_code = status_code
        self.body = body
        self.headers = headers if headers is not None else httpx.Headers()


class ResponseValidationError(APIResponseError):
    """A body this client cannot accept: a 2xx that is not a valid connection, or JSON
    outside RFC 8259 (``NaN``, ``Infinity``, numbers that overflow) or nested too deeply.

    ``malformed`` is true when the body is not JSON at all (truncated or garbled on the
    way): such a GET is retried (``RetryPolicy.retry_on_malformed_body``); a wrong shape is not.
    """

    def __init__(self, message: str, *, malformed: bool = False, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.malformed = malformed


class ResponseTooLargeError(APIResponseError):
    """The body went over the size limit (raw or decompressed); reading stopped there.

    ``limit`` is the limit in bytes; ``body`` holds at most that much of what was read.
    """

    def __init__(self, message: str, *, limit: int, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.limit = limit


class APIStatusError(APIResponseError):
    """A non-2xx answer. ``detail``, ``error_id`` and ``version`` come from Label Studio's
    JSON error body when the server sent one, else they are ``None``."""

    def __init__(
        self,
        message: str,
        *,
        detail: str | None = None,
        error_id: str | None = None,
        version: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.detail = detail
        self.error_id = error_id
        self.version = version

    def __str__(self) -> str:
        text = super().__str__()
        extras = [
            f"{k} {v}" for k, v in (("error id", self.error_id), ("server", self.version)) if v
        ]
        return f"{text} [{', '.join(extras)}]" if extras else text


class AuthenticationError(APIStatusError):
    """401: no, malformed, unknown or expired credentials (or a refused token refresh)."""


class PermissionDeniedError(APIStatusError):
    """403: the credentials are valid but may not view model provider connections."""


class NotFoundError(APIStatusError):
    """404: no connection with this id in your organisation (or it belongs to another)."""


class EndpointNotAvailableError(APIStatusError):
    """404 with an HTML page: the server does not serve this endpoint at all.

    Label Studio Community Edition does this for every method on
    ``/api/model-provider-connections/...``; so does any server when the base URL is wrong.
    Not a ``NotFoundError``: no id would ever be found there.
    """


class RateLimitError(APIStatusError):
    """429: too many requests; retried automatically (see the retry policy) before raising."""


class ServerError(APIStatusError):
    """5xx: the server failed."""


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    429: RateLimitError,
}

NOT_AVAILABLE = (
    "endpoint not available on this deployment: the server answered with an HTML 404 page. "
    "Label Studio Community Edition does not serve model provider connections (an Enterprise "
    "feature); otherwise check that the base URL points at Label Studio"
)


class Answer(NamedTuple):
    """One response, read whole and within limits: what errors and parsers are built from."""

    status_code: int
    headers: httpx.Headers
    content: bytes
    method: str
    url: str
    reason: str = ""

    @classmethod
    def of(cls, response: httpx.Response) -> Answer:
        """From an ``httpx.Response`` whose body was read."""
        request = response.request
        return cls(
            response.status_code, response.headers, response.content, request.method,
            str(request.url), response.reason_phrase,
        )  # fmt: skip

    def common(self) -> dict[str, Any]:
        """The keyword arguments every ``APIResponseError`` takes."""
        return {
            "status_code": self.status_code,
            "body": self.content,
            "headers": self.headers,
            "method": self.method,
            "url": self.url,
        }


def is_html(answer: Answer) -> bool:
    """True for an HTML page (by content type, or by its first bytes when that is missing)."""
    content_type = answer.headers.get("content-type", "").lower()
    return "html" in content_type or answer.content.lstrip()[:15].lower().startswith(
        (b"<!doctype html", b"<html")
    )


def _text(value: object, scrub: Callable[[str], str]) -> str | None:
    """Text the server sent: our credentials out, and any it quotes (a provider key)."""
    return hide_secret_values(scrub(value)) if isinstance(value, str) else None


def make_status_error(
    answer: Answer, scrub: Callable[[str], str] = str, *, prefix: str = ""
) -> APIStatusError:
    """The error for a non-2xx answer: the one place statuses map to classes.

    ``scrub`` removes our credentials from text the server sent; ``prefix`` says what was
    being done (``"personal access token refused by ..."``).
    """
    status = answer.status_code
    if status == 404 and is_html(answer):
        return EndpointNotAvailableError(NOT_AVAILABLE, **answer.common())
    try:
        data = loads(answer.content) if answer.content else None
    except JSONRejected:
        data = None
    if not isinstance(data, dict):
        data = {}
    detail = _text(data.get("detail"), scrub)
    cls = _STATUS_CLASSES.get(status) or (ServerError if status >= 500 else APIStatusError)
    reason = _text(answer.reason, scrub) or "error"  # the server's text too
    message = f"{prefix}HTTP {status} {reason}" + (f": {detail}" if detail else "")
    return cls(
        message,
        detail=detail,
        error_id=_text(data.get("id"), scrub),
        version=_text(data.get("version"), scrub),
        **answer.common(),
    )
