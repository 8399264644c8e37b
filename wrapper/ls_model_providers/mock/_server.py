"""Serve the mock with uvicorn: in a background thread (tests, the conformance suite) or in
the foreground (``ls-model-providers mock``), over HTTP or, given a certificate, HTTPS."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import attrs
import uvicorn
from starlette.applications import Starlette

from ._app import ConnectionDropped, MockState

__all__ = ["ServedMock", "free_port", "serve_in_thread", "uvicorn_config"]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago on ``host``."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class _HideInjectedDrops(logging.Filter):
    """uvicorn logs an app exception with a traceback; an injected drop is not one."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], ConnectionDropped))


def uvicorn_config(app: Starlette, host: str, port: int, **kwargs: Any) -> uvicorn.Config:
    """How the mock is served: one h11 worker, quiet logs, injected drops not logged."""
    logging.getLogger("uvicorn.error").addFilter(_DROP_FILTER)
    return uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False, lifespan="off",
        http="h11", timeout_graceful_shutdown=2, **kwargs,
    )  # fmt: skip


_DROP_FILTER = _HideInjectedDrops()


@attrs.define
class ServedMock:
    """A mock being served on loopback: its ``base_url``, ``app`` and ``state``."""

    base_url: str
    app: Starlette
    server: uvicorn.Server

    @property
    def state(self) -> MockState:
        state: MockState = self.app.state.mock
        return state

    @property
    def token(self) -> str:
        """The first user's legacy token (an admin of organisation 1)."""
        return self.state.data.users[0].token

    @property
    def member_token(self) -> str:
        """A denied key: the legacy token of a member of the admin's organisation whose role
        may not view connections (``alan`` in the default data). ``LookupError`` if the
        data has none."""
        user = self.state.data.member_without_role()
        if user is None:
            raise LookupError(
                "the mock's data has no member of the admin's organisation without the role"
            )
        return user.token

    @property
    def other_org_token(self) -> str:
        """A denied key: the legacy token of a user of another organisation, who may view its
        own connections (``grace`` in the default data). ``LookupError`` if the data has none."""
        user = self.state.data.other_organisation_user()
        if user is None:
            raise LookupError("the mock's data has no user of another organisation")
        return user.token


@contextlib.contextmanager
def serve_in_thread(
    app: Starlette,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    certfile: str | None = None,
    keyfile: str | None = None,
) -> Iterator[ServedMock]:
    """Serve ``app`` with one uvicorn worker in a daemon thread until the block ends.

    With ``certfile`` (a PEM certificate chain, and ``keyfile`` unless the key is in it) it
    serves HTTPS, and ``base_url`` starts with ``https://``.
    """
    port = port or free_port(host)
    tls = {"ssl_certfile": certfile, "ssl_keyfile": keyfile} if certfile else {}
    server = uvicorn.Server(uvicorn_config(app, host, port, **tls))
    thread = threading.Thread(target=server.run, name=f"ls-mock-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the mock server did not start on {host}:{port}")
        time.sleep(0.01)
    try:
        scheme = "https" if certfile else "http"
        yield ServedMock(base_url=f"{scheme}://{host}:{port}", app=app, server=server)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
