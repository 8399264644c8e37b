from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent
SPEC_PATH = ROOT / "openapi" / "model-provider-connection.yaml"

# `nox -s mutation` runs the tests two at a time against each mutant: no per-example deadline
# (a slow machine is no failure), the same examples every run, nothing kept between runs.
settings.register_profile("mutation", deadline=None, derandomize=True, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="session")
def spec() -> dict[str, Any]:
    return yaml.safe_load(SPEC_PATH.read_text())


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    """Run a behaviour test through both clients: Client and AsyncClient."""
    value: str = request.param
    return value
