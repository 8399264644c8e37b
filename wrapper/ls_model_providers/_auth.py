"""Authentication, as ``httpx.Auth`` classes. Credentials never appear in a repr or a log.

* ``TokenAuth`` - a legacy API token: ``Authorization: Token <key>``.
* ``PersonalAccessTokenAuth`` - a personal access token (a refresh JWT): exchanged at
  ``POST {base_url}api/token/refresh/`` for an access JWT sent as ``Authorization: Bearer``;
  refreshed ``REFRESH_MARGIN`` seconds before the access token's ``exp`` and once more when
  the server answers 401. One refresh at a time per auth object, across threads and tasks.
* ``auth_from_api_key`` picks one of them from the key's shape, like Label Studio does.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import AsyncGenerator, Callable, Generator
from typing import Any

import httpx

from . import _constants as C
from ._errors import AuthenticationError, LabelStudioError, make_status_error
from ._secrets import mask

__all__ = ["PersonalAccessTokenAuth", "TokenAuth", "auth_from_api_key"]

log = logging.getLogger(C.LOGGER_NAME)


class TokenAuth(httpx.Auth):
    """Legacy token auth: ``Authorization: Token <key>``.

    Example::

        Client(base_url="https://ls.example.com", auth=TokenAuth("0123abcd..."))
    """

    def __init__(self, token: str) -> None:
        self._header = f"Token {token}"
        self._shown = mask(token)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request

    def __repr__(self) -> str:
        return f"TokenAuth(token={self._shown})"


def _jwt_exp(token: str) -> float | None:
    """The ``exp`` claim of a JWT, read without verifying it (the server verifies)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        exp = claims.get("exp") if isinstance(claims, dict) else None
    except (IndexError, ValueError, UnicodeDecodeError):
        return None
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None


def _looks_like_jwt(key: str) -> bool:
    return key.startswith("eyJ") and key.count(".") == 2


class PersonalAccessTokenAuth(httpx.Auth):
    """Personal access token auth: refresh JWT -> access JWT -> ``Authorization: Bearer``.

    Example::

        auth = PersonalAccessTokenAuth(refresh_token, base_url="https://host/ls/")
        Client(base_url="https://host/ls/", auth=auth)

    Args:
        refresh_token: the personal access token shown once by Label Studio.
        base_url: the deployment's base URL, path prefix included; the refresh goes to
            ``{base_url}api/token/refresh/``.
        clock: seconds since the epoch (tests inject one).
    """

    def __init__(
        self, refresh_token: str, *, base_url: str, clock: Callable[[], float] = time.time
    ) -> None:
        self._refresh = refresh_token
        self._refresh_url = httpx.URL(_with_slash(base_url)).join(C.TOKEN_REFRESH_PATH)
        self._clock = clock
        self._access: str | None = None
        self._expires_at: float | None = None
        #: Bumped on every successful refresh: a waiter that sees it moved skips its own.
        self._generation = 0
        self._thread_lock = threading.Lock()
        self._async_lock: Any = None  # an asyncio.Lock, made on first async use
        #: Number of refreshes done (observable for tests and logs).
        self.refresh_count = 0

    def __repr__(self) -> str:
        return (
            f"PersonalAccessTokenAuth(refresh_token={mask(self._refresh)}, url={self._refresh_url})"
        )

    # -- state ----------------------------------------------------------------------------
    def _fresh(self) -> bool:
        if self._access is None:
            return False
        return self._expires_at is None or self._clock() < self._expires_at - C.REFRESH_MARGIN

    def _refresh_request(self) -> httpx.Request:
        return httpx.Request("POST", self._refresh_url, json={"refresh": self._refresh})

    def _accept(self, response: httpx.Response) -> None:
        if response.status_code != 200:
            error = make_status_error(response)
            if isinstance(error, AuthenticationError):
                error.message = (
                    f"personal access token refused by {self._refresh_url}: {error.message}"
                )
            raise error
        try:
            access = json.loads(response.content)["access"]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            access = None
        if not isinstance(access, str) or not access:
            raise LabelStudioError(
                "token refresh answered 200 without an access token",
                method="POST",
                url=str(self._refresh_url),
            )
        self._access, self._expires_at = access, _jwt_exp(access)
        self._generation += 1
        self.refresh_count += 1
        log.debug(
            "refreshed access token at %s (expires at %s)", self._refresh_url, self._expires_at
        )

    def _authorize(self, request: httpx.Request) -> None:
        request.headers["Authorization"] = f"Bearer {self._access}"

    # -- flows: identical logic; httpx calls the one matching the client ------------------
    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        seen = self._generation
        for attempt in range(2):
            if not self._fresh() or attempt:
                with self._thread_lock:
                    if self._generation == seen or not self._fresh():
                        refreshed = yield self._refresh_request()
                        refreshed.read()
                        self._accept(refreshed)
            seen = self._generation
            self._authorize(request)
            response = yield request
            if response.status_code != 401:
                return

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if self._async_lock is None:
            import asyncio

            self._async_lock = asyncio.Lock()
        seen = self._generation
        for attempt in range(2):
            if not self._fresh() or attempt:
                async with self._async_lock:
                    if self._generation == seen or not self._fresh():
                        refreshed = yield self._refresh_request()
                        await refreshed.aread()
                        self._accept(refreshed)
            seen = self._generation
            self._authorize(request)
            response = yield request
            if response.status_code != 401:
                return


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def auth_from_api_key(api_key: str, *, base_url: str) -> httpx.Auth:
    """``PersonalAccessTokenAuth`` for a JWT-shaped key, ``TokenAuth`` for anything else."""
    if _looks_like_jwt(api_key):
        return PersonalAccessTokenAuth(api_key, base_url=base_url)
    return TokenAuth(api_key)
