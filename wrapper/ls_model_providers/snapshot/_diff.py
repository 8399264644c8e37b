"""Comparing two snapshots: what changed, and is it breaking? No I/O.

The question is spec-diff's (``conformance/_specdiff.py`` and its README table): *can the new
side send something the old one never did?* So is the classification, by construction:

- **Bodies.** Each snapshot's 200 bodies (of the connections both hold) are reduced to the
  JSON Schema they were seen to satisfy: per field, the JSON types seen, whether null was
  seen, present in every body (required) or not, and for the fields the fragment declares
  as enums (``provider``, ``scope``, ``budget_reset_period``) the values seen. The two
  schemas go through spec-diff's own ``compare``, so a type added or replaced, newly
  nullable, no longer required, a field removed and an enum value added are breaking; the
  reverse of each, and a field added, compatible.
- **The error contract and the other probes** (same vocabulary, same direction): a status
  or content type that changed, a header or body key that is gone, a key's JSON type
  replaced or newly null are breaking; a header or key added, a header value or ``detail``
  text that changed, a route that was not served before (an HTML 404), compatible.
- **The server**: a new version or a changed served schema are listed (compatible); run
  spec-diff against the deployment for what the schema change means.

Per connection (informational, each marked breaking when its field's change is): fields
added or removed, JSON type changes, null and no longer null, enum values, and the
connections only one side holds.

Linear in the size of the snapshots: each value is visited once to build the schemas (a
value goes to exactly one spot's list) and once per connection walk; N connections with N
keys each took N**3 steps before (127 s for a 10 MB pair). A distinct field costs a schema
and a shape per side (about 2 KB), so at most ``MAX_COMPARED_FIELDS`` are compared: more is
a ``SnapshotError`` naming the file, before the schemas are built.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any, Final

import attrs

from ls_model_providers._spec import load_spec
from ls_model_providers.cli._shared import printable
from ls_model_providers.conformance._specdiff import PATH, Change, compare

from ._format import Snapshot, SnapshotError
from ._validate import json_type

#: Levels of a body compared (model_params, a JSON Schema, rarely passes 10).
MAX_COMPARED_DEPTH: Final = 32
#: Distinct fields (a key at one spot, over all bodies) a side may have: a connection has
#: about 25, model_params adds its parameters' names and keywords, so a deployment's are a
#: few hundred. Each costs about 2 KB to compare (N=800 connections with 800 keys of their
#: own, 640,000 fields a side, took 1.6 GB): at this bound at most about 40 MB.
MAX_COMPARED_FIELDS: Final = 10_000
#: Probes whose body says nothing about the endpoint's contract (compared by status only).
_STATUS_ONLY: Final = frozenset({"version", "schema"})
_HEADERS: Final = ("allow", "www-authenticate")
_SHOWN: Final = 120  # characters of a server's text shown in a change


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
    """What changed from ``old`` to ``new``. ``changes`` are classified like spec-diff's;
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
    documents = []
    for side, bodies in ((old, olds), (new, news)):
        try:
            documents.append(_document([bodies[i] for i in both], enums))
        except _TooManyFields:
            raise SnapshotError(
                f"{side.source}: its connections hold more than {MAX_COMPARED_FIELDS} distinct "
                "fields (a deployment's have a few hundred): not compared"
            ) from None
    changes = compare(*documents)
    body_changes = [c for c in changes or () if not c.where.startswith("path.")]
    breaking_at = {c.where for c in body_changes if c.breaking}
    notes = _per_connection(olds, news, both, enums, breaking_at)
    answers = list(_answers(old.answers, new.answers))
    return Diff(tuple(body_changes + answers + _server(old, new)), tuple(notes), len(both))


# -- bodies: the schema each side was seen to satisfy -----------------------------------------


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


def _document(bodies: list[dict[str, Any]], enums: frozenset[str]) -> dict[str, Any]:
    """An OpenAPI document whose 200 body schema is what ``bodies`` were seen to satisfy."""
    schema = _seen(bodies, 0, [MAX_COMPARED_FIELDS], enums) if bodies else {}
    content = {"application/json": {"schema": schema}}
    return {"paths": {PATH: {"get": {"responses": {"200": {"content": content}}}}}}


class _TooManyFields(Exception):
    pass


def _seen(
    values: list[Any], depth: int, left: list[int], enums: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The JSON Schema of the values seen at one spot: types (``null`` when seen), and for
    objects each key seen, required when in every one. ``enums`` names the keys of this
    object whose values are listed. One pass over ``values``: each value of each object goes
    to its key's list, so the whole tree is visited once. ``left[0]``: distinct fields that
    may still be compared (``_TooManyFields`` past it)."""
    if depth > MAX_COMPARED_DEPTH:
        return {}
    schema: dict[str, Any] = {"type": sorted({json_type(v) for v in values})}
    objects = 0
    by_key: dict[str, list[Any]] = {}
    for value in values:
        if isinstance(value, dict):
            objects += 1
            for key, item in value.items():
                seen = by_key.get(key)
                if seen is None:
                    if len(by_key) >= left[0]:
                        raise _TooManyFields  # before building anything for it
                    by_key[key] = seen = []
                seen.append(item)
    if objects:
        left[0] -= len(by_key)
        keys = sorted(by_key)
        properties = {}
        for key in keys:
            seen = by_key[key]
            properties[key] = _seen(seen, depth + 1, left)
            if key in enums and all(isinstance(v, str | None) for v in seen):
                properties[key]["enum"] = sorted(set(seen), key=lambda v: (v is None, v or ""))
        schema["properties"] = properties
        schema["required"] = [k for k in keys if len(by_key[k]) == objects]
    return schema


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
        yield where, f"enum value {_quote(a)} -> {_quote(b)}"
    if not isinstance(a, dict) or depth >= MAX_COMPARED_DEPTH:
        return
    for key in sorted(a.keys() - b.keys()):
        yield f"{where}.{key}", "field removed"
    for key in sorted(b.keys() - a.keys()):
        yield f"{where}.{key}", "field added"
    for key in sorted(a.keys() & b.keys()):
        yield from _walk(a[key], b[key], f"{where}.{key}", depth + 1, enums)


# -- the error contract and the other probes --------------------------------------------------


def _quote(value: object) -> str:
    text = value if isinstance(value, str) else repr(value)
    return '"' + (text if len(text) <= _SHOWN else text[:_SHOWN] + "...") + '"'


def _media_type(answer: dict[str, Any]) -> str:
    return str(answer["headers"].get("content-type", "")).split(";")[0].strip().lower()


def _not_served(answer: dict[str, Any]) -> bool:
    """An HTML 404 (no route): nothing can have depended on it."""
    return answer["status"] == 404 and "body" not in answer


def _answers(old: dict[str, Any], new: dict[str, Any]) -> Iterable[Change]:
    for name in sorted(old.keys() | new.keys()):
        where = f"answer.{name}"
        if name not in old or name not in new:
            yield Change(
                where, f"recorded in the {'new' if name in new else 'old'} snapshot only", False
            )
            continue
        a, b = old[name], new[name]
        if a["status"] != b["status"]:
            if _not_served(a):
                yield Change(where, f"now served: status {a['status']} -> {b['status']}", False)
                continue
            yield Change(where, f"status {a['status']} -> {b['status']}", True)
        if _media_type(a) != _media_type(b):
            yield Change(
                where, f"content type {_quote(_media_type(a))} -> {_quote(_media_type(b))}", True
            )
        yield from _headers(a["headers"], b["headers"], where)
        if a.get("form") != b.get("form"):
            yield Change(where, f"form {a.get('form')} -> {b.get('form')}", True)
        if a.get("page_size") != b.get("page_size"):
            yield Change(where, f"page size {a.get('page_size')} -> {b.get('page_size')}", False)
        if name not in _STATUS_ONLY:
            yield from _body(a.get("body"), b.get("body"), f"{where}.body")


def _headers(a: dict[str, str], b: dict[str, str], where: str) -> Iterable[Change]:
    for header in _HEADERS:
        was, now = a.get(header), b.get(header)
        if was == now:
            continue
        if now is None:
            yield Change(where, f"header {header} removed (was {_quote(was)})", True)
        elif was is None:
            yield Change(where, f"header {header} added: {_quote(now)}", False)
        else:
            yield Change(where, f"header {header} {_quote(was)} -> {_quote(now)}", False)


def _body(a: Any, b: Any, where: str) -> Iterable[Change]:
    if not (isinstance(a, dict) and isinstance(b, dict)):
        if json_type(a) != json_type(b):
            kinds = ("no JSON" if v is None else f"JSON {json_type(v)}" for v in (a, b))
            yield Change(where, " -> ".join(kinds), a is not None)  # a JSON body gone: breaking
        return
    for key in sorted(a.keys() - b.keys()):
        yield Change(f"{where}.{key}", "key removed", True)
    for key in sorted(b.keys() - a.keys()):
        yield Change(f"{where}.{key}", "key added", False)
    for key in sorted(a.keys() & b.keys()):
        was, now = json_type(a[key]), json_type(b[key])
        if was != now:
            yield Change(f"{where}.{key}", f"type {was} -> {now}", was != "null")
        elif key == "detail" and a[key] != b[key]:
            yield Change(f"{where}.{key}", f"text {_quote(a[key])} -> {_quote(b[key])}", False)


def _server(old: Snapshot, new: Snapshot) -> list[Change]:
    changes = []
    if old.server_version != new.server_version:
        what = f"{_quote(old.server_version)} -> {_quote(new.server_version)}"
        changes.append(Change("server.version", what, False))
    if old.schema_sha256 != new.schema_sha256:
        what = "the served schema changed (spec-diff --base-url URL says how)"
        changes.append(Change("server.schema_sha256", what, False))
    return changes
