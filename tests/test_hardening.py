"""Hardening, round 3 (issue 17): the scrubber, cookies, proxies, large deployments, URL
checks, a revoked personal access token, and the smaller holes. Real sockets: the mock served
by uvicorn, raw loopback servers from tests/hostile.py, subprocesses for the CLI's streams."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ls_model_providers import AsyncClient, AuthenticationError, Client, ResponseValidationError
from ls_model_providers._secrets import Scrubber
from ls_model_providers.cli import main
from ls_model_providers.conformance import RunConfig, run
from ls_model_providers.mock import MockData, create_app, default_data, serve_in_thread
from ls_model_providers.snapshot import Snapshot

from . import hostile
from .servers import Rewrite, forward_proxy

DETAIL = "/api/model-provider-connections/"


# -- the scrubber ------------------------------------------------------------------------------


def _long_s(token: str) -> str:
    """The token with one 's' (or, lacking one, its first letter) written as U+017F."""
    at = token.find("s")
    return token[:at] + "\u017f" + token[at + 1 :] if at >= 0 else token


def test_a_look_alike_echo_is_scrubbed_not_a_key_error() -> None:
    token = "s" + "0123456789abcdef" * 2 + "sss"
    echoed = f"{token} and {_long_s(token)} and {token.upper()}"
    assert Scrubber(token)(echoed) == "<redacted> and <redacted> and <redacted>"


@pytest.fixture
def echoing() -> Iterator[str]:
    """A server answering 401 whose detail echoes the credentials twice: exactly, and with
    one letter a look-alike (a personal access token always holds an 's')."""

    def serve(conn: Any) -> None:
        with conn:
            request = hostile.read_request(conn)
            if request is None:
                return
            header = next(h for h in request[0] if h.lower().startswith("authorization:"))
            key = header.split(" ", 2)[2]
            body = json.dumps({"id": "e", "status_code": 401, "version": "1", "exc_info": None,
                               "detail": f"bad {key} / {_long_s(key)}"}).encode()  # fmt: skip
            conn.sendall(b"HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\n"
                         b"Connection: close\r\nContent-Length: " + str(len(body)).encode()
                         + b"\r\n\r\n" + body)  # fmt: skip

    with hostile.listen(serve) as port:
        yield f"http://127.0.0.1:{port}"


def test_a_look_alike_echo_reaches_no_output(
    echoing: str, capsys: pytest.CaptureFixture[str]
) -> None:
    key = "s" + "feedface" * 5
    with (
        Client(base_url=echoing, api_key=key) as client,
        pytest.raises(AuthenticationError) as info,
    ):
        client.get_connection(1)
    assert key not in str(info.value) and _long_s(key) not in str(info.value)
    assert main(["get", "1", "--base-url", echoing, "--api-key", key]) == 4
    err = capsys.readouterr().err
    assert "Traceback" not in err and _long_s(key) not in err and "<redacted>" in err


@pytest.mark.parametrize("secrets", [1_000, 10_000])
def test_many_leaked_secrets_keep_the_runs_deadline(secrets: int) -> None:
    # Each added secret recompiled the scrubber's pattern: 2,000 sk- values in one 77 KiB
    # body held a --deadline 15 run for 83 s.
    values = [f"sk-{i:032x}" for i in range(secrets)]

    def leak(method: str, path: str, status: int, body: bytes) -> bytes:
        if method == "GET" and path.startswith(DETAIL) and status == 200 and body.startswith(b"{"):
            return json.dumps({**json.loads(body), "cached_available_models": None,
                               "leaked": values}).encode()  # fmt: skip
        return body

    app = create_app()
    app.add_middleware(Rewrite, rule=leak)
    with serve_in_thread(app) as served, hostile.elapsed() as took:
        report = run(RunConfig(base_url=served.base_url, api_key=served.token, connection_id=1,
                               max_examples=2, deadline=15))  # fmt: skip
    assert took[0] < 15 + 2
    assert "connection.no_secrets" in {r.name for r in report.failed}
    shown = json.dumps([[r.summary, r.details] for r in report.results])
    assert not any(v in shown for v in values[:50])


def test_adding_secrets_is_linear() -> None:
    timings = {}
    for count in (2_000, 8_000):
        scrub = Scrubber()
        started = time.perf_counter()
        for i in range(count):
            scrub.add(f"sk-{i:032x}")
            scrub("a line of progress between additions")
        timings[count] = time.perf_counter() - started
    # Quadratic took 16x for 4x the secrets; linear takes about 4x (generous for noise).
    assert timings[8_000] < 9 * timings[2_000] + 0.05, timings


# -- cookies -----------------------------------------------------------------------------------


class _CookieFlood:
    """Adds 1,000 new cookies to every answer, and records the Cookie header of each request."""

    def __init__(self, app: Any, sent: list[int]) -> None:
        self.app, self.sent, self.answers = app, sent, 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            self.sent.append(len(headers.get(b"cookie", b"")))

        async def with_cookies(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                self.answers += 1
                extra = [(b"set-cookie", f"c{self.answers}_{i}=v; Path=/".encode()) for i in range(1000)]  # fmt: skip
                message = {**message, "headers": [*message["headers"], *extra]}
            await send(message)

        await self.app(scope, receive, with_cookies)


def test_the_client_keeps_no_cookies() -> None:
    # 1,000 new cookies per answer: after 60 calls the jar held 60,000, each request carried
    # 2.8 MiB of them, and a call took 3.3 s.
    sent: list[int] = []
    app = create_app()
    app.add_middleware(_CookieFlood, sent=sent)
    with (
        serve_in_thread(app) as served,
        Client(base_url=served.base_url, api_key=served.token) as client,
    ):
        tracemalloc.start()
        for _ in range(20):
            client.get_connection(1)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert len(sent) == 20 and max(sent) == 0, "no cookie is ever sent back"
    assert peak < 20 * 1024 * 1024


# -- proxies -----------------------------------------------------------------------------------


def _argv(command: str, url: str, key: str) -> list[str]:
    """Each networked command, aimed at ``url``."""
    return {
        "get": ["get", "1", "--base-url", url, "--api-key", key],
        "conformance": ["conformance", "--base-url", url, "--api-key", key],
        "snapshot": [
            "snapshot",
            "--ids",
            "1",
            "-o",
            os.devnull,
            "--base-url",
            url,
            "--api-key",
            key,
        ],
        "spec-diff": ["spec-diff", "--base-url", url],
    }[command]


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    return monkeypatch


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("ALL_PROXY", "socks5://127.0.0.1:1080", "ALL_PROXY names a SOCKS proxy, which needs the socksio package"),
        ("HTTP_PROXY", "http://u:p@[::1", "HTTP_PROXY is not a valid proxy URL"),
        ("HTTP_PROXY", "ftp://proxy.example:21", "HTTP_PROXY must be an http://, https:// or socks5:// URL"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("command", ["get", "conformance", "snapshot", "spec-diff"])
def test_a_bad_proxy_setting_is_exit_2_naming_the_variable(
    no_proxy_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    variable: str, value: str, says: str, command: str,
) -> None:  # fmt: skip
    no_proxy_env.setenv(variable, value)
    url, key = "http://ls.example.com:8080", "f" * 40
    argv = _argv(command, url, key)
    assert main(argv) == 2
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert says in text, text
    assert "Traceback" not in text and ":p@" not in text


def test_a_proxy_refusing_is_exit_5_naming_it(
    no_proxy_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(conn: Any) -> None:
        with conn:
            if hostile.read_request(conn) is not None:
                conn.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                             b"Proxy-Authenticate: Basic\r\nContent-Length: 0\r\n\r\n")  # fmt: skip

    with hostile.listen(refuse) as port:
        no_proxy_env.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
        url = "http://ls.example.com:8080"
        assert main(["get", "1", "--base-url", url, "--api-key", "f" * 40]) == 5
        err = capsys.readouterr().err
        assert f"the proxy http://127.0.0.1:{port} (from HTTP_PROXY) refused" in err
        code = main(["conformance", "--base-url", url, "--api-key", "f" * 40])
        out = capsys.readouterr().out
    assert code == 5, out
    assert "NOT CONFORMANT" not in out and "refused the request: 407" in out


def test_a_proxy_is_used_for_the_deployment_and_never_for_loopback(
    no_proxy_env: pytest.MonkeyPatch,
) -> None:
    with serve_in_thread(create_app()) as served, forward_proxy({"ls.test": "127.0.0.1"}) as proxy:
        no_proxy_env.setenv("HTTP_PROXY", proxy.url)
        with Client(base_url=served.base_url, api_key=served.token) as client:
            client.get_connection(1)
        assert proxy.lines == [], "loopback never goes through a proxy"
        remote = served.base_url.replace("127.0.0.1", "ls.test")
        with Client(base_url=remote, api_key=served.token) as client:
            client.get_connection(1)
        no_proxy_env.setenv("NO_PROXY", ".test")
        with Client(base_url=remote.replace("ls.test", "127.0.0.1"), api_key=served.token) as c:
            c.get_connection(1)
    assert len(proxy.lines) == 1 and proxy.lines[0].startswith(f"GET {remote}")


# -- large deployments -------------------------------------------------------------------------


def _many(count: int) -> MockData:
    data = default_data()
    template = data.connections[0]
    data.connections = [{**template, "id": i, "organization": 1} for i in range(1, count + 1)]
    return data


@pytest.mark.parametrize("which", [["--ids", "1"], ["--all"]])
def test_a_list_of_1500_connections_is_read(tmp_path: Path, which: list[str]) -> None:
    # The list route, a plain JSON array, was read under the 1 MiB single-object limit.
    with serve_in_thread(create_app(data=_many(1500))) as served:
        out = tmp_path / "snap.json"
        code = main(["snapshot", *which, "-o", str(out), "--max-requests", "2000",
                     "--base-url", served.base_url, "--api-key", served.token])  # fmt: skip
    assert code == 0
    assert len(Snapshot.load(out).connections) == (1 if which[0] == "--ids" else 1500)


# -- one URL check for every command -----------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["http://a..b", "http://xn--", "http://admin:S3cretPw@ls.example.com", "http://h/?x=1",
     "http://h:99999", "http://ex ample.com"],
)  # fmt: skip
@pytest.mark.parametrize("command", ["get", "conformance", "snapshot", "spec-diff"])
def test_an_invalid_url_is_exit_2_from_every_command(
    url: str, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    key = "f" * 40
    argv = _argv(command, url, key)
    assert main(argv) == 2
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert "--base-url" in text and "S3cretPw" not in text and "Traceback" not in text, text


# -- a revoked personal access token -----------------------------------------------------------


def _refresh_count(app: Any) -> int:
    return int(app.state.mock.stats["token_refresh"])


def test_a_revoked_token_is_refreshed_once_for_many_calls() -> None:
    app = create_app()
    refresh = app.state.mock.issue_refresh_token(1)
    app.state.mock.refresh_tokens.clear()  # revoked
    with (
        serve_in_thread(app) as served,
        Client(base_url=served.base_url, api_key=refresh) as client,
    ):
        results = client.get_connections(range(1, 51))
    assert all(isinstance(r, AuthenticationError) for r in results)
    assert _refresh_count(app) == 1


def test_a_client_clock_ahead_of_the_server_does_not_refresh_every_call() -> None:
    app = create_app()
    refresh = app.state.mock.issue_refresh_token(1)
    ahead = lambda: time.time() + 600  # noqa: E731 - ten minutes ahead of the server
    from ls_model_providers import PersonalAccessTokenAuth

    with serve_in_thread(app) as served:
        auth = PersonalAccessTokenAuth(refresh, base_url=served.base_url, clock=ahead)
        with Client(base_url=served.base_url, auth=auth) as client:
            for _ in range(10):
                client.get_connection(1)
    assert auth.refresh_count == 1


# -- the smaller ones --------------------------------------------------------------------------


def _answering(body: bytes, headers: bytes = b"Content-Type: application/json\r\n") -> Any:
    def serve(conn: Any) -> None:
        with conn:
            if hostile.read_request(conn) is not None:
                conn.sendall(b"HTTP/1.1 200 OK\r\n" + headers + b"Connection: close\r\n"
                             b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)  # fmt: skip

    return hostile.listen(serve)


def test_an_encoded_surrogate_is_not_utf8() -> None:
    body = b'{"id": 1, "endpoint": "\xed\xa0\x80"}'
    with (
        _answering(body) as port,
        Client(base_url=f"http://127.0.0.1:{port}", api_key="f" * 40, max_retries=0) as client,
        pytest.raises(ResponseValidationError, match="not JSON"),
    ):
        client.get_connection(1)


def test_a_gzip_body_without_its_trailer_is_refused() -> None:
    whole = gzip.compress(json.dumps({"id": 1}).encode())
    gzipped = b"Content-Type: application/json\r\nContent-Encoding: gzip\r\n"
    with (
        _answering(whole[:-8], gzipped) as port,
        Client(base_url=f"http://127.0.0.1:{port}", api_key="f" * 40, max_retries=0) as client,
        pytest.raises(ResponseValidationError, match="end marker and checksum"),
    ):
        client.get_connection(1)


def test_a_json_report_on_standard_output(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ls_model_providers", "conformance", "--max-examples", "2",
         "--json-report", "-"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["verdict"] == "CONFORMANT"
    assert "verdict: CONFORMANT" in result.stderr  # the table, beside the report
    assert not (tmp_path / "-").exists()
    assert not (tmp_path / ".hypothesis").exists(), "hypothesis keeps nothing in the user's folder"


def test_an_async_client_used_by_a_second_event_loop_says_so() -> None:
    # It failed deep inside a request with "Event loop is closed".
    with serve_in_thread(create_app()) as served, asyncio.Runner() as first:
        client = AsyncClient(base_url=served.base_url, api_key=served.token)
        assert first.run(client.get_connection(1)).id == 1
        with pytest.raises(RuntimeError, match="first used in another event loop"):
            asyncio.run(client.get_connection(2))
        first.run(client.aclose())  # in the loop its connections belong to
