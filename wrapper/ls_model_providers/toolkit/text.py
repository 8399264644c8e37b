"""Text for people, built from what a server or a document controls.

Made safe where it is written: ``terminal`` (no escape sequence or control character reaches
a terminal), ``one_line`` (a server's line break cannot start a line of our output: a forged
verdict), ``xml_safe`` (JUnit stays parsable); ``curl`` reproductions paste safely, with
credentials as shell variables. Credentials themselves are scrubbed where a message is built
(``_secrets.Scrubber``), before any of this cuts it.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable, Mapping

from ls_model_providers._secrets import ESCAPES

#: Every character that ends a line somewhere: a terminal (LF, CR, VT, FF), ``str.splitlines``
#: (FS, GS, RS, NEL, LS, PS), and a CI's report viewer.
_LINE_BREAKS = re.compile("[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
#: Characters XML 1.0 cannot hold at all, even escaped (NUL, most C0 controls, U+FFFE/F,
#: lone surrogates).
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
#: Headers curl sets itself (or that would make it print compressed bytes): left out of
#: reproductions. Every other header that was sent is in them.
TRANSPORT_HEADERS = frozenset(
    {"host", "content-length", "connection", "accept-encoding", "user-agent"}
)
#: Headers curl sends as they are by default.
_CURL_DEFAULTS = frozenset({("accept", "*/*")})


def printable(text: str) -> str:
    """``text`` with control and invisible characters escaped (documents are not trusted)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def terminal(text: str) -> str:
    """Text a server controls, safe for a terminal: escape sequences removed, any other
    control character shown escaped, line breaks kept (our own layout is made of them:
    server text inside it goes through ``one_line`` first)."""
    return "\n".join(printable(ESCAPES.sub("", line)) for line in text.split("\n"))


def one_line(text: str) -> str:
    """Text a server controls, made to stay inside the one line it is embedded in: each line
    break shown escaped (``\\n``, ``\\r``), so a server cannot start a line of its own (a fake
    verdict, a fake error) in our output or in a report."""
    return _LINE_BREAKS.sub(lambda m: m.group().encode("unicode_escape").decode(), text)


def first_line(text: str, limit: int = 300) -> str:
    """The first non-blank line of ``text``, stripped and cut to ``limit`` characters. Scrub
    server text before (a cut can split a credential, and the scrubber misses a part)."""
    return next((line.strip() for line in text.splitlines() if line.strip()), text)[:limit]


def xml_safe(text: str) -> str:
    """``text`` without the characters XML cannot hold (so the report stays parsable)."""
    return _XML_ILLEGAL.sub("", text)


def option_names(message: str, names: Mapping[str, str]) -> str:
    """A library message with the Python argument names in ``names`` replaced by the option
    that sets them (``base_url`` -> ``--base-url``): people typed options, not arguments."""
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b")
    return pattern.sub(lambda m: names[m.group()], message)


def show(value: object, limit: int | None = None) -> str:
    """A value from a document as people read it: JSON for scalars, cut to ``limit``."""
    text = json.dumps(value) if isinstance(value, str | int | float | bool | None) else str(value)
    return text if limit is None or len(text) <= limit else text[:limit] + "..."


def escape(key: object) -> str:
    """``key`` as one step of a JSON pointer (RFC 6901: ``~`` is ``~0``, ``/`` is ``~1``)."""
    return str(key).replace("~", "~0").replace("/", "~1")


def pointer(*keys: object) -> str:
    """The JSON pointer of ``keys`` below the root (``#/a~1b/0``)."""
    return "#" + "".join(f"/{escape(k)}" for k in keys)


def shell_word(text: str, variables: Mapping[str, str]) -> str:
    """``text`` as one shell word: literal parts single-quoted, each secret in ``variables``
    replaced by a double-quoted ``"$NAME"`` reference, so pasting runs nothing but curl
    and the secret comes from the environment."""
    if not variables:
        return shlex.quote(text)
    secrets = sorted(variables, key=len, reverse=True)  # a secret containing another wins
    pattern = re.compile("|".join(re.escape(s) for s in secrets))
    pieces, position = [], 0
    for match in pattern.finditer(text):
        if match.start() > position:
            pieces.append(shlex.quote(text[position : match.start()]))
        pieces.append(f'"${variables[match.group()]}"')
        position = match.end()
    if position < len(text) or not pieces:
        pieces.append(shlex.quote(text[position:]))
    return "".join(pieces)


def curl(
    method: str,
    url: str,
    headers: Iterable[tuple[str, str]],
    variables: Mapping[str, str],
    options: Iterable[str] = (),
) -> str:
    """A curl command sending exactly this request (see ``TRANSPORT_HEADERS``)."""
    words = ["curl", "-sS", "-i", *(shlex.quote(o) for o in options)]
    if method == "HEAD":
        words.append("-I")
    elif method != "GET":
        words += ["-X", shlex.quote(method)]
    for name, value in headers:
        if name.lower() not in TRANSPORT_HEADERS and (name.lower(), value) not in _CURL_DEFAULTS:
            words += ["-H", shell_word(f"{name}: {value}", variables)]
    words.append(shell_word(url, variables))
    return " ".join(words)
