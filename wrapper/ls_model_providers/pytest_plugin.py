"""pytest integration, registered automatically when the package is installed.

Options for running the conformance suite under pytest
(``pytest --pyargs ls_model_providers.conformance --ls-base-url URL``): ``--ls-base-url``,
``--ls-api-key``, ``--ls-id``, ``--ls-max-examples`` (URL and key default to
``LABEL_STUDIO_URL`` / ``LABEL_STUDIO_API_KEY``; no URL: the embedded mock).

Fixtures for testing your own code against the mock:

* ``ls_mock_app`` - a fresh in-process app (``create_app()``); use it with
  ``httpx.ASGITransport`` (async) or ``SyncASGITransport`` (blocking).
* ``ls_mock_server`` - a served mock on a free loopback port, shared by the session:
  ``ls_mock_server.base_url``, ``ls_mock_server.token``, ``ls_mock_server.state``.

Example::

    def test_my_code(ls_mock_server):
        client = Client(base_url=ls_mock_server.base_url, api_key=ls_mock_server.token)
        assert client.get_connection(1).provider == "OpenAI"

Imports are lazy, so installing the package without the ``mock`` extra costs pytest nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from .mock import ServedMock


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ls-model-providers", "Label Studio model provider conformance")
    group.addoption(
        "--ls-base-url", default=None, help="deployment URL (default: $LABEL_STUDIO_URL)"
    )
    group.addoption("--ls-api-key", default=None, help="token (default: $LABEL_STUDIO_API_KEY)")
    group.addoption("--ls-id", type=int, default=None, help="an existing connection id")
    group.addoption("--ls-max-examples", type=int, default=50, help="generated cases per mode")


@pytest.fixture
def ls_mock_app() -> Starlette:
    """A fresh in-process mock app with the default data."""
    from .mock import create_app

    return create_app()


@pytest.fixture(scope="session")
def ls_mock_server() -> Iterator[ServedMock]:
    """A mock served by uvicorn on a free loopback port for the whole test session."""
    from .mock import create_app, serve_in_thread

    with serve_in_thread(create_app()) as served:
        yield served
