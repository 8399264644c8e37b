"""``get`` and the Client on the production-shaped stack, with a legacy token and with a
personal access token: every row its viewer may see comes back equal to the stored row as
DRF renders it (the seed's oracle, from that shape's own database), and the rest are 404s."""

from __future__ import annotations

import json

import pytest

from ls_model_providers import Client, NotFoundError
from ls_model_providers.cli import main

from .shapes import Shape, Tokens
from .stack import comparable
from .test_addon_rows import _assert_equal, _assert_secret_free

FORM = "object"


def test_client_returns_every_row(shape: Shape, credential: str, tokens: Tokens) -> None:
    for row in shape.stack.rows:
        expected = shape.stack.expected(row, FORM)
        key = tokens.for_row(shape, row, credential)
        with Client(base_url=shape.url, api_key=key, verify=shape.verify) as client:
            if expected is None:
                with pytest.raises(NotFoundError):
                    client.get_connection(row["id"])
                continue
            detailed = client.get_connection_detailed(row["id"])
        _assert_secret_free(detailed.content, row)
        _assert_equal(detailed.parsed, expected, f"{row['shape']} on {shape.name}")


def test_cli_get_prints_every_row(
    shape: Shape, credential: str, tokens: Tokens, capsys: pytest.CaptureFixture[str]
) -> None:
    for row in shape.stack.rows:
        expected = shape.stack.expected(row, FORM)
        key = tokens.for_row(shape, row, credential)
        code = main(["get", str(row["id"]), "--base-url", shape.url, "--api-key", key,
                     *shape.tls_options])  # fmt: skip
        out, err = capsys.readouterr()
        if expected is None:
            assert (code, out) == (1, ""), f"{row['shape']}: {err}"
            assert "404" in err
            continue
        assert code == 0, f"{row['shape']}: {err}"
        assert comparable(json.loads(out)) == comparable(expected), row["shape"]
        assert key not in out + err
