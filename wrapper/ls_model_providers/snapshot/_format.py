"""The snapshot file: one versioned JSON document, written the same way every time.

The format is defined by ``snapshot.schema.json`` (next to this module, shipped in the
wheel) and documented in the README. Writing is canonical (sorted keys, two-space indents,
ASCII, connections by id, numbers as Python's shortest round-trip repr), and the file holds
no URL and no time, so two recordings of the same answers are byte-identical.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import attrs

from ls_model_providers import _constants as C

from ._validate import Invalid, validate

FORMAT: Final = "ls-model-providers-snapshot"
VERSION: Final = 1
#: What an error body's per-request ``id`` (a uuid) is recorded as, and replayed from.
PER_REQUEST_ID: Final = "<uuid>"
#: Nesting a snapshot may have: a body as deep as the client accepts, inside the envelope.
MAX_DEPTH: Final = C.MAX_JSON_DEPTH + 4
#: A snapshot of 10,000 connections is about 15 MB.
MAX_FILE_SIZE: Final = 256 * 1024 * 1024
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

    @property
    def connections(self) -> dict[int, dict[str, Any]]:
        """Each recorded 200 body by connection id (secret values are ``<redacted>``)."""
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
        """Write the file whole or not at all (a temporary file renamed into place)."""
        target = Path(path)
        temporary = target.with_name(f".{target.name}.tmp")
        temporary.write_text(self.to_json(), encoding="ascii")
        temporary.replace(target)

    @classmethod
    def from_json(cls, text: str | bytes, source: str = "<snapshot>") -> Snapshot:
        """Parse and validate; ``SnapshotError`` names ``source`` and the spot."""
        try:
            document = json.loads(text, parse_constant=_no_constant)
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
        try:
            with open(path, "rb") as handle:
                data = handle.read(MAX_FILE_SIZE + 1)
        except OSError as exc:
            raise SnapshotError(f"{name}: cannot read it ({exc.strerror or exc})") from None
        if len(data) > MAX_FILE_SIZE:
            raise SnapshotError(f"{name}: larger than {MAX_FILE_SIZE} bytes")
        return cls.from_json(data, name)


def dumps(document: Mapping[str, Any]) -> str:
    """Canonical snapshot text: sorted keys, two-space indents, ASCII, a final newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=True) + "\n"


def canonical_sha256(value: Any) -> str:
    """sha256 of a JSON value as canonical JSON (sorted keys, no spaces, UTF-8), so the same
    schema served with other spacing or key order hashes the same."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _check(document: object) -> None:
    """The schema, and what a schema cannot say: ids unique and in order, bodies' ``id``."""
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
    _check_depth(document)
    validate(document)
    assert isinstance(document, dict)
    previous = 0
    for index, item in enumerate(document["connections"]):
        if item["id"] <= previous:
            raise Invalid(f"#/connections/{index}/id", "ids must be unique and ascending")
        previous = item["id"]
        if item["body"].get("id") != item["id"]:
            raise Invalid(f"#/connections/{index}/body/id", f"must be {item['id']}")


def _check_depth(document: object) -> None:
    """Nothing else walks the free-form bodies deeper than this: bounded here, iteratively."""
    stack: list[tuple[object, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise Invalid("#", f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
