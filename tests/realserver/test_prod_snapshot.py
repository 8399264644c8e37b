"""Snapshots of the production-shaped stack: ``snapshot --all`` records every shape with both
credentials, and a snapshot taken straight from uwsgi and one taken through nginx (the same
server, the same rows) compare as compatible: a proxy in front changes nothing a client of
this endpoint relies on. The same holds for the development server's snapshot (the same
code and rows on another host) against nginx's."""

from __future__ import annotations

from pathlib import Path

import pytest

from ls_model_providers.cli import main

from .shapes import Shape, Tokens
from .stack import Stack


def _snapshot(shape: Shape, key: str, path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    code = main(["snapshot", "--base-url", shape.url, "--api-key", key, "--all",
                 "-o", str(path), *shape.tls_options])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, f"snapshot of {shape.name}: exit {code}: {out[-600:]} {err[-600:]}"
    assert key not in out + err + path.read_text()
    return out


def test_snapshot_all(
    shape: Shape, credential: str, tokens: Tokens, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    key = tokens.of(shape, "admin", credential)
    _snapshot(shape, key, tmp_path / "snapshot.json", capsys)


def test_direct_and_nginx_snapshots_compare_as_compatible(
    all_shapes: dict[str, Shape], tokens: Tokens, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    direct, proxied = all_shapes["uwsgi"], all_shapes["nginx"]
    key = tokens.of(direct, "admin", "legacy")
    _snapshot(direct, key, tmp_path / "direct.json", capsys)
    _snapshot(proxied, key, tmp_path / "nginx.json", capsys)
    code = main(["snapshot-diff", str(tmp_path / "direct.json"), str(tmp_path / "nginx.json")])
    out, _ = capsys.readouterr()
    assert code == 0, f"snapshot-diff exit {code}:\n{out}"


def test_development_server_and_nginx_snapshots_compare_as_compatible(
    stack: Stack, all_shapes: dict[str, Shape], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    # The add-on under `label-studio start` holds the same seeded rows as the uwsgi server
    # behind nginx; only the host (in the served schema) and the proxy differ.
    proxied = all_shapes["nginx"]
    key = stack.token("admin")
    development = Shape("development", stack.url, None, "sqlite", stack)
    _snapshot(development, key, tmp_path / "development.json", capsys)
    _snapshot(proxied, key, tmp_path / "nginx.json", capsys)
    code = main(["snapshot-diff", str(tmp_path / "development.json"), str(tmp_path / "nginx.json")])
    out, _ = capsys.readouterr()
    assert code == 0, f"snapshot-diff exit {code}:\n{out}"
