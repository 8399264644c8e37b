"""Compare our fragment's operation with a served or saved OpenAPI document.

Lists added, removed and changed fields (type, format, nullability, enum values,
required-ness, maxLength) of the 200 body, recursively through ``$ref``/``allOf``/``oneOf``.
A change is *breaking* when code written against the fragment could break: a field
removed, no longer required, or newly nullable; a type or format changed; an enum value
removed. New fields and new enum values are not breaking for our client (it keeps them),
though the conformance suite reports an undocumented enum value as a schema violation.
"""

from __future__ import annotations

from typing import Any

import attrs

PATH = "/api/model-provider-connections/{id}/"
NOT_IN_SCHEMA = "endpoint not in the served schema"


@attrs.define
class Change:
    where: str
    what: str
    breaking: bool

    def __str__(self) -> str:
        return f"{'BREAKING' if self.breaking else 'change  '}  {self.where}: {self.what}"


@attrs.define
class Flat:
    """A property schema reduced to what we compare."""

    types: frozenset[str]
    nullable: bool
    fmt: str | None
    enum: frozenset[Any] | None
    max_length: int | None
    properties: dict[str, Flat] | None
    required: frozenset[str]


def _resolve(spec: dict[str, Any], schema: dict[str, Any], depth: int = 0) -> Flat:
    if depth > 20:
        return Flat(frozenset({"?"}), False, None, None, None, None, frozenset())
    if "$ref" in schema:
        target: Any = spec
        for part in schema["$ref"].lstrip("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        merged = _resolve(spec, target, depth + 1)
        return attrs.evolve(merged, nullable=merged.nullable or bool(schema.get("nullable")))
    variants = [
        _resolve(spec, s, depth + 1)
        for s in schema.get("allOf", []) + schema.get("oneOf", []) + schema.get("anyOf", [])
    ]
    types = set()
    raw_type = schema.get("type")
    if isinstance(raw_type, list):
        types |= {t for t in raw_type if t != "null"}
    elif raw_type:
        types.add(raw_type)
    nullable = bool(schema.get("nullable")) or (isinstance(raw_type, list) and "null" in raw_type)
    enum = set(schema["enum"]) if "enum" in schema else None
    if enum is not None and None in enum:
        nullable, enum = True, enum - {None}
        if not enum:
            enum = None
    props = {
        k: _resolve(spec, v, depth + 1) for k, v in schema.get("properties", {}).items()
    } or None
    required = set(schema.get("required", []))
    fmt, max_length = schema.get("format"), schema.get("maxLength")
    for v in variants:
        if v.types == frozenset() and v.enum is None and v.properties is None and v.nullable:
            nullable = True  # NullEnum / {type: null}
            continue
        types |= v.types
        nullable = nullable or v.nullable
        enum = (enum or set()) | set(v.enum) if v.enum is not None else enum
        if v.properties:
            props = {**(props or {}), **v.properties}
            required |= v.required
        fmt = fmt or v.fmt
        max_length = max_length or v.max_length
    return Flat(
        frozenset(types),
        nullable,
        fmt,
        frozenset(enum) if enum else None,
        max_length,
        props,
        frozenset(required),
    )


def response_schema(spec: dict[str, Any]) -> Flat | None:
    """The 200 body of our operation in ``spec``, or None when the operation is absent."""
    operation = spec.get("paths", {}).get(PATH, {}).get("get")
    if not operation:
        return None
    content = operation.get("responses", {}).get("200", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    return _resolve(spec, schema) if schema else None


def diff(ours: Flat, theirs: Flat, where: str = "body") -> list[Change]:
    changes: list[Change] = []
    if ours.types != theirs.types and ours.types and theirs.types:
        changes.append(
            Change(
                where,
                f"type {'/'.join(sorted(ours.types))} -> {'/'.join(sorted(theirs.types))}",
                True,
            )
        )
    if ours.fmt != theirs.fmt and ours.fmt and theirs.fmt:
        changes.append(Change(where, f"format {ours.fmt} -> {theirs.fmt}", True))
    if ours.nullable != theirs.nullable:
        changes.append(
            Change(
                where, "now nullable" if theirs.nullable else "no longer nullable", theirs.nullable
            )
        )
    if ours.enum is not None and theirs.enum is not None:
        for value in sorted(theirs.enum - ours.enum, key=str):
            changes.append(Change(where, f"enum value added: {value!r}", False))
        for value in sorted(ours.enum - theirs.enum, key=str):
            changes.append(Change(where, f"enum value removed: {value!r}", True))
    if ours.max_length != theirs.max_length:
        changes.append(Change(where, f"maxLength {ours.max_length} -> {theirs.max_length}", False))
    if ours.properties is not None and theirs.properties is not None:
        for name in sorted(set(theirs.properties) - set(ours.properties)):
            changes.append(Change(f"{where}.{name}", "field added", False))
        for name in sorted(set(ours.properties) - set(theirs.properties)):
            changes.append(Change(f"{where}.{name}", "field removed", True))
        for name in sorted(set(ours.properties) & set(theirs.properties)):
            path = f"{where}.{name}"
            was, now = name in ours.required, name in theirs.required
            if was != now:
                changes.append(Change(path, "now required" if now else "no longer required", was))
            changes += diff(ours.properties[name], theirs.properties[name], path)
    return changes


def compare(ours_spec: dict[str, Any], theirs_spec: dict[str, Any]) -> list[Change] | None:
    """The changes from our fragment to theirs; None when their schema lacks the endpoint."""
    theirs = response_schema(theirs_spec)
    if theirs is None:
        return None
    ours = response_schema(ours_spec)
    assert ours is not None
    changes = diff(ours, theirs)
    ours_param = _id_param(ours_spec)
    theirs_param = _id_param(theirs_spec)
    if ours_param and theirs_param and ours_param != theirs_param:
        changes.append(
            Change(
                "path.id",
                f"type {ours_param} -> {theirs_param} (the docs say string; servers route integers)",
                False,
            )
        )
    return changes


def _id_param(spec: dict[str, Any]) -> str | None:
    item = spec.get("paths", {}).get(PATH, {})
    for param in item.get("parameters", []) + item.get("get", {}).get("parameters", []):
        if "$ref" in param:
            name = param["$ref"].rsplit("/", 1)[1]
            param = spec.get("components", {}).get("parameters", {}).get(name, {})
        if param.get("name") == "id":
            schema = param.get("schema", {})
            return str(schema.get("type"))
    return None
