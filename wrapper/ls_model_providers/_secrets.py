"""What counts as a secret, and how it is hidden. Used by every repr, log line, error and output.

Two kinds of secret:

* *fields* whose name says they hold a credential (``api_key``, ``clientSecret``,
  ``secret-access-key``, ``privateKey``, ``credentials_json``...) or whose value looks like
  one (a JWT, a PEM private key, a provider API key) wherever they are: ``redact`` replaces
  them in JSON-like data;
* *our own credentials* (the API key, the access token): a ``Scrubber`` replaces them in
  any text the server sent back before that text reaches a message, a repr or a log line.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from typing import Any

from ._constants import MAX_JSON_DEPTH

REDACTED = "<redacted>"
TOO_DEEP = "<nested too deeply>"

# A name is split into lower-case words at '_', '-', '.', spaces and camelCase humps:
# "openaiApiKey" -> openai, api, key; "secret-access-key" -> secret, access, key.
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
# Words that make any name a secret wherever they stand.
_ALWAYS = frozenset(
    {"secret", "secrets", "password", "passwd", "passphrase", "credential", "credentials",
     "apikey", "privatekey", "pwd"}
)  # fmt: skip
# Words that make a name a secret when they end it: `auth_token`, `api_key`, `x-api-key`,
# `basic_auth`, `session_cookie`. Not plurals: `max_tokens` in a model_params schema is a
# model setting, and `token_type` or `key_id` name no secret.
_LAST = frozenset({"key", "token", "auth", "authorization", "cookie", "signature"})
# Values that are credentials whatever their field is called: JWTs, PEM private keys, and
# the key formats of the providers this endpoint connects (OpenAI/Anthropic `sk-...`,
# Google `AIza...`).
_SECRET_VALUE = re.compile(
    r"^eyJ[\w-]*\.[\w-]+\.[\w-]*$|-----BEGIN [A-Z ]*PRIVATE KEY-----|"
    r"^sk-[\w-]{20,}$|^AIza[\w-]{30,}$"
)


def _words(name: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(name)]


def is_secret_name(name: str) -> bool:
    """True for field names that hold credentials, in snake, camel or kebab case."""
    words = _words(name)
    return bool(words) and (words[-1] in _LAST or not _ALWAYS.isdisjoint(words))


def is_secret_value(value: object) -> bool:
    """True for values that are credentials whatever they are called."""
    return isinstance(value, str) and bool(_SECRET_VALUE.search(value))


def redact(value: Any, depth: int = MAX_JSON_DEPTH) -> Any:
    """A copy of a JSON-like value with every secret replaced by ``<redacted>``.

    Containers nested deeper than ``depth`` are replaced too, so no caller (a repr, the
    CLI) can be made to recurse without bound.
    """
    if isinstance(value, dict):
        if depth <= 0:
            return TOO_DEEP
        return {
            k: REDACTED if v and isinstance(k, str) and is_secret_name(k) else redact(v, depth - 1)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v, depth - 1) for v in value] if depth > 0 else TOO_DEEP
    return REDACTED if is_secret_value(value) else value


def secret_values(value: Any, depth: int = MAX_JSON_DEPTH) -> Iterable[str]:
    """Every string ``redact`` would hide in ``value`` (to scrub them out of text too)."""
    if depth <= 0:
        return
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, item in items:
        if isinstance(item, str) and (
            is_secret_value(item) or (isinstance(key, str) and is_secret_name(key))
        ):
            yield item
        else:
            yield from secret_values(item, depth - 1)


def mask(secret: str) -> str:
    """How a credential is shown to people: never its characters."""
    return f"<{len(secret)} chars>" if secret else "<empty>"


#: Shorter strings are not credentials (real keys are 40 characters or JWTs); hiding every
#: occurrence of one would only garble the text it appears in.
MIN_SECRET_LENGTH = 8


#: Terminal escape sequences (CSI, OSC, two-character ones): a terminal shows none of them.
ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]|\x9b[0-?]*[ -/]*[@-~]"
)


class Scrubber:
    """Replaces known secrets in text meant for people (messages, reprs, logs, reports).

    A secret is found whatever the case, and also as ``repr()`` or JSON would escape it. Text
    that only shows a secret once its invisible characters are gone (an escape sequence or
    a control character planted inside it, which a terminal or an XML writer would drop) is
    returned without them, the secret replaced: stripping it later cannot put it back.

    Example::

        scrub = Scrubber()
        scrub.add(api_key)
        scrub(f"server said: {detail}")
    """

    __slots__ = ("_forms", "_pattern", "_secrets")

    def __init__(self, *secrets: str) -> None:
        self._secrets: dict[str, str] = {}
        #: Every form looked for, lower-cased, longest first -> its placeholder.
        self._forms: dict[str, str] = {}
        self._pattern: re.Pattern[str] | None = None
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str, placeholder: str = REDACTED) -> None:
        """Hide ``secret`` from now on (strings under ``MIN_SECRET_LENGTH`` are ignored)."""
        if len(secret) >= MIN_SECRET_LENGTH and secret not in self._secrets:
            self._secrets[secret] = placeholder
            self._compile()

    def discard(self, secret: str) -> None:
        """Stop hiding ``secret`` (an access token long replaced)."""
        if self._secrets.pop(secret, None) is not None:
            self._compile()

    def _compile(self) -> None:
        forms: dict[str, str] = {}
        for secret, placeholder in self._secrets.items():
            for form in (secret, repr(secret)[1:-1], json.dumps(secret)[1:-1]):
                forms.setdefault(form.lower(), placeholder)
        # Longest first, so a secret containing another is replaced whole.
        self._forms = dict(sorted(forms.items(), key=lambda kv: -len(kv[0])))
        alternatives = "|".join(re.escape(form) for form in self._forms)
        self._pattern = re.compile(alternatives, re.IGNORECASE) if forms else None

    def _count(self, text: str) -> int:
        folded = text.lower()
        return sum(folded.count(form) for form in self._forms)

    def __call__(self, text: str) -> str:
        if self._pattern is None:
            return text
        if not text.isprintable():
            visible = "".join(ch for ch in ESCAPES.sub("", text) if ch.isprintable())
            if self._count(visible) > self._count(text):
                text = visible  # a secret split by what a terminal would not show
        if not self._count(text):
            return text
        forms = self._forms
        return self._pattern.sub(lambda match: forms[match.group(0).lower()], text)

    def __repr__(self) -> str:
        return f"Scrubber({len(self._secrets)} secrets)"


class _LogScrubber(logging.Filter):
    """Scrubs the credentials of the call running in this context from httpx's and httpcore's
    log records, and does nothing to anyone else's.

    Those libraries log what the server sent (a reason phrase at INFO, response headers at
    DEBUG): a server echoing the key would put it into the application's logs
    (``tests/test_client.py`` shows both). Filters run only for records a logger emits, so
    this costs nothing while those loggers are quiet.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        scrub = _CALL_SCRUBBER.get()
        if scrub is not None:
            message = record.getMessage()
            shown = scrub(message)
            if shown != message:
                record.msg, record.args = shown, ()
        return True


_CALL_SCRUBBER: ContextVar[Scrubber | None] = ContextVar("ls_model_providers_scrub", default=None)
_LOG_SCRUBBER = _LogScrubber()
#: The loggers of the libraries under the client (filters are not inherited by children).
THIRD_PARTY_LOGGERS = (
    "httpx", "httpcore.connection", "httpcore.connection_pool", "httpcore.http11",
    "httpcore.http2", "httpcore.proxy", "httpcore.socks",
)  # fmt: skip


@contextlib.contextmanager
def scrubbing_logs(scrub: Scrubber) -> Iterator[None]:
    """Keep ``scrub``'s secrets out of httpx's and httpcore's log records emitted in this block
    (this thread, or this task): the scope of one call."""
    if _LOG_SCRUBBER not in logging.getLogger("httpx").filters:
        for name in THIRD_PARTY_LOGGERS:
            logging.getLogger(name).addFilter(_LOG_SCRUBBER)
    token = _CALL_SCRUBBER.set(scrub)
    try:
        yield
    finally:
        _CALL_SCRUBBER.reset(token)
