"""The exceptions this package raises. Catch ``LabelStudioError`` to catch them all.

::

    LabelStudioError
    ├── APIConnectionError              no response: DNS, refused, reset, TLS, bad redirect
    │   └── APITimeoutError             connect/read/write/pool timeout, or the call's deadline
    ├── EndpointNotAvailableError       HTML 404: Community Edition, or a wrong base URL
    ├── ResponseValidationError         a 2xx whose body is not a valid connection
    └── APIStatusError                  any other non-2xx answer
        ├── AuthenticationError         401 (also a refused token refresh)
        ├── PermissionDeniedError       403
        ├── NotFoundError               404 with Label Studio's JSON error body
        ├── RateLimitError              429
        └── ServerError                 5xx

Every error keeps what a person needs to act (the method and URL, the status, the server's
``detail``, its error ``id`` and ``version``) and never the credentials: no header value and
no response body is ever part of ``str()`` or ``repr()``. The raw body stays available as
``.body`` for code that needs it.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "EndpointNotAvailableError",
    "LabelStudioError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseValidationError",
    "ServerError",
]


class LabelStudioError(Exception):
    """Base class of every error raised while calling Label Studio."""

    def __init__(self, message: str, *, method: str = "GET", url: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        #: The request URL (credentials are never in it: they travel in a header).
        self.url = url

    def __str__(self) -> str:
        return f"{self.message} ({self.method} {self.url})" if self.url else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class APIConnectionError(LabelStudioError):
    """The request got no response (connection refused or reset, DNS, TLS, redirect refused)."""


class APITimeoutError(APIConnectionError):
    """A timeout expired: connect, read, write, pool, or the whole call's deadline."""


class _ResponseError(LabelStudioError):
    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: bytes,
        headers: httpx.Headers | None = None,
        method: str = "GET",
        url: str | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.status_code = status_code
        #: The raw response body, unchanged. Never shown in str()/repr(): it may hold secrets.
        self.body = body
        self.headers = headers if headers is not None else httpx.Headers()


class EndpointNotAvailableError(_ResponseError):
    """The server answered the endpoint's path with an HTML 404 page.

    Label Studio Community Edition does this for every method on
    ``/api/model-provider-connections/...``; so does any server when the base URL is wrong.
    """


class ResponseValidationError(_ResponseError):
    """A 2xx answer whose body is not JSON, not an object, or not a valid connection."""

    #: True when the body is not JSON at all (truncated or garbled on the way): such a
    #: GET is retried (``RetryPolicy.retry_on_malformed_body``); a wrong shape is not.
    malformed: bool = False


class APIStatusError(_ResponseError):
    """A non-2xx answer. ``detail``, ``error_id`` and ``version`` come from Label Studio's
    JSON error body when the server sent one, else they are ``None``."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: bytes,
        headers: httpx.Headers | None = None,
        method: str = "GET",
        url: str | None = None,
        detail: str | None = None,
        error_id: str | None = None,
        version: str | None = None,
    ) -> None:
        super().__init__(
            message, status_code=status_code, body=body, headers=headers, method=method, url=url
        )
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


def _error_body(body: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _is_html(response: httpx.Response) -> bool:
    content_type = response.headers.get("content-type", "").lower()
    return "html" in content_type or response.content.lstrip()[:15].lower().startswith(
        (b"<!doctype html", b"<html")
    )


def make_status_error(response: httpx.Response) -> LabelStudioError:
    """Turn a non-2xx response into the matching error (the only place statuses map to classes)."""
    status, method, url = response.status_code, response.request.method, str(response.request.url)
    common: dict[str, Any] = {
        "status_code": status,
        "body": response.content,
        "headers": response.headers,
        "method": method,
        "url": url,
    }
    if status == 404 and _is_html(response):
        return EndpointNotAvailableError(
            "endpoint not available on this deployment: the server answered with an HTML 404 "
            "page. Label Studio Community Edition does not serve model provider connections "
            "(an Enterprise feature); otherwise check that the base URL points at Label Studio",
            **common,
        )
    data = _error_body(response.content) or {}
    detail = _text(data.get("detail"))
    cls = _STATUS_CLASSES.get(status) or (ServerError if status >= 500 else APIStatusError)
    reason = response.reason_phrase or "error"
    message = f"HTTP {status} {reason}" + (f": {detail}" if detail else "")
    return cls(
        message,
        detail=detail,
        error_id=_text(data.get("id")),
        version=_text(data.get("version")),
        **common,
    )
