"""Real-server tests: run by ``nox -s realserver``, which starts Label Studio and sets the env."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def real_url() -> str:
    url = os.environ.get("LS_REAL_URL")
    if not url:
        pytest.fail("LS_REAL_URL is not set: run these tests with `nox -s realserver`")
    return url


@pytest.fixture(scope="session")
def real_token() -> str:
    token = os.environ.get("LS_REAL_TOKEN")
    if not token:
        pytest.fail("LS_REAL_TOKEN is not set: run these tests with `nox -s realserver`")
    return token
