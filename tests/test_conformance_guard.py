"""One guarded path: every request the suite makes (its checks, schemathesis's cases and auth
probes, discovery, the token refresh) goes through one transport that enforces the
allow-list, the budget, the rate and the time limits, and counts exactly what the server saw."""

from __future__ import annotations

import gzip
import itertools
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from ls_model_providers import _constants as C
from ls_model_providers.conformance import RunConfig, run
from ls_model_providers.mock import create_app, serve_in_thread
from ls_model_providers.toolkit.guard import UnsafeRequest, open_client
from ls_model_providers.toolkit.options import Limits

from . import hostile
from .servers import Override, Recorder, Seen, forward_proxy

CONNECTION = f"/{C.ENDPOINT_PATH}1/"


def _recorded(**app_options: Any) -> Any:
    app = create_app(**app_options)
    seen: list[Seen] = []
    app.add_middleware(Recorder, log=seen)
    return app, seen


def _methods(seen: list[Seen]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for request in seen:
        counts[request.method] = counts.get(request.method, 0) + 1
    return counts


#: Every combination of options the conformance tests use.
COMBINATIONS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "personal access token": {"pat": True},
    "seeded": {"seed": 7},
    "rate": {"rate": 40.0, "max_examples": 5},
    "budget reached": {"max_requests": 12},
    "budget reached with a token refresh": {"pat": True, "max_requests": 12},
    "deadline reached": {"deadline": 0.5, "rate": 20.0},
    "auth not enforced (ignored_auth probes)": {"defects": ["no_auth"]},
    "no id: discovery": {"connection_id": None},
    "community": {"defects": ["community"]},
    "timeout": {"timeout": 5.0},
}


@pytest.mark.parametrize("options", COMBINATIONS.values(), ids=COMBINATIONS.keys())
def test_the_report_counts_exactly_what_the_server_saw(options: dict[str, Any]) -> None:
    options = dict(options)
    app, seen = _recorded(defects=options.pop("defects", []))
    key = app.state.mock.issue_refresh_token(1) if options.pop("pat", False) else None
    config = {"connection_id": 1, "max_examples": 10, **options}
    with serve_in_thread(app) as served:
        report = run(RunConfig(base_url=served.base_url, api_key=key or served.token, **config))
    assert report.requests == len(seen), report.verdict
    assert report.methods == _methods(seen)
    assert set(report.methods) <= {"GET", "HEAD", "OPTIONS", "POST"}
    assert report.methods.get("POST", 0) == sum(
        s.path.endswith("/api/token/refresh/") for s in seen
    )
    if "max_requests" in options:
        assert report.requests == options["max_requests"]
        assert "run.budget" in {r.name for r in report.failed}
    if "deadline" in options:
        assert "run.deadline" in {r.name for r in report.failed}


#: The same, with ``--baseline``: its recording shares the run's budget and deadline, and the
#: report (written once, after it) counts it. A callable limit gets the number of requests
#: the suite alone sends (max_examples 2, seed 7), to end the run in the recording.
BASELINE_COMBINATIONS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "personal access token": {"pat": True},
    "budget reached in the recording": {"max_requests": lambda suite: suite + 3},
    "budget reached in the suite": {"max_requests": lambda suite: 12, "recorded": False},
    "deadline reached in the recording": {"rate": 20.0, "deadline": lambda suite: (suite + 4) / 20},
    "a connection of the baseline gone": {"baseline": [1, 5, 424242]},
    "community: not compared": {"defects": ["community"], "recorded": False},
}


def _baseline_file(folder: Path, ids: list[int]) -> Path:
    from ls_model_providers.mock import SyncASGITransport
    from ls_model_providers.snapshot import record

    app = create_app()
    path = folder / "before.json"
    token = app.state.mock.data.users[0].token
    record("http://mock", token, ids=ids, transport=SyncASGITransport(app), skip_missing=True
           ).snapshot.write(path)  # fmt: skip
    return path


def _suite_requests() -> int:
    app, seen = _recorded()
    with serve_in_thread(app) as served:
        run(RunConfig(base_url=served.base_url, api_key=served.token, connection_id=1,
                      max_examples=2, seed=7))  # fmt: skip
    return len(seen)


@pytest.mark.parametrize(
    "options", BASELINE_COMBINATIONS.values(), ids=BASELINE_COMBINATIONS.keys()
)
def test_with_a_baseline_the_report_counts_exactly_what_the_server_saw(
    options: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ls_model_providers.cli import main

    options = dict(options)
    suite = _suite_requests()
    baseline = _baseline_file(tmp_path, options.pop("baseline", [1, 2]))
    app, seen = _recorded(defects=options.pop("defects", []))
    key = app.state.mock.issue_refresh_token(1) if options.pop("pat", False) else None
    recorded = options.pop("recorded", True)
    limits = {k: str(v(suite) if callable(v) else v) for k, v in options.items()}
    report = tmp_path / "r.json"
    with serve_in_thread(app) as served:
        code = main(["conformance", "--base-url", served.base_url, "--api-key", key or served.token,
                     "--id", "1", "--max-examples", "2", "--seed", "7", "--baseline", str(baseline),
                     "--json-report", str(report),
                     *(a for k, v in limits.items() for a in (f"--{k.replace('_', '-')}", v))])  # fmt: skip
    capsys.readouterr()
    data = json.loads(report.read_text())
    assert data["exit_code"] == code, "the report says what the process returns"
    assert data["requests"] == len(seen), data["verdict"]
    assert data["methods"] == _methods(seen)
    assert set(data["methods"]) <= {"GET", "HEAD", "OPTIONS", "POST"}
    failed = set(data["failed"])
    if "max_requests" in limits:
        assert data["requests"] == int(limits["max_requests"])
        assert "run.budget" in failed
    if "deadline" in limits:
        assert "run.deadline" in failed
    assert (len(seen) > suite) is recorded, "the recording went to the server, or not"


def test_requests_are_spaced_at_the_server_by_the_rate() -> None:
    app, seen = _recorded()
    with serve_in_thread(app) as served:
        report = run(RunConfig(base_url=served.base_url, api_key=served.token, connection_id=1,
                               max_examples=5, rate=20.0))  # fmt: skip
    assert report.exit_code == 0 and len(seen) == report.requests > 20
    gaps = [b.at - a.at for a, b in itertools.pairwise(seen)]
    # 50 ms apart when sent; arrival jitter on loopback is far below the 25 ms slack.
    assert min(gaps) >= 0.025, (
        f"requests {gaps.index(min(gaps))} and next arrived {min(gaps):.4f} s apart"
    )


def test_nothing_goes_through_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    import requests

    def refuse(self: requests.Session, request: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"{request.method} {request.url} went around the guard")

    monkeypatch.setattr(requests.Session, "send", refuse)
    with serve_in_thread(create_app(defects=["no_auth"])) as served:
        report = run(
            RunConfig(
                base_url=served.base_url, api_key=served.token, connection_id=1, max_examples=5
            )
        )
    assert "schemathesis.ignored_auth" in {r.name for r in report.failed}, "its probes were sent"
    assert not [r for r in report.failed if "went around" in r.summary + " ".join(r.details)]


def test_the_guard_refuses_writes_before_counting_them() -> None:
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.method)
        return httpx.Response(200, json={})

    http, guard = open_client(
        "http://x.example/", "f" * 40, verify=True, limits=Limits(10, None, 5, 30),
        on_access_token=lambda _access, _refresh: None, transport=httpx.MockTransport(handler),
    )  # fmt: skip
    with http:
        for method in ("DELETE", "PUT", "PATCH", "POST", "TRACE"):
            with pytest.raises(UnsafeRequest):
                http.request(method, "http://x.example/api/model-provider-connections/1/")
        assert http.get("http://x.example/api/model-provider-connections/1/").status_code == 200
    assert sent == ["GET"]
    assert [e.method for e in guard.sent] == ["GET"]


def test_requests_go_through_the_environments_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    app, seen = _recorded()
    refresh = app.state.mock.issue_refresh_token(1)
    # A name only the proxy knows: a deployment reached through it, as on a corporate network.
    with serve_in_thread(app) as served, forward_proxy({"ls.test": "127.0.0.1"}) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        base_url = served.base_url.replace("127.0.0.1", "ls.test")
        report = run(RunConfig(base_url=base_url, api_key=refresh, connection_id=1,
                               max_examples=5, seed=1))  # fmt: skip
    assert report.exit_code == 0, report.verdict
    assert len(proxy.lines) == report.requests == len(seen), "every request, the probes too"
    assert any(line.startswith("POST ") for line in proxy.lines), "the token refresh too"


def test_loopback_never_goes_through_a_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # The README's main job runs the embedded mock on loopback: with HTTP_PROXY set (and no
    # NO_PROXY), its requests and the mock's token went to the proxy, which failed the run.
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    with forward_proxy() as proxy:
        for variable in ("HTTP_PROXY", "ALL_PROXY"):
            monkeypatch.setenv(variable, proxy.url)
        report = run(RunConfig(max_examples=2, seed=1))
    assert report.exit_code == 0, report.verdict
    assert proxy.lines == []


# -- bounded: time, size, and never a traceback ------------------------------------------------


def _bad_connection(behaviour: hostile.Behaviour) -> hostile.Behaviour:
    """``behaviour`` for the connection GET with credentials; 401s otherwise."""
    body = json.dumps(
        {"id": "e", "status_code": 401, "version": "x", "detail": "no", "exc_info": None}
    )
    unauthorised = hostile.answer("401 Unauthorized", body.encode(), content_type="application/json",
                                  www_authenticate="Token")  # fmt: skip

    def dispatch(sock: hostile.Sock, method: str, path: str) -> None:
        (behaviour if path == CONNECTION else unauthorised)(sock, method, path)

    return dispatch


@pytest.mark.parametrize(
    ("behaviour", "message"),
    [
        (hostile.drip_body, "the body did not arrive within 1 s"),
        (hostile.flood(2 * C.MAX_BODY_SIZE), "over the 1048576-byte limit"),
        (hostile.gzip_bomb(50 * C.MAX_BODY_SIZE), "over the 1048576-byte limit"),
        (
            hostile.answer(
                "200 OK", b'{"id": 1}', content_type="application/json", content_encoding="gzip"
            ),
            "cannot be decoded",
        ),
    ],
    ids=["drip", "flood", "gzip-bomb", "gzip-not-gzip"],
)
def test_an_unreadable_answer_fails_its_check_in_bounded_time(behaviour: Any, message: str) -> None:
    with hostile.serve(_bad_connection(behaviour)) as served, hostile.elapsed() as took:
        report = run(RunConfig(base_url=served.base_url, api_key="f" * 40, connection_id=1,
                               max_examples=1, timeout=1.0))  # fmt: skip
    assert report.exit_code == 1
    failed = {r.name: r.summary for r in report.failed}
    assert message in failed["connection.valid_200"]
    assert took[0] < hostile.GIVE_UP / 2, "bounded by the request's timeout, not the server"


def test_a_deployment_slow_only_on_the_invalid_auth_probe() -> None:
    import asyncio

    async def slow_probe(method: str, path: str, headers: dict[str, str]) -> Any:
        if "SCHEMATHESIS-INVALID-VALUE" in headers.get("authorization", ""):
            await asyncio.sleep(3)
        return None

    app = create_app()
    app.add_middleware(Override, rule=slow_probe)
    with serve_in_thread(app) as served:
        report = run(RunConfig(base_url=served.base_url, api_key=served.token, connection_id=1,
                               max_examples=2, timeout=0.5))  # fmt: skip
    failed = {r.name: r for r in report.failed}
    assert set(failed) == {"schemathesis.ignored_auth"}, report.verdict
    assert "no answer within 0.5 s" in failed["schemathesis.ignored_auth"].details[0]
    assert "SCHEMATHESIS-INVALID-VALUE" in (failed["schemathesis.ignored_auth"].repro or "")


def test_the_run_deadline_ends_a_slow_run_with_full_results() -> None:
    import asyncio

    async def slow(method: str, path: str, headers: dict[str, str]) -> Any:
        await asyncio.sleep(0.2)
        return None

    app = create_app()
    app.add_middleware(Override, rule=slow)
    with serve_in_thread(app) as served, hostile.elapsed() as took:
        report = run(
            RunConfig(base_url=served.base_url, api_key=served.token, connection_id=1, deadline=1.5)
        )
    assert report.exit_code == 6, "inconclusive: nothing wrong seen, not everything checked"
    assert report.verdict.startswith("INCONCLUSIVE: run deadline of 1.5 s reached")
    deadline = next(r for r in report.failed if r.name == "run.deadline")
    assert "--deadline" in deadline.summary
    assert {"connection.valid_200", "auth.missing_header"} <= {r.name for r in report.results}
    assert took[0] < 10, "ended at its deadline (generous slack for a loaded machine)"


def test_hostile_gzip_on_every_answer_never_raises() -> None:
    payload = gzip.compress(b"not json at all")

    def rule(method: str, path: str, headers: dict[str, str]) -> Any:
        return 200, [("content-type", "application/json"), ("content-encoding", "gzip")], payload

    app = create_app()
    app.add_middleware(Override, rule=rule)
    with serve_in_thread(app) as served:
        report = run(
            RunConfig(
                base_url=served.base_url, api_key=served.token, connection_id=1, max_examples=3
            )
        )
    assert report.exit_code == 1
    assert "run.internal" not in {r.name for r in report.failed}
