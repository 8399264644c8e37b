"""Real-server tests: run by ``nox -s realserver``, which starts Label Studio and sets the env."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from . import shapes
from .shapes import Shape, Tokens
from .stack import Stack


def _required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run these tests with `nox -s realserver`")
    return value


@pytest.fixture(scope="session")
def real_url() -> str:
    return _required("LS_REAL_URL")


@pytest.fixture(scope="session")
def real_token() -> str:
    return _required("LS_REAL_TOKEN")


@pytest.fixture(scope="session")
def stack() -> Stack:
    """The real Label Studio with the add-on that serves the endpoint, and what it holds."""
    return Stack.load(
        _required("LS_ADDON_URL"), _required("LS_ADDON_SEEDED"), _required("LS_ADDON_SWITCH")
    )


@pytest.fixture(scope="session")
def all_shapes() -> dict[str, Shape]:
    _required("LS_PROD_SHAPES")
    return {s.name: s for s in shapes.load()}


@pytest.fixture(scope="session")
def shape(request: pytest.FixtureRequest, all_shapes: dict[str, Shape]) -> Shape:
    """One shape of the production-shaped stack (uwsgi; nginx; nginx under /ls, PostgreSQL)."""
    return all_shapes[request.param]


@pytest.fixture(scope="session")
def tokens() -> Tokens:
    return Tokens()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # The production shapes by name (the harness's file), every test once per credential.
    if "shape" in metafunc.fixturenames:
        spec = os.environ.get("LS_PROD_SHAPES")
        names = [s["name"] for s in json.loads(Path(spec).read_text())["shapes"]] if spec else []
        metafunc.parametrize("shape", names or ["LS_PROD_SHAPES-missing"], indirect=True)
    if "credential" in metafunc.fixturenames:
        metafunc.parametrize("credential", shapes.CREDENTIALS)
    # One test per seeded row, named by its shape; the seed file exists only under
    # `nox -s realserver` (elsewhere the `row` tests fail asking for it).
    if "row" in metafunc.fixturenames:
        seeded = os.environ.get("LS_ADDON_SEEDED")
        rows: list[Any] = Stack.load("", seeded, "").rows if seeded else [None]
        ids = [r["shape"] for r in rows] if seeded else ["LS_ADDON_SEEDED-missing"]
        metafunc.parametrize("row", rows, ids=ids)
