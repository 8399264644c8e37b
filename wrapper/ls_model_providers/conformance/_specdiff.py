"""spec-diff: can the other side send something our fragment rejects?

``compare(ours, theirs)`` reduces the 200 body of ``GET /api/model-provider-connections/{id}/``
in each OpenAPI document to a :class:`Shape` (the values a schema accepts, approximately) and
lists every difference as a :class:`Change`. A change is *breaking* when it widens what the
server may send beyond what the fragment accepts (a new type, newly nullable, no longer
required, a field removed, an enum value added, a bound raised or removed, a format changed)
and *compatible* when it only narrows it. For the path parameter ``id`` the direction is
reversed: we send it, so the server accepting less is breaking. The README has the table of
every kind of change; ``tests/test_specdiff.py`` checks each row.

Decisions where the issue is silent:

- New fields are compatible because the fragment allows additional properties everywhere;
  where an object of ours says ``additionalProperties: false``, a new field is breaking, and
  so is their object starting to allow extras. A schema for additional properties counts as
  "allowed". A removed field is breaking (it may now be absent or hold anything), except an
  optional one in an object of theirs that forbids extras: that only narrows.
- In a path every value is text, so a path ``id`` typed ``string`` accepts the integers we
  send (the docs say string, servers route integers: compatible).
- ``nullable: true`` makes a schema accept null even next to ``allOf``, as drf-spectacular and
  the generator mean it (a strict OpenAPI 3.0 reading would ignore it there). A schema
  without ``type`` or ``enum`` accepts null, like JSON Schema.
- ``allOf`` intersects, ``oneOf``/``anyOf`` unite; a union keeps only what every alternative
  constrains (``oneOf: [an enum, {type: integer}]`` accepts any string). Keywords compared:
  type, nullable, enum, format, maxLength, minLength, minimum, maximum, properties, required,
  additionalProperties, and the ``$ref``/``allOf``/``oneOf``/``anyOf`` that combine them.
  Others (pattern, items, exclusive bounds, ...) are ignored; the fragment uses none of them,
  which a test keeps true.
- A recursive schema (a ``$ref`` back to a schema being resolved) is refused as cyclic: the
  endpoint has none, and refusing is cheaper than reasoning about infinite shapes.

Hostile input is bounded: a document over :data:`MAX_SCHEMA_BYTES` or with more structural
tokens than :data:`MAX_SCHEMA_TOKENS` is refused before it is parsed (what it would take once
parsed grows with its values, not its bytes: 63 MB of ``[{},{},...]`` took 1.6 GB), every
node is resolved once (memoised by identity, so fan-out ``$ref``s and YAML aliases cost one
resolution each), merges are memoised too, nesting stops at :data:`MAX_DEPTH`, and anything
malformed raises :class:`SchemaError` naming the spot as a JSON pointer. Nothing a document
contains is printed unescaped. ``fetch`` reads the body raw and decodes it with the client's
bounded decoder, and every socket operation of it ends by its deadline.
"""

from __future__ import annotations

import gc
import json
import math
import ssl
import time
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any, Final

import attrs
import httpx
import yaml

from ls_model_providers import _constants as C
from ls_model_providers import _transport
from ls_model_providers._body import BodyReader, BodyTooLarge, UndecodableBody
from ls_model_providers._errors import certificate_problem

# Exit codes (0 nothing breaking, 1 breaking, 2 malformed, 3 not in the schema, 5 unreachable)
# are every command's, in ls_model_providers.cli._shared; so is `printable`.
from ls_model_providers.cli._shared import printable

PATH: Final = "/api/model-provider-connections/{id}/"
NOT_IN_SCHEMA: Final = "endpoint not in the served schema"
SCHEMA_PATH: Final = "/docs/api/schema/json/"  # where Label Studio serves its OpenAPI
MAX_DEPTH: Final = 64  # levels of nesting and $refs: the endpoint's body has 5
#: Label Studio's full served schema (~46,000 lines as YAML) is about 1.2 MB of JSON: this
#: is seven times that, and what a document may take in memory once parsed stays bounded.
MAX_SCHEMA_BYTES: Final = 8 * 1024 * 1024
#: Each value a parsed document holds costs 50 to 500 bytes (a YAML node the most), whatever
#: its text: so the '{', '[' and ',' of JSON and YAML's flow style, and the lines and '- '
#: items of YAML's block style, are counted before parsing. A schema shaped like Label
#: Studio's (benchmarks/specdiff.py, 46,000 lines) has 51,000 of them as JSON, 54,000 as
#: YAML, 123,000 as indented JSON; the real one, 1.2 MB, about 65,000. 500,000 is 4 to 8
#: times that, and the worst document under it takes about 270 MB parsed (YAML; 94 MB JSON).
MAX_SCHEMA_TOKENS: Final = 500_000
FETCH_TIMEOUT: Final = 30.0  # seconds per connect/read
FETCH_DEADLINE: Final = 120.0  # seconds for the whole fetch: headers dripping in end here too

TYPES: Final = frozenset({"string", "number", "integer", "boolean", "object", "array"})
_NUMERIC: Final = frozenset({"number", "integer"})
# keyword -> (is an upper bound, the types it applies to)
BOUNDS: Final[Mapping[str, tuple[bool, frozenset[str]]]] = {
    "maxLength": (True, frozenset({"string"})),
    "minLength": (False, frozenset({"string"})),
    "maximum": (True, _NUMERIC),
    "minimum": (False, _NUMERIC),
}
# libyaml when PyYAML was built with it: 6x faster than the Python loader on big schemas.
_LOADER: Final = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Scalar = str | int | float | bool | None
EnumKey = tuple[str, Scalar]  # (JSON type, value): keeps True and 1 apart


class SpecDiffError(Exception):
    """A schema that cannot be read or compared (exit 2); the message is safe to print."""

    def __str__(self) -> str:
        return printable(super().__str__())


class Unreachable(SpecDiffError):
    """The schema URL could not be reached: DNS, refused, TLS, timeouts (exit 5)."""


class SchemaError(SpecDiffError):
    """A malformed or hostile document; ``pointer`` names the spot, ``side`` the document."""

    def __init__(self, pointer: str, problem: str, side: str = "theirs") -> None:
        super().__init__(f"{pointer}: {problem}")
        self.pointer, self.problem, self.side = pointer, problem, side


@attrs.frozen
class Change:
    """One difference: ``where`` (``body.created_by.email``, ``path.id``) and ``what`` changed."""

    where: str
    what: str
    breaking: bool

    def __str__(self) -> str:
        return printable(
            f"{'BREAKING' if self.breaking else 'compatible':<10}  {self.where}: {self.what}"
        )


@attrs.frozen(eq=False)
class Shape:
    """What a schema accepts, reduced to the keywords we compare."""

    types: frozenset[str] | None = None  # JSON types of non-null values; None: any
    nullable: bool = True
    enum: frozenset[EnumKey] | None = None  # the only non-null values; None: any
    fmt: str | None = None
    bounds: Mapping[str, float] = attrs.field(factory=dict)
    properties: Mapping[str, Shape] = attrs.field(factory=dict)
    required: frozenset[str] = frozenset()
    extra: bool = True  # additional properties allowed


ANY: Final = Shape()
NOTHING: Final = Shape(types=frozenset(), nullable=False, enum=frozenset())


# -- set algebra on types (integer is a subset of number) ----------------------------------


def _expand(types: frozenset[str]) -> frozenset[str]:
    return types | {"integer"} if "number" in types else types


def _tidy(types: frozenset[str]) -> frozenset[str]:
    return types - {"integer"} if "number" in types else types


def _subset(a: frozenset[str] | None, b: frozenset[str] | None) -> bool:
    return b is None or (a is not None and _expand(a) <= _expand(b))


def _admits(shape: Shape, types: frozenset[str]) -> bool:
    return shape.types is None or bool(_expand(shape.types) & types)


def _json_type(value: Scalar) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"
    return "number" if isinstance(value, float) else "string"


def _show(value: object) -> str:
    return json.dumps(value) if isinstance(value, str | int | float | bool | None) else str(value)


def _show_types(types: frozenset[str] | None) -> str:
    return "any" if types is None else "/".join(sorted(types)) or "null"


# -- resolving a document into shapes --------------------------------------------------------


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


_KINDS: Final[Mapping[type, str]] = {
    dict: "an object", list: "an array", str: "a string", bool: "a boolean",
    int: "a number", float: "a number", type(None): "null",
}  # fmt: skip


def _kind(value: object) -> str:
    return _KINDS.get(type(value), f"a {type(value).__name__}")  # YAML makes dates, too


class _Resolver:
    """Shapes for the schemas of one document; ``work`` counts resolutions and merges."""

    def __init__(self, doc: Any, side: str) -> None:
        if not isinstance(doc, dict):
            raise SchemaError("#", f"the document is {_kind(doc)}, not an OpenAPI object", side)
        self.doc, self.side, self.work = doc, side, 0
        # Keyed by id(): the document owns its nodes, so ids are stable while we hold it.
        self._shapes: dict[int, Shape] = {}
        self._active: set[int] = set()
        self._merged: dict[tuple[str, int, int], tuple[Shape, Shape, Shape]] = {}

    def error(self, pointer: str, problem: str) -> SchemaError:
        return SchemaError(pointer, problem, self.side)

    def get(self, node: dict[str, Any], key: str, kind: type, at: str) -> Any:
        """``node[key]`` checked to be of ``kind`` (None when absent)."""
        value = node.get(key)
        if value is not None and not isinstance(value, kind):
            raise self.error(f"{at}/{_escape(key)}", f"must be {_KINDS[kind]}, not {_kind(value)}")
        return value

    def follow(self, node: Any, at: str) -> tuple[Any, str]:
        """Follow ``$ref`` chains of non-schema objects (responses, parameters)."""
        for _ in range(MAX_DEPTH):
            if not (isinstance(node, dict) and "$ref" in node):
                return node, at
            node, at = self.deref(node["$ref"], f"{at}/$ref")
        raise self.error(at, f"more than {MAX_DEPTH} chained $refs")

    def deref(self, ref: object, at: str) -> tuple[Any, str]:
        if not isinstance(ref, str) or not ref.startswith("#"):
            raise self.error(at, f"only local $refs ('#/...') are supported, not {_show(ref)}")
        target: Any = self.doc
        for part in ref[1:].split("/")[1:]:
            key = urllib.parse.unquote(part).replace("~1", "/").replace("~0", "~")
            if isinstance(target, dict) and key in target:
                target = target[key]
            elif isinstance(target, list) and key.isdigit() and int(key) < len(target):
                target = target[int(key)]
            else:
                raise self.error(at, f"{_show(ref)} does not resolve")
        return target, ref

    def shape(self, node: Any, at: str, depth: int = 0) -> Shape:
        if isinstance(node, bool):  # JSON Schema's true/false schemas
            return ANY if node else NOTHING
        if not isinstance(node, dict):
            raise self.error(at, f"a schema must be an object, not {_kind(node)}")
        key = id(node)
        if key in self._shapes:
            return self._shapes[key]
        if key in self._active:
            raise self.error(at, "cyclic $ref (this schema contains itself)")
        if depth > MAX_DEPTH:
            raise self.error(at, f"nested more than {MAX_DEPTH} levels deep")
        self._active.add(key)
        self.work += 1
        try:
            result = self._own(node, at, depth)
            if "$ref" in node:
                target, target_at = self.deref(node["$ref"], f"{at}/$ref")
                result = self.merge("all", result, self.shape(target, target_at, depth + 1))
            for word in ("allOf", "oneOf", "anyOf"):
                parts = self.get(node, word, list, at)
                if parts is None:
                    continue
                if not parts:
                    raise self.error(f"{at}/{word}", "must not be empty")
                shapes = [self.shape(p, f"{at}/{word}/{i}", depth + 1) for i, p in enumerate(parts)]
                op = "all" if word == "allOf" else "any"
                combined = shapes[0]
                for other in shapes[1:]:
                    combined = self.merge(op, combined, other)
                result = self.merge("all", result, combined)
            if self.get(node, "nullable", bool, at):
                result = attrs.evolve(result, nullable=True)
        finally:
            self._active.discard(key)
        self._shapes[key] = result
        return result

    def _own(self, node: dict[str, Any], at: str, depth: int) -> Shape:
        """The node's own keywords, without $ref and combinators (ANY when it has none)."""
        raw = node.get("type")
        names = [raw] if isinstance(raw, str) else raw
        if raw is not None and not (
            isinstance(names, list) and all(n in TYPES or n == "null" for n in names)
        ):
            raise self.error(f"{at}/type", f"not a JSON type (or list of them): {_show(raw)}")
        types = None if names is None else frozenset(names) - {"null"}
        nullable = names is None or "null" in names
        enum = None
        values = self.get(node, "enum", list, at)
        if values is not None:
            for i, value in enumerate(values):
                if not isinstance(value, str | int | float | bool | None):
                    raise self.error(f"{at}/enum/{i}", f"must be a scalar, not {_kind(value)}")
            declared = types  # the values the type keyword lets through are the enum
            keys = ((_json_type(v), v) for v in values if v is not None)
            enum = frozenset(k for k in keys if _subset(frozenset({k[0]}), declared))
            types = _tidy(frozenset(kind for kind, _ in enum))
            nullable = None in values
        fmt = self.get(node, "format", str, at)
        bounds: dict[str, float] = {}
        for word in BOUNDS:
            bound = node.get(word)
            if bound is None:
                continue
            if (
                isinstance(bound, bool)
                or not isinstance(bound, int | float)
                or not math.isfinite(bound)
            ):
                raise self.error(f"{at}/{word}", f"must be a finite number, not {_show(bound)}")
            bounds[word] = bound
        properties: dict[str, Shape] = {}
        for name, sub in (self.get(node, "properties", dict, at) or {}).items():
            if not isinstance(name, str):
                raise self.error(f"{at}/properties", f"names must be strings: {_show(name)}")
            properties[name] = self.shape(sub, f"{at}/properties/{_escape(name)}", depth + 1)
        required = self.get(node, "required", list, at) or []
        for i, name in enumerate(required):
            if not isinstance(name, str):
                raise self.error(f"{at}/required/{i}", f"must be a string, not {_kind(name)}")
        extra = node.get("additionalProperties", True)
        if not isinstance(extra, bool | dict):
            problem = f"must be a boolean or a schema, not {_kind(extra)}"
            raise self.error(f"{at}/additionalProperties", problem)
        shape = Shape(
            types, nullable, enum, fmt, bounds, properties, frozenset(required), extra is not False
        )
        return (
            ANY
            if attrs.astuple(shape, recurse=False) == attrs.astuple(ANY, recurse=False)
            else shape
        )

    def merge(self, op: str, a: Shape, b: Shape) -> Shape:
        """``allOf`` (op "all") or ``oneOf``/``anyOf`` (op "any") of two shapes, memoised."""
        if a is b or (op == "all" and b is ANY) or (op == "any" and b is NOTHING):
            return a
        if (op == "all" and a is ANY) or (op == "any" and a is NOTHING):
            return b
        key = (op, id(a), id(b))
        if key not in self._merged:  # a and b are kept alive with the result: ids stay unique
            self.work += 1
            self._merged[key] = (a, b, (_intersect if op == "all" else _unite)(self, a, b))
        return self._merged[key][2]

    def operation(self) -> tuple[dict[str, Any], dict[str, Any], str] | None:
        """Our GET operation, its path item and the item's pointer; None when absent."""
        paths = self.get(self.doc, "paths", dict, "#")
        item = (paths or {}).get(PATH)
        at = f"#/paths/{_escape(PATH)}"
        if item is None:
            return None
        if not isinstance(item, dict):
            raise self.error(at, f"a path item must be an object, not {_kind(item)}")
        get = self.get(item, "get", dict, at)
        return None if get is None else (get, item, at)

    def body(self) -> Shape | None:
        """The 200 JSON body; None when the operation is absent, ANY when it says nothing."""
        found = self.operation()
        if found is None:
            return None
        at = f"{found[2]}/get/responses"
        responses = self.get(found[0], "responses", dict, f"{found[2]}/get") or {}
        response, at = self.follow(responses.get("200", responses.get(200)), f"{at}/200")
        steps = (("content", dict), ("application/json", dict), ("schema", object))
        for step, kind in steps:
            if response is None:
                return ANY  # no 200 JSON schema: it may send anything
            if not isinstance(response, dict):
                raise self.error(at, f"must be an object, not {_kind(response)}")
            response, at = self.get(response, step, kind, at), f"{at}/{_escape(step)}"
        return ANY if response is None else self.shape(response, at)

    def path_id(self) -> Shape:
        """What the server accepts as ``id`` in the path (ANY when it does not say)."""
        found = self.operation()
        if found is None:
            return ANY
        get, item, at = found
        schema: Any = None
        schema_at = at
        for owner, owner_at in ((item, at), (get, f"{at}/get")):  # the operation's wins
            for i, raw in enumerate(self.get(owner, "parameters", list, owner_at) or []):
                param, param_at = self.follow(raw, f"{owner_at}/parameters/{i}")
                if not isinstance(param, dict):
                    raise self.error(param_at, f"must be an object, not {_kind(param)}")
                if param.get("in") == "path" and param.get("name") == "id":
                    schema, schema_at = param.get("schema", True), f"{param_at}/schema"
        return ANY if schema is None else self.shape(schema, schema_at)


def _intersect(r: _Resolver, a: Shape, b: Shape) -> Shape:
    types = (
        a.types
        if b.types is None
        else b.types
        if a.types is None
        else _tidy(_expand(a.types) & _expand(b.types))
    )
    enum = a.enum if b.enum is None else b.enum if a.enum is None else a.enum & b.enum
    bounds = dict(a.bounds)
    for word, value in b.bounds.items():  # the tighter bound wins
        tighter = min if BOUNDS[word][0] else max
        bounds[word] = tighter(bounds[word], value) if word in bounds else value
    properties = dict(a.properties)
    for name, sub in b.properties.items():
        properties[name] = r.merge("all", properties[name], sub) if name in properties else sub
    nullable, extra = a.nullable and b.nullable, a.extra and b.extra
    return Shape(
        types, nullable, enum, a.fmt or b.fmt, bounds, properties, a.required | b.required, extra
    )


def _unite(r: _Resolver, a: Shape, b: Shape) -> Shape:
    for only_null, other in ((a, b), (b, a)):
        if only_null.types == frozenset():  # NullEnum, {type: 'null'}: nullability only
            return attrs.evolve(other, nullable=other.nullable or only_null.nullable)
    types = None if a.types is None or b.types is None else _tidy(a.types | b.types)
    enum = None if a.enum is None or b.enum is None else a.enum | b.enum
    bounds: dict[str, float] = {}
    # A bound holds for the union if every part that admits such values has it.
    for word, (upper, applies) in BOUNDS.items():
        values = [s.bounds.get(word) for s in (a, b) if _admits(s, applies)]
        if values and None not in values:
            bounds[word] = (max if upper else min)(v for v in values if v is not None)
    objects = [s for s in (a, b) if _admits(s, frozenset({"object"}))]
    properties: dict[str, Shape] = {}
    for part in objects:
        for name, sub in part.properties.items():
            properties[name] = r.merge("any", properties[name], sub) if name in properties else sub
    required = frozenset.intersection(*(s.required for s in objects)) if objects else frozenset()
    nullable, fmt, extra = (
        a.nullable or b.nullable,
        a.fmt if a.fmt == b.fmt else None,
        any(s.extra for s in objects),
    )
    return Shape(types, nullable, enum, fmt, bounds, properties, required, extra)


# -- comparing shapes --------------------------------------------------------------------------


def _accepted(types: frozenset[str] | None, we_send: bool) -> frozenset[str] | None:
    """In a path everything is text: a string parameter accepts any scalar we could send."""
    if we_send and types is not None and "string" in types:
        return types | {"integer", "number", "boolean"}
    return types


def _diff(ours: Shape, theirs: Shape, where: str, *, we_send: bool = False) -> list[Change]:
    """Differences from ``ours`` to ``theirs``. Only names both sides have are recursed into,
    so the work is bounded by the size of ``ours`` (the fragment), whatever ``theirs`` holds."""
    changes: list[Change] = []

    def add(what: str, widens: bool, narrows: bool, at: str = where) -> None:
        changes.append(Change(at, what, narrows if we_send else widens))

    accepted, offered = _accepted(ours.types, we_send), _accepted(theirs.types, we_send)
    widens, narrows = not _subset(offered, accepted), not _subset(accepted, offered)
    if widens or narrows:
        add(f"type {_show_types(ours.types)} -> {_show_types(theirs.types)}", widens, narrows)
    if ours.nullable != theirs.nullable:
        what = "now nullable" if theirs.nullable else "no longer nullable"
        add(what, theirs.nullable, ours.nullable)
    if ours.enum is not None and theirs.enum is not None:
        for _, value in sorted(theirs.enum - ours.enum, key=str):
            add(f"enum value added: {_show(value)}", True, False)
        for _, value in sorted(ours.enum - theirs.enum, key=str):
            add(f"enum value removed: {_show(value)}", False, True)
    elif ours.enum is not None:
        add("enum removed: any value of its type", True, False)
    elif theirs.enum is not None:
        add(f"now an enum of {len(theirs.enum)} value(s)", False, True)
    if ours.fmt != theirs.fmt:
        if ours.fmt is None:
            add(f"format {_show(theirs.fmt)} added", False, True)
        elif theirs.fmt is None:
            add(f"format {_show(ours.fmt)} removed", True, False)
        else:
            add(f"format {_show(ours.fmt)} -> {_show(theirs.fmt)}", True, True)
    for word, (upper, applies) in BOUNDS.items():
        was, now = ours.bounds.get(word), theirs.bounds.get(word)
        if was == now or not (_admits(ours, applies) and _admits(theirs, applies)):
            continue
        if now is None:
            add(f"{word} {_show(was)} removed", True, False)
        elif was is None:
            add(f"{word} {_show(now)} added", False, True)
        else:
            wider = now > was if upper else now < was
            add(f"{word} {_show(was)} -> {_show(now)}", wider, not wider)
    if not (_admits(ours, frozenset({"object"})) and _admits(theirs, frozenset({"object"}))):
        return changes
    for name in sorted(ours.properties.keys() - theirs.properties.keys()):
        silent = not theirs.extra and name not in ours.required  # they simply stopped sending it
        add("field removed", not silent, silent, f"{where}.{name}")
    for name in sorted(theirs.properties.keys() - ours.properties.keys()):
        required = " (required)" if name in theirs.required else ""
        add(f"field added{required}", not ours.extra, False, f"{where}.{name}")
    for name in sorted(ours.properties.keys() & theirs.properties.keys()):
        was_required, is_required = name in ours.required, name in theirs.required
        if was_required != is_required:
            what = "now required" if is_required else "no longer required"
            add(what, was_required, is_required, f"{where}.{name}")
        changes += _diff(ours.properties[name], theirs.properties[name], f"{where}.{name}")
    if ours.extra != theirs.extra:
        what = "allowed" if theirs.extra else "forbidden"
        add(f"additional properties now {what}", theirs.extra, ours.extra)
    return changes


def compare(ours: Any, theirs: Any) -> list[Change] | None:
    """Every change from our document to theirs; None when theirs lacks the endpoint.

    Example::

        changes = compare(load_spec(), load_document(path.read_bytes()))
        breaking = changes is not None and any(c.breaking for c in changes)

    Raises :class:`SchemaError` (``side`` "ours" or "theirs") for a malformed document.
    """
    their_schemas = _Resolver(theirs, "theirs")
    their_body = their_schemas.body()
    if their_body is None:
        return None
    our_schemas = _Resolver(ours, "ours")
    our_body = our_schemas.body()
    if our_body is None:
        raise our_schemas.error("#/paths", f"{PATH} has no GET operation")
    return _diff(our_body, their_body, "body") + _diff(
        our_schemas.path_id(), their_schemas.path_id(), "path.id", we_send=True
    )


# -- reading documents -------------------------------------------------------------------------


def structural_tokens(data: bytes) -> int:
    """How many values ``data`` may hold once parsed (within a small factor), counted without
    parsing it: in JSON every container starts with '{' or '[' and every value after a
    container's first follows a ','; YAML's block style starts a value per line or '- ' item."""
    return (
        data.count(b"{") + data.count(b"[") + data.count(b",")
        + data.count(b"\n") + data.count(b"- ")
    )  # fmt: skip


def check_size(data: bytes) -> None:
    """Refuse, before it is parsed, a document larger than a schema could be
    (:data:`MAX_SCHEMA_BYTES`, :data:`MAX_SCHEMA_TOKENS`): :class:`SpecDiffError`."""
    if len(data) > MAX_SCHEMA_BYTES:
        raise SpecDiffError(f"larger than {MAX_SCHEMA_BYTES} bytes: not a schema")
    tokens = structural_tokens(data)
    if tokens > MAX_SCHEMA_TOKENS:
        raise SpecDiffError(
            f"{tokens} values or more, over the {MAX_SCHEMA_TOKENS} a schema may have "
            "(a schema the size of Label Studio's has about 65,000): refused before parsing"
        )


def load_document(data: bytes) -> Any:
    """Parse JSON (with ``json``: fast) or YAML (with libyaml when available), after
    :func:`check_size`."""
    check_size(data)
    # Loading builds a million small objects and none is garbage yet; the cyclic collector
    # would rescan them all again and again (5x the time for a 46,000-line YAML schema).
    collecting = gc.isenabled()
    gc.disable()
    try:
        text = data.decode("utf-8-sig")
        if text.lstrip()[:1] in ("{", "["):
            try:
                return json.loads(text)
            except json.JSONDecodeError:
                pass  # YAML flow style starts the same way
        # _LOADER is CSafeLoader or SafeLoader: safe either way.
        return yaml.load(text, Loader=_LOADER)  # noqa: S506
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SpecDiffError(f"not JSON or YAML{where}: {exc.problem}") from None
    except (ValueError, yaml.YAMLError, RecursionError) as exc:
        raise SpecDiffError(f"not JSON or YAML: {type(exc).__name__}: {exc}") from None
    finally:
        if collecting:
            gc.enable()


def fetch(
    url: str,
    *,
    verify: bool | str | ssl.SSLContext = True,
    timeout: float = FETCH_TIMEOUT,
    deadline: float = FETCH_DEADLINE,
    max_bytes: int = MAX_SCHEMA_BYTES,
    clock: Callable[[], float] = time.monotonic,
) -> bytes:
    """GET ``url`` and return its body, bounded in time and size.

    Every connect, read and write waits at most ``timeout`` seconds and ends by ``deadline``
    seconds after the call began (headers dripping in included: the client's own deadline
    hook, ``_transport``). The body is read raw and decoded by the client's ``BodyReader``
    (gzip and deflate, at most two stacked, never inflated past ``max_bytes``).

    ``verify``: True (the system's CAs, or ``SSL_CERT_FILE``), False, a CA bundle path, or
    an ``ssl.SSLContext`` (what the command passes: ``cli._shared.trust``).
    Raises :class:`Unreachable` for DNS, refused, TLS and timeouts (its message names
    ``url``), :class:`SpecDiffError` for anything else (a non-200 answer, a body over
    ``max_bytes`` or undecodable, a bad URL; the caller names the URL, as the command does).
    """
    if not url.lower().startswith(("http://", "https://")):
        raise SpecDiffError("not an http:// or https:// URL")
    try:
        context = ssl.create_default_context(cafile=verify) if isinstance(verify, str) else verify
    except (OSError, ssl.SSLError) as exc:
        raise SpecDiffError(f"cannot use CA bundle {verify}: {exc}") from None
    started, ends = clock(), time.monotonic() + deadline
    late = Unreachable(f"{url}: the schema took longer than {deadline:g} s")
    headers = {"Accept": "application/json", "Accept-Encoding": C.ACCEPT_ENCODING}
    try:
        # A client of our own (not a custom transport), so `install` can bound its sockets.
        client = httpx.Client(
            timeout=timeout, verify=context, follow_redirects=True, headers=headers
        )
        _transport.install(client)
        with client, _transport.deadline_scope(deadline), client.stream("GET", url) as response:
            if response.status_code != 200:
                raise SpecDiffError(f"answered HTTP {response.status_code}, not a schema")
            reader = BodyReader(max_bytes, response.headers)
            for chunk in response.iter_raw():
                reader.feed(chunk)
                if clock() - started > deadline:
                    raise late
            return reader.finish()
    except BodyTooLarge:
        raise SpecDiffError(f"schema larger than {max_bytes} bytes") from None
    except UndecodableBody as exc:
        raise SpecDiffError(str(exc)) from None
    except (httpx.TimeoutException, httpx.NetworkError) as exc:
        if isinstance(exc, httpx.TimeoutException) and time.monotonic() >= ends - 0.1:
            raise late from None  # the deadline, not one read, ran out
        problem = certificate_problem(exc)
        if problem is not None:  # the reason, not OpenSSL's whole line
            raise Unreachable(f"{url}: TLS certificate not trusted ({problem})") from None
        raise Unreachable(f"{url} is unreachable: {type(exc).__name__}: {exc}") from None
    except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
        raise SpecDiffError(f"{type(exc).__name__}: {exc}") from None
