"""Benchmarks: our client vs raw httpx vs label-studio-sdk, same run, same machine.

Run with ``nox -s bench`` (installs the SDK into the bench venv only). Prints one table.
Numbers are medians of several repeats; lower is better except requests per second.
A client's "vs raw" is the median of its paired ratios: each repeat of ours or the SDK divided
by the repeat of raw httpx taken just before it, so a host that slows down for a while (this
one does, by half at times) charges both sides of a pair alike instead of whichever ran then.
"""

from __future__ import annotations

import http.server
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from ls_model_providers import Client
from ls_model_providers._errors import Answer
from ls_model_providers._models import build_connection, parse_connection
from ls_model_providers.mock import SyncASGITransport, create_app, default_data

TOKEN = "0123456789abcdef0123456789abcdef01234567"
# The body the mock serves for connection 2 (an Azure one, every field filled in).
with httpx.Client(transport=SyncASGITransport(create_app(data=default_data(TOKEN)))) as _mock:
    BODY = _mock.get(
        "http://mock/api/model-provider-connections/2/", headers={"Authorization": f"Token {TOKEN}"}
    ).content
DATA = json.loads(BODY)
HEADERS = {"Content-Type": "application/json"}


def handler(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=BODY, headers=HEADERS)


def per_call(fn: Callable[[], object], number: int, repeat: int = 7) -> float:
    """Median microseconds per call."""
    return statistics.median(per_call_each([fn], number, repeat)[0])


def paired_ratio(times: list[float], reference: list[float]) -> float:
    """The median of ``times[i] / reference[i]``: repeats taken one right after the other."""
    return statistics.median(t / r for t, r in zip(times, reference, strict=True))


def per_call_each(
    fns: list[Callable[[], object]], number: int, repeat: int = 7
) -> list[list[float]]:
    """Microseconds per call of each of ``fns``, one value per repeat, their repeats taken in
    turn (a, b, c, a, b, c, ...): a machine that slows down or speeds up mid-run shifts them
    all alike, where one block after another would charge the change to whichever ran then."""
    for fn in fns:
        for _ in range(min(number, 200)):
            fn()
    runs: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, times in zip(fns, runs, strict=True):
            start = time.perf_counter()
            for _ in range(number):
                fn()
            times.append((time.perf_counter() - start) / number * 1e6)
    return runs


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args: Any) -> None:
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self) -> None:
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().server_bind()


def _sdk(http_client: httpx.Client, base_url: str) -> Any:
    try:
        from label_studio_sdk import LabelStudio
    except ImportError:
        return None
    return LabelStudio(base_url=base_url, api_key=TOKEN, httpx_client=http_client)


def _client_rows(
    label: str, base_url: str, transport: httpx.BaseTransport | None, number: int
) -> list[list[str]]:
    url = f"{base_url}/api/model-provider-connections/2/"
    raw = httpx.Client(transport=transport, headers={"Authorization": f"Token {TOKEN}"})
    ours = Client(base_url=base_url, api_key=TOKEN, transport=transport)
    sdk = _sdk(httpx.Client(transport=transport), base_url)
    calls: list[Callable[[], object]] = [
        lambda: raw.get(url).json(),
        lambda: ours.get_connection(2),
    ]
    if sdk is not None:
        calls.append(lambda: sdk.model_providers.get(2))
    raw_us, ours_us, *sdk_us = per_call_each(calls, number, repeat=21)
    median = statistics.median
    rows = [
        [f"per call, {label}", "raw httpx get + .json()", f"{median(raw_us):.1f} µs", "1.00x", ""],
        [f"per call, {label}", "ls_model_providers get_connection", f"{median(ours_us):.1f} µs",
         f"{paired_ratio(ours_us, raw_us):.2f}x", "≤ 1.10x" if transport else ""],
    ]  # fmt: skip
    for times in sdk_us:
        rows.append(
            [
                f"per call, {label}",
                "label-studio-sdk model_providers.get",
                f"{median(times):.1f} µs",
                f"{paired_ratio(times, raw_us):.2f}x",
                "",
            ]
        )
    return rows


def _parse_rows() -> list[list[str]]:
    response = httpx.Response(
        200, content=BODY, headers=HEADERS, request=httpx.Request("GET", "http://x/")
    )
    ANSWER = Answer.of(response)

    rows = [
        ["parse one body", "json.loads (reference)", f"{per_call(lambda: json.loads(BODY), 20000):.1f} µs", "", ""],
        ["parse one body", "ours: dict -> validated model", f"{per_call(lambda: build_connection(DATA), 20000):.1f} µs", "", "≤ 10 µs"],
        ["parse one body", "ours: bytes -> validated model", f"{per_call(lambda: parse_connection(ANSWER), 20000):.1f} µs", "", ""],
    ]  # fmt: skip
    try:
        from label_studio_sdk.core.unchecked_base_model import construct_type
        from label_studio_sdk.types import ModelProviderConnection as SdkModel
    except ImportError:
        return rows
    sdk_us = per_call(lambda: construct_type(type_=SdkModel, object_=DATA), 5000)
    rows.append(
        ["parse one body", "sdk: dict -> model (construct_type)", f"{sdk_us:.1f} µs", "", ""]
    )
    return rows


def _import(module: str) -> tuple[float, float]:
    """(fastest CPU seconds to import, median MB of resident memory it added) over fresh
    interpreters. CPU time, and the minimum, because a shared VM's scheduling noise only
    ever adds wall time."""
    code = (
        "import time\n"
        "def rss():\n"
        "    return int(open('/proc/self/statm').read().split()[1]) * 4096 / 2**20\n"
        "before = rss(); t = time.process_time()\n"
        f"import {module}\n"
        "print(time.process_time() - t, rss() - before)\n"
    )
    # Steady state, as after `pip install` (which compiles bytecode): the first run writes
    # the .pyc files even where PYTHONDONTWRITEBYTECODE is set (uv does not precompile).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-c", code], capture_output=True, env=env, check=True)
    results = []
    for _ in range(15):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
        ).stdout.split()
        results.append((float(out[0]), float(out[1])))
    return min(r[0] for r in results), statistics.median(r[1] for r in results)


def _import_rows() -> list[list[str]]:
    statements = [
        ("import httpx", "httpx", ""),
        # The package imports its names lazily: what a user pays is for the client.
        ("from ls_model_providers import Client", "ls_model_providers as m; m.Client", "≤ 1.30x"),
        ("from label_studio_sdk import LabelStudio", "label_studio_sdk as s; s.LabelStudio", ""),
    ]
    rows, base = [], None
    for label, statement, target in statements:
        try:
            seconds, rss = _import(statement)
        except subprocess.CalledProcessError:  # the SDK is not installed
            continue
        base = base or seconds  # httpx, measured in this same run
        rows.append(
            [
                "import",
                label,
                f"{seconds * 1000:.0f} ms, +{rss:.0f} MB RSS",
                f"{seconds / base:.2f}x",
                target,
            ]
        )
    return rows


def _mock_throughput(seconds: float = 5.0, threads: int = 4) -> list[list[str]]:
    """GETs per second the served mock (one uvicorn worker, own process) answers."""
    process = subprocess.Popen(
        [sys.executable, "-m", "ls_model_providers", "mock", "--port", "0", "--api-key", TOKEN],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert process.stdout is not None
    base_url = process.stdout.readline().split()[5]
    try:
        for _ in range(100):
            try:
                httpx.get(base_url + "/_mock/stats")
                break
            except httpx.TransportError:
                time.sleep(0.05)
        counts = [0] * threads
        stop = time.monotonic() + seconds

        def load(slot: int) -> None:
            with httpx.Client(headers={"Authorization": f"Token {TOKEN}"}) as http:
                while time.monotonic() < stop:
                    assert (
                        http.get(f"{base_url}/api/model-provider-connections/1/").status_code == 200
                    )
                    counts[slot] += 1

        workers = [threading.Thread(target=load, args=(i,)) for i in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    finally:
        process.terminate()
        process.wait(timeout=15)
    rate = sum(counts) / seconds
    return [
        [
            "served mock",
            f"GETs/s, 1 uvicorn worker, {threads} client threads",
            f"{rate:.0f} req/s",
            "",
            "≥ 1000",
        ]
    ]


def _serve(port_file: str) -> None:
    """Run the loopback server (in its own process, so it shares no GIL with the clients)."""
    server = _Server(("127.0.0.1", 0), _Handler)
    with open(port_file, "w") as handle:
        handle.write(str(server.server_address[1]))
    server.serve_forever()


def _start_server() -> tuple[subprocess.Popen[bytes], str]:
    import tempfile

    port_file = tempfile.mktemp(prefix="bench-port-")  # noqa: S306 - read back by us only
    process = subprocess.Popen([sys.executable, __file__, "--serve", port_file])
    for _ in range(200):
        port = Path(port_file).read_text() if os.path.exists(port_file) else ""
        if port:
            os.unlink(port_file)
            return process, f"http://127.0.0.1:{port}"
        time.sleep(0.02)
    raise RuntimeError("the loopback server did not start")


def main() -> None:
    if sys.argv[1:2] == ["--serve"]:
        return _serve(sys.argv[2])
    process, loopback = _start_server()
    rows = [["what", "who", "median (import: fastest CPU)", "vs raw", "target"]]
    try:
        rows += _client_rows(
            "in-process MockTransport", "http://bench.example", httpx.MockTransport(handler), 1300
        )
        rows += _client_rows("loopback, server in another process", loopback, None, 650)
    finally:
        process.terminate()
        process.wait(timeout=10)
    rows += _parse_rows()
    rows += _import_rows()
    rows += _mock_throughput()
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for index, row in enumerate(rows):
        print("| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) + " |")
        if index == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    print(f"\npython {sys.version.split()[0]}, httpx {httpx.__version__}, {os.cpu_count()} cores")
    return None


if __name__ == "__main__":
    main()
