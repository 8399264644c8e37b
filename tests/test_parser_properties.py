"""Any 200 body becomes a Connection or a ResponseValidationError, never anything else."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from ls_model_providers import Connection, ResponseValidationError
from ls_model_providers._args import check_connection_id
from ls_model_providers._constants import MAX_ID
from ls_model_providers._errors import Answer
from ls_model_providers._models import build_connection, parse_connection

from .helpers import body
from .payloads import CONNECTION, connections, json_values

REQUEST = httpx.Request("GET", "https://h.example/api/model-provider-connections/1/")


def _parse(content: bytes) -> Connection | ResponseValidationError:
    response = httpx.Response(200, content=content, request=REQUEST)
    try:
        return parse_connection(Answer.of(response))
    except ResponseValidationError as error:
        assert error.status_code == 200
        assert error.body == content
        return error


def _mutations() -> st.SearchStrategy[dict[str, Any]]:
    base = body()
    return st.builds(
        lambda key, value, drop: (
            {k: v for k, v in base.items() if k != key} if drop else {**base, key: value}
        ),
        st.sampled_from(sorted(base)),
        json_values,
        st.booleans(),
    )


@settings(max_examples=300)
@given(st.binary(max_size=300))
def test_any_bytes(content: bytes) -> None:
    _parse(content)


REQUIRED = sorted(CONNECTION["required"])
JSON_TYPES = {list: "array", str: "string", bool: "boolean", int: "integer", float: "number",
              type(None): "null"}  # fmt: skip


@settings(max_examples=300)
@given(json_values)
def test_any_json_value(value: Any) -> None:
    """Anything but an object is refused by its JSON type; an object without every required
    field is refused naming one that is missing (others may or may not parse)."""
    result = _parse(json.dumps(value).encode())
    if not isinstance(value, dict):
        assert isinstance(result, ResponseValidationError)
        assert f"body is a JSON {JSON_TYPES[type(value)]}, not an object" in str(result)
        assert not result.malformed, "JSON the server meant: not retried"
    elif not set(REQUIRED) <= value.keys():
        assert isinstance(result, ResponseValidationError)
        named = re.search(r"missing required field '([^']+)'", str(result))
        assert named is not None, str(result)
        assert named.group(1) in set(REQUIRED) - value.keys()


@given(connections, st.sampled_from(REQUIRED))
def test_a_valid_body_without_a_required_field_names_it(payload: dict[str, Any], name: str) -> None:
    del payload[name]
    result = _parse(json.dumps(payload).encode())
    assert isinstance(result, ResponseValidationError)
    assert f"missing required field '{name}'" in str(result)


@settings(max_examples=300)
@given(_mutations())
def test_mutated_bodies(payload: dict[str, Any]) -> None:
    _parse(json.dumps(payload).encode())


@given(connections)
def test_valid_bodies_parse(payload: dict[str, Any]) -> None:
    result = _parse(json.dumps(payload).encode())
    assert isinstance(result, Connection), result


@given(connections)
def test_fast_parser_equals_the_generated_from_dict(payload: dict[str, Any]) -> None:
    """The compiled plan builds exactly what the generated from_dict builds."""
    assert build_connection(payload) == Connection.from_dict(payload)


@given(st.one_of(st.integers(), st.booleans(), st.floats(), st.text(), st.none(), st.binary()))
def test_id_check(value: object) -> None:
    valid = type(value) is int and 1 <= value <= MAX_ID
    try:
        assert check_connection_id(value) == value
        assert valid
    except TypeError:
        assert not isinstance(value, int) or isinstance(value, bool)
    except ValueError:
        assert isinstance(value, int)
        assert not valid
