"""Checks a document against ``snapshot.schema.json``, naming the first spot that fails.

The schema file is the one definition of the format: this interprets the part of JSON Schema
(2020-12) it uses, so loading a snapshot (which the mock does) needs no validator library.
``KEYWORDS`` lists that part; a test keeps the file within it and checks that ``jsonschema``
agrees on valid and malformed snapshots.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any, Final

from ls_model_providers._body import json_type
from ls_model_providers.toolkit.text import escape, show

#: Keywords that constrain, and those that only annotate (ignored here).
KEYWORDS: Final = frozenset(
    {"type", "const", "enum", "pattern", "minimum", "maximum", "required", "properties",
     "additionalProperties", "items", "$ref"}
)  # fmt: skip
ANNOTATIONS: Final = frozenset({"$schema", "$id", "$defs", "title", "description"})

_TYPES: Final[dict[str, type | tuple[type, ...]]] = {
    "object": dict, "array": list, "string": str, "integer": int, "number": (int, float),
    "boolean": bool, "null": type(None),
}  # fmt: skip


class Invalid(Exception):
    """The first spot where a document breaks the schema: ``pointer`` (JSON pointer) and
    ``problem``."""

    def __init__(self, pointer: str, problem: str) -> None:
        super().__init__(f"{pointer}: {problem}")
        self.pointer, self.problem = pointer, problem


@cache
def schema() -> dict[str, Any]:
    """The snapshot format's JSON Schema (``snapshot.schema.json``, shipped in the package)."""
    text = resources.files(__package__).joinpath("snapshot.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _is(value: object, name: str) -> bool:
    if isinstance(value, bool):
        return name == "boolean"
    return isinstance(value, _TYPES[name])


def validate(document: object, root: dict[str, Any] | None = None) -> None:
    """Raise ``Invalid`` at the first spot where ``document`` breaks the snapshot schema.

    Recursion follows the schema, not the document: the free-form parts (a connection's
    body) are not descended into, so a deep document costs no deep recursion here.
    """
    root = schema() if root is None else root
    _check(document, root, "#", root)


def _check(value: object, node: dict[str, Any], at: str, root: dict[str, Any]) -> None:
    if "$ref" in node:
        target: Any = root
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        _check(value, target, at, root)
    if "const" in node and not (value == node["const"] and _is(value, json_type(node["const"]))):
        raise Invalid(at, f"must be {show(node['const'])}, not {show(value)}")
    if "enum" in node and value not in node["enum"]:
        raise Invalid(at, f"must be one of {', '.join(map(show, node['enum']))}, not {show(value)}")
    if "type" in node:
        names = [node["type"]] if isinstance(node["type"], str) else node["type"]
        if not any(_is(value, n) for n in names):
            raise Invalid(at, f"must be {' or '.join(names)}, not {json_type(value)}")
    if isinstance(value, str) and "pattern" in node and not re.search(node["pattern"], value):
        raise Invalid(at, f"does not match {node['pattern']}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in node and value < node["minimum"]:
            raise Invalid(at, f"must be at least {node['minimum']}, not {show(value)}")
        if "maximum" in node and value > node["maximum"]:
            raise Invalid(at, f"must be at most {node['maximum']}, not {show(value)}")
    if isinstance(value, dict):
        _check_object(value, node, at, root)
    if isinstance(value, list) and "items" in node:
        for index, item in enumerate(value):
            _check(item, node["items"], f"{at}/{index}", root)


def _check_object(
    value: dict[str, Any], node: dict[str, Any], at: str, root: dict[str, Any]
) -> None:
    for name in node.get("required", []):
        if name not in value:
            raise Invalid(at, f"lacks the required key {show(name)}")
    properties: dict[str, Any] = node.get("properties", {})
    extra = node.get("additionalProperties", True)
    for key in sorted(value):
        where = f"{at}/{escape(key)}"
        if key in properties:
            _check(value[key], properties[key], where, root)
        elif extra is False:
            raise Invalid(where, "is not a key of this format")
        elif isinstance(extra, dict):
            _check(value[key], extra, where, root)
