"""The one drift engine: can the new side send something the old one never did?

Three commands ask it: ``spec-diff`` (the fragment against a deployment's OpenAPI schema),
``snapshot-diff`` (two recordings of a deployment) and ``conformance --baseline`` (a snapshot
against the deployment now). Whatever they compare is first reduced to a :class:`Shape` (the
values an answer may hold): from a schema by ``document_shapes``, from recorded bodies by
``observed``. Two shapes are then compared by ``compare``, the one set of rules, and every
difference is a :class:`Change`. The answers a snapshot records besides bodies (statuses,
content types, the headers of the error contract) are compared by ``compare_answers``, with
the same vocabulary and their bodies through ``compare``.

A change is *breaking* when the new side may send what the old side did not (a new type, newly
nullable, no longer required, a field removed, an enum value added, a bound raised or removed,
a format changed, a status or content type changed, a header of the error contract gone) and
*compatible* when it only narrows what was sent, or adds to it where the old side allowed
anything (a field added, a header added). For the path parameter ``id`` the direction is
reversed: we send it, so the server accepting less is breaking. OPTIONS and HEAD answers
never break a client of this endpoint (a client sends GET; a proxy in front often answers
OPTIONS itself): their differences are listed as compatible. The README has the table of every
kind of change; ``tests/test_specdiff.py`` and ``tests/test_snapshot.py`` check each row.

Decisions where the issues are silent:

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
- What was observed says nothing of bounds, formats or forbidden extras: an observed shape
  has the types seen, null if seen, the keys present in every object as required, and the
  values seen of the fields the fragment declares as enums.

Hostile input is bounded: every schema node is resolved once (memoised by identity, so fan-out
``$ref``s and YAML aliases cost one resolution each), merges are memoised too, nesting stops
at :data:`MAX_DEPTH`, and anything malformed raises :class:`SchemaError` naming the spot as a
JSON pointer; an observed shape takes at most a given number of distinct fields
(:class:`TooManyFields`). Comparing is linear in the size of the shapes, and only names both
sides have are recursed into. Nothing a document contains is printed unescaped.
"""

from __future__ import annotations

import math
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs

from ls_model_providers._body import json_type
from ls_model_providers.toolkit.text import escape, printable, show

PATH: Final = "/api/model-provider-connections/{id}/"
MAX_DEPTH: Final = 64  # levels of nesting and $refs: the endpoint's body has 5
TYPES: Final = frozenset({"string", "number", "integer", "boolean", "object", "array"})
_NUMERIC: Final = frozenset({"number", "integer"})
# keyword -> (is an upper bound, the types it applies to)
BOUNDS: Final[Mapping[str, tuple[bool, frozenset[str]]]] = {
    "maxLength": (True, frozenset({"string"})),
    "minLength": (False, frozenset({"string"})),
    "maximum": (True, _NUMERIC),
    "minimum": (False, _NUMERIC),
}
#: Answers no client of this endpoint depends on: it sends GET (a proxy in front often answers
#: OPTIONS itself), and the version and schema routes are not the endpoint's contract.
NOT_A_CLIENTS_CONTRACT: Final = frozenset({"head", "options", "version", "schema"})
#: Answers whose body says nothing about the endpoint's contract (compared by status only).
_STATUS_ONLY: Final = frozenset({"version", "schema"})
#: The headers of the error contract: how to authenticate, and which methods exist.
CONTRACT_HEADERS: Final = ("allow", "www-authenticate")
_SHOWN: Final = 120  # characters of a server's text shown in a change

Scalar = str | int | float | bool | None
EnumKey = tuple[str, Scalar]  # (JSON type, value): keeps True and 1 apart


class SpecDiffError(Exception):
    """A schema that cannot be read or compared (exit 2); the message is safe to print."""

    def __str__(self) -> str:
        return printable(super().__str__())


class SchemaError(SpecDiffError):
    """A malformed or hostile document; ``pointer`` names the spot, ``side`` the document."""

    def __init__(self, pointer: str, problem: str, side: str = "theirs") -> None:
        super().__init__(f"{pointer}: {problem}")
        self.pointer, self.problem, self.side = pointer, problem, side


class TooManyFields(Exception):
    """What was observed holds more distinct fields than the bound it was read with."""


@attrs.frozen
class Change:
    """One difference: ``where`` (``body.created_by.email``, ``path.id``, ``answer.no_header``)
    and ``what`` changed; ``breaking`` when the new side may send what the old one did not."""

    where: str
    what: str
    breaking: bool

    def __str__(self) -> str:
        return printable(
            f"{'BREAKING' if self.breaking else 'compatible':<10}  {self.where}: {self.what}"
        )


@attrs.frozen(eq=False)
class Shape:
    """What an answer may hold, reduced to the keywords compared."""

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


def _enum_type(value: Scalar) -> str:
    """An enum value's JSON Schema type (``1.0`` is an integer there)."""
    kind = json_type(value)
    return "integer" if isinstance(value, float) and value.is_integer() else kind


def _show_types(types: frozenset[str] | None) -> str:
    return "any" if types is None else "/".join(sorted(types)) or "null"


# -- what an OpenAPI document says: its shapes -----------------------------------------------


def _kind(value: object) -> str:
    """``an object``, ``a string``, ``null``... for messages (YAML makes dates, too)."""
    name = json_type(value)
    name = "number" if name == "integer" else name
    return name if name == "null" else f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


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
            raise self.error(f"{at}/{escape(key)}", f"must be {_kind(kind())}, not {_kind(value)}")
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
            raise self.error(at, f"only local $refs ('#/...') are supported, not {show(ref)}")
        target: Any = self.doc
        for part in ref[1:].split("/")[1:]:
            key = urllib.parse.unquote(part).replace("~1", "/").replace("~0", "~")
            if isinstance(target, dict) and key in target:
                target = target[key]
            elif isinstance(target, list) and key.isdigit() and int(key) < len(target):
                target = target[int(key)]
            else:
                raise self.error(at, f"{show(ref)} does not resolve")
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
            raise self.error(f"{at}/type", f"not a JSON type (or list of them): {show(raw)}")
        types = None if names is None else frozenset(names) - {"null"}
        nullable = names is None or "null" in names
        enum = None
        values = self.get(node, "enum", list, at)
        if values is not None:
            for i, value in enumerate(values):
                if not isinstance(value, str | int | float | bool | None):
                    raise self.error(f"{at}/enum/{i}", f"must be a scalar, not {_kind(value)}")
            declared = types  # the values the type keyword lets through are the enum
            keys = ((_enum_type(v), v) for v in values if v is not None)
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
                raise self.error(f"{at}/{word}", f"must be a finite number, not {show(bound)}")
            bounds[word] = bound
        properties: dict[str, Shape] = {}
        for name, sub in (self.get(node, "properties", dict, at) or {}).items():
            if not isinstance(name, str):
                raise self.error(f"{at}/properties", f"names must be strings: {show(name)}")
            properties[name] = self.shape(sub, f"{at}/properties/{escape(name)}", depth + 1)
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
        at = f"#/paths/{escape(PATH)}"
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
            response, at = self.get(response, step, kind, at), f"{at}/{escape(step)}"
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


# -- what was observed: the shape recorded values were seen to satisfy ----------------------


def observed(
    values: list[Any], *, enums: frozenset[str] = frozenset(), max_fields: int | None = None
) -> Shape:
    """The shape ``values`` (parsed JSON, seen at one spot) satisfy: the types seen, null if
    seen, and for objects each key seen (required when in every one); ``enums`` names the keys
    of these objects whose values are listed. One pass: each value of each object goes to its
    key's list, so the whole tree is visited once. At most ``max_fields`` distinct fields (a key
    at one spot) are taken: ``TooManyFields`` past it, before anything is built for it."""
    return _observed(values, 0, [max_fields if max_fields is not None else -1], enums)


def _observed(values: list[Any], depth: int, left: list[int], enums: frozenset[str]) -> Shape:
    if depth > MAX_DEPTH:
        return ANY
    kinds = {json_type(v) for v in values}
    by_key: dict[str, list[Any]] = {}
    objects = 0
    for value in values:
        if isinstance(value, dict):
            objects += 1
            for key, item in value.items():
                seen = by_key.get(key)
                if seen is None:
                    if left[0] >= 0 and len(by_key) >= left[0]:
                        raise TooManyFields
                    by_key[key] = seen = []
                seen.append(item)
    properties: dict[str, Shape] = {}
    if objects and left[0] >= 0:
        left[0] -= len(by_key)
    for key in sorted(by_key):
        seen = by_key[key]
        shape = _observed(seen, depth + 1, left, frozenset())
        if key in enums and all(isinstance(v, str | None) for v in seen):
            shape = attrs.evolve(
                shape, enum=frozenset(("string", v) for v in seen if v is not None)
            )
        properties[key] = shape
    required = frozenset(k for k, seen in by_key.items() if len(seen) == objects)
    return Shape(
        types=frozenset(kinds - {"null"}), nullable="null" in kinds, properties=properties,
        required=required if objects else frozenset(),
    )  # fmt: skip


# -- the rules: comparing two shapes ------------------------------------------------------------


def _accepted(types: frozenset[str] | None, we_send: bool) -> frozenset[str] | None:
    """In a path everything is text: a string parameter accepts any scalar we could send."""
    if we_send and types is not None and "string" in types:
        return types | {"integer", "number", "boolean"}
    return types


def compare(ours: Shape, theirs: Shape, where: str, *, we_send: bool = False) -> list[Change]:
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
            add(f"enum value added: {show(value)}", True, False)
        for _, value in sorted(ours.enum - theirs.enum, key=str):
            add(f"enum value removed: {show(value)}", False, True)
    elif ours.enum is not None:
        add("enum removed: any value of its type", True, False)
    elif theirs.enum is not None:
        add(f"now an enum of {len(theirs.enum)} value(s)", False, True)
    if ours.fmt != theirs.fmt:
        if ours.fmt is None:
            add(f"format {show(theirs.fmt)} added", False, True)
        elif theirs.fmt is None:
            add(f"format {show(ours.fmt)} removed", True, False)
        else:
            add(f"format {show(ours.fmt)} -> {show(theirs.fmt)}", True, True)
    for word, (upper, applies) in BOUNDS.items():
        was, now = ours.bounds.get(word), theirs.bounds.get(word)
        if was == now or not (_admits(ours, applies) and _admits(theirs, applies)):
            continue
        if now is None:
            add(f"{word} {show(was)} removed", True, False)
        elif was is None:
            add(f"{word} {show(now)} added", False, True)
        else:
            wider = now > was if upper else now < was
            add(f"{word} {show(was)} -> {show(now)}", wider, not wider)
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
        changes += compare(ours.properties[name], theirs.properties[name], f"{where}.{name}")
    if ours.extra != theirs.extra:
        what = "allowed" if theirs.extra else "forbidden"
        add(f"additional properties now {what}", theirs.extra, ours.extra)
    return changes


def document_shapes(doc: Any, side: str) -> tuple[Shape, Shape] | None:
    """The 200 body's shape and the path ``id``'s in an OpenAPI document (``None`` when it
    lacks the endpoint); ``SchemaError`` names the spot of what is malformed, on ``side``."""
    resolver = _Resolver(doc, side)
    body = resolver.body()
    return None if body is None else (body, resolver.path_id())


def compare_documents(ours: Any, theirs: Any) -> list[Change] | None:
    """Every change from our document to theirs (spec-diff); None when theirs lacks the endpoint.

    Example::

        changes = compare_documents(load_spec(), load_document(path.read_bytes()))
        breaking = changes is not None and any(c.breaking for c in changes)

    Raises :class:`SchemaError` (``side`` "ours" or "theirs") for a malformed document.
    """
    their_shapes = document_shapes(theirs, "theirs")
    if their_shapes is None:
        return None
    our_shapes = document_shapes(ours, "ours")
    if our_shapes is None:
        raise SchemaError("#/paths", f"{PATH} has no GET operation", "ours")
    return compare(our_shapes[0], their_shapes[0], "body") + compare(
        our_shapes[1], their_shapes[1], "path.id", we_send=True
    )


# -- the answers a snapshot records: statuses, content types, the error contract's headers -----


def _quote(value: object) -> str:
    return show(value, _SHOWN)


def _media_type(answer: Mapping[str, Any]) -> str:
    return str(answer["headers"].get("content-type", "")).split(";")[0].strip().lower()


def _not_served(answer: Mapping[str, Any]) -> bool:
    """An HTML 404 (no route): nothing can have depended on it."""
    return answer["status"] == 404 and "body" not in answer


def compare_answers(
    old: Mapping[str, Mapping[str, Any]], new: Mapping[str, Mapping[str, Any]]
) -> list[Change]:
    """The recorded answers (by probe name: ``no_header``, ``missing_id``, ``options``...),
    compared by the same rules: a status, a content type, a JSON body, a header of the error
    contract that changed or went away is breaking; one that appeared, a header value or a
    ``detail`` text that changed, a route that was not served before, compatible. Differences
    in ``NOT_A_CLIENTS_CONTRACT`` answers are all compatible (their ``what`` says why)."""
    changes: list[Change] = []
    for name in sorted(old.keys() | new.keys()):
        where = f"answer.{name}"
        if name not in old or name not in new:
            side = "new" if name in new else "old"
            changes.append(Change(where, f"recorded in the {side} snapshot only", False))
            continue
        found = list(_answer_changes(old[name], new[name], where, name not in _STATUS_ONLY))
        if name in NOT_A_CLIENTS_CONTRACT:
            aside = f"{name.upper()}: no client of this endpoint depends on it"
            found = [Change(c.where, f"{c.what} ({aside})", False) for c in found]
        changes += found
    return changes


def _answer_changes(
    a: Mapping[str, Any], b: Mapping[str, Any], where: str, with_body: bool
) -> Iterable[Change]:
    if a["status"] != b["status"]:
        if _not_served(a):
            yield Change(where, f"now served: status {a['status']} -> {b['status']}", False)
            return
        yield Change(where, f"status {a['status']} -> {b['status']}", True)
    if _media_type(a) != _media_type(b):
        what = f"content type {_quote(_media_type(a))} -> {_quote(_media_type(b))}"
        yield Change(where, what, True)
    for header in CONTRACT_HEADERS:
        was, now = a["headers"].get(header), b["headers"].get(header)
        if was == now:
            continue
        if now is None:
            yield Change(where, f"header {header} removed (was {_quote(was)})", True)
        elif was is None:
            yield Change(where, f"header {header} added: {_quote(now)}", False)
        else:
            yield Change(where, f"header {header} {_quote(was)} -> {_quote(now)}", False)
    if a.get("form") != b.get("form"):
        yield Change(where, f"form {a.get('form')} -> {b.get('form')}", True)
    if a.get("page_size") != b.get("page_size"):
        yield Change(where, f"page size {a.get('page_size')} -> {b.get('page_size')}", False)
    if with_body:
        yield from _body_changes(a.get("body"), b.get("body"), f"{where}.body")


def _body_changes(a: Any, b: Any, where: str) -> Iterable[Change]:
    if a is None or b is None:
        if (a is None) != (b is None):
            what = "a JSON body removed" if b is None else "a JSON body added"
            yield Change(where, what, b is None)
        return
    yield from compare(observed([a]), observed([b]), where)
    if isinstance(a, dict) and isinstance(b, dict):
        was, now = a.get("detail"), b.get("detail")
        if isinstance(was, str) and isinstance(now, str) and was != now:
            yield Change(f"{where}.detail", f"text {_quote(was)} -> {_quote(now)}", False)


def compare_servers(
    old_version: str | None, new_version: str | None, old_schema: str | None, new_schema: str | None
) -> list[Change]:
    """A new server version, or a changed served schema: listed, compatible (spec-diff says
    what a schema change means)."""
    changes = []
    if old_version != new_version:
        what = f"{_quote(old_version)} -> {_quote(new_version)}"
        changes.append(Change("server.version", what, False))
    if old_schema != new_schema:
        what = "the served schema changed (spec-diff --base-url URL says how)"
        changes.append(Change("server.schema_sha256", what, False))
    return changes
