"""Text for people, built from what the server and the generator control: reproductions that
paste safely, and one-line summaries. Terminal and XML safety is applied where the text is
written (``_report.py``); credentials are replaced when a run ends (``_run.py``)."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping

#: Headers curl sets itself (or that would make it print compressed bytes): left out of
#: reproductions. Every other header that was sent is in them.
TRANSPORT_HEADERS = frozenset(
    {"host", "content-length", "connection", "accept-encoding", "user-agent"}
)
#: Headers curl sends as they are by default.
_CURL_DEFAULTS = frozenset({("accept", "*/*")})
#: Characters XML 1.0 cannot hold at all, even escaped (NUL, most C0 controls, U+FFFE/F,
#: lone surrogates).
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def first_line(text: str, limit: int = 300) -> str:
    """The first non-blank line of ``text``, stripped and cut to ``limit`` characters. Scrub
    server text before (a cut can split a credential, and the scrubber misses a part)."""
    return next((line.strip() for line in text.splitlines() if line.strip()), text)[:limit]


def xml_safe(text: str) -> str:
    """``text`` without the characters XML cannot hold (so the report stays parsable)."""
    return _XML_ILLEGAL.sub("", text)


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
