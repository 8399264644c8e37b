"""pytest integration, registered automatically when the package is installed.

Options for running the conformance suite under pytest
(``pytest --pyargs ls_model_providers.conformance --ls-base-url URL``): ``--ls-base-url``,
``--ls-api-key``, ``--ls-id``, ``--ls-denied-key``, ``--ls-max-examples``, ``--ls-max-requests``, ``--ls-deadline``,
``--ls-cacert``, ``--ls-insecure`` (URL and key default to ``LABEL_STUDIO_URL`` /
``LABEL_STUDIO_API_KEY``; no URL: the embedded mock). Messages name these options, never the CLI's.

Fixtures for testing your own code against the mock:

* ``ls_mock_app`` - a fresh in-process app (``create_app()``); use it with
  ``httpx.ASGITransport`` (async) or ``SyncASGITransport`` (blocking).
* ``ls_mock_server`` - a served mock on a free loopback port, shared by the session:
  ``ls_mock_server.base_url``, ``ls_mock_server.token``, ``ls_mock_server.state``.
* ``ls_mock_snapshot`` - the snapshot both replay instead of the default data (what your
  deployment answered; ``ls-model-providers snapshot``): ``--ls-snapshot FILE``, or override
  this fixture in a conftest.py. ``None`` (the default): the mock's own data. An override
  must be session-scoped, like ``ls_mock_server`` which uses it (pytest refuses a
  function-scoped fixture under a session-scoped one: ScopeMismatch)::

      # conftest.py
      import pytest

      @pytest.fixture(scope="session")
      def ls_mock_snapshot():
          return "tests/prod-snapshot.json"

Example::

    def test_my_code(ls_mock_server):
        client = Client(base_url=ls_mock_server.base_url, api_key=ls_mock_server.token)
        assert client.get_connection(1).provider == "OpenAI"

Imports are lazy, so installing the package without the ``mock`` extra costs pytest nothing;
a fixture used without it fails with the one "install the mock extra" message, and
``pytest --pyargs ls_model_providers.conformance`` without the ``conformance`` extra is a
usage error with the same kind of message, before anything is collected.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import TYPE_CHECKING

import pytest

from .toolkit.options import DEFAULT_DEADLINE, DEFAULT_MAX_EXAMPLES, DEFAULT_MAX_REQUESTS

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from .mock import ServedMock


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ls-model-providers", "Label Studio model provider conformance")
    group.addoption("--ls-base-url", default=None, help="deployment URL (default: $LABEL_STUDIO_URL)")  # fmt: skip
    group.addoption("--ls-api-key", default=None, help="token (default: $LABEL_STUDIO_API_KEY)")
    group.addoption("--ls-id", type=int, default=None, help="an existing connection id")
    group.addoption("--ls-denied-key", action="append", default=[], help="a user who must not read the connections (repeatable; default: $LABEL_STUDIO_DENIED_KEYS)")  # fmt: skip
    group.addoption("--ls-max-examples", type=int, default=DEFAULT_MAX_EXAMPLES, help=f"generated cases per mode (default {DEFAULT_MAX_EXAMPLES})")  # fmt: skip
    group.addoption("--ls-max-requests", type=int, default=DEFAULT_MAX_REQUESTS, help=f"request budget (default {DEFAULT_MAX_REQUESTS})")  # fmt: skip
    group.addoption("--ls-deadline", type=float, default=DEFAULT_DEADLINE, help=f"seconds the run may take (default {DEFAULT_DEADLINE:g})")  # fmt: skip
    group.addoption("--ls-cacert", default=None, help="CA bundle to trust (default: the environment's)")  # fmt: skip
    group.addoption("--ls-insecure", action="store_true", help="do not verify TLS certificates")
    group.addoption("--ls-snapshot", default=None, help="the mock fixtures replay this snapshot file")  # fmt: skip


def pytest_configure(config: pytest.Config) -> None:
    """``--pyargs ls_model_providers.conformance`` without the extra: one message, not an
    ImportError at collection."""
    suite = "ls_model_providers.conformance"
    if not config.getoption("pyargs", False) or not any(
        str(arg) == suite or str(arg).startswith(f"{suite}.") for arg in config.args
    ):
        return
    try:
        import ls_model_providers.conformance  # noqa: F401 - raises the one message
    except ImportError as exc:
        raise pytest.UsageError(f"ls-model-providers conformance: {exc}") from None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With the conformance tests collected, check their options now: a bad one is a usage
    error naming the ``--ls-*`` option, before any test runs."""
    suite = "ls_model_providers.conformance.test_deployment"
    if any(getattr(getattr(item, "module", None), "__name__", None) == suite for item in items):
        from .conformance.test_deployment import check_options

        check_options(config)


def _mock() -> ModuleType:
    try:
        from . import mock
    except ImportError as exc:
        from .toolkit.exits import missing_extra

        message = missing_extra("mock", exc)
    else:
        return mock
    pytest.fail(message, pytrace=False)  # outside the except: no chained ImportError shown


@pytest.fixture(scope="session")
def ls_mock_snapshot(pytestconfig: pytest.Config) -> str | None:
    """The snapshot file the mock fixtures replay (``--ls-snapshot``); None: the default data.
    Override it in a conftest.py with ``@pytest.fixture(scope="session")``."""
    path: str | None = pytestconfig.getoption("--ls-snapshot")
    return path


def _app(snapshot: str | None) -> Starlette:
    try:
        app: Starlette = _mock().create_app(snapshot=snapshot)
    except ValueError as exc:  # a malformed snapshot: the message names the file and the spot
        pytest.fail(f"--ls-snapshot: {exc}", pytrace=False)
    return app


@pytest.fixture
def ls_mock_app(ls_mock_snapshot: str | None) -> Starlette:
    """A fresh in-process mock app with the default data (or ``ls_mock_snapshot``'s)."""
    return _app(ls_mock_snapshot)


@pytest.fixture(scope="session")
def ls_mock_server(ls_mock_snapshot: str | None) -> Iterator[ServedMock]:
    """A mock served by uvicorn on a free loopback port for the whole test session."""
    with _mock().serve_in_thread(_app(ls_mock_snapshot)) as served:
        yield served
