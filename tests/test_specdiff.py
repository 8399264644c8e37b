"""spec-diff: every kind of change is classified as the README's table says; malformed and
hostile documents end in exit 2 naming the spot; fetches are bounded; fan-out stays linear."""

from __future__ import annotations

import gzip
import http.server
import importlib.util
import inspect
import itertools
import json
import re
import socket
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

from ls_model_providers._body import structural_tokens
from ls_model_providers._spec import load_spec
from ls_model_providers.cli import main
from ls_model_providers.mock import ServedMock, create_app, serve_in_thread
from ls_model_providers.toolkit import drift
from ls_model_providers.toolkit import schemas as sd
from ls_model_providers.toolkit.drift import SchemaError, SpecDiffError
from ls_model_providers.toolkit.drift import compare_documents as compare

from . import hostile
from .payloads import UNKNOWN_PROVIDER

README = Path(__file__).resolve().parent.parent / "README.md"
MPC = "#/components/schemas/ModelProviderConnection"
Spec = dict[str, Any]
Edit = Callable[[Spec], object]


#: The rows of the one table about recorded answers, not schemas (tests/test_snapshot.py).
ANSWER_ROWS = ("an answer's", "any difference in the OPTIONS", "the server's version")


def _readme_table() -> dict[str, dict[str, str]]:
    """{row: {"body": verdict, "path": verdict}} from the README's spec-diff table."""
    lines = README.read_text().split("<!-- spec-diff table", 1)[1].splitlines()[1:]
    table: dict[str, dict[str, str]] = {}
    for line in itertools.takewhile(lambda text: text.startswith("|"), lines):
        change, body, path = (c.strip() for c in re.split(r"(?<!\\)\|", line)[1:4])
        if change.startswith(("change", "---", *ANSWER_ROWS)):
            continue  # the answer rows: tests/test_snapshot.py checks those
        verdicts = {"body": body, "path": path}
        table[re.sub(r"\s*\(.*\)$", "", change)] = {
            k: v.strip("*") for k, v in verdicts.items() if v
        }
    return table


TABLE = _readme_table()


def _schemas(spec: Spec) -> Any:
    return spec["components"]["schemas"]


def _props(spec: Spec) -> Any:
    return _schemas(spec)["ModelProviderConnection"]["properties"]


def _param(spec: Spec) -> Any:
    return spec["components"]["parameters"]["ConnectionId"]["schema"]


def _edited(edit: Edit | None) -> Spec:
    spec = load_spec()
    if edit is not None:
        edit(spec)
    return spec


def _forbid_extras(spec: Spec) -> None:
    _schemas(spec)["ModelProviderConnection"]["additionalProperties"] = False


def _both(*edits: Edit) -> Edit:
    return lambda spec: [edit(spec) for edit in edits]


WIDER = "`maxLength`/`maximum` raised or removed, `minLength`/`minimum` lowered or removed"
NARROWER = "`maxLength`/`maximum` lowered or added, `minLength`/`minimum` raised or added"
WITH_BOUNDS: Edit = lambda s: _props(s)["id"].update(minimum=1, maximum=100)  # noqa: E731
# (row of the README table, body or path, edit of their schema, the changes listed, edit of ours)
CASES: list[tuple[str, str, Edit, list[str], Edit | None]] = [
    ("a type added", "body", lambda s: _props(s)["id"].update(type="number"), ["body.id: type integer -> number"], None),
    ("a type added", "body", lambda s: _props(s)["model_params"]["oneOf"].append({"type": "integer"}), ["body.model_params: type object/string -> integer/object/string"], None),
    ("a type added", "body", lambda s: _props(s)["id"].pop("type"), ["body.id: type integer -> any", "body.id: now nullable"], None),
    ("a type added", "path", lambda s: _param(s).update(type="number"), ["path.id: type integer -> number"], None),
    ("a type added", "path", lambda s: _param(s).update(type="string"), ["path.id: type integer -> string"], None),
    ("a type dropped", "body", lambda s: _props(s).update(model_params={"type": "object"}), ["body.model_params: type object/string -> object"], None),
    ("a type dropped", "body", lambda s: _props(s).update(model_params={"type": "string"}), ["body.model_params: type object/string -> string"], None),
    ("a type dropped", "body", lambda s: _props(s)["budget_limit"].update(type="integer"), ["body.budget_limit: type number -> integer"], None),
    ("a type dropped", "path", lambda s: _param(s).update(type="integer"), ["path.id: type number -> integer"], lambda s: _param(s).update(type="number")),
    ("a type replaced", "body", lambda s: _props(s)["budget_limit"].update(type="string"), ["body.budget_limit: type number -> string"], None),
    ("a type replaced", "body", lambda s: _props(s)["is_internal"].update(type="string"), ["body.is_internal: type boolean -> string"], None),
    ("a type replaced", "path", lambda s: _param(s).update(type="boolean"), ["path.id: type integer -> boolean"], None),
    ("newly nullable", "body", lambda s: _props(s)["id"].update(nullable=True), ["body.id: now nullable"], None),
    ("newly nullable", "body", lambda s: _props(s)["provider"].update(nullable=True), ["body.provider: now nullable"], None),
    ("newly nullable", "body", lambda s: _props(s).update(scope={"oneOf": [{"$ref": "#/components/schemas/ScopeEnum"}, {"type": "null"}]}), ["body.scope: now nullable"], None),
    ("newly nullable", "body", lambda s: _schemas(s)["ProviderEnum"]["enum"].append(None), ["body.provider: now nullable"], None),
    ("newly nullable", "path", lambda s: _param(s).update(nullable=True), ["path.id: now nullable"], None),
    ("no longer nullable", "body", lambda s: _props(s)["organization"].update(nullable=False), ["body.organization: no longer nullable"], None),
    ("no longer nullable", "body", lambda s: _props(s).update(created_by={"allOf": [{"$ref": "#/components/schemas/UserSimple"}]}), ["body.created_by: no longer nullable"], None),
    ("no longer nullable", "path", lambda s: None, ["path.id: no longer nullable"], lambda s: _param(s).update(nullable=True)),
    ("no longer required", "body", lambda s: _schemas(s)["ModelProviderConnection"]["required"].remove("id"), ["body.id: no longer required"], None),
    ("no longer required", "body", lambda s: _schemas(s)["UserSimple"].pop("required"), ["body.created_by.id: no longer required"], None),
    ("newly required", "body", lambda s: _schemas(s)["ModelProviderConnection"]["required"].append("provider"), ["body.provider: now required"], None),
    ("a field removed", "body", lambda s: _props(s).pop("endpoint"), ["body.endpoint: field removed"], None),
    ("a field removed", "body", _both(_forbid_extras, lambda s: _props(s).pop("id")), ["body.id: field removed"], _forbid_extras),  # required
    ("a field removed", "body", lambda s: _schemas(s)["UserSimple"]["properties"].pop("email"), ["body.created_by.email: field removed"], None),
    ("an optional field removed from an object that forbids additional properties", "body", _both(_forbid_extras, lambda s: _props(s).pop("endpoint")), ["body.endpoint: field removed"], _forbid_extras),
    ("a field added", "body", lambda s: _props(s).update(is_shared={"type": "boolean"}), ["body.is_shared: field added"], None),
    ("a field added", "body", _both(lambda s: _props(s).update(tags={"type": "array"}), lambda s: _schemas(s)["ModelProviderConnection"]["required"].append("tags")), ["body.tags: field added (required)"], None),
    ("a field added where the fragment forbids additional properties", "body", _both(_forbid_extras, lambda s: _props(s).update(is_shared={"type": "boolean"})), ["body.is_shared: field added"], _forbid_extras),
    ("additional properties now allowed", "body", lambda s: None, ["body: additional properties now allowed"], _forbid_extras),
    ("additional properties now forbidden", "body", _forbid_extras, ["body: additional properties now forbidden"], None),
    ("an enum value added", "body", lambda s: _schemas(s)["ProviderEnum"]["enum"].append(UNKNOWN_PROVIDER), [f'body.provider: enum value added: "{UNKNOWN_PROVIDER}"'], None),
    ("an enum value added", "path", lambda s: _param(s).update(enum=[1, 2, 3]), ["path.id: enum value added: 3"], lambda s: _param(s).update(enum=[1, 2])),
    ("an enum value removed", "body", lambda s: _schemas(s)["ScopeEnum"]["enum"].remove("Model"), ['body.scope: enum value removed: "Model"'], None),
    ("an enum value removed", "path", lambda s: _param(s).update(enum=[1]), ["path.id: enum value removed: 2"], lambda s: _param(s).update(enum=[1, 2])),
    ("an enum dropped", "body", lambda s: _schemas(s)["ScopeEnum"].pop("enum"), ["body.scope: enum removed: any value of its type"], None),
    ("an enum dropped", "path", lambda s: None, ["path.id: enum removed: any value of its type"], lambda s: _param(s).update(enum=[1, 2])),
    ("an enum introduced", "body", lambda s: _schemas(s)["UserSimple"]["properties"]["first_name"].update(enum=["Ada"]), ["body.created_by.first_name: now an enum of 1 value(s)"], None),
    ("an enum introduced", "path", lambda s: _param(s).update(enum=[1, 2]), ["path.id: now an enum of 2 value(s)"], None),
    ("a format changed", "body", lambda s: _props(s)["created_at"].update(format="date"), ['body.created_at: format "date-time" -> "date"'], None),
    ("a format changed", "path", lambda s: _param(s).update(format="int32"), ['path.id: format "int64" -> "int32"'], None),
    ("a format removed", "body", lambda s: _props(s)["created_at"].pop("format"), ['body.created_at: format "date-time" removed'], None),
    ("a format removed", "path", lambda s: _param(s).pop("format"), ['path.id: format "int64" removed'], None),
    ("a format added", "body", lambda s: _props(s)["endpoint"].update(format="uri"), ['body.endpoint: format "uri" added'], None),
    ("a format added", "path", lambda s: None, ['path.id: format "int64" added'], lambda s: _param(s).pop("format")),
    (WIDER, "body", lambda s: _props(s)["endpoint"].update(maxLength=1024), ["body.endpoint: maxLength 512 -> 1024"], None),
    (WIDER, "body", lambda s: _props(s)["endpoint"].pop("maxLength"), ["body.endpoint: maxLength 512 removed"], None),
    (WIDER, "body", _both(WITH_BOUNDS, lambda s: _props(s)["id"].update(maximum=1000)), ["body.id: maximum 100 -> 1000"], WITH_BOUNDS),
    (WIDER, "body", _both(WITH_BOUNDS, lambda s: _props(s)["id"].pop("minimum")), ["body.id: minimum 1 removed"], WITH_BOUNDS),
    (WIDER, "body", lambda s: _props(s)["endpoint"].update(minLength=0), ["body.endpoint: minLength 1 -> 0"], lambda s: _props(s)["endpoint"].update(minLength=1)),
    (WIDER, "path", lambda s: _param(s).pop("maximum"), ["path.id: maximum 9223372036854775807 removed"], None),
    (WIDER, "path", lambda s: _param(s).update(minimum=0), ["path.id: minimum 1 -> 0"], None),
    (NARROWER, "body", lambda s: _props(s)["endpoint"].update(maxLength=256), ["body.endpoint: maxLength 512 -> 256"], None),
    (NARROWER, "body", lambda s: _props(s)["is_internal"].update(maxLength=5), [], None),  # not a string: moot
    (NARROWER, "body", lambda s: _props(s)["budget_limit"].update(maximum=1e6), ["body.budget_limit: maximum 1000000.0 added"], None),
    (NARROWER, "body", lambda s: _props(s)["endpoint"].update(minLength=1), ["body.endpoint: minLength 1 added"], None),
    (NARROWER, "path", lambda s: _param(s).update(maximum=2**31 - 1), ["path.id: maximum 9223372036854775807 -> 2147483647"], None),
    (NARROWER, "path", lambda s: _param(s).update(minimum=2), ["path.id: minimum 1 -> 2"], None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("row", "where", "theirs", "expected", "ours"),
    CASES,
    ids=[f"{row[:40]}-{where}-{i}" for i, (row, where, *_) in enumerate(CASES)],
)
def test_every_kind_of_change_is_classified_as_the_readme_says(
    row: str, where: str, theirs: Edit, expected: list[str], ours: Edit | None
) -> None:
    breaking = TABLE[row][where] == "breaking"
    changes = compare(_edited(ours), _edited(theirs))
    assert changes is not None
    assert [f"{c.where}: {c.what}" for c in changes] == expected
    assert all(c.breaking is breaking for c in changes), [str(c) for c in changes]


def test_the_readme_table_has_a_case_for_every_cell() -> None:
    cells = {(row, where) for row, verdicts in TABLE.items() for where in verdicts}
    assert len(TABLE) >= 20
    assert cells == {(row, where) for row, where, *_ in CASES}


def test_identical_documents_have_no_changes() -> None:
    assert compare(load_spec(), load_spec()) == []


def test_the_fragment_uses_only_keywords_spec_diff_compares() -> None:
    compared = {
        "type",
        "nullable",
        "enum",
        "format",
        "properties",
        "required",
        "additionalProperties",
    }
    compared |= {"$ref", "allOf", "oneOf", "anyOf", *drift.BOUNDS}
    annotations = {"description", "readOnly", "example", "title"}
    spec = load_spec()
    used: set[str] = set()

    def walk(schema: Any) -> None:
        used.update(schema)
        for sub in schema.get("properties", {}).values():
            walk(sub)
        for word in ("allOf", "oneOf", "anyOf"):
            for sub in schema.get(word, []):
                walk(sub)

    for schema in [*_schemas(spec).values(), _param(spec)]:
        walk(schema)
    assert used - compared - annotations == set()


def test_changes_print_with_their_verdict() -> None:
    theirs = _edited(_both(lambda s: _props(s).pop("endpoint"), lambda s: _props(s).update(x={})))
    lines = [str(c) for c in compare(load_spec(), theirs) or []]
    assert lines == ["BREAKING    body.endpoint: field removed", "compatible  body.x: field added"]


# -- absent endpoint, malformed and hostile documents ----------------------------------------


@pytest.mark.parametrize(
    "doc",
    [
        {"openapi": "3.0.3"},
        {"openapi": "3.0.3", "paths": {"/api/projects/": {}}},
        {"openapi": "3.0.3", "paths": {drift.PATH: {"put": {}}}},
    ],
)
def test_an_absent_endpoint_is_none(doc: Spec) -> None:
    assert compare(load_spec(), doc) is None


def _set(pointer: str, value: Any) -> Edit:
    """An edit that sets the node at a JSON pointer (the last part may be new)."""

    def edit(spec: Spec) -> None:
        *parents, last = [p.replace("~1", "/") for p in pointer.lstrip("#/").split("/")]
        node: Any = spec
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[int(last) if isinstance(node, list) else last] = value

    return edit


OP = "#/paths/~1api~1model-provider-connections~1{id}~1"
MALFORMED: list[tuple[Edit, str]] = [
    (_set(f"{MPC}/required", "id"), f"{MPC}/required: must be an array, not a string"),
    (_set(f"{MPC}/required/0", 7), f"{MPC}/required/0: must be a string, not a number"),
    (_set("#/components/schemas/ProviderEnum/enum", [["a"]]), "#/components/schemas/ProviderEnum/enum/0: must be a scalar, not an array"),
    (_set(f"{MPC}/properties/id", 5), f"{MPC}/properties/id: a schema must be an object, not a number"),
    (_set(f"{MPC}/properties", ["id"]), f"{MPC}/properties: must be an object, not an array"),
    (_set(f"{MPC}/properties/id/type", "strnig"), f'{MPC}/properties/id/type: not a JSON type (or list of them): "strnig"'),
    (_set(f"{MPC}/properties/id/type", {"a": 1}), f"{MPC}/properties/id/type: not a JSON type (or list of them): {{'a': 1}}"),
    (_set(f"{MPC}/properties/id/nullable", "yes"), f"{MPC}/properties/id/nullable: must be a boolean, not a string"),
    (_set(f"{MPC}/properties/id/format", 64), f"{MPC}/properties/id/format: must be a string, not a number"),
    (_set(f"{MPC}/properties/endpoint/maxLength", "512"), f'{MPC}/properties/endpoint/maxLength: must be a finite number, not "512"'),
    (_set(f"{MPC}/properties/endpoint/maxLength", float("inf")), f"{MPC}/properties/endpoint/maxLength: must be a finite number, not Infinity"),
    (_set(f"{MPC}/additionalProperties", "yes"), f"{MPC}/additionalProperties: must be a boolean or a schema, not a string"),
    (_set(f"{MPC}/properties/provider/allOf", []), f"{MPC}/properties/provider/allOf: must not be empty"),
    (_set(f"{MPC}/properties/provider/allOf", {"$ref": "x"}), f"{MPC}/properties/provider/allOf: must be an array, not an object"),
    (_set(f"{MPC}/properties/created_by/oneOf/0/$ref", "#/components/schemas/Nope"), f'{MPC}/properties/created_by/oneOf/0/$ref: "#/components/schemas/Nope" does not resolve'),
    (_set(f"{MPC}/properties/created_by/oneOf/0/$ref", "users.yaml#/User"), f'{MPC}/properties/created_by/oneOf/0/$ref: only local $refs (\'#/...\') are supported, not "users.yaml#/User"'),
    (_set(f"{MPC}/properties/created_by/oneOf/0/$ref", 3), f"{MPC}/properties/created_by/oneOf/0/$ref: only local $refs ('#/...') are supported, not 3"),
    (_set("#/components/schemas/UserSimple/properties/manager", {"$ref": "#/components/schemas/UserSimple"}), "#/components/schemas/UserSimple: cyclic $ref (this schema contains itself)"),
    (_both(_set("#/components/schemas/ProviderEnum", {"$ref": "#/components/schemas/A"}), _set("#/components/schemas/A", {"$ref": "#/components/schemas/ProviderEnum"})), "#/components/schemas/ProviderEnum: cyclic $ref (this schema contains itself)"),
    (_set("#/paths", []), "#/paths: must be an object, not an array"),
    (_set(f"{OP}", "x"), f"{OP}: a path item must be an object, not a string"),
    (_set(f"{OP}/get", "x"), f"{OP}/get: must be an object, not a string"),
    (_set(f"{OP}/get/responses", []), f"{OP}/get/responses: must be an object, not an array"),
    (_set(f"{OP}/get/responses/200", "ok"), f"{OP}/get/responses/200: must be an object, not a string"),
    (_set(f"{OP}/get/responses/200/content", []), f"{OP}/get/responses/200/content: must be an object, not an array"),
    (_set(f"{OP}/get/responses/200/content/application~1json", 1), f"{OP}/get/responses/200/content/application~1json: must be an object, not a number"),
    (_set(f"{OP}/parameters", {}), f"{OP}/parameters: must be an array, not an object"),
    (_set(f"{OP}/parameters/0", "id"), f"{OP}/parameters/0: must be an object, not a string"),
    (_set(f"{OP}/parameters/0/$ref", "#/components/parameters/Nope"), f'{OP}/parameters/0/$ref: "#/components/parameters/Nope" does not resolve'),
]  # fmt: skip


@pytest.mark.parametrize(
    ("edit", "message"), MALFORMED, ids=[m.split(":")[0][-40:] for _, m in MALFORMED]
)
def test_a_malformed_schema_names_the_spot(
    edit: Edit, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    theirs = _edited(edit)
    with pytest.raises(SchemaError) as caught:
        compare(load_spec(), theirs)
    assert str(caught.value) == message
    assert caught.value.side == "theirs"
    document = tmp_path / "theirs.json"
    document.write_text(json.dumps(theirs))
    assert main(["spec-diff", "--against", str(document)]) == 2
    out, err = capsys.readouterr()
    assert err == f"error: malformed schema in {document} at {message}\n"
    assert out == ""


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([], "#: the document is an array, not an OpenAPI object"),
        ("openapi", "#: the document is a string, not an OpenAPI object"),
        (None, "#: the document is null, not an OpenAPI object"),
        (3.0, "#: the document is a number, not an OpenAPI object"),
    ],
)
def test_a_document_that_is_not_an_object(doc: Any, message: str) -> None:
    with pytest.raises(SchemaError, match=re.escape(message)):
        compare(load_spec(), doc)


def test_what_yaml_makes_of_unquoted_keys_and_dates() -> None:
    theirs = load_spec()
    responses = theirs["paths"][drift.PATH]["get"]["responses"]
    responses[200] = responses.pop("200")  # `200:` unquoted in YAML
    assert compare(load_spec(), theirs) == []
    _schemas(theirs)["ScopeEnum"]["enum"] = yaml.safe_load("[2024-01-01]")
    with pytest.raises(SchemaError, match="ScopeEnum/enum/0: must be a scalar, not a date"):
        compare(load_spec(), theirs)
    theirs = load_spec()
    _props(theirs)[7] = {}
    with pytest.raises(SchemaError, match="properties: names must be strings: 7"):
        compare(load_spec(), theirs)


def test_nesting_is_bounded() -> None:
    theirs = load_spec()
    node: dict[str, Any] = {"type": "object", "properties": {}}
    _props(theirs)["model_params"] = node
    for _ in range(10_000):
        node["properties"]["x"] = {"type": "object", "properties": {}}
        node = node["properties"]["x"]
    with pytest.raises(SchemaError, match=f"nested more than {drift.MAX_DEPTH} levels deep"):
        compare(load_spec(), theirs)


def test_yaml_alias_cycles_are_refused() -> None:
    text = (
        "openapi: 3.0.3\npaths:\n  "
        + drift.PATH
        + ":\n    get:\n      responses:\n        '200':\n"
    )
    text += "          content:\n            application/json:\n              schema: &s\n"
    text += (
        "                type: object\n                properties:\n                  child: *s\n"
    )
    with pytest.raises(SchemaError, match="cyclic"):
        compare(load_spec(), sd.load_document(text.encode()))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"openapi: [3.0\n", "not JSON or YAML at line 2, column 1"),
        (b"\xff\xfe\x00garbage", "not JSON or YAML: UnicodeDecodeError"),
        (b"[" * 100_000 + b"]" * 100_000, "not JSON or YAML"),
        (b'{"a": ' * 100_000 + b"1" + b"}" * 100_000, "not JSON or YAML: RecursionError"),
        (b"a: " + b"9" * 5000, "not JSON or YAML: ValueError"),
        (b"!!python/object/apply:os.system ['true']", "not JSON or YAML"),
        (b"a: 1\n---\nb: 2\n", "not JSON or YAML"),
    ],
    ids=["yaml", "utf8", "deep-json", "deep-json-objects", "huge-int", "python-tag", "two-docs"],
)
def test_unreadable_documents_are_an_error(data: bytes, message: str) -> None:
    with pytest.raises(SpecDiffError) as caught:
        sd.load_document(data)
    assert str(caught.value).startswith(message), str(caught.value)


def test_json_and_yaml_load_alike() -> None:
    spec = load_spec()
    assert sd.load_document(json.dumps(spec).encode()) == spec
    assert sd.load_document(yaml.safe_dump(spec).encode()) == spec
    assert sd.load_document(b"{a: 1}") == {"a": 1}  # YAML flow style, not JSON


def test_server_text_is_escaped_in_the_output(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    theirs = load_spec()
    _props(theirs)["\x1b[31mred\u202e"] = {"type": "string"}
    _props(theirs)["endpoint"]["format"] = "\x1b]0;title\x07"
    document = tmp_path / "theirs.json"
    document.write_text(json.dumps(theirs))
    assert main(["spec-diff", "--against", str(document)]) == 0
    out = capsys.readouterr().out
    assert 'body.endpoint: format "\\u001b]0;title\\u0007" added' in out
    assert "\x1b" not in out
    assert "\u202e" not in out
    assert "body.\\x1b[31mred\\u202e: field added" in out


# -- fan-out: every $ref and merge is worked out once -----------------------------------------


def _fan_out(levels: int) -> Spec:
    """Each level's two schemas both refer to both schemas of the next level: 2**levels paths."""
    schemas: dict[str, Any] = {}
    for i in range(levels):
        a, b = f"#/components/schemas/A{i + 1}", f"#/components/schemas/B{i + 1}"
        schemas[f"A{i}"] = {"allOf": [{"$ref": a}, {"$ref": b}]}
        schemas[f"B{i}"] = {"type": "object", "properties": {"a": {"$ref": a}, "b": {"$ref": b}}}
    schemas[f"A{levels}"] = {"type": "object", "properties": {"leaf": {"type": "string"}}}
    schemas[f"B{levels}"] = {"type": "object", "properties": {"leaf": {"maxLength": 9}}}
    return _with_model_params(schemas, "A0")


def _wide_fan_out(levels: int, width: int) -> Spec:
    """The issue's case: each level is an allOf of the next one ``width`` times."""
    schemas: dict[str, Any] = {
        f"L{i}": {"allOf": [{"$ref": f"#/components/schemas/L{i + 1}"}] * width}
        for i in range(levels)
    }
    schemas[f"L{levels}"] = {"type": "object", "properties": {"leaf": {"maxLength": 9}}}
    return _with_model_params(schemas, "L0")


def _with_model_params(schemas: dict[str, Any], name: str) -> Spec:
    spec = load_spec()
    _schemas(spec).update(schemas)
    _props(spec)["model_params"] = {"$ref": f"#/components/schemas/{name}"}
    return spec


def _work(spec: Spec) -> tuple[int, drift.Shape]:
    resolver = drift._Resolver(spec, "theirs")
    body = resolver.body()
    assert body is not None
    return resolver.work, body.properties["model_params"]


def test_fan_out_refs_are_resolved_once_each() -> None:
    base, _ = _work(load_spec())  # the fragment's own body
    # Two schemas a level, each referring to both of the next: each node is resolved once
    # (6 a level) and each pair of shapes merged once (about levels**2 / 2), where resolving
    # every path is 2**levels.
    work, model_params = _work(_fan_out(levels=14))
    assert work <= base + 6 * 14 + 14**2, work
    assert model_params.properties["leaf"].bounds == {"maxLength": 9}
    work, model_params = _work(_wide_fan_out(levels=8, width=8))  # every path: 8**8
    assert work <= base + 3 * 8, work
    assert model_params.properties["leaf"].bounds == {"maxLength": 9}


def test_a_small_fan_out_schema_diffs(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    document = tmp_path / "fan-out.json"
    fan_out = _wide_fan_out(levels=8, width=8)  # 3.4 KB of schemas: 72 s before memoising
    document.write_text(json.dumps(fan_out))
    assert main(["spec-diff", "--against", str(document)]) == 0
    out = capsys.readouterr().out
    assert "body.model_params: type object/string -> object" in out
    assert "body.model_params.leaf: field added" in out


# -- the command against served schemas --------------------------------------------------------


@pytest.fixture(scope="module")
def served() -> Iterator[ServedMock]:
    with serve_in_thread(create_app()) as mock:
        yield mock


def test_cli_against_a_deployment_a_url_and_files(
    served: ServedMock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["spec-diff", "--base-url", served.base_url + "/"]) == 0
    assert "0 difference(s), 0 breaking" in capsys.readouterr().out
    assert main(["spec-diff", "--against", served.base_url + sd.SCHEMA_PATH]) == 0
    capsys.readouterr()
    breaking = tmp_path / "breaking.yaml"
    breaking.write_text(yaml.safe_dump(_edited(lambda s: _props(s).pop("id"))))
    assert main(["spec-diff", "--against", str(breaking)]) == 1
    out = capsys.readouterr().out
    assert "BREAKING    body.id: field removed" in out
    assert "1 difference(s), 1 breaking" in out
    community = tmp_path / "community.json"
    community.write_text(json.dumps({"openapi": "3.0.3", "paths": {"/api/projects/": {}}}))
    assert main(["spec-diff", "--against", str(community)]) == 3
    assert "endpoint not in the served schema" in capsys.readouterr().out
    assert main(["spec-diff", "--against", str(tmp_path / "missing.yaml")]) == 2
    assert "error: cannot read" in capsys.readouterr().err
    assert main(["spec-diff", "--against", str(tmp_path)]) == 2  # a folder
    capsys.readouterr()


def test_cli_wrong_url_is_exit_2(served: ServedMock, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["spec-diff", "--against", served.base_url + "/nothing-here/"]) == 2
    assert "answered HTTP 404, not a schema" in capsys.readouterr().err
    assert main(["spec-diff", "--base-url", "ls.example.com"]) == 2
    assert "--base-url must be an http(s) URL with a host" in capsys.readouterr().err


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_cli_unreachable_is_exit_5(served: ServedMock, capsys: pytest.CaptureFixture[str]) -> None:
    port = _closed_port()
    assert main(["spec-diff", "--base-url", f"http://127.0.0.1:{port}"]) == 5
    assert f"unreachable: connection refused: nothing listens at 127.0.0.1:{port}" in (
        capsys.readouterr().err
    )
    tls_to_plain_http = served.base_url.replace("http://", "https://")
    assert main(["spec-diff", "--base-url", tls_to_plain_http]) == 5
    assert (
        "the server speaks plain HTTP, not HTTPS: use --base-url http://" in capsys.readouterr().err
    )


class _Bodies(http.server.BaseHTTPRequestHandler):
    """Serves ``BODIES[path]``: (headers, chunks); each chunk is written and flushed apart.
    The headers of each request are kept in ``SEEN``."""

    BODIES: ClassVar[dict[str, tuple[dict[str, str], list[bytes]]]] = {}
    SEEN: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        self.SEEN.append({k.lower(): v for k, v in self.headers.items()})
        headers, chunks = self.BODIES[self.path]
        self.send_response(200)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        for chunk in chunks:
            self.wfile.write(chunk)
            self.wfile.flush()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def bodies() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Bodies)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_fetch_stops_at_the_size_cap(bodies: str) -> None:
    _Bodies.BODIES["/big"] = ({}, [b"x" * 1000] * 10)
    with pytest.raises(SpecDiffError, match="over the 5000-byte limit"):
        sd.fetch(f"{bodies}/big", max_bytes=5000)
    assert sd.fetch(f"{bodies}/big", max_bytes=10_000) == b"x" * 10_000


def test_fetch_caps_the_decoded_size_of_a_gzip_bomb(bodies: str) -> None:
    bomb = gzip.compress(b"\0" * 1_000_000)
    _Bodies.BODIES["/bomb"] = (
        {"Content-Encoding": "gzip", "Content-Length": str(len(bomb))},
        [bomb],
    )
    assert len(bomb) < 5000
    with pytest.raises(SpecDiffError, match="over the 100000-byte limit"):
        sd.fetch(f"{bodies}/bomb", max_bytes=100_000)


def test_fetch_stops_a_dripping_body_at_the_deadline(bodies: str) -> None:
    _Bodies.BODIES["/drip"] = ({}, [b"x"] * 2)
    ticks = itertools.count(step=1000.0)  # each read of the clock is 1000 s later
    with pytest.raises(sd.Unreachable, match="took longer than 30 s"):
        sd.fetch(f"{bodies}/drip", deadline=30, clock=lambda: next(ticks))


def test_fetch_refuses_a_ca_bundle_that_is_not_one(tmp_path: Path) -> None:
    with pytest.raises(SpecDiffError, match="cannot use CA bundle"):
        sd.fetch("https://127.0.0.1:1/", verify=str(tmp_path / "missing.pem"))
    (tmp_path / "garbage.pem").write_text("not a certificate")
    with pytest.raises(SpecDiffError, match="cannot use CA bundle"):
        sd.fetch("https://127.0.0.1:1/", verify=str(tmp_path / "garbage.pem"))


# -- a hostile server: bombs, drips, and documents bigger than any schema ---------------------


@pytest.mark.parametrize(
    ("encoding", "layers"),
    [("gzip", 1), ("deflate", 1), ("gzip, gzip", 2)],
    ids=["gzip", "deflate", "stacked-gzip"],
)
def test_fetch_never_inflates_a_bomb_past_the_cap(encoding: str, layers: int) -> None:
    # httpx's iter_bytes() inflates a whole chunk before anyone can look at it: 64 KB of
    # gzip is 64 MB of zeros (a stacked 6,777-byte bomb took 8.4 GB). Decoded by the
    # client's BodyReader, memory stays near the cap whatever the body inflates to.
    bomb = b"\0" * (32 << 20)
    for _ in range(layers):
        bomb = zlib.compress(bomb, 9) if encoding == "deflate" else gzip.compress(bomb, 9)
    behaviour = hostile.answer(
        "200 OK", bomb, content_type="application/json", content_encoding=encoding
    )
    cap = 1 << 20
    with hostile.serve(behaviour) as server:
        tracemalloc.start()
        try:
            with pytest.raises(SpecDiffError, match=f"over the {cap}-byte limit"):
                sd.fetch(server.base_url + sd.SCHEMA_PATH, max_bytes=cap)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 6 * cap, f"{peak} bytes allocated for a {cap}-byte cap"


def test_fetch_asks_for_and_decodes_only_what_the_client_can_bound(bodies: str) -> None:
    document = json.dumps(load_spec()).encode()
    _Bodies.BODIES["/gz"] = ({"Content-Encoding": "gzip"}, [gzip.compress(document)])
    _Bodies.SEEN.clear()
    assert sd.fetch(f"{bodies}/gz") == document
    assert _Bodies.SEEN[-1]["accept-encoding"] == "gzip, deflate"  # never br or zstd
    _Bodies.BODIES["/br"] = ({"Content-Encoding": "br"}, [b"xx"])
    with pytest.raises(SpecDiffError, match="unsupported Content-Encoding: 'br'"):
        sd.fetch(f"{bodies}/br")
    three = gzip.compress(gzip.compress(gzip.compress(document)))
    _Bodies.BODIES["/three"] = ({"Content-Encoding": "gzip, gzip, gzip"}, [three])
    with pytest.raises(SpecDiffError, match="3 stacked content encodings"):
        sd.fetch(f"{bodies}/three")


def test_fetch_ends_at_its_deadline_while_headers_drip_in() -> None:
    # A status line, then one byte of a header every 0.2 s: no read ever times out, so only
    # a deadline on every socket operation ends it (before, it ran as long as the server).
    with hostile.serve(hostile.drip_head) as server:
        started = time.monotonic()
        with pytest.raises(sd.Unreachable, match="took longer than 1 s"):
            sd.fetch(server.base_url + sd.SCHEMA_PATH, timeout=5, deadline=1)
        elapsed = time.monotonic() - started
    assert elapsed < hostile.GIVE_UP / 2, f"{elapsed:.1f} s for a 1 s deadline"


def test_the_readme_states_the_fetch_limits_the_command_uses() -> None:
    promise = re.search(
        r"fetches are bounded: (\d+) s per read, (\d+) s in all, (\d+) MiB of body",
        " ".join(README.read_text().split()),
    )
    assert promise is not None
    limits = (sd.FETCH_TIMEOUT, sd.FETCH_DEADLINE, sd.MAX_SCHEMA_BYTES / (1 << 20))
    assert tuple(map(float, promise.groups())) == limits
    defaults = inspect.signature(sd.fetch).parameters  # what `spec-diff --base-url` gets
    assert defaults["timeout"].default == sd.FETCH_TIMEOUT
    assert defaults["deadline"].default == sd.FETCH_DEADLINE
    assert defaults["max_bytes"].default == sd.MAX_SCHEMA_BYTES


def _benchmark_schema() -> Spec:
    path = Path(__file__).resolve().parent.parent / "benchmarks" / "specdiff.py"
    loaded = importlib.util.spec_from_file_location("_specdiff_benchmark", path)
    assert loaded is not None and loaded.loader is not None
    module = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(module)
    schema: Spec = module.synthetic(46_000)
    return schema


def test_a_schema_the_size_of_label_studios_is_well_under_the_limits() -> None:
    schema = _benchmark_schema()
    forms = {
        "json": json.dumps(schema).encode(),
        "indented json": json.dumps(schema, indent=2).encode(),
        "yaml": yaml.safe_dump(schema, sort_keys=False, width=120).encode(),
    }
    for form, data in forms.items():
        assert len(data) * 4 < sd.MAX_SCHEMA_BYTES, form
        assert structural_tokens(data, yaml=True) * 4 < sd.MAX_SCHEMA_TOKENS, form
        assert sd.load_document(data) == schema, form


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"[" + b"{}," * 2_000_000 + b"{}]", "values or more, over the 500000"),
        (b"- {a: 0}\n" * 200_000, "values or more, over the 500000"),
        (b'{"a": "' + b"x" * (8 << 20) + b'"}', "larger than 8388608 bytes"),
    ],
    ids=["json-empty-objects", "yaml-items", "bytes"],
)
def test_a_document_bigger_than_any_schema_is_refused_before_parsing(
    data: bytes, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    # 63 MB of [{},{},...] took 1.6 GB once parsed, 3.1 GB through the snapshot's probe.
    def no_parsing(*args: object, **kwargs: object) -> None:
        raise AssertionError("parsed")

    with monkeypatch.context() as patched:
        patched.setattr(json, "loads", no_parsing)
        patched.setattr(yaml, "load", no_parsing)
        with pytest.raises(SpecDiffError, match=message):
            sd.load_document(data)
    path = tmp_path / "huge.json"
    path.write_bytes(data)
    assert main(["spec-diff", "--against", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"cannot read {path}: " in err and message in err
