"""What a response body may be: its size, its encoding, and which JSON is accepted. No I/O.

``BodyReader`` is fed the raw chunks of one response as they arrive and keeps the decoded
body. It refuses a body whose ``Content-Length`` is over the limit before reading a byte,
and stops at the first chunk that takes the raw or the decoded size over it, so memory
stays bounded by the limit whatever the server sends (a gzip bomb included: decompression
is asked for at most the room left, never for the whole chunk).

``loads`` is the one JSON parser of the package: RFC 8259 only (no ``NaN``, ``Infinity``
or numbers that overflow a float), nesting at most ``MAX_JSON_DEPTH`` deep, and every
failure a ``JSONRejected``, never a ``RecursionError``.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Callable
from typing import Any

from ._constants import MAX_CONTENT_ENCODINGS, MAX_JSON_DEPTH

__all__ = [
    "BodyExpired",
    "BodyReader",
    "BodyTooLarge",
    "JSONRejected",
    "UndecodableBody",
    "json_type",
    "loads",
    "structural_tokens",
]


#: Codings servers use that this reader does not decode (it asks for gzip and deflate only).
_KNOWN_CODINGS = frozenset({"br", "zstd", "compress", "x-compress", "lzma", "xz", "bzip2"})


class BodyTooLarge(Exception):
    """The body is over the limit (``received`` is how much was read when it was refused)."""

    def __init__(self, limit: int, received: int, declared: int | None = None) -> None:
        what = f"Content-Length {declared}" if declared is not None else f"{received}+ bytes"
        super().__init__(f"response body over the {limit}-byte limit ({what})")
        self.limit, self.received, self.declared = limit, received, declared


class UndecodableBody(Exception):
    """The Content-Encoding is unknown or the compressed data is corrupt."""


class BodyExpired(Exception):
    """The time for the answer ran out while its body was arriving."""


class _Inflate:
    """One zlib stream (gzip or deflate) that never returns more than it is asked for."""

    __slots__ = ("_d", "_raw_fallback")

    def __init__(self, coding: str) -> None:
        # gzip: a gzip header. deflate: a zlib header, though some servers send raw deflate
        # (as httpx does, fall back to it when the first bytes are not a zlib header).
        gzip = coding in ("gzip", "x-gzip")
        self._d = zlib.decompressobj(zlib.MAX_WBITS | 16 if gzip else zlib.MAX_WBITS)
        self._raw_fallback = not gzip

    def decode(self, data: bytes, room: int) -> bytes:
        try:
            out = self._d.decompress(data, room + 1)
        except zlib.error:
            if not self._raw_fallback:
                raise
            self._raw_fallback = False
            self._d = zlib.decompressobj(-zlib.MAX_WBITS)
            out = self._d.decompress(data, room + 1)
        self._raw_fallback = False
        return out

    def flush(self, room: int) -> bytes:
        out = self._d.flush(max(room, 0) + 1)
        if not self._d.eof and len(out) <= room:
            # A gzip member ends with its CRC and length, a zlib stream with its checksum:
            # without them the body was cut short (or forged), whatever came before.
            raise zlib.error("the compressed body ends before its end marker and checksum")
        return out


class BodyReader:
    """Collects one response body, bounded by ``limit`` raw and decoded bytes and, with
    ``expired``, in time: the one bounded read of the package (the request engine and the
    tools' guard feed it).

    Example::

        reader = BodyReader(MAX_BODY_SIZE, response.headers, expired=lambda: clock() > deadline)
        for chunk in response.iter_raw():
            reader.feed(chunk)
        body = reader.finish()
    """

    __slots__ = ("_chunks", "_decoded", "_decoders", "_expired", "_raw", "limit")

    def __init__(
        self, limit: int, headers: Any, *, expired: Callable[[], bool] | None = None
    ) -> None:
        self.limit = limit
        self._expired = expired
        self._raw = self._decoded = 0
        self._chunks: list[bytes] = []
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise BodyTooLarge(limit, 0, int(declared))
        codings = [c.strip().lower() for c in headers.get("content-encoding", "").split(",")]
        codings = [c for c in codings if c and c != "identity"]
        if len(codings) > MAX_CONTENT_ENCODINGS:
            raise UndecodableBody(f"{len(codings)} stacked content encodings")
        for coding in codings:
            if coding not in ("gzip", "x-gzip", "deflate"):
                # Named only when it is a coding we know of: anything else is the server's
                # text (it could echo a credential, in another case than the scrubber's).
                shown = repr(coding) if coding in _KNOWN_CODINGS else "an unknown one"
                raise UndecodableBody(f"unsupported Content-Encoding: {shown}")
        # Applied in reverse order of how they were applied by the server.
        self._decoders = [_Inflate(c) for c in reversed(codings)]

    def feed(self, chunk: bytes) -> None:
        """Take the next raw chunk; ``BodyTooLarge``, ``UndecodableBody`` or ``BodyExpired``
        (checked after each chunk: a body dripping in ends at the deadline) to stop reading."""
        self._raw += len(chunk)
        if self._raw > self.limit:
            raise BodyTooLarge(self.limit, self._raw)
        self._keep(self._decode(chunk, final=False))
        if self._expired is not None and self._expired():
            raise BodyExpired(f"the body was still arriving after {self._raw} bytes")

    def partial(self) -> bytes:
        """What was decoded before reading stopped (at most ``limit`` bytes)."""
        return b"".join(self._chunks)

    def finish(self) -> bytes:
        """The whole decoded body (call once, after the last chunk)."""
        if self._decoders:
            self._keep(self._decode(b"", final=True))
        return b"".join(self._chunks) if len(self._chunks) != 1 else self._chunks[0]

    def _decode(self, data: bytes, *, final: bool) -> bytes:
        room = self.limit - self._decoded
        try:
            for decoder in self._decoders:
                out = decoder.decode(data, room)
                if final and len(out) <= room:
                    # All input was consumed (decompress stops early only at the limit),
                    # so this only drains what zlib still holds: at most its window.
                    out += decoder.flush(room - len(out))
                data = out
                if len(data) > room:
                    break
        except zlib.error as exc:
            raise UndecodableBody(f"corrupt compressed body ({exc})") from None
        return data

    def _keep(self, data: bytes) -> None:
        if data:
            self._decoded += len(data)
            if self._decoded > self.limit:
                raise BodyTooLarge(self.limit, self._raw)
            self._chunks.append(data)


# -- JSON ----------------------------------------------------------------------------------


class JSONRejected(ValueError):
    """Not JSON this package accepts. ``malformed``: not JSON at all (cut or garbled on the
    way, worth another GET), as opposed to JSON the server meant but RFC 8259 does not allow."""

    def __init__(self, reason: str, *, malformed: bool) -> None:
        super().__init__(reason)
        self.malformed = malformed


class _Unrepresentable(Exception):
    pass


def _no_constant(name: str) -> Any:
    raise _Unrepresentable(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _Unrepresentable(f"number {text[:20]}... overflows a float")
    return value


_DECODER = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite)


def loads(content: bytes | str) -> Any:
    """Parse RFC 8259 JSON nested at most ``MAX_JSON_DEPTH`` deep, or raise ``JSONRejected``."""
    try:
        # json.loads, without building a decoder per call: bytes in UTF-8, -16 or -32.
        # Strict: UTF-8 may not encode a surrogate (ED A0 80), nor UTF-16 hold a lone one.
        text = (
            content.decode(json.detect_encoding(content))
            if isinstance(content, bytes | bytearray)
            else content
        )
        value = _DECODER.decode(text)
    except _Unrepresentable as exc:
        raise JSONRejected(str(exc), malformed=False) from None
    except RecursionError:
        raise JSONRejected(f"nested deeper than {MAX_JSON_DEPTH}", malformed=False) from None
    except ValueError as exc:
        if "integer string conversion" in str(exc):  # over sys.get_int_max_str_digits()
            raise JSONRejected("an integer with too many digits", malformed=False) from None
        raise JSONRejected("not JSON", malformed=True) from None
    # Every level of nesting takes a '{' or a '[', so a body with few of them is shallow:
    # the walk below runs only for bodies that could be deep.
    if isinstance(value, dict | list) and _brackets(content) > MAX_JSON_DEPTH:
        _check_depth(value)
    return value


def _brackets(content: bytes | str) -> int:
    if isinstance(content, str):
        return content.count("{") + content.count("[")
    return content.count(b"{") + content.count(b"[")


def _check_depth(value: Any) -> None:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise JSONRejected(f"nested deeper than {MAX_JSON_DEPTH}", malformed=False)
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item if isinstance(v, dict | list))


_JSON_TYPES: dict[type, str] = {
    dict: "object", list: "array", str: "string", bool: "boolean", int: "integer",
    float: "number", type(None): "null",
}  # fmt: skip


def json_type(value: object) -> str:
    """The JSON type name of a parsed value (``True`` a boolean, ``1`` an integer, ``1.0`` a
    number), or the Python type's name for what no JSON text parses to (YAML's dates)."""
    return _JSON_TYPES.get(type(value)) or next(
        (name for kind, name in _JSON_TYPES.items() if isinstance(value, kind)),
        type(value).__name__,
    )


def structural_tokens(data: bytes | str, *, yaml: bool = False) -> int:
    """How many values a document may hold once parsed (within a small factor), counted
    without parsing it: in JSON every container starts with '{' or '[' and every value after a
    container's first follows a ','; YAML's block style (``yaml=True``) also starts a value per
    line or '- ' item. What a parsed document takes grows with its values, not its bytes, so
    this is what bounds are put on before parsing."""
    symbols = ("{", "[", ",", "\n", "- ") if yaml else ("{", "[", ",")
    if isinstance(data, str):
        return sum(data.count(symbol) for symbol in symbols)
    return sum(data.count(symbol.encode()) for symbol in symbols)
