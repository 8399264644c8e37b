"""Real-server tests: run by ``nox -s realserver``, which starts Label Studio and sets the env."""

from __future__ import annotations

import os

import pytest


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
