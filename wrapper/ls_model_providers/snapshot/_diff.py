"""Comparing two snapshots: what changed, and is it breaking? No I/O.

The rules are the drift engine's (``toolkit/drift.py``, the README's one table), the same
spec-diff and ``conformance --baseline`` use:

- **Bodies.** Each side's 200 bodies (of the connections both hold) are reduced to the shape
  they were seen to satisfy (``drift.observed``: per field the JSON types seen, null if seen,
  present in every body or not, and for the fields the fragment declares as enums the values
  seen), and the two shapes are compared.
- **The error contract and the other probes** (``drift.compare_answers``): statuses, content
  types, the ``Allow`` and ``WWW-Authenticate`` headers, and the JSON bodies, the latter as
  shapes again. OPTIONS and HEAD differences are compatible: no client of this endpoint sends
  them, and a proxy in front often answers OPTIONS itself.
- **The server**: a new version or a changed served schema are listed (compatible); run
  spec-diff against the deployment for what the schema change means.

Per connection (informational, each marked breaking when its field's change is): fields
added or removed, JSON type changes, null and no longer null, enum values, and the
connections only one side holds.

Linear in the size of the snapshots: each value is visited once to build the shapes and once
per connection walk. A distinct field costs a shape per side (about 2 KB), so at most
``MAX_COMPARED_FIELDS`` are compared: more is a ``SnapshotError`` naming the file, before the
shapes are built.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any, Final

import attrs

from ls_model_providers._body import json_type
from ls_model_providers._spec import load_spec
from ls_model_providers.toolkit.drift import (
    Change,
    TooManyFields,
    compare,
    compare_answers,
    compare_servers,
    observed,
)
from ls_model_providers.toolkit.text import printable, show

from ._format import Snapshot, SnapshotError

#: Levels of a body walked per connection (model_params, a JSON Schema, rarely passes 10).
MAX_COMPARED_DEPTH: Final = 32
#: Distinct fields (a key at one spot, over all bodies) a side may have: a connection has
#: about 25, model_params adds its parameters' names and keywords, so a deployment's are a
#: few hundred. Each costs about 2 KB to compare (N=800 connections with 800 keys of their
#: own, 640,000 fields a side, took 1.6 GB): at this bound at most about 40 MB.
MAX_COMPARED_FIELDS: Final = 10_000


@attrs.frozen
class ConnectionChange:
    """One observation about one connection (``where`` is a body path, ``""`` for the whole)."""

    connection: int
    where: str
    what: str
    breaking: bool = False

    def __str__(self) -> str:
        where = f"{self.where}: " if self.where else ""
        return printable(f"{where}{self.what}{' (BREAKING)' if self.breaking else ''}")


@attrs.frozen
class Diff:
    """What changed from ``old`` to ``new``. ``changes`` are classified by the drift engine;
    ``connections`` say where each body change was seen. ``exit_code``: 0 nothing
    breaking, 1 breaking."""

    changes: tuple[Change, ...]
    connections: tuple[ConnectionChange, ...]
    compared: int

    @property
    def breaking(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.breaking)

    @property
    def exit_code(self) -> int:
        return 1 if self.breaking else 0

    def lines(self, old: str = "old", new: str = "new") -> list[str]:
        """The report, a line each (terminal-safe): changes, per connection, the verdict."""
        lines = [str(c) for c in self.changes]
        by_id: dict[int, list[str]] = {}
        for note in self.connections:
            by_id.setdefault(note.connection, []).append(str(note))
        lines += [f"connection {i}: {'; '.join(notes)}" for i, notes in sorted(by_id.items())]
        lines.append(
            f"{len(self.changes)} difference(s), {len(self.breaking)} breaking "
            f"({self.compared} connection(s) in both snapshots compared)"
        )
        if self.breaking:
            lines.append(f"BREAKING: {new} sends what {old} never did")
        return [printable(line) for line in lines]


def diff(old: Snapshot, new: Snapshot) -> Diff:
    """Compare two snapshots (``old`` is what you depend on).

    Example::

        result = diff(Snapshot.load("before.json"), Snapshot.load("after.json"))
        print("\\n".join(result.lines()))
        sys.exit(result.exit_code)

    Raises ``SnapshotError`` when a side's bodies hold more than ``MAX_COMPARED_FIELDS``
    distinct fields.
    """
    olds, news = old.connections, new.connections
    both = sorted(olds.keys() & news.keys())
    enums = enum_fields()
    shapes = []
    for side, bodies in ((old, olds), (new, news)):
        try:
            shapes.append(
                observed([bodies[i] for i in both], enums=enums, max_fields=MAX_COMPARED_FIELDS)
            )
        except TooManyFields:
            raise SnapshotError(
                f"{side.source}: its connections hold more than {MAX_COMPARED_FIELDS} distinct "
                "fields (a deployment's have a few hundred): not compared"
            ) from None
    body_changes = compare(shapes[0], shapes[1], "body") if both else []
    breaking_at = {c.where for c in body_changes if c.breaking}
    notes = _per_connection(olds, news, both, enums, breaking_at)
    changes = [
        *body_changes,
        *compare_answers(old.answers, new.answers),
        *compare_servers(
            old.server_version, new.server_version, old.schema_sha256, new.schema_sha256
        ),
    ]
    return Diff(tuple(changes), tuple(notes), len(both))


@cache
def enum_fields() -> frozenset[str]:
    """The body fields the fragment declares as enums (through ``$ref``, ``allOf``, ``oneOf``)."""
    spec = load_spec()
    schemas: dict[str, Any] = spec["components"]["schemas"]
    found = set()
    for name, node in schemas["ModelProviderConnection"]["properties"].items():
        parts = [node, *node.get("allOf", []), *node.get("oneOf", []), *node.get("anyOf", [])]
        for part in parts:
            target = schemas.get(part.get("$ref", "").rpartition("/")[2], part)
            if any(value is not None for value in target.get("enum", [])):
                found.add(name)
    return frozenset(found)


def _per_connection(
    old: dict[int, dict[str, Any]],
    new: dict[int, dict[str, Any]],
    both: list[int],
    enums: frozenset[str],
    breaking_at: set[str],
) -> list[ConnectionChange]:
    notes: list[ConnectionChange] = []
    for connection in sorted(old.keys() ^ new.keys()):
        side = "old" if connection in old else "new"
        notes.append(ConnectionChange(connection, "", f"only in the {side} snapshot"))
    for connection in both:
        for where, what in _walk(old[connection], new[connection], "body", 0, enums):
            notes.append(ConnectionChange(connection, where, what, where in breaking_at))
    return sorted(notes, key=lambda n: n.connection)


def _walk(
    a: Any, b: Any, where: str, depth: int, enums: frozenset[str]
) -> Iterable[tuple[str, str]]:
    kind_a, kind_b = json_type(a), json_type(b)
    if kind_a != kind_b:
        if kind_b == "null":
            yield where, "now null"
        elif kind_a == "null":
            yield where, f"no longer null ({kind_b})"
        else:
            yield where, f"type {kind_a} -> {kind_b}"
        return
    if depth == 1 and where.rpartition(".")[2] in enums and a != b:
        yield where, f"enum value {show(a, 120)} -> {show(b, 120)}"
    if not isinstance(a, dict) or depth >= MAX_COMPARED_DEPTH:
        return
    for key in sorted(a.keys() - b.keys()):
        yield f"{where}.{key}", "field removed"
    for key in sorted(b.keys() - a.keys()):
        yield f"{where}.{key}", "field added"
    for key in sorted(a.keys() & b.keys()):
        yield from _walk(a[key], b[key], f"{where}.{key}", depth + 1, enums)
