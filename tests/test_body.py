"""What a body may be: the bounded read, the JSON rules, the helpers the tools count with.

The client's tests run these through whole calls; here are their edges, each at its limit
and one past it.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import zlib
from typing import Any

import pytest

from ls_model_providers._body import (
    BodyReader,
    BodyTooLarge,
    JSONRejected,
    UndecodableBody,
    json_type,
    loads,
    structural_tokens,
)
from ls_model_providers._constants import MAX_JSON_DEPTH


def _nested(depth: int) -> str:
    """A JSON array nested ``depth`` deep, with enough brackets beside it that the depth is
    walked (a body with few brackets cannot be deep)."""
    return '{"deep": ' + "[" * depth + "]" * depth + ', "wide": [' + ",".join(["{}"] * 80) + "]}"


def test_nesting_up_to_the_limit_is_accepted_and_one_more_is_not() -> None:
    # the outer object is level 1: the array adds MAX_JSON_DEPTH - 1 levels more
    assert loads(_nested(MAX_JSON_DEPTH - 1))["wide"] == [{}] * 80
    with pytest.raises(JSONRejected, match="nested deeper than 64") as info:
        loads(_nested(MAX_JSON_DEPTH))
    assert info.value.malformed is False, "JSON the server meant: not fetched again"
    objects = '{"a": ' * MAX_JSON_DEPTH + "1" + "}" * MAX_JSON_DEPTH
    assert loads(objects + " ")["a"]["a"]["a"] is not None
    with pytest.raises(JSONRejected):
        loads('{"a": ' * (MAX_JSON_DEPTH + 1) + "1" + "}" * (MAX_JSON_DEPTH + 1))


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ({}, "object"), ([], "array"), ("x", "string"), (True, "boolean"), (1, "integer"),
        (1.0, "number"), (None, "null"), (dt.date(2026, 1, 1), "date"),
        (type("Sub", (dict,), {})(), "object"),
    ],
)  # fmt: skip
def test_json_type_names(value: Any, name: str) -> None:
    assert json_type(value) == name


@pytest.mark.parametrize(
    ("text", "json_count", "yaml_count"),
    [
        ('{"a": [1, 2, {"b": 3}]}', 5, 5),
        ("a: 1\nb:\n  - x\n  - y\n", 0, 6),
        ("", 0, 0),
    ],
)
def test_structural_tokens_count_what_a_parse_would_build(
    text: str, json_count: int, yaml_count: int
) -> None:
    for data in (text, text.encode()):
        assert structural_tokens(data) == json_count
        assert structural_tokens(data, yaml=True) == yaml_count


def _read(data: bytes, limit: int, headers: dict[str, str], size: int = 7) -> bytes:
    reader = BodyReader(limit, headers)
    for start in range(0, len(data), size):
        reader.feed(data[start : start + size])
    return reader.finish()


@pytest.mark.parametrize("coding", ["gzip", "deflate", "raw deflate"])
def test_a_compressed_body_exactly_at_the_limit_is_read(coding: str) -> None:
    payload = json.dumps({"x": "y" * 5000}).encode()
    data = {
        "gzip": gzip.compress,
        "deflate": zlib.compress,
        "raw deflate": lambda b: zlib.compress(b, wbits=-15),
    }[coding](payload)
    header = {"content-encoding": coding.removeprefix("raw ")}
    assert _read(data, len(payload), header) == payload
    with pytest.raises(BodyTooLarge) as info:
        _read(data, len(payload) - 1, header)
    assert 0 < info.value.received <= len(data)


def test_a_plain_body_exactly_at_the_limit_is_read() -> None:
    assert _read(b"x" * 100, 100, {}) == b"x" * 100
    with pytest.raises(BodyTooLarge) as info:
        _read(b"x" * 101, 100, {})
    assert info.value.received == 101
    assert _read(b"", 100, {}) == b""
    assert BodyReader(100, {"content-length": "100"}).finish() == b""
    with pytest.raises(BodyTooLarge) as declared:
        BodyReader(100, {"content-length": "101"})
    assert (declared.value.declared, declared.value.received) == (101, 0)


@pytest.mark.parametrize(
    ("coding", "why"),
    [
        *[
            (c, f"unsupported Content-Encoding: '{c}'")
            for c in ("br", "zstd", "compress", "x-compress", "lzma", "xz", "bzip2")
        ],
        ("x-made-up", "unsupported Content-Encoding: an unknown one"),
        ("gzip, gzip, gzip", "3 stacked content encodings"),
    ],
)
def test_codings_the_reader_cannot_decode_are_refused_before_reading(coding: str, why: str) -> None:
    with pytest.raises(UndecodableBody, match=why):
        BodyReader(100, {"content-encoding": coding})


def test_identity_and_empty_codings_are_no_coding() -> None:
    assert _read(b"plain", 100, {"content-encoding": "identity"}) == b"plain"
    assert _read(b"plain", 100, {"content-encoding": " , identity"}) == b"plain"
    twice = gzip.compress(gzip.compress(b"twice"))
    assert _read(twice, 100, {"content-encoding": "GZIP, x-gzip"}) == b"twice"


def test_nesting_in_arrays_alone_is_bounded_too() -> None:
    with pytest.raises(JSONRejected, match="nested deeper than 64"):
        loads("[" * 65 + "]" * 65)
    with pytest.raises(JSONRejected, match="nested") as info:
        loads("[" * 100_000 + "]" * 100_000)
    assert info.value.malformed is False


def test_bytes_are_decoded_as_json_loads_decodes_them_but_strictly() -> None:
    """UTF-16 with its BOM, as json.loads reads it; UTF-8 encoding a lone surrogate, which
    json.loads lets through into a str no encoder can write back, is refused."""
    assert loads('{"a": 1}'.encode("utf-16")) == {"a": 1}
    assert loads('{"a": "\u00e9"}'.encode("utf-16-le")) == {"a": "\u00e9"}
    assert json.loads(b'{"a": "\xed\xa0\x80"}') == {"a": "\ud800"}
    with pytest.raises(JSONRejected):
        loads(b'{"a": "\xed\xa0\x80"}')
