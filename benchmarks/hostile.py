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
    failed += mock_rows()
    return 1 if failed else 0


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
    sys.exit(main())
