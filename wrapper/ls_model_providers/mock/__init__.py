"""A faithful mock of Label Studio Enterprise's model provider connection endpoint.

In-process::

    from ls_model_providers.mock import create_app
    app = create_app()
    transport = httpx.ASGITransport(app)        # for httpx.AsyncClient / AsyncClient
    transport = SyncASGITransport(app)          # for httpx.Client / Client

Served (one uvicorn worker on loopback)::

    with serve_in_thread(create_app()) as mock:
        Client(base_url=mock.base_url, api_key=mock.token).get_connection(1)

or ``ls-model-providers mock`` from a shell. Needs the ``mock`` extra: without it, importing
this package raises ``ModuleNotFoundError("install the mock extra: pip install
'ls-model-providers[mock]' (missing module: jwt)")``, the one message for a missing extra.
"""

try:
    from ._app import MockState, create_app
    from ._data import MockData, User, default_data
    from ._faults import DEFECTS, FAULT_KINDS, FaultPlan
    from ._inprocess import SyncASGITransport
    from ._server import ServedMock, free_port, serve_in_thread, uvicorn_config
except ImportError as exc:
    from ls_model_providers.toolkit.exits import require_extra

    raise require_extra("mock", exc) from None

__all__ = [
    "DEFECTS",
    "FAULT_KINDS",
    "FaultPlan",
    "MockData",
    "MockState",
    "ServedMock",
    "SyncASGITransport",
    "User",
    "create_app",
    "default_data",
    "free_port",
    "serve_in_thread",
    "uvicorn_config",
]
