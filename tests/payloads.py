"""Hypothesis strategies for response bodies, built from the fragment's field table.

Everything is derived from openapi/model-provider-connection.yaml, so a field added to the
fragment is exercised without touching this file.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

SPEC = yaml.safe_load(
    (Path(__file__).resolve().parent.parent / "openapi/model-provider-connection.yaml").read_text()
)
SCHEMAS: dict[str, Any] = SPEC["components"]["schemas"]
CONNECTION = SCHEMAS["ModelProviderConnection"]
#: A provider the fragment does not list, whatever providers it gains: the "unknown enum value".
UNKNOWN_PROVIDER = "Provider-" + "-".join(SCHEMAS["ProviderEnum"]["enum"])

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)

_utc_datetimes = st.datetimes(
    min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(2200, 1, 1), timezones=st.just(dt.UTC)
)


def _datetime_text(value: dt.datetime, style: int) -> str:
    # Label Studio sends `...Z` with microseconds; accept the other ISO spellings too.
    text = value.isoformat()
    return text.replace("+00:00", "Z") if style else text


datetime_strings = st.builds(_datetime_text, _utc_datetimes, st.integers(0, 1))


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return SCHEMAS[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _known_and_unknown(enum: list[Any]) -> st.SearchStrategy[str]:
    known = [v for v in enum if v is not None]
    unknown = st.text(min_size=1, max_size=20).filter(lambda s: s not in known)
    return st.sampled_from(known) | unknown


def value_strategy(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A strategy for valid JSON values of one property schema (plus unknown enum values)."""
    nullable = schema.get("nullable", False)
    variants = [_resolve(s) for s in schema.get("oneOf", schema.get("allOf", []))]
    if variants:
        options = [value_strategy(v) for v in variants if v.get("enum") != [None]]
        strategy = st.one_of(options)
    elif "enum" in schema:
        strategy = _known_and_unknown(schema["enum"])
    elif schema.get("type") == "object":
        strategy = (
            object_strategy(schema)
            if "properties" in schema
            else st.dictionaries(st.text(max_size=10), json_values, max_size=4)
        )
    elif schema.get("type") == "string" and schema.get("format") == "date-time":
        strategy = datetime_strings
    elif schema.get("type") == "string":
        strategy = st.text(max_size=schema.get("maxLength", 64))
    elif schema.get("type") == "integer":
        strategy = st.integers(min_value=-(2**63), max_value=2**63 - 1)
    elif schema.get("type") == "number":
        strategy = st.integers(-(10**9), 10**9) | st.floats(allow_nan=False, allow_infinity=False)
    elif schema.get("type") == "boolean":
        strategy = st.booleans()
    else:  # pragma: no cover - a schema shape this table does not know yet
        raise NotImplementedError(schema)
    return st.none() | strategy if nullable else strategy


def object_strategy(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Required properties always, optional ones sometimes, and unknown extra fields."""
    schema = _resolve(schema)
    props: dict[str, Any] = schema["properties"]
    required = set(schema.get("required", []))
    fixed = {name: value_strategy(props[name]) for name in props if name in required}
    optional = {name: value_strategy(props[name]) for name in props if name not in required}
    extra = st.dictionaries(
        st.text(min_size=1, max_size=12).filter(lambda k: k not in props), json_values, max_size=3
    )
    return st.builds(
        lambda base, extras: {**extras, **base},
        st.fixed_dictionaries(fixed, optional=optional),
        extra,
    )


connections = object_strategy(CONNECTION)
