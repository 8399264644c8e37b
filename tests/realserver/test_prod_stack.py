"""The production-shaped stack behaves as Label Studio's own deployment does (what the
suite and the client must cope with), and PostgreSQL renders every row as SQLite does."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import httpx

from .shapes import Shape, Tokens, visible

ENDPOINT = "/api/model-provider-connections/{}/"


def _raw_exchange(url: str, path: str) -> tuple[bytes, bytes]:
    """One HTTP/1.1 request on a raw socket: the answer's head, and what the socket gives
    once the answer is complete (b"" when the server closed it)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode())
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        length = next(int(line.split(b":")[1]) for line in head.lower().split(b"\r\n")
                      if line.startswith(b"content-length:"))  # fmt: skip
        while len(body) < length:
            body += sock.recv(65536)
        started = time.monotonic()
        after = sock.recv(1)
        assert time.monotonic() - started < 5
    return head, after


def test_uwsgi_keeps_http11_open_in_words_and_closes_it(all_shapes: dict[str, Shape]) -> None:
    # The behaviour behind "Server disconnected without sending a response": an HTTP/1.1
    # answer that does not say "Connection: close", then the socket closed all the same.
    head, after = _raw_exchange(all_shapes["uwsgi"].url, "/health")
    assert head.startswith(b"HTTP/1.1 200")
    assert b"connection: close" not in head.lower()
    assert after == b"", "uwsgi kept the connection open"
    # nginx keeps its client connections open for real (TLS aside: same rule).


def test_nginx_answers_options_itself(all_shapes: dict[str, Shape], tokens: Tokens) -> None:
    proxied, direct = all_shapes["nginx"], all_shapes["uwsgi"]
    url = ENDPOINT.format(proxied.stack.row("provider-OpenAI")["id"])
    auth = {"Authorization": f"Token {tokens.of(direct, 'admin', 'legacy')}"}
    theirs = httpx.options(direct.url + url, headers=auth)
    assert theirs.status_code == 200 and "GET" in theirs.headers["allow"]
    ours = httpx.options(proxied.url + url, headers=auth, verify=proxied.verify)
    assert (ours.status_code, ours.content) == (204, b"")
    assert "allow" not in ours.headers and ours.headers["server"] == "nginx"


def test_nginx_gzips_json_and_adds_cors_and_hsts(all_shapes: dict[str, Shape]) -> None:
    for shape in (all_shapes["nginx"], all_shapes["nginx-prefix"]):
        row = shape.stack.row("max-length")
        answer = httpx.get(shape.url + ENDPOINT.format(row["id"]), verify=shape.verify,
                           headers={"Authorization": f"Token {shape.stack.viewer_token(row)}",
                                    "Accept-Encoding": "gzip"})  # fmt: skip
        assert answer.status_code == 200
        assert answer.headers["content-encoding"] == "gzip"
        assert answer.headers["strict-transport-security"] == "max-age=31536000"
        assert answer.headers["access-control-allow-origin"] == "*"
        assert answer.json() == shape.stack.expected(row, "object")


def test_the_prefixed_server_knows_its_prefix(all_shapes: dict[str, Shape]) -> None:
    # LABEL_STUDIO_HOST=https://host:port/ls: Django prefixes what it builds (FORCE_SCRIPT_NAME).
    prefixed, root = all_shapes["nginx-prefix"], all_shapes["nginx"]
    for shape in (prefixed, root):
        answer = httpx.get(shape.url + "/docs/api/schema/json/", verify=shape.verify, timeout=60)
        assert answer.status_code == 200, answer.text[:500]
        assert answer.json()["servers"][0]["url"] == shape.url


def test_postgresql_renders_every_row_as_sqlite_does(all_shapes: dict[str, Shape]) -> None:
    sqlite, postgresql = all_shapes["nginx"], all_shapes["nginx-prefix"]
    assert (sqlite.database, postgresql.database) == ("sqlite", "postgresql")
    assert [r["id"] for r in sqlite.stack.rows] == [r["id"] for r in postgresql.stack.rows]
    for stored, row in zip(sqlite.stack.rows, postgresql.stack.rows, strict=True):
        assert row["expected"] == stored["expected"], row["shape"]
    # And what PostgreSQL's server sends is what SQLite stored (-0.0 == 0.0 aside: SQLite
    # keeps no sign of zero, PostgreSQL does).
    for row in visible(sqlite.stack):
        answer = httpx.get(postgresql.url + ENDPOINT.format(row["id"]), verify=postgresql.verify,
                           headers={"Authorization": f"Token {sqlite.stack.viewer_token(row)}"})  # fmt: skip
        assert answer.json() == sqlite.stack.expected(row, "object"), row["shape"]
