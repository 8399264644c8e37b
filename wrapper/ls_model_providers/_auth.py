"""Authentication. Credentials never appear in a repr, a log line or an error.

* ``TokenAuth`` - a legacy API token: ``Authorization: Token <key>``.
* ``PersonalAccessTokenAuth`` - a personal access token (a refresh JWT): exchanged at
  ``POST {base_url}api/token/refresh/`` for an access JWT sent as ``Authorization: Bearer``;
  refreshed ``REFRESH_MARGIN`` seconds before the access token's ``exp`` (half way through
  the life of a token that lives less than that) and once more when
  the server answers 401.
* ``auth_from_api_key`` picks one of them from the key's shape, like Label Studio does.

Both are ``httpx.Auth`` classes, usable with any httpx client (the generated
``ls_model_providers_api`` one too). Inside ``Client``/``AsyncClient`` the request engine
drives a personal access token itself (``_engine.py``): its refresh requests then get the
call's timeouts, deadline and retries, and one refresh at a time runs per auth object.
The decisions (is a refresh due, what to send, what the answer means) are methods here,
shared by both paths.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import logging
import threading
import time
import weakref
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

import httpx

from ._args import check_api_key, check_base_url
from ._body import JSONRejected, loads
from ._constants import (
    DEFAULT_TIMEOUT,
    LOGGER_NAME,
    REFRESH_MARGIN,
    RESENDABLE,
    TOKEN_REFRESH_PATH,
)
from ._errors import Answer, APIStatusError, ResponseValidationError, make_status_error
from ._secrets import Scrubber, mask

if TYPE_CHECKING:
    import asyncio  # imported when first needed: it costs a blocking program ~25 ms

__all__ = ["PersonalAccessTokenAuth", "TokenAuth", "auth_from_api_key"]

log = logging.getLogger(LOGGER_NAME)


class TokenAuth(httpx.Auth):
    """Legacy token auth: ``Authorization: Token <key>``.

    Example::

        Client(base_url="https://ls.example.com", auth=TokenAuth("0123abcd..."))

    The token is checked like ``api_key`` (surrounding white space stripped, control
    characters refused).
    """

    def __init__(self, token: str) -> None:
        self._token = check_api_key(token, "token")
        self._header = f"Token {self._token}"
        #: Hides the token in text the server sends back.
        self.scrub = Scrubber(self._token)

    def authorization(self) -> str:
        """The ``Authorization`` header value (for the request engine; never printed)."""
        return self._header

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request

    def __repr__(self) -> str:
        return f"TokenAuth(token={mask(self._token)})"


def _claim_time(claims: object, name: str) -> float | None:
    value = claims.get(name) if isinstance(claims, dict) else None
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 2**53:
        return float(value)  # (loads never returns a float that is not finite)
    return None  # absent, or nonsense (a 400-digit number)


def _jwt_times(token: str) -> tuple[float | None, float | None]:
    """The ``iat`` and ``exp`` claims of a JWT, read without verifying it (the server does)."""
    parts = token.split(".")
    if len(parts) != 3 or len(parts[1]) > 16_384:
        return None, None
    try:
        claims = loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (JSONRejected, binascii.Error, ValueError):
        return None, None
    return _claim_time(claims, "iat"), _claim_time(claims, "exp")


def _server_time(answer: Answer) -> float | None:
    """The server's clock when it answered (its ``Date`` header), as seconds since the epoch."""
    try:
        when = email.utils.parsedate_to_datetime(answer.headers.get("date", ""))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return when.timestamp() if when.tzinfo is not None else None


def looks_like_jwt(key: str) -> bool:
    """A personal access token is a JWT; a legacy token is 40 hex characters."""
    return key.startswith("eyJ") and key.count(".") == 2


class PersonalAccessTokenAuth(httpx.Auth):
    """Personal access token auth: refresh JWT -> access JWT -> ``Authorization: Bearer``.

    Example::

        auth = PersonalAccessTokenAuth(refresh_token, base_url="https://host/ls/")
        Client(base_url="https://host/ls/", auth=auth)
        httpx.Client(auth=auth).get("https://host/ls/api/current-user/whoami")

    Args:
        refresh_token: the personal access token shown once by Label Studio.
        base_url: the deployment's base URL, path prefix included; the refresh goes to
            ``{base_url}api/token/refresh/``.
        clock: seconds since the epoch, to compare with the access token's ``exp``.

    Used with a plain httpx client, the refresh request inherits the request's timeouts
    but is not retried; inside ``Client``/``AsyncClient`` it is retried like the GET.
    """

    requires_response_body = True  # auth_flow reads the refresh answer

    def __init__(
        self, refresh_token: str, *, base_url: str, clock: Callable[[], float] = time.time
    ) -> None:
        self._refresh = check_api_key(refresh_token, "refresh_token")
        self.refresh_url = check_base_url(base_url) + TOKEN_REFRESH_PATH
        self._clock = clock
        self._access: str | None = None
        self._previous: str | None = None
        #: When the current access token is due for a refresh (None: until a 401).
        self._refresh_at: float | None = None
        #: Bumped by every successful refresh: a waiter that sees it moved skips its own.
        self._generation = 0
        #: Number of refreshes done (observable for tests and logs).
        self.refresh_count = 0
        #: The answer of a refresh the server refused (401/403): not sent again.
        self._refusal: Answer | None = None
        self._thread_lock = threading.Lock()
        self._loop_locks: weakref.WeakKeyDictionary[Any, asyncio.Lock] = weakref.WeakKeyDictionary()
        self._loop_locks_guard = threading.Lock()
        #: Hides the refresh token and the access tokens in text the server sends back.
        self.scrub = Scrubber(self._refresh)

    def __repr__(self) -> str:
        return (
            f"PersonalAccessTokenAuth(refresh_token={mask(self._refresh)}, url={self.refresh_url})"
        )

    # -- decisions, shared by the engine and auth_flow ------------------------------------
    def bearer(self) -> tuple[str | None, int]:
        """``("Bearer <access>", generation)``, or ``(None, generation)`` when a refresh is due."""
        access, refresh_at, generation = self._access, self._refresh_at, self._generation
        if access is None or (refresh_at is not None and self._clock() >= refresh_at):
            return None, generation
        return f"Bearer {access}", generation

    def current_bearer(self) -> str | None:
        """``"Bearer <access>"`` with the access token held now, even one due for a refresh
        (``None`` before the first): when a refresh is due at once after it was made (a
        lifetime shorter than the margin, or clock skew), it is still the best there is."""
        return None if self._access is None else f"Bearer {self._access}"

    def needs_refresh(self, generation: int) -> bool:
        """Whether a caller who saw ``generation`` must still refresh (nobody did meanwhile)."""
        return self._generation == generation or self.bearer()[0] is None

    def invalidate(self, generation: int) -> None:
        """The server refused the access token of ``generation``: drop it (once)."""
        if self._generation == generation:
            self._access = None

    def refresh_payload(self) -> dict[str, str]:
        return {"refresh": self._refresh}

    def refused(self) -> APIStatusError | None:
        """The error of the refresh the server refused (401/403), or ``None``. A refused
        personal access token is not sent again by this auth object: every caller that needs
        a refresh gets that error (50 calls with a revoked token send one refresh, and each
        gets its error); build a new one with a new token."""
        return None if self._refusal is None else self._refusal_error(self._refusal)

    def _refusal_error(self, answer: Answer) -> APIStatusError:
        what = (
            "personal access token refused"
            if answer.status_code in (401, 403)
            else "token refresh failed"
        )
        return make_status_error(answer, self.scrub, prefix=f"{what} at {self.refresh_url}: ")

    def accept(self, answer: Answer) -> None:
        """Take a refresh answer, or raise the typed error it amounts to."""
        if answer.status_code != 200:
            if answer.status_code in (401, 403):  # the token itself is refused: remembered
                self._refusal = answer
            raise self._refusal_error(answer)
        try:
            data = loads(answer.content)
        except JSONRejected as exc:
            raise ResponseValidationError(
                f"token refresh answered {answer.status_code} with a body that is not usable JSON: {exc}",
                malformed=exc.malformed, **answer.common(),
            ) from None  # fmt: skip
        access = data.get("access") if isinstance(data, dict) else None
        try:
            access = check_api_key(access, "access") if isinstance(access, str) else None
        except ValueError:
            access = None
        if access is None:
            raise ResponseValidationError(
                "token refresh answered 200 without a usable access token", **answer.common()
            )
        if self._previous:
            self.scrub.discard(self._previous)
        self._previous = self._access
        self.scrub.add(access)
        self._access, self._refresh_at = access, self._due(access, answer)
        self._generation += 1
        self.refresh_count += 1
        log.debug(
            "refreshed access token at %s (next refresh at %s)", self.refresh_url, self._refresh_at
        )

    def _due(self, access: str, answer: Answer) -> float | None:
        """When an access token received now is to be refreshed, on this client's clock.

        Its lifetime is read on the server's clock (``exp`` minus ``iat``, or minus the
        answer's ``Date``), so a client clock ahead of or behind the server's does not make
        every call refresh. It is refreshed ``REFRESH_MARGIN`` before it ends, or half way
        through a lifetime shorter than that. ``None`` (no ``exp``): at the first 401.
        """
        issued, expires = _jwt_times(access)
        if expires is None:
            return None
        now = self._clock()
        server_now = issued if issued is not None else _server_time(answer)
        lifetime = expires - (server_now if server_now is not None else now)
        if lifetime <= REFRESH_MARGIN:
            return now + max(lifetime, 0.0) / 2
        return now + lifetime - REFRESH_MARGIN

    # -- locks: one refresh at a time, per thread world and per event loop -----------------
    def thread_lock(self) -> threading.Lock:
        return self._thread_lock

    def loop_lock(self) -> asyncio.Lock:
        """This event loop's lock (an asyncio.Lock is bound to the loop that first waits on it)."""
        import asyncio

        loop = asyncio.get_running_loop()
        with self._loop_locks_guard:
            lock = self._loop_locks.get(loop)
            if lock is None:
                lock = self._loop_locks[loop] = asyncio.Lock()
            return lock

    # -- plain httpx use ------------------------------------------------------------------
    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        for retry_on_401 in (False, True):
            header, generation = self.bearer()
            if header is None:
                refused = self.refused()
                if refused is not None:
                    raise refused
                refresh = httpx.Request(
                    "POST", self.refresh_url, json=self.refresh_payload(),
                    extensions={
                        "timeout": request.extensions.get("timeout", DEFAULT_TIMEOUT.as_dict()),
                        RESENDABLE: True,
                    },
                )  # fmt: skip
                self.accept(Answer.of((yield refresh)))
                header, generation = self.bearer()
            # As in the engine: a token due at once (clock skew) is still the best there is.
            request.headers["Authorization"] = header or self.current_bearer() or ""
            response = yield request
            if response.status_code != 401 or retry_on_401:
                return
            self.invalidate(generation)


def auth_from_api_key(api_key: str, *, base_url: str) -> TokenAuth | PersonalAccessTokenAuth:
    """``PersonalAccessTokenAuth`` for a JWT-shaped key, ``TokenAuth`` for anything else."""
    api_key = check_api_key(api_key)
    if looks_like_jwt(api_key):
        return PersonalAccessTokenAuth(api_key, base_url=base_url)
    return TokenAuth(api_key)
