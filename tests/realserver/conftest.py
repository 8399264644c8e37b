"""Real-server tests: run by ``nox -s realserver``, which starts Label Studio and sets the env."""

from __future__ import annotations

import os
from typing import Any

import pytest

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


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # One test per seeded row, named by its shape; the seed file exists only under
    # `nox -s realserver` (elsewhere the `row` tests fail asking for it).
    if "row" in metafunc.fixturenames:
        seeded = os.environ.get("LS_ADDON_SEEDED")
        rows: list[Any] = Stack.load("", seeded, "").rows if seeded else [None]
        ids = [r["shape"] for r in rows] if seeded else ["LS_ADDON_SEEDED-missing"]
        metafunc.parametrize("row", rows, ids=ids)
