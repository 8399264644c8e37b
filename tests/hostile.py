"""A hostile HTTP server on a real loopback socket: it hangs, drips, floods and lies.

``serve(behaviour)`` runs ``behaviour(sock, method, path)`` for every request it reads, each
connection in its own thread, until the block ends. Behaviours give up after
``GIVE_UP`` seconds, so a client that does not bound its call shows up as a slow, failed
test, never as a hung run.
"""

from __future__ import annotations

import contextlib
import gzip
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Protocol

import attrs

GIVE_UP = 20.0


class Sock(Protocol):
    def sendall(self, data: bytes, /) -> None: ...


Behaviour = Callable[[Sock, str, str], None]


@attrs.define
class Served:
    base_url: str
    requests: list[tuple[str, str]] = attrs.field(factory=list)
    #: Bytes the server managed to write, over all connections.
    sent: list[int] = attrs.field(factory=lambda: [0])


def read_request(conn: socket.socket) -> tuple[list[str], bytes] | None:
    """The request head's lines and its body (by Content-Length), or None at end of stream."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk or len(data) > 65536:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next(
        (
            int(v)
            for k, _, v in (h.partition(":") for h in lines[1:])
            if k.lower() == "content-length"
        ),
        0,
    )
    while len(rest) < length:
        rest += conn.recv(65536)
    return lines, rest


@contextlib.contextmanager
def listen(handle: Callable[[socket.socket], None]) -> Iterator[int]:
    """A loopback listener running ``handle`` on each connection in a thread; yields its port."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=2)
        listener.close()


@contextlib.contextmanager
def serve(behaviour: Behaviour) -> Iterator[Served]:
    served = Served(base_url="")
    closing = threading.Event()

    def handle(conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            conn.settimeout(GIVE_UP)
            while not closing.is_set():
                request = read_request(conn)
                if request is None:
                    return
                method, path, _ = request[0][0].split(" ", 2)
                served.requests.append((method, path))
                behaviour(_Counting(conn, served), method, path)

    with listen(handle) as port:
        served.base_url = f"http://127.0.0.1:{port}"
        try:
            yield served
        finally:
            closing.set()


class _Counting:
    """A socket that counts what the behaviour manages to send."""

    def __init__(self, conn: socket.socket, served: Served) -> None:
        self._conn, self._served = conn, served

    def sendall(self, data: bytes) -> None:
        self._conn.sendall(data)
        self._served.sent[0] += len(data)

    def __getattr__(self, name: str) -> object:
        return getattr(self._conn, name)


# -- behaviours -----------------------------------------------------------------------------


def head(status: str = "200 OK", **headers: str | int) -> bytes:
    lines = [f"HTTP/1.1 {status}"] + [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def hang(sock: Sock, method: str, path: str) -> None:
    """Read the request, then say nothing."""
    time.sleep(GIVE_UP)


def drip_head(sock: Sock, method: str, path: str) -> None:
    """A status line, then one byte of a never-ending header every 0.2 s."""
    sock.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    _drip(sock)


def drip_body(sock: Sock, method: str, path: str) -> None:
    """Headers at once, then one byte of the body every 0.2 s."""
    sock.sendall(head(content_type="application/json", content_length=100_000))
    _drip(sock)


def _drip(sock: Sock) -> None:
    end = time.monotonic() + GIVE_UP
    while time.monotonic() < end:
        sock.sendall(b"a")
        time.sleep(0.2)


def flood(total: int, *, declare: bool = True, chunk: int = 65536) -> Behaviour:
    """``total`` bytes of body (not JSON), with or without a Content-Length."""

    def behaviour(sock: Sock, method: str, path: str) -> None:
        if declare:
            sock.sendall(head(content_type="application/json", content_length=total))
            block = b"0" * chunk
            for _ in range(total // chunk):
                sock.sendall(block)
            return
        sock.sendall(head(content_type="application/json", transfer_encoding="chunked"))
        block = f"{chunk:x}\r\n".encode() + b"0" * chunk + b"\r\n"
        for _ in range(total // chunk):
            sock.sendall(block)
        sock.sendall(b"0\r\n\r\n")

    return behaviour


def gzip_bomb(decoded: int) -> Behaviour:
    """A small gzip body that decompresses to ``decoded`` bytes."""
    payload = gzip.compress(b"\0" * decoded, compresslevel=9)

    def behaviour(sock: Sock, method: str, path: str) -> None:
        sock.sendall(
            head(
                content_type="application/json",
                content_encoding="gzip",
                content_length=len(payload),
            )
        )
        sock.sendall(payload)

    return behaviour


def answer(status: str, body: bytes, **headers: str | int) -> Behaviour:
    def behaviour(sock: Sock, method: str, path: str) -> None:
        sock.sendall(head(status, content_length=len(body), **headers) + body)

    return behaviour


def routes(**by_path: Behaviour) -> Behaviour:
    """Dispatch on the path's last two segments' first match, e.g. ``refresh=``, ``connection=``."""

    def behaviour(sock: Sock, method: str, path: str) -> None:
        key = "refresh" if "/token/refresh/" in path else "connection"
        by_path[key](sock, method, path)

    return behaviour


@contextlib.contextmanager
def elapsed() -> Iterator[list[float]]:
    """``with elapsed() as took:`` ... ``took[0]`` is the block's wall time in seconds."""
    took = [0.0]
    start = time.monotonic()
    try:
        yield took
    finally:
        took[0] = time.monotonic() - start
