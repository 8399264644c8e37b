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
import logging
import threading
import time
import weakref
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

import httpx

from ._args import check_api_key, check_base_url
from ._body import JSONRejected, loads
from ._constants import DEFAULT_TIMEOUT, LOGGER_NAME, REFRESH_MARGIN, TOKEN_REFRESH_PATH
from ._errors import Answer, ResponseValidationError, make_status_error
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


def _jwt_exp(token: str) -> float | None:
    """The ``exp`` claim of a JWT, read without verifying it (the server verifies)."""
    parts = token.split(".")
    if len(parts) != 3 or len(parts[1]) > 16_384:
        return None
    try:
        claims = loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (JSONRejected, binascii.Error, ValueError):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    if isinstance(exp, int | float) and not isinstance(exp, bool) and 0 < exp < 2**53:
        return float(exp)  # (loads never returns a float that is not finite)
    return None  # absent, or nonsense (a 400-digit number): refreshed on the first 401 instead


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

    def accept(self, answer: Answer) -> None:
        """Take a refresh answer, or raise the typed error it amounts to."""
        if answer.status_code != 200:
            what = (
                "personal access token refused"
                if answer.status_code == 401
                else "token refresh failed"
            )
            raise make_status_error(answer, self.scrub, prefix=f"{what} at {self.refresh_url}: ")
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
        refresh_at = expires_at = _jwt_exp(access)
        if expires_at is not None:
            now = self._clock()
            # The margin also absorbs clock skew; but a token living less than the margin
            # would be "due" the moment it arrives: it is then refreshed half way through.
            refresh_at = expires_at - REFRESH_MARGIN
            if refresh_at <= now:
                refresh_at = now + max(expires_at - now, 0.0) / 2
        self._access, self._refresh_at = access, refresh_at
        self._generation += 1
        self.refresh_count += 1
        log.debug(
            "refreshed access token at %s (next refresh at %s)", self.refresh_url, self._refresh_at
        )

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
                refresh = httpx.Request(
                    "POST", self.refresh_url, json=self.refresh_payload(),
                    extensions={"timeout": request.extensions.get("timeout", DEFAULT_TIMEOUT.as_dict())},
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
