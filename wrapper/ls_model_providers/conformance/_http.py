"""The only way the conformance suite talks to a deployment: safe, bounded, rate-limited.

``Prober`` refuses any method but GET, HEAD and OPTIONS (the single exception is the
personal-access-token refresh POST), stops at ``max_requests``, spaces requests to honour
``rate``, never follows redirects, and records every exchange. ``Scrubber`` replaces the
credentials in any text before it is shown or written.
"""

from __future__ import annotations

import json
import threading
import time

import attrs
import httpx

from ls_model_providers._auth import looks_like_jwt
from ls_model_providers._constants import TOKEN_REFRESH_PATH
from ls_model_providers._secrets import REDACTED, is_secret_name, is_secret_value

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class UnsafeRequestError(RuntimeError):
    """A request the suite must never send (a write to a production deployment)."""


class BudgetExceededError(RuntimeError):
    """The run reached its request budget."""


@attrs.define
class Exchange:
    method: str
    url: str
    status: int | None


class Scrubber:
    """Replaces credentials (and secret values seen in bodies) in text meant for people."""

    def __init__(self) -> None:
        self._secrets: dict[str, str] = {}

    def add(self, secret: str, placeholder: str) -> None:
        if secret:
            self._secrets[secret] = placeholder

    def add_body_secrets(self, value: object) -> None:
        """Remember secret values found in a JSON body, so messages quoting them are scrubbed."""
        if isinstance(value, dict):
            for key, item in value.items():
                if (
                    isinstance(key, str)
                    and is_secret_name(key)
                    and isinstance(item, str)
                    and len(item) >= 4
                ):
                    self.add(item, REDACTED)
                else:
                    self.add_body_secrets(item)
        elif isinstance(value, list):
            for item in value:
                self.add_body_secrets(item)
        elif is_secret_value(value):
            assert isinstance(value, str)
            self.add(value, REDACTED)

    def __call__(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, self._secrets[secret])
        return text


class Prober:
    """Sends the suite's requests. Thread-safe; one instance per run."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        max_requests: int = 300,
        rate: float | None = None,
        timeout: float = 15.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.api_key = api_key
        self.max_requests = max_requests
        self._interval = 1.0 / rate if rate else 0.0
        self._http = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False)
        self._lock = threading.Lock()
        self._next_slot = 0.0
        self.exchanges: list[Exchange] = []
        self.scrub = Scrubber()
        self.scrub.add(api_key, "$LABEL_STUDIO_API_KEY")
        self.personal_access_token = looks_like_jwt(api_key)
        self._access: str | None = None

    # -- credentials ----------------------------------------------------------------------
    def auth_header(self) -> str:
        """The Authorization value to send: ``Token <key>`` or ``Bearer <access>``."""
        if not self.personal_access_token:
            return f"Token {self.api_key}"
        if self._access is None:
            response = self._send("POST", TOKEN_REFRESH_PATH, json_body={"refresh": self.api_key})
            access = None
            if response.status_code == 200:
                try:
                    access = json.loads(response.content).get("access")
                except (ValueError, AttributeError):
                    access = None
            if not isinstance(access, str):
                raise PermissionError(
                    f"the token refresh answered {response.status_code} without an access token"
                )
            self._access = access
            self.scrub.add(access, "$LABEL_STUDIO_ACCESS_TOKEN")
        return f"Bearer {self._access}"

    def curl(self, method: str, path: str, authorization: str | None) -> str:
        """A reproduction command; credentials appear only as shell variables."""
        parts = ["curl", "-sS", "-i"]
        if method == "HEAD":
            parts.append("-I")
        elif method != "GET":
            parts += ["-X", method]
        if authorization is not None:
            parts += ["-H", f'"Authorization: {self.scrub(authorization)}"']
        parts.append(f"'{self.base_url}{path.lstrip('/')}'")
        return " ".join(parts)

    # -- sending --------------------------------------------------------------------------
    def request(
        self, method: str, path: str, *, authorization: str | None = None
    ) -> httpx.Response:
        """Send a safe request; ``authorization`` is the exact header value (None: no header)."""
        if method.upper() not in SAFE_METHODS:
            raise UnsafeRequestError(f"refusing to send {method} to a deployment (read-only suite)")
        headers = {} if authorization is None else {"Authorization": authorization}
        return self._send(method.upper(), path, headers=headers)

    def _send(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        json_body: object = None,
    ) -> httpx.Response:
        if method not in SAFE_METHODS and not (method == "POST" and path == TOKEN_REFRESH_PATH):
            raise UnsafeRequestError(f"refusing to send {method} {path}")
        with self._lock:
            if len(self.exchanges) >= self.max_requests:
                raise BudgetExceededError(f"request budget of {self.max_requests} reached")
            now = time.monotonic()
            wait = self._next_slot - now
            self._next_slot = max(now, self._next_slot) + self._interval
            exchange = Exchange(method, self.base_url + path.lstrip("/"), None)
            self.exchanges.append(exchange)
        if wait > 0:
            time.sleep(wait)
        response = self._http.request(method, exchange.url, headers=headers, json=json_body)
        exchange.status = response.status_code
        return response

    def close(self) -> None:
        self._http.close()
