"""The hostile-servers table: what a hostile server was made to do, and what the client did.

Run by ``nox -s soak`` (CI). Each row drives ``Client`` and ``AsyncClient`` against a real
loopback server from ``tests/hostile.py`` and measures the wall time of the call, the peak
Python memory during it (tracemalloc), and what the server managed to send. Exits 1 when a
call is not bounded (past its deadline plus 3 s, or over 16 MiB of memory) or its failure
is not the typed error expected.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ls_model_providers import (
    APITimeoutError,
    AsyncClient,
    Client,
    LabelStudioError,
    ResponseTooLargeError,
    ResponseValidationError,
    RetryPolicy,
)
from ls_model_providers._constants import MOCK_MAX_REQUEST_BODY
from tests import hostile
from tests.helpers import TOKEN, body, jwt

MiB = 1024 * 1024
DEADLINE = 2.0
REFRESH = jwt({"token_type": "refresh", "exp": 4_000_000_000})
ECHO = json.dumps({"detail": f"bad credentials: Token {TOKEN}", "id": TOKEN}).encode()

#: (what the server does, behaviour, expected error, extra client arguments)
ROWS: list[tuple[str, hostile.Behaviour, type[LabelStudioError], dict[str, Any]]] = [
    ("accepts, then never answers", hostile.hang, APITimeoutError, {}),
    ("drips its headers, 1 byte / 0.2 s", hostile.drip_head, APITimeoutError, {}),
    ("drips its body, 1 byte / 0.2 s", hostile.drip_body, APITimeoutError, {}),
    ("declares a 400 MiB body and sends it", hostile.flood(400 * MiB), ResponseTooLargeError, {}),
    (
        "sends 64 MiB chunked, no length",
        hostile.flood(64 * MiB, declare=False),
        ResponseTooLargeError,
        {},
    ),
    ("gzip bomb: 256 KiB -> 256 MiB", hostile.gzip_bomb(256 * MiB), ResponseTooLargeError, {}),
    (
        "JSON nested 100,000 deep",
        hostile.answer("200 OK", b"[" * 100_000 + b"]" * 100_000, content_type="application/json"),
        ResponseValidationError,
        {},
    ),
    (
        "NaN as a number",
        hostile.answer(
            "200 OK",
            json.dumps(body(budget_limit=float("nan"))).encode(),
            content_type="application/json",
        ),
        ResponseValidationError,
        {},
    ),
    (
        "a 401 echoing the token",
        hostile.answer("401 Unauthorized", ECHO, content_type="application/json"),
        LabelStudioError,
        {},
    ),
    (
        "token refresh that never answers",
        hostile.routes(refresh=hostile.hang, connection=hostile.hang),
        APITimeoutError,
        {"api_key": REFRESH},
    ),
]


def _call(kind: str, base_url: str, extra: dict[str, Any]) -> BaseException | None:
    kwargs: dict[str, Any] = {
        "api_key": TOKEN,
        "retry": RetryPolicy(deadline=DEADLINE, backoff_base=0.01),
    }
    kwargs.update(extra)
    try:
        if kind == "sync":
            with Client(base_url=base_url, **kwargs) as client:
                client.get_connection(1)
        else:

            async def main() -> None:
                async with AsyncClient(base_url=base_url, **kwargs) as client:
                    await client.get_connection(1)

            asyncio.run(main())
    except LabelStudioError as error:
        return error
    return None


def main() -> int:
    """The client against each hostile server; how many rows failed."""
    print(
        "| the server | client | raised | call took | peak memory | requests | bytes it sent | ok |"
    )
    print("|---|---|---|---|---|---|---|---|")
    failed = 0
    for what, behaviour, expected, extra in ROWS:
        for kind in ("sync", "async"):
            with hostile.serve(behaviour) as server:
                gc.collect()
                tracemalloc.start()
                started = time.monotonic()
                error = _call(kind, server.base_url, extra)
                took = time.monotonic() - started
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
            leaked = error is not None and TOKEN in str(error) + repr(error)
            ok = (
                isinstance(error, expected)
                and took < DEADLINE + 3
                and peak < 16 * MiB
                and not leaked
            )
            failed += not ok
            name = type(error).__name__ if error is not None else "nothing"
            print(
                f"| {what} | {kind} | {name} | {took:.2f} s | {peak / MiB:.1f} MiB | {len(server.requests)} "
                f"| {server.sent[0] / MiB:.2f} MiB | {'yes' if ok else 'NO'} |"
            )
    print(f"\ndeadline {DEADLINE} s, body limit 1 MiB; {failed} row(s) failed")
    return failed


# -- round 3: the scrubber, cookies, proxies, a big deployment ---------------------------------


def _measured(run: Any) -> tuple[Any, float, float]:
    """``run()``'s result (or the exception it raised), seconds, peak traced MiB."""
    gc.collect()
    tracemalloc.start()
    started = time.monotonic()
    try:
        result = run()
    except Exception as exc:  # noqa: BLE001 - the row says what was raised
        result = exc
    took = time.monotonic() - started
    peak = tracemalloc.get_traced_memory()[1] / MiB
    tracemalloc.stop()
    return result, took, peak


def _leaky_mock(secrets: int) -> Any:
    from ls_model_providers.mock import create_app
    from tests.servers import Rewrite

    values = [f"sk-{i:032x}" for i in range(secrets)]

    def leak(method: str, path: str, status: int, data: bytes) -> bytes:
        if method == "GET" and status == 200 and data.startswith(b'{"id"'):
            return json.dumps({**json.loads(data), "leaked": values}).encode()
        return data

    app = create_app()
    app.add_middleware(Rewrite, rule=leak)
    return app


def _conformance_row(secrets: int) -> tuple[str, Any, float, float, bool]:
    from ls_model_providers.conformance import RunConfig, run
    from ls_model_providers.mock import serve_in_thread

    with serve_in_thread(_leaky_mock(secrets)) as served:
        config = RunConfig(base_url=served.base_url, api_key=served.token, connection_id=1,
                           max_examples=5, deadline=15)  # fmt: skip
        report, took, peak = _measured(lambda: run(config))
    ok = report.exit_code == 1 and "connection.no_secrets" in report.verdict and took < 15 + 2
    return (
        f"{secrets:,} leaked secrets, conformance --deadline 15",
        report.verdict[:60],
        took,
        peak,
        ok,
    )


def _scrubber_rows() -> list[tuple[str, Any, float, float, bool]]:
    from ls_model_providers._secrets import Scrubber

    rows = []
    for count in (1_000, 10_000):

        def add(count: int = count) -> str:
            scrub = Scrubber()
            for i in range(count):
                scrub.add(f"sk-proj-{i:032x}")
                scrub("a progress line between two additions")
            return scrub("key sk-proj-" + f"{count - 1:032x}" + " seen")

        shown, took, peak = _measured(add)
        rows.append(
            (f"add {count:,} secrets (one prefix), scrubbing between", shown, took, peak, took < 5)
        )
    token = "s" + "0123456789abcdef" * 2
    lookalike = token.replace("s", "\u017f", 1)
    shown, took, peak = _measured(lambda: Scrubber(token)(f"{token} {lookalike}"))
    rows.append(
        ("a look-alike (U+017F for s) echoed", shown, took, peak, shown == "<redacted> <redacted>")
    )
    return rows


def _cookie_row() -> tuple[str, Any, float, float, bool]:
    from ls_model_providers.mock import create_app, serve_in_thread
    from tests.test_hardening import _CookieFlood

    sent: list[int] = []
    app = create_app()
    app.add_middleware(_CookieFlood, sent=sent)
    with (
        serve_in_thread(app) as served,
        Client(base_url=served.base_url, api_key=served.token) as c,
    ):

        def calls() -> str:
            for _ in range(60):
                c.get_connection(1)
            return f"{max(sent)} cookie bytes sent back"

        shown, took, peak = _measured(calls)
    return "1,000 new cookies per answer, 60 calls", shown, took, peak, max(sent) == 0


def _proxy_rows() -> list[tuple[str, Any, float, float, bool]]:
    import os

    from ls_model_providers import APIConnectionError

    rows = []
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.lower().endswith("_proxy")}
    try:
        os.environ["ALL_PROXY"] = "socks5://127.0.0.1:1080"
        error, took, peak = _measured(
            lambda: Client(base_url="http://ls.example.com", api_key=TOKEN)
        )
        rows.append(("ALL_PROXY=socks5:// without socksio", f"{type(error).__name__}: {error}"[:60],
                     took, peak, isinstance(error, ValueError) and "ALL_PROXY" in str(error)))  # fmt: skip
        del os.environ["ALL_PROXY"]

        def refuse(conn: Any) -> None:
            with conn:
                if hostile.read_request(conn) is not None:
                    conn.sendall(
                        b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n"
                    )

        with hostile.listen(refuse) as port:
            os.environ["HTTP_PROXY"] = f"http://127.0.0.1:{port}"

            def through() -> Any:
                with Client(base_url="http://ls.example.com", api_key=TOKEN) as client:
                    return client.get_connection(1)

            error, took, peak = _measured(through)
        rows.append(("a proxy answering 407", f"{type(error).__name__}"[:60], took, peak,
                     isinstance(error, APIConnectionError) and "refused" in str(error)))  # fmt: skip
    finally:
        for name in [k for k in os.environ if k.lower().endswith("_proxy")]:
            del os.environ[name]
        os.environ.update(saved)
    return rows


def _list_row(count: int) -> tuple[str, Any, float, float, bool]:
    from ls_model_providers.mock import create_app, default_data, serve_in_thread
    from ls_model_providers.snapshot import ALL, record

    data = default_data()
    template = data.connections[0]
    data.connections = [{**template, "id": i, "organization": 1} for i in range(1, count + 1)]
    with serve_in_thread(create_app(data=data)) as served:
        recording, took, peak = _measured(
            lambda: record(served.base_url, served.token, ids=ALL, max_requests=count + 50)
        )
    ok = not isinstance(recording, Exception) and len(recording.snapshot.connections) == count
    shown = f"{len(recording.snapshot.connections):,} recorded" if ok else repr(recording)[:60]
    return f"a list of {count:,} connections, snapshot --all", shown, took, peak, ok


def round3() -> int:
    print("\n| what | result | took | peak memory | ok |")
    print("|---|---|---|---|---|")
    rows = [
        *_scrubber_rows(), _conformance_row(1_000), _conformance_row(10_000), _cookie_row(),
        *_proxy_rows(), _list_row(10_000),
    ]  # fmt: skip
    failed = 0
    for what, shown, took, peak, ok in rows:
        failed += not ok
        print(
            f"| {what} | {str(shown)[:70]} | {took:.2f} s | {peak:.1f} MiB | {'yes' if ok else 'NO'} |"
        )
    print(f"\n{failed} row(s) failed")
    return failed


def mock_rows() -> int:
    """The mock as a target: each hostile client of ``tests/hostile_clients.py`` against a
    fresh served mock; how long its answer took and the peak Python memory meanwhile (the mock
    serves in this process). A row fails unless the answer is Label Studio's status and
    detail, nothing was logged at ERROR, the mock still serves, and memory stayed under four
    times the 2.5 MB body limit. Returns the number of failed rows."""
    from tests import hostile_clients

    print("\n| the client sends the mock | answer | took | peak memory | it managed to send | ok |")
    print("|---|---|---|---|---|---|")
    failed = 0
    for case in hostile_clients.CASES:
        result = hostile_clients.run(case)
        answer = result.answer
        try:
            detail = str(json.loads(answer.body)["detail"])
        except (ValueError, KeyError, TypeError):
            detail = answer.body[:60].decode("latin-1")
        ok = (
            answer.status == case.status
            and detail.startswith(case.detail)
            and not result.logged
            and result.after == 200
            and result.peak < 4 * MOCK_MAX_REQUEST_BODY
        )
        failed += not ok
        print(
            f"| {case.name} | {answer.status} {detail[:48]} | {result.seconds:.2f} s "
            f"| {result.peak / MiB:.1f} MiB | {answer.sent / MiB:.1f} MiB | {'yes' if ok else 'NO'} |"
        )
    print(f"\nmock body limit {MOCK_MAX_REQUEST_BODY} bytes; {failed} row(s) failed")
    return failed


if __name__ == "__main__":
    sys.exit(1 if main() + round3() + mock_rows() else 0)
