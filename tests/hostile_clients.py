"""Hostile clients of the mock, on a real loopback socket: what a client can send that no
well-behaved one does (deep JSON, forged claims, endless bodies, bytes a header should not
hold), and what Label Studio answers to each.

``CASES`` is one table for two readers: ``tests/test_mock_as_target.py`` asserts each answer,
``benchmarks/hostile.py`` prints each one's time and the mock's peak memory; ``run`` serves a
fresh mock and sends one case. ``send`` writes a request head and streams its body until the
server stops reading, then reads the answer.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import math
import socket
import time
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import jwt

from ls_model_providers._constants import MOCK_MAX_REQUEST_BODY
from ls_model_providers.mock import ServedMock, create_app, serve_in_thread

MiB = 1024 * 1024
GIVE_UP = 20.0
NOT_PROVIDED = "Authentication credentials were not provided."
TOO_BIG = "Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE."
REFRESH = "/api/token/refresh/"
DETAIL = "/api/model-provider-connections/1/"
_CHUNK = b" " * 65536


@attrs.define
class Answer:
    """What came back: status (0: none, the connection closed first), headers, body; and
    how many request bytes the client managed to send before the server stopped reading."""

    status: int
    headers: dict[str, str]
    body: bytes
    sent: int


Body = Callable[[], Iterator[bytes]]


def request(
    method: str, path: str, headers: dict[str, str | bytes] | None = None, body: bytes = b""
) -> tuple[bytes, Body]:
    """A request with a known body: its head (Content-Length set) and the body."""
    head = _head(method, path, {**(headers or {}), "Content-Length": str(len(body))})
    return head, lambda: iter([body] if body else [])


def _head(method: str, path: str, headers: dict[str, str | bytes]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: 127.0.0.1"]
    for name, value in headers.items():
        lines.append(
            name.encode() + b": " + (value if isinstance(value, bytes) else value.encode())
        )
    return b"\r\n".join(lines) + b"\r\n\r\n"


def send(base_url: str, head: bytes, body: Body, *, wait: float = GIVE_UP) -> Answer:
    """Send ``head``, stream ``body()`` until it ends or the server stops reading (it closed,
    or took nothing for ``wait`` seconds), then read the answer until the connection closes
    or the body's Content-Length is in."""
    host, port = base_url.removeprefix("http://").rsplit(":", 1)
    sent = 0
    with socket.create_connection((host, int(port)), timeout=wait) as sock:
        try:
            sock.sendall(head)
            sent += len(head)
            for chunk in body():
                sock.sendall(chunk)
                sent += len(chunk)
        except OSError:  # the server closed, or stopped reading: its answer may be in
            pass
        return _read_answer(sock, sent)


def _read_answer(sock: socket.socket, sent: int) -> Answer:
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return Answer(0, {}, data, sent)
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {
            k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])
        }
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
    except OSError:
        return Answer(0, {}, data, sent)
    return Answer(int(lines[0].split()[1]), headers, rest, sent)


def forged(served: ServedMock, kind: str, /, **claims: Any) -> str:
    """A token of ``kind`` ("access", "refresh") signed with the mock's secret (public: its
    default is in the source), with ``claims`` over a valid set for user 1."""
    now = int(time.time())
    payload = {"token_type": kind, "user_id": "1", "iat": now, "exp": now + 3600, "jti": "x"}
    return jwt.encode({**payload, **claims}, served.state.jwt_secret, algorithm="HS256")


def bearer(token: str) -> tuple[bytes, Body]:
    return request("GET", DETAIL, {"Authorization": f"Bearer {token}"})


def refresh_body(content: bytes) -> tuple[bytes, Body]:
    return request("POST", REFRESH, {"Content-Type": "application/json"}, content)


def endless(total: int, *, declare: bool) -> tuple[bytes, Body]:
    """A refresh body of ``total`` bytes of white space, streamed 64 KiB at a time: with its
    Content-Length, or chunked (no length: the server learns the size only by reading)."""
    framing = {"Content-Length": str(total)} if declare else {"Transfer-Encoding": "chunked"}
    head = _head("POST", REFRESH, {"Content-Type": "application/json", **framing})

    def body() -> Iterator[bytes]:
        frame = b"%x\r\n" % len(_CHUNK) + _CHUNK + b"\r\n"
        for _ in range(total // len(_CHUNK)):
            yield _CHUNK if declare else frame
        if not declare:
            yield b"0\r\n\r\n"

    return head, body


def stalled(declared: int, first: bytes) -> tuple[bytes, Body]:
    """A refresh body that promises ``declared`` bytes, sends ``first``, and then nothing."""
    head = _head(
        "POST", REFRESH, {"Content-Type": "application/json", "Content-Length": str(declared)}
    )
    return head, lambda: iter([first])


@attrs.frozen
class Case:
    """One hostile request, and what Label Studio answers to it (status, detail). The row
    names what the client does; ``mock`` sets a MockState attribute first (a shorter wait)."""

    name: str
    make: Callable[[ServedMock], tuple[bytes, Body]]
    status: int
    detail: str
    mock: dict[str, Any] = attrs.field(factory=dict)
    #: Seconds the client waits for the server to take its body (``send``'s ``wait``).
    wait: float = GIVE_UP


def _deep_header(served: ServedMock) -> tuple[bytes, Body]:
    header = jwt.utils.base64url_encode(b"[" * 10_000).decode()
    return bearer(f"{header}.e30.c2ln")


CASES = [
    Case(
        "refresh body nested 100,000 deep",
        lambda s: refresh_body(b'{"refresh": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
        400,
        "JSON parse error - nested deeper than 64",
    ),
    Case(
        'refresh token signed with the public secret, user_id "²"',
        lambda s: refresh_body(b'{"refresh": "%s"}' % forged(s, "refresh", user_id="²").encode()),
        401,
        "Token is invalid",
    ),
    Case(
        "Bearer token whose user_id has 5,000 digits",
        lambda s: bearer(forged(s, "access", user_id="1" * 5000)),
        401,
        NOT_PROVIDED,
    ),
    Case(
        "Bearer token that expires at NaN (never, if read as a float)",
        lambda s: bearer(forged(s, "access", exp=math.nan)),
        401,
        NOT_PROVIDED,
    ),
    Case(
        "refresh token that expires at Infinity",
        lambda s: refresh_body(b'{"refresh": "%s"}' % forged(s, "refresh", exp=math.inf).encode()),
        401,
        "Token is invalid",
    ),
    Case("Bearer token whose JOSE header nests 10,000 deep", _deep_header, 401, NOT_PROVIDED),
    Case(
        "refresh body of 400 MiB, Content-Length declared",
        lambda s: endless(400 * MiB, declare=True),
        400,
        TOO_BIG,
    ),
    Case(
        "refresh body of 400 MiB, chunked (no length)",
        lambda s: endless(400 * MiB, declare=False),
        400,
        TOO_BIG,
    ),
    Case(
        "refresh body one byte over the limit",
        lambda s: refresh_body(b'{"refresh": "x"}'.ljust(MOCK_MAX_REQUEST_BODY + 1)),
        400,
        TOO_BIG,
    ),
    Case(
        "refresh body that stops after 10 of 100 bytes",
        lambda s: stalled(100, b'{"refresh"'),
        400,
        "Request body not received within 0.5 seconds.",
        mock={"body_seconds": 0.5},
        wait=2.0,
    ),
    Case(
        "Token key that is not UTF-8",
        lambda s: request("GET", DETAIL, {"Authorization": b"Token \xff\xfe"}),
        401,
        "Invalid token header. Token string should not contain invalid characters.",
    ),
    Case(
        "PROPFIND with the admin's key",
        lambda s: request("PROPFIND", DETAIL, {"Authorization": f"Token {s.token}"}),
        405,
        'Method "PROPFIND" not allowed.',
    ),
]


@attrs.define
class Run:
    """One case against a fresh served mock."""

    answer: Answer
    seconds: float
    #: Peak Python memory traced while the request ran (the mock serves in this process).
    peak: int
    #: What the mock logged at ERROR or above (an unhandled exception's traceback).
    logged: list[logging.LogRecord]
    #: The status of a plain GET sent afterwards: the mock still serves.
    after: int


def run(case: Case) -> Run:
    app = create_app()
    for name, value in case.mock.items():
        setattr(app.state.mock, name, value)
    with serve_in_thread(app) as served, _errors_logged() as logged:
        head, body = case.make(served)
        gc.collect()
        tracemalloc.start()
        try:
            started = time.monotonic()
            answer = send(served.base_url, head, body, wait=case.wait)
            seconds = time.monotonic() - started
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        plain = request("GET", DETAIL, {"Authorization": f"Token {served.token}"})
        after = send(served.base_url, *plain).status
    return Run(answer, seconds, peak, logged, after)


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def _errors_logged() -> Iterator[list[logging.LogRecord]]:
    """Records uvicorn logs at ERROR while the block runs (attach after the server started:
    building its config resets its loggers' handlers)."""
    handler = _ListHandler()
    logger = logging.getLogger("uvicorn.error")
    logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)
