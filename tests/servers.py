"""Servers that watch or bend what the conformance suite sends.

* ``Recorder``: ASGI middleware that records every request the app receives, as the server
  saw it (so a test compares the report's count with the truth).
* ``Override``: ASGI middleware that answers some requests itself (a deployment that behaves
  unlike Label Studio in one way), and passes the rest to the mock.
* ``forward_proxy``: an HTTP forward proxy on loopback that counts what goes through it.
* ``certificates``: a throwaway CA and a loopback certificate (trustme), as PEM files.
"""

from __future__ import annotations

import contextlib
import inspect
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from .hostile import listen, read_request

if TYPE_CHECKING:
    from ls_model_providers.mock import ServedMock

Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]
ASGIApp = Callable[[Scope, Receive, Send], Any]


@attrs.define
class Seen:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    at: float
    status: int | None = None


class Recorder:
    """Records every HTTP request into ``log`` before the app answers it."""

    def __init__(self, app: ASGIApp, log: list[Seen]) -> None:
        self.app, self.log = app, log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        seen = Seen(scope["method"], scope["path"], scope["query_string"].decode("latin-1"),
                    headers, time.monotonic())  # fmt: skip
        self.log.append(seen)

        async def watch(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                seen.status = message["status"]
            await send(message)

        await self.app(scope, receive, watch)


#: (method, path with its query if any, headers) -> None to pass the request on, or
#: (status, headers, body); or a coroutine function returning the same.
Rule = Callable[[str, str, dict[str, str]], Any]


class Override:
    """Answers what ``rule`` claims; the mock answers the rest."""

    def __init__(self, app: ASGIApp, rule: Rule) -> None:
        self.app, self.rule = app, rule

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = {
                k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]
            }
            query = scope.get("query_string", b"").decode("latin-1")
            path = scope["path"] + (f"?{query}" if query else "")  # as the request named it
            answer = self.rule(scope["method"], path, headers)
            if inspect.isawaitable(answer):  # an async rule may take its time (a slow server)
                answer = await answer
            if answer is not None:
                status, extra, body = answer
                raw = [(k.lower().encode(), v.encode("latin-1")) for k, v in extra]
                if not any(k == b"content-length" for k, _ in raw):
                    raw.append((b"content-length", str(len(body)).encode()))
                await send({"type": "http.response.start", "status": status, "headers": raw})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def ls_error(status: int, detail: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """An answer with Label Studio's error body."""
    import json

    body = {"id": "e", "status_code": status, "version": "x", "detail": detail, "exc_info": None}
    headers = [("content-type", "application/json")]
    if status == 401:
        headers.append(("www-authenticate", "Token"))
    return status, headers, json.dumps(body).encode()


@attrs.define
class Proxy:
    url: str
    #: The request line of every request that went through (absolute-form targets).
    lines: list[str] = attrs.field(factory=list)


@contextlib.contextmanager
def forward_proxy(hosts: dict[str, str] | None = None) -> Iterator[Proxy]:
    """A plain-HTTP forward proxy: each request on its own connection to the origin. ``hosts``
    maps names only the proxy knows to the addresses it connects to."""
    proxy = Proxy(url="")

    def relay(client: socket.socket) -> None:
        with client, contextlib.suppress(OSError):
            client.settimeout(10)
            request = read_request(client)
            if request is None:
                return
            lines, rest = request
            method, target, version = lines[0].split(" ", 2)
            proxy.lines.append(lines[0])
            hostpath = target.partition("://")[2]
            hostport, _, path = hostpath.partition("/")
            host, _, port = hostport.partition(":")
            kept = [h for h in lines[1:] if not h.lower().startswith(("connection:", "proxy-"))]
            head = "\r\n".join([f"{method} /{path} {version}", *kept, "Connection: close", "", ""])
            address = (hosts or {}).get(host, host)
            with socket.create_connection((address, int(port or 80)), timeout=10) as origin:
                origin.sendall(head.encode("latin-1") + rest)
                while chunk := origin.recv(65536):
                    client.sendall(chunk)

    with listen(relay) as port:
        proxy.url = f"http://127.0.0.1:{port}"
        yield proxy


@attrs.define
class Certificates:
    ca: Path  # the throwaway CA's certificate: what a client trusts
    cert: Path  # the server's certificate chain
    key: Path


def certificates(folder: Path) -> Certificates:
    """A fresh CA and a certificate for 127.0.0.1 and localhost, signed by it."""
    import trustme

    ca = trustme.CA()
    issued = ca.issue_cert("127.0.0.1", "localhost")
    paths = Certificates(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    ca.cert_pem.write_to_path(str(paths.ca))
    issued.cert_chain_pems[0].write_to_path(str(paths.cert))
    for extra in issued.cert_chain_pems[1:]:
        extra.write_to_path(str(paths.cert), append=True)
    issued.private_key_pem.write_to_path(str(paths.key))
    return paths


#: (method, path, status, body) -> the body to send instead (or the same one).
BodyRule = Callable[[str, str, int, bytes], bytes]


class Rewrite:
    """Passes every request to the mock and lets ``rule`` change the body it answers with (a
    deployment that leaks on some answers only); Content-Length follows the new body."""

    def __init__(self, app: ASGIApp, rule: BodyRule) -> None:
        self.app, self.rule = app, rule

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def hold(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, hold)
        body = self.rule(scope["method"], scope["path"], start["status"], b"".join(chunks))
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        if scope["method"] != "HEAD":
            headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send(
            {"type": "http.response.body", "body": body if scope["method"] != "HEAD" else b""}
        )


def _relay_once(lines: list[str], rest: bytes, origin_port: int) -> bytes:
    """One request sent to the origin on a connection of its own; its whole answer."""
    kept = [h for h in lines[1:] if not h.lower().startswith("connection:")]
    head = "\r\n".join([lines[0], *kept, "Connection: close", "", ""]).encode("latin-1")
    with socket.create_connection(("127.0.0.1", origin_port), timeout=10) as origin:
        origin.sendall(head + rest)
        answer = b""
        while chunk := origin.recv(65536):
            answer += chunk
    return answer


def _without_connection_header(answer: bytes) -> bytes:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = [h for h in head.split(b"\r\n") if not h.lower().startswith(b"connection:")]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


@contextlib.contextmanager
def front(origin_port: int, *, uwsgi: bool = False, drop: str | None = None) -> Iterator[str]:
    """A server in front of the mock, relaying each request on a connection of its own.
    ``uwsgi``: behave as uwsgi's HTTP router does, answering HTTP/1.1 without
    ``Connection: close`` and then never answering on that connection again (here: closing it
    when the next request arrives, which makes the race deterministic); otherwise each answer
    says ``Connection: close``. ``drop``: close, unanswered, any request with this method.
    Yields its base URL."""

    def serve(client: socket.socket) -> None:
        with client, contextlib.suppress(OSError):
            client.settimeout(10)
            request = read_request(client)
            if request is None or request[0][0].split(" ")[0] == drop:
                return
            answer = _relay_once(*request, origin_port)
            client.sendall(_without_connection_header(answer) if uwsgi else answer)
            if uwsgi:
                read_request(client)  # the next request on this connection: closed unanswered

    with listen(serve) as port:
        yield f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def redirecting_front(location: str) -> Iterator[str]:
    """A server that answers every request with a 301 to ``location`` + the request's path
    (an http -> https redirect, or a canonical host name). Yields its base URL."""

    def serve(client: socket.socket) -> None:
        with client, contextlib.suppress(OSError):
            client.settimeout(10)
            request = read_request(client)
            if request is None:
                return
            path = request[0][0].split(" ")[1]
            client.sendall(
                f"HTTP/1.1 301 Moved Permanently\r\nLocation: {location.rstrip('/')}{path}\r\n"
                "Content-Length: 0\r\nConnection: close\r\n\r\n".encode("latin-1")
            )

    with listen(serve) as port:
        yield f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def serve_through(middleware: Any, rule: Any, **app_options: Any) -> Iterator[ServedMock]:
    """The mock (``create_app(**app_options)``) served behind ``middleware(rule=rule)``:
    ``Override`` answers for it, ``Rewrite`` changes what it answered."""
    from ls_model_providers.mock import create_app, serve_in_thread

    app = create_app(**app_options)
    app.add_middleware(middleware, rule=rule)
    with serve_in_thread(app) as served:
        yield served
