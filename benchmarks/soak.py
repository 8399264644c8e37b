"""Reliability figures: our client against the served mock under a seeded fault plan.

    python benchmarks/soak.py [--calls 2000] [--fuzz 10000] [--seed 7]   (nox -s soak)

Starts ``ls-model-providers mock`` in its own process with >= 25 % injected faults (429
with Retry-After, 503, dropped connections, truncated bodies, latency), then makes
``--calls`` calls with the blocking client and as many with the async client at
concurrency 32. Every result is compared with the data the mock serves. Then a parser
fuzz run (random bytes, random JSON, mutated bodies) and a canary-token scan of every log
line, repr and error text. Prints a table; exits 1 if any invariant fails:
100 % correct results, zero wrong results accepted, every truncated body rejected, zero
untyped exceptions, the canary nowhere.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ls_model_providers import (
    AsyncClient,
    Client,
    LabelStudioError,
    ResponseValidationError,
    RetryPolicy,
)
from ls_model_providers._errors import Answer
from ls_model_providers._models import build_connection, parse_connection
from ls_model_providers.mock import SyncASGITransport, create_app, default_data

CANARY = "c4n4rytok3nc4n4rytok3nc4n4rytok3n0000042"
IDS = [1, 2, 3, 4, 5, 6, 7]  # organisation 1's connections
POLICY = RetryPolicy(max_retries=10, backoff_base=0.001, backoff_cap=0.02, deadline=30.0)


class Capture(logging.Handler):
    """Every log record of the client, formatted, for counting retries and the canary scan."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def retries(self, since: int) -> Counter[str]:
        kinds: Counter[str] = Counter()
        for line in self.lines[since:]:
            if "retrying in" not in line:
                continue
            if "invalid body" in line:
                kinds["malformed body"] += 1
            elif "RemoteProtocolError" in line or "ReadError" in line:
                kinds["dropped"] += 1
            elif "HTTP 429" in line:
                kinds["429"] += 1
            elif "HTTP 503" in line:
                kinds["503"] += 1
            else:
                kinds["other"] += 1
        return kinds


def expected_bodies() -> dict[int, dict[str, Any]]:
    """What the mock, without faults, serves for each id (asked in-process)."""
    auth = {"Authorization": f"Token {CANARY}"}
    with httpx.Client(transport=SyncASGITransport(create_app(data=default_data(CANARY)))) as mock:
        return {
            i: build_connection(
                mock.get(f"http://mock/api/model-provider-connections/{i}/", headers=auth).json()
            ).to_dict()
            for i in IDS
        }


def start_mock(seed: int) -> tuple[subprocess.Popen[str], str]:
    faults = f"rate=0.3,seed={seed},kinds=429+503+drop+truncate+latency,latency=0.005,retry_after=0"
    process = subprocess.Popen(
        [sys.executable, "-m", "ls_model_providers", "mock", "--port", "0", "--api-key", CANARY, "--faults", faults],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert process.stdout is not None
    base_url = process.stdout.readline().split()[5]
    for _ in range(200):
        try:
            httpx.get(base_url + "/_mock/stats")
            return process, base_url
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError("mock did not start")


def fault_stats(base_url: str) -> Counter[str]:
    return Counter(httpx.get(base_url + "/_mock/stats").json()["faults"])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def phase_row(name: str, latencies: list[float], outcome: Counter[str], faults: Counter[str], retries: Counter[str],
              wall: float) -> dict[str, Any]:  # fmt: skip
    injected = {k: v for k, v in faults.items() if k not in ("requests", "faults")}
    return {
        "phase": name,
        "calls": sum(outcome.values()),
        "correct": outcome["correct"],
        "wrong accepted": outcome["wrong"],
        "failed": outcome["failed"],
        "requests": faults["requests"],
        "faults": f"{faults['faults']} ({faults['faults'] / max(faults['requests'], 1):.0%})",
        "injected": ", ".join(f"{k} {v}" for k, v in sorted(injected.items())),
        "retries": ", ".join(f"{k} {v}" for k, v in sorted(retries.items())),
        "truncated rejected": f"{retries['malformed body']}/{faults['truncate']}",
        "p50 ms": f"{statistics.median(latencies) * 1000:.2f}" if latencies else "-",
        "p99 ms": f"{percentile(latencies, 0.99) * 1000:.2f}",
        "wall s": f"{wall:.1f}",
        "_ok": outcome["correct"] == sum(outcome.values())
        and outcome["wrong"] == 0
        and retries["malformed body"] == faults["truncate"],
    }


def sync_phase(base_url: str, calls: int, expected: dict[int, dict[str, Any]], log: Capture, texts: list[str],
               cap: float) -> dict[str, Any]:  # fmt: skip
    before, mark = fault_stats(base_url), len(log.lines)
    outcome: Counter[str] = Counter()
    latencies: list[float] = []
    started = time.monotonic()
    with Client(base_url=base_url, api_key=CANARY, retry=POLICY) as client:
        texts.append(repr(client))
        for index in range(calls):
            if time.monotonic() - started > cap:
                break
            connection_id = IDS[index % len(IDS)]
            t0 = time.perf_counter()
            try:
                conn = client.get_connection(connection_id)
            except LabelStudioError as error:
                outcome["failed"] += 1
                texts += [str(error), repr(error)]
                continue
            finally:
                latencies.append(time.perf_counter() - t0)
            outcome["correct" if conn.to_dict() == expected[connection_id] else "wrong"] += 1
            texts.append(repr(conn))
    faults = fault_stats(base_url) - before
    return phase_row(
        "sync Client", latencies, outcome, faults, log.retries(mark), time.monotonic() - started
    )


async def _async_phase(base_url: str, calls: int, expected: dict[int, dict[str, Any]], texts: list[str],
                       cap: float) -> tuple[list[float], Counter[str]]:  # fmt: skip
    outcome: Counter[str] = Counter()
    latencies: list[float] = []
    gate = asyncio.Semaphore(32)
    deadline = time.monotonic() + cap
    async with AsyncClient(base_url=base_url, api_key=CANARY, retry=POLICY) as client:

        async def one(connection_id: int) -> None:
            async with gate:
                if time.monotonic() > deadline:
                    return
                t0 = time.perf_counter()
                try:
                    conn = await client.get_connection(connection_id)
                except LabelStudioError as error:
                    outcome["failed"] += 1
                    texts.append(str(error))
                    return
                finally:
                    latencies.append(time.perf_counter() - t0)
                outcome["correct" if conn.to_dict() == expected[connection_id] else "wrong"] += 1

        await asyncio.gather(*(one(IDS[i % len(IDS)]) for i in range(calls)))
    return latencies, outcome


def async_phase(base_url: str, calls: int, expected: dict[int, dict[str, Any]], log: Capture, texts: list[str],
                cap: float) -> dict[str, Any]:  # fmt: skip
    before, mark, started = fault_stats(base_url), len(log.lines), time.monotonic()
    latencies, outcome = asyncio.run(_async_phase(base_url, calls, expected, texts, cap))
    faults = fault_stats(base_url) - before
    return phase_row(
        "async, concurrency 32",
        latencies,
        outcome,
        faults,
        log.retries(mark),
        time.monotonic() - started,
    )


def fuzz(examples: int, seed: int) -> dict[str, Any]:
    """Random and mutated bodies -> Connection or ResponseValidationError, nothing else."""
    base = json.dumps(expected_bodies()[2]).encode()
    request = httpx.Request("GET", "http://fuzz.example/api/model-provider-connections/2/")
    counts: Counter[str] = Counter()
    json_values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
        ),
        max_leaves=10,
    )
    keys = sorted(json.loads(base))

    def mutate(data: st.DataObject) -> bytes:
        body = json.loads(base)
        for _ in range(data.draw(st.integers(1, 3))):
            action = data.draw(st.sampled_from(["replace", "delete", "add", "truncate", "flip"]))
            if action == "replace":
                body[data.draw(st.sampled_from(keys))] = data.draw(json_values)
            elif action == "delete":
                body.pop(data.draw(st.sampled_from(keys)), None)
            elif action == "add":
                body[data.draw(st.text(max_size=12))] = data.draw(json_values)
        raw = json.dumps(body).encode()
        if data.draw(st.booleans()):
            cut = data.draw(st.integers(0, len(raw)))
            raw = (
                raw[:cut]
                if data.draw(st.booleans())
                else raw[:cut] + bytes([data.draw(st.integers(0, 255))]) + raw[cut + 1 :]
            )
        return raw

    def check(content: bytes) -> None:
        counts["examples"] += 1
        try:
            parse_connection(Answer.of(httpx.Response(200, content=content, request=request)))
            counts["parsed"] += 1
        except ResponseValidationError:
            counts["rejected (typed)"] += 1
        except Exception as exc:  # noqa: BLE001 - counting exactly these is the point
            counts[f"UNTYPED {type(exc).__name__}"] += 1

    common = settings(max_examples=examples // 3, database=None, deadline=None, derandomize=True,
                      suppress_health_check=list(HealthCheck))  # fmt: skip
    common(given(st.binary(max_size=400))(lambda content: check(content)))()
    common(
        given(json_values.map(lambda v: json.dumps(v).encode()))(lambda content: check(content))
    )()

    @common
    @given(st.data())
    def mutated(data: st.DataObject) -> None:
        check(mutate(data))

    mutated()
    untyped = sum(v for k, v in counts.items() if k.startswith("UNTYPED"))
    return {"examples": counts["examples"], "counts": dict(counts), "untyped": untyped}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument(
        "--fuzz", type=int, default=10_500, help="parser fuzz examples (split over 3 strategies)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cap", type=float, default=180.0, help="seconds per phase, at most")
    args = parser.parse_args(argv)

    log = Capture()
    logger = logging.getLogger("ls_model_providers")
    logger.addHandler(log)
    logger.setLevel(logging.DEBUG)
    texts: list[str] = []
    expected = expected_bodies()
    process, base_url = start_mock(args.seed)
    try:
        rows = [
            sync_phase(base_url, args.calls, expected, log, texts, args.cap),
            async_phase(base_url, args.calls, expected, log, texts, args.cap),
        ]
    finally:
        process.terminate()
        process.wait(timeout=15)
    fuzzed = fuzz(args.fuzz, args.seed)

    columns = [c for c in rows[0] if not c.startswith("_")]
    table = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    table += ["| " + " | ".join(str(row[c]) for c in columns) + " |" for row in rows]
    table.append("")
    table.append(
        f"parser fuzz: {fuzzed['examples']} examples, {fuzzed['counts']}, untyped exceptions: {fuzzed['untyped']}"
    )
    canary_hits = sum(CANARY in text for text in [*log.lines, *texts, *table])
    table.append(
        f"canary scan: {len(log.lines)} log lines, {len(texts)} reprs and error texts: {canary_hits} hit(s)"
    )
    print("\n".join(table))

    problems = [f"{row['phase']}: invariant failed" for row in rows if not row["_ok"]]
    if any(int(row["faults"].split()[0]) < 0.25 * row["requests"] for row in rows):
        problems.append("fewer than 25 % of requests were faulted")
    if fuzzed["untyped"] or fuzzed["examples"] < args.fuzz - 3:
        problems.append(
            f"parser fuzz: {fuzzed['untyped']} untyped exception(s), {fuzzed['examples']} examples"
        )
    if canary_hits:
        problems.append("the canary token appeared in output")
    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
