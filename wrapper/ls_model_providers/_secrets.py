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

import itertools
import json
import logging
import re
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from typing import Any, NamedTuple

from ._body import JSONRejected, loads
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


#: Provider keys and JWTs inside a longer text (an error's ``detail`` quoting one): not after a
#: letter, digit, ``_`` or ``-`` (``task-...`` holds no key), and long enough to be one.
_EMBEDDED_VALUE = re.compile(
    r"(?<![\w-])(?:sk-[\w-]{20,}|AIza[\w-]{30,}|eyJ[\w-]*\.eyJ[\w-]+\.[\w-]+)"
)


def embedded_secrets(value: str) -> list[str]:
    """The provider keys and JWTs a text holds inside it (``is_secret_value`` judges it whole)."""
    if "sk-" not in value and "AIza" not in value and "eyJ" not in value:
        return []  # the common case, without running the expression
    return _EMBEDDED_VALUE.findall(value)


#: A value that only stands for a secret (``********``, ``••••``, ``xxxx``): shown instead of
#: one, so it is a masked field, not a leak.
_MASK = re.compile(r"[*\u2022xX]+")


def is_mask(value: str) -> bool:
    """True for a value made only of ``*``, ``•`` or ``x`` characters (a masked secret)."""
    return bool(_MASK.fullmatch(value))


#: What RFC 8259 allows around a JSON text (a file or an editor often ends it with a newline).
_JSON_WHITESPACE = " \t\n\r"


#: What ``_json_text`` gives for JSON text this package does not read (nested too deep,
#: numbers out of range): not plain text, and not to be shown as it came.
_UNREAD = object()


def _json_text(value: str) -> Any:
    """The JSON object or array a string holds (``model_params`` sent as text), ``_UNREAD``
    for JSON this package refuses to read, else None."""
    text = value.strip(_JSON_WHITESPACE)
    if text[:1] not in ("{", "[") or text[-1:] not in ("}", "]"):
        return None
    try:
        return loads(value)
    except JSONRejected as exc:
        return None if exc.malformed else _UNREAD


class Found(NamedTuple):
    """A credential in JSON-like data: its ``path`` (``model_params.properties.x.default``,
    ``0.api_key``), the ``value``, and whether it is only a ``masked`` stand-in."""

    path: str
    value: str
    masked: bool


def find_secrets(value: Any, depth: int = MAX_JSON_DEPTH, _path: str = "") -> Iterator[Found]:
    """Every credential in a JSON-like value, wherever it is: a field whose name says it holds
    one with a non-empty string value, or a string shaped like one (a JWT, a PEM private key,
    a provider key) under any name, in objects and arrays at any depth, and inside JSON text
    a string holds (``model_params`` sent as a string). A secret-named field holding a
    container (a JSON Schema describing an ``api_key`` parameter) is looked into, not taken
    for a credential. Masks (``is_mask``) come out with ``masked`` set."""
    if depth <= 0:
        return
    if isinstance(value, dict):
        items: Iterable[tuple[Any, Any]] = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    for key, item in items:
        path = f"{_path}{key}"
        named = isinstance(key, str) and is_secret_name(key)
        if isinstance(item, str):
            inner = None if named else _json_text(item)
            if inner is not None and inner is not _UNREAD:  # JSON text: named by where it is
                yield from find_secrets(inner, depth - 1, path + ".")
            elif item and (named or is_secret_value(item)):
                yield Found(path, item, named and is_mask(item))
            elif item:
                yield from (Found(path, found, False) for found in embedded_secrets(item))
        elif named and isinstance(item, list):  # "api_key": ["...", "..."]: each is one
            for index, element in enumerate(item):
                if isinstance(element, str) and element:
                    yield Found(f"{path}.{index}", element, is_mask(element))
                else:
                    yield from find_secrets(element, depth - 1, f"{path}.{index}.")
        else:
            yield from find_secrets(item, depth - 1, path + ".")


def secret_values(value: Any, depth: int = MAX_JSON_DEPTH) -> Iterable[str]:
    """Every credential string in ``value`` (``find_secrets``, masks left out), to scrub them
    out of text too."""
    return (found.value for found in find_secrets(value, depth) if not found.masked)


def hide_secret_values(text: str) -> str:
    """``text`` with the credentials it quotes (a provider key, a JWT, a PEM private key)
    replaced by ``<redacted>``: for text a server wrote (an error's ``detail``)."""
    if is_secret_value(text):
        return REDACTED
    for found in embedded_secrets(text):
        text = text.replace(found, REDACTED)
    return text


def redact(value: Any, depth: int = MAX_JSON_DEPTH) -> Any:
    """A copy of a JSON-like value with every secret replaced by ``<redacted>``: what
    ``find_secrets`` finds, and any non-empty value of a secret-named field; JSON text in a
    string (``model_params`` sent as text) is redacted inside, and written back as text.

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
    if not isinstance(value, str):
        return value
    value = hide_secret_values(value)
    if value == REDACTED:
        return value
    # JSON text is a container at this string's level, as find_secrets reads it: past the
    # bound it is cut like any container, never written back unread. It is written back as
    # it came only when redacting changed nothing in it (no secret, nothing past the bound).
    inner = _json_text(value)
    if inner is None:
        return value
    if depth <= 0 or inner is _UNREAD:
        return TOO_DEEP
    redacted = redact(inner, depth)
    return value if redacted == inner else json.dumps(redacted, ensure_ascii=False)


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


def _fold(text: str) -> str:
    """``text`` in lower case, one character for one (so positions match the original): as a
    case-blind regex would compare it, U+017F (long s) as ``s`` and U+0130 as ``i`` included."""
    if text.isascii():
        return text.lower()
    return text.replace("\u0130", "i").lower().replace("\u017f", "s")


#: Up to this many forms are looked for one by one (``str.find``, in C); past it, through an
#: index of their first ``MIN_SECRET_LENGTH`` characters, one lookup per position of the text.
_FEW_FORMS = 24
#: A text this short is remembered with what it became (a call's URL is scrubbed on every
#: call, unchanged); a longer one is not kept alive for it.
_MEMO_LENGTH = 2048
#: Stamps for a scrubber's set of secrets: a fresh one after each change, from any thread
#: (``next()`` on a count is atomic), so a memo made before the change never matches after.
_VERSIONS = itertools.count()


class Scrubber:
    """Replaces known secrets in text meant for people (messages, reprs, logs, reports).

    A secret is found whatever the case (U+017F, the long s, for ``s`` too), and also as ``repr()`` or JSON
    would escape it. Text that only shows a secret once its invisible characters are gone (an
    escape sequence or a control character planted inside it, which a terminal or an XML
    writer would drop) is returned without them, the secret replaced: stripping it later
    cannot put it back.

    Cost: adding a secret is constant time (n secrets cost O(n), whatever is scrubbed
    between the additions); scrubbing a text is linear in its length, with one dictionary
    lookup per position once there are more than a few secrets. Overlapping secrets are
    replaced leftmost first, the longest at a position first.

    Example::

        scrub = Scrubber()
        scrub.add(api_key)
        scrub(f"server said: {detail}")
    """

    __slots__ = ("_forms", "_memo", "_prefixes", "_secrets", "_version")

    def __init__(self, *secrets: str) -> None:
        #: Each secret -> its placeholder.
        self._secrets: dict[str, str] = {}
        #: Every form looked for, folded (``_fold``) -> its placeholder.
        self._forms: dict[str, str] = {}
        #: The forms by their first MIN_SECRET_LENGTH characters, then by their length (longest
        #: first): provider keys share prefixes ("sk-proj-"), and seldom their lengths differ.
        self._prefixes: dict[str, dict[int, set[str]]] = {}
        self._version = next(_VERSIONS)
        #: The last short text scrubbed: (the version it was scrubbed under, text, result).
        self._memo: tuple[int, str, str] = (-1, "", "")
        for secret in secrets:
            self.add(secret)

    @staticmethod
    def _forms_of(secret: str) -> set[str]:
        return {_fold(f) for f in (secret, repr(secret)[1:-1], json.dumps(secret)[1:-1])}

    def add(self, secret: str, placeholder: str = REDACTED) -> None:
        """Hide ``secret`` from now on (strings under ``MIN_SECRET_LENGTH`` are ignored)."""
        if len(secret) < MIN_SECRET_LENGTH or secret in self._secrets:
            return
        self._secrets[secret] = placeholder
        for form in self._forms_of(secret):
            if form in self._forms:
                continue
            self._forms[form] = placeholder
            bucket = self._prefixes.setdefault(form[:MIN_SECRET_LENGTH], {})
            if len(form) not in bucket:  # a new length: the bucket is kept longest first
                bucket[len(form)] = set()
                ordered = sorted(bucket.items(), reverse=True)
                bucket.clear()
                bucket.update(ordered)
            bucket[len(form)].add(form)
        self._version = next(_VERSIONS)

    def discard(self, secret: str) -> None:
        """Stop hiding ``secret`` (an access token long replaced)."""
        if self._secrets.pop(secret, None) is None:
            return
        kept = set().union(*map(self._forms_of, self._secrets)) if self._secrets else set()
        for form in self._forms_of(secret) - kept:
            self._forms.pop(form, None)
            bucket = self._prefixes.get(form[:MIN_SECRET_LENGTH], {})
            same_length = bucket.get(len(form), set())
            same_length.discard(form)
            if not same_length:
                bucket.pop(len(form), None)
            if not bucket:
                self._prefixes.pop(form[:MIN_SECRET_LENGTH], None)
        self._version = next(_VERSIONS)

    def _spans(self, folded: str) -> list[tuple[int, int]]:
        """Where the forms are in ``folded`` text: leftmost first, then longest; no overlap."""
        found: list[tuple[int, int]] = []
        if len(self._forms) <= _FEW_FORMS:
            candidates = []
            for form in self._forms:
                at = folded.find(form)
                while at >= 0:
                    candidates.append((at, at + len(form)))
                    at = folded.find(form, at + 1)
            end = 0
            for start, stop in sorted(candidates, key=lambda span: (span[0], -span[1])):
                if start >= end:
                    found.append((start, stop))
                    end = stop
            return found
        prefixes, width, at, last = (
            self._prefixes,
            MIN_SECRET_LENGTH,
            0,
            len(folded) - MIN_SECRET_LENGTH,
        )
        while at <= last:
            bucket = prefixes.get(folded[at : at + width])
            if bucket is not None:
                length = next((n for n, forms in bucket.items() if folded[at : at + n] in forms), 0)
                if length:
                    found.append((at, at + length))
                    at += length
                    continue
            at += 1
        return found

    def __call__(self, text: str) -> str:
        version, memo = self._version, self._memo
        if memo[0] == version and memo[1] == text:
            return memo[2]
        shown = self._scrub(text)
        if len(text) <= _MEMO_LENGTH:
            # The version was read before scrubbing: a secret added meanwhile leaves this memo
            # stale at once.
            self._memo = (version, text, shown)
        return shown

    def _scrub(self, text: str) -> str:
        if not self._forms or len(text) < MIN_SECRET_LENGTH:
            return text
        spans = self._spans(_fold(text))
        if not text.isprintable():
            visible = "".join(ch for ch in ESCAPES.sub("", text) if ch.isprintable())
            hidden = self._spans(_fold(visible))
            if len(hidden) > len(spans):
                text, spans = visible, hidden  # a secret split by what a terminal would not show
        if not spans:
            return text
        folded, forms, pieces, position = _fold(text), self._forms, [], 0
        for start, stop in spans:
            pieces += [text[position:start], forms.get(folded[start:stop], REDACTED)]
            position = stop
        pieces.append(text[position:])
        return "".join(pieces)

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


#: A logger lives as long as the process (reconfiguring logging keeps the object): looked up
#: once, not under logging's lock on every call.
_HTTPX_LOGGER = logging.getLogger(THIRD_PARTY_LOGGERS[0])


class scrubbing_logs:  # lower case: used as a function, ``with scrubbing_logs(scrub):``
    """Keep ``scrub``'s secrets out of httpx's and httpcore's log records emitted in this block
    (this thread, or this task): the scope of one call. A class, not a generator: it runs on
    every call, and ``contextlib``'s machinery costs more than the work."""

    __slots__ = ("_scrub", "_token")

    def __init__(self, scrub: Scrubber) -> None:
        self._scrub = scrub

    def __enter__(self) -> None:
        # Looked at on every call: a logging configuration done since may have dropped it.
        if _LOG_SCRUBBER not in _HTTPX_LOGGER.filters:
            for name in THIRD_PARTY_LOGGERS:
                logging.getLogger(name).addFilter(_LOG_SCRUBBER)
        self._token = _CALL_SCRUBBER.set(self._scrub)

    def __exit__(self, *_exc: object) -> None:
        _CALL_SCRUBBER.reset(self._token)
