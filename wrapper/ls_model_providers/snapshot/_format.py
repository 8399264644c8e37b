"""The snapshot file: one versioned JSON document, written the same way every time.

The format is defined by ``snapshot.schema.json`` (next to this module, shipped in the
wheel) and documented in the README. Writing is canonical (sorted keys, two-space indents,
ASCII, connections by id, numbers as Python's shortest round-trip repr), and the file holds
no URL and no time, so two recordings of the same answers are byte-identical.

A file that validates is one the mock can serve: what the schema says (statuses 200 to 599,
ids up to 2**63-1, header values an HTTP header can carry) and what it cannot (no lone
surrogate in any string, no NaN, Infinity or overflowing number, nothing nested deeper than
``MAX_DEPTH``). Loading is bounded before parsing: ``MAX_FILE_SIZE`` bytes and
``MAX_FILE_TOKENS`` values.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Final

import attrs

from ls_model_providers._body import structural_tokens
from ls_model_providers._constants import MAX_JSON_DEPTH
from ls_model_providers.toolkit.files import write_atomic
from ls_model_providers.toolkit.text import pointer

from ._validate import Invalid, schema, validate

FORMAT: Final = "ls-model-providers-snapshot"
VERSION: Final = 1
#: What an error body's per-request ``id`` (a uuid) is recorded as, and replayed from.
PER_REQUEST_ID: Final = "<uuid>"
#: Nesting a snapshot may have: a body as deep as the client accepts, inside the envelope.
MAX_DEPTH: Final = MAX_JSON_DEPTH + 4
#: A connection takes about 1.1 KB of the file and the probes' answers 4 KB: 10,000
#: connections, more than a deployment has, are 11 MB. Three times that.
MAX_FILE_SIZE: Final = 32 * 1024 * 1024
#: What a file takes once parsed grows with its values, not its bytes (a 40 MB file of
#: zeros took 1.6 GB): its '{', '[' and ',' (one per value, within a factor of two) are
#: counted before parsing. A connection has about 38 of them and the answers 130, so
#: 10,000 connections are 380,000. At the bound a file loads in about 200 MB of process (a
#: million keys, or a million short strings), snapshot-diff of two in 320 MB.
MAX_FILE_TOKENS: Final = 1_000_000
#: A header value an HTTP/1.1 server can send: printable latin-1, no CR, LF or NUL, no
#: space at either end (the schema's ``header_value``; h11 and httptools refuse the rest).
HEADER_VALUE: Final = re.compile(schema()["$defs"]["header_value"]["pattern"])
#: Half of a UTF-16 pair on its own: a JSON "\ud800" escape allows one, UTF-8 does not.
LONE_SURROGATE: Final = re.compile("[\ud800-\udfff]")
#: Integers Python can still write as JSON (``sys.get_int_max_str_digits``: 4300 digits).
_MAX_INT_BITS: Final = 14_000
#: Probes every snapshot records (``get`` too when there is a connection).
PROBES: Final = (
    "head", "options", "no_header", "bad_token", "missing_id", "non_integer_id",
    "method_not_allowed", "list", "version", "schema",
)  # fmt: skip


class SnapshotError(ValueError):
    """A file that is not a snapshot this version can read; the message names the file and
    the spot (a JSON pointer, e.g. ``old.json: #/connections/2/id: must be integer, not
    string``) and is safe to print."""


@attrs.frozen(eq=False)
class Snapshot:
    """A validated snapshot: ``data`` is the document (see the README's format section).

    Example::

        snap = Snapshot.load("prod.json")
        snap.connections[3]["provider"], snap.server_version
        snap.write("copy.json")  # byte-identical to prod.json
    """

    data: Mapping[str, Any]
    #: Where it came from (a file name), for messages.
    source: str = "<snapshot>"

    @functools.cached_property
    def connections(self) -> dict[int, dict[str, Any]]:
        """Each recorded 200 body by connection id (secret values are ``<redacted>``); built
        once, so a loop over ids stays linear."""
        return {c["id"]: c["body"] for c in self.data["connections"]}

    @property
    def answers(self) -> dict[str, dict[str, Any]]:
        """Each probe's answer by name (``no_header``, ``missing_id``, ``list``, ...)."""
        answers: dict[str, dict[str, Any]] = self.data["answers"]
        return answers

    @property
    def server_version(self) -> str | None:
        version: str | None = self.data["server"]["version"]
        return version

    @property
    def schema_sha256(self) -> str | None:
        digest: str | None = self.data["server"]["schema_sha256"]
        return digest

    def to_json(self) -> str:
        """The canonical text of the file."""
        return dumps(self.data)

    def write(self, path: str | os.PathLike[str]) -> None:
        """Write the file whole or not at all, with the reports' writer (``write_atomic``: a
        temporary file nobody can predict, renamed into place and removed on any failure; a
        FIFO or ``/dev/stdout`` is written through)."""
        write_atomic(Path(path), self.to_json())

    @classmethod
    def from_json(cls, text: str | bytes, source: str = "<snapshot>") -> Snapshot:
        """Parse and validate; ``SnapshotError`` names ``source`` and the spot. Text over
        ``MAX_FILE_SIZE`` or with more than ``MAX_FILE_TOKENS`` values is refused unparsed."""
        if len(text) > MAX_FILE_SIZE:
            raise SnapshotError(f"{source}: larger than {MAX_FILE_SIZE} bytes")
        tokens = structural_tokens(text)
        if tokens > MAX_FILE_TOKENS:
            raise SnapshotError(
                f"{source}: {tokens} values or more, over the {MAX_FILE_TOKENS} a snapshot may "
                "hold (10,000 connections have about 380,000): refused before parsing"
            )
        try:
            # NaN, Infinity and overflowing numbers parse to floats the checks then refuse,
            # naming the spot.
            document = json.loads(text)
        except RecursionError:
            raise SnapshotError(f"{source}: nested too deeply to be a snapshot") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise SnapshotError(f"{source}: not JSON ({exc})") from None
        return cls.from_data(document, source)

    @classmethod
    def from_data(cls, document: object, source: str = "<snapshot>") -> Snapshot:
        """Validate an already parsed document (``record`` builds one this way)."""
        try:
            _check(document)
        except Invalid as exc:
            raise SnapshotError(f"{source}: {exc}") from None
        assert isinstance(document, dict)
        return cls(document, source)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Snapshot:
        """Read and validate a snapshot file."""
        name = os.fspath(path)
        chunks, size = [], 0
        try:
            with open(path, "rb") as handle:
                # In pieces: read(MAX_FILE_SIZE + 1) would allocate all of it for any file.
                while chunk := handle.read(1024 * 1024):
                    size += len(chunk)
                    if size > MAX_FILE_SIZE:
                        raise SnapshotError(f"{name}: larger than {MAX_FILE_SIZE} bytes")
                    chunks.append(chunk)
        except OSError as exc:
            raise SnapshotError(f"{name}: cannot read it ({exc.strerror or exc})") from None
        return cls.from_json(b"".join(chunks), name)


def dumps(document: Mapping[str, Any]) -> str:
    """Canonical snapshot text: sorted keys, two-space indents, ASCII, a final newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=True) + "\n"


def _check(document: object) -> None:
    """The schema, and what a schema cannot say: every value one the mock can send, ids unique
    and in order, bodies' ``id``."""
    if isinstance(document, dict):
        # Checked first, so a newer file gets this message rather than the first difference.
        if document.get("format") not in (None, FORMAT):
            raise Invalid("#/format", f"must be {FORMAT!r}: this is not a snapshot")
        version = document.get("version")
        if isinstance(version, int) and not isinstance(version, bool) and version > VERSION:
            raise Invalid(
                "#/version",
                f"format version {version} is newer than this ls-model-providers reads "
                f"({VERSION}): upgrade it",
            )
        _check_headers(document)
    _check_values(document)
    validate(document)
    assert isinstance(document, dict)
    previous = 0
    for index, item in enumerate(document["connections"]):
        if item["id"] <= previous:
            raise Invalid(f"#/connections/{index}/id", "ids must be unique and ascending")
        previous = item["id"]
        if type(item["body"].get("id")) is not int or item["body"]["id"] != item["id"]:
            raise Invalid(f"#/connections/{index}/body/id", f"must be {item['id']}")


def _check_headers(document: dict[str, Any]) -> None:
    """Header values an HTTP server can send (the schema's pattern, with a clearer message)."""
    answers = document.get("answers")
    for name, answer in answers.items() if isinstance(answers, dict) else ():
        headers = answer.get("headers") if isinstance(answer, dict) else None
        for header, value in headers.items() if isinstance(headers, dict) else ():
            if isinstance(value, str) and not HEADER_VALUE.fullmatch(value):
                raise Invalid(
                    pointer("answers", name, "headers", header),
                    f"{header_problem(value)}: an HTTP header value is printable latin-1 (no CR, "
                    "LF, NUL or other control character) without a space at either end",
                )


def header_problem(value: str) -> str:
    """Why ``value`` is no header value (``HEADER_VALUE`` refused it), quoting none of it."""
    for index, character in enumerate(value):
        if not HEADER_VALUE.fullmatch(character) and character != " ":
            return f"holds {json.dumps(character)} (U+{ord(character):04X}) at character {index}"
    return "starts or ends with a space"


def _check_values(document: object) -> None:
    """Every string, number and nesting level one the mock can send (``json.dumps`` and the
    HTTP server would fail on a lone surrogate, NaN, an int of over 4,300 digits), naming
    the first spot that is not. Iterative: memory grows with the depth, not the size."""
    problem = _value_problem(document)
    if problem:
        raise Invalid("#", problem)
    if not isinstance(document, dict | list):
        return
    levels: list[Iterator[tuple[object, object]]] = [_items(document)]
    keys: list[object] = []  # the key of each level below the first: the path to it
    while levels:
        entry = next(levels[-1], None)
        if entry is None:
            levels.pop()
            if keys:
                keys.pop()
            continue
        key, value = entry
        if not isinstance(key, str | int):
            raise Invalid(pointer(*keys), f"a key must be a string, not {type(key).__name__}")
        if isinstance(key, str) and not key.isascii() and LONE_SURROGATE.search(key):
            raise Invalid(pointer(*keys, key), "a key holds a lone surrogate: " + _LONE)
        if len(levels) >= MAX_DEPTH:
            raise Invalid(pointer(*keys, key), f"nested deeper than {MAX_DEPTH} levels")
        problem = _value_problem(value)
        if problem:
            raise Invalid(pointer(*keys, key), problem)
        if isinstance(value, dict | list):
            levels.append(_items(value))
            keys.append(key)


_LONE: Final = "half of a UTF-16 pair, which no UTF-8 text can hold (the mock could not send it)"


def _value_problem(value: object) -> str | None:
    if isinstance(value, str):
        if not value.isascii() and LONE_SURROGATE.search(value):
            return "holds a lone surrogate: " + _LONE
    elif isinstance(value, float):
        if not math.isfinite(value):
            return "not a JSON number (NaN, Infinity, or one that overflows a float)"
    elif isinstance(value, int):  # bool included: always fine
        if value.bit_length() > _MAX_INT_BITS:
            return "an integer too long to write as JSON"
    elif not isinstance(value, dict | list | None):
        return f"not a JSON value ({type(value).__name__})"
    return None


def _items(container: dict[Any, Any] | list[Any]) -> Iterator[tuple[object, object]]:
    return iter(container.items()) if isinstance(container, dict) else enumerate(container)
