"""Use the mock in-process from *blocking* code.

``httpx.ASGITransport`` only serves ``httpx.AsyncClient``. ``SyncASGITransport`` runs the
same transport on a private event loop thread so a plain ``httpx.Client`` (or our
``Client``) can call the app without a socket.

Example::

    transport = SyncASGITransport(create_app())
    Client(base_url="http://mock", api_key=token, transport=transport).get_connection(1)
"""

from __future__ import annotations

import asyncio
import threading

import httpx
from starlette.applications import Starlette

__all__ = ["SyncASGITransport"]


class SyncASGITransport(httpx.BaseTransport):
    """A blocking httpx transport that calls an ASGI app in-process."""

    def __init__(self, app: Starlette) -> None:
        self._inner = httpx.ASGITransport(app)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="ls-mock-asgi", daemon=True
        )
        self._thread.start()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def call() -> httpx.Response:
            response = await self._inner.handle_async_request(request)
            content = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=content)

        return asyncio.run_coroutine_threadsafe(call(), self._loop).result()

    def close(self) -> None:
        if self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()
