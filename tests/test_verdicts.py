"""Verdicts on deployments as they are really run: never fail a healthy one (a server closing
keep-alive connections, rate limits, a redirecting URL, a proxy answering OPTIONS, a masked
secret), never pass a leaky or open one (a secret on a later answer, inside model_params, an
open route variant). Real sockets throughout: the mock served by uvicorn, fronts on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ls_model_providers.cli import main
from ls_model_providers.conformance import Report, RunConfig, run
from ls_model_providers.mock import FaultPlan, ServedMock, create_app, serve_in_thread
from ls_model_providers.snapshot import Snapshot, diff
from ls_model_providers.toolkit.schemas import schema_sha256

from .servers import Override, Rewrite, front, redirecting_front, serve_through

DETAIL = "/api/model-provider-connections/"
PROVIDER_KEY = "sk-" + "live0123456789abcdefABCDEF0123456789"
PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"


def _run(base_url: str, token: str, **options: Any) -> Report:
    return run(RunConfig(base_url=base_url, api_key=token, max_examples=3, seed=7, **options))


def _failed(report: Report) -> set[str]:
    return {r.name for r in report.failed}


def _shown(report: Report) -> str:
    return json.dumps([report.verdict, [[r.summary, r.details, r.repro] for r in report.results]])


@pytest.fixture
def mock() -> Iterator[ServedMock]:
    with serve_in_thread(create_app()) as served:
        yield served


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


# -- healthy deployments that must pass -------------------------------------------------------


def test_a_server_that_closes_keepalive_connections_is_conformant(
    mock: ServedMock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # uwsgi's HTTP router, as Label Studio's image runs it: every check used to fail on
    # "Server disconnected without sending a response" (or exit 5 right after an answer).
    with front(_port(mock.base_url), uwsgi=True) as uwsgi:
        report = _run(uwsgi, mock.token, connection_id=1)
        assert report.exit_code == 0, (report.verdict, [(r.name, r.summary) for r in report.failed])
        resent = next(r for r in report.results if r.name == "run.resent")
        assert resent.outcome == "note" and "Connection: close" in resent.summary
        assert main(["get", "2", "--base-url", uwsgi, "--api-key", mock.token]) == 0
        out = tmp_path / "snap.json"
        code = main(
            ["snapshot", "--all", "-o", str(out), "--base-url", uwsgi, "--api-key", mock.token]
        )
    assert code == 0
    assert len(Snapshot.load(out).connections) == 7
    assert "sent again on a fresh connection" in capsys.readouterr().err


def test_a_failure_on_a_fresh_connection_stays_a_failure(mock: ServedMock) -> None:
    # Resending is for connections an earlier request used: a server that drops HEAD on a
    # connection opened for it is judged on it.
    with front(_port(mock.base_url), drop="HEAD") as dropping:
        report = _run(dropping, mock.token, connection_id=1)
    assert "http.head" in _failed(report), report.verdict
    assert report.exit_code == 1
    assert not [r for r in report.results if r.name == "run.resent"]


def test_rate_limits_are_honoured_not_judged() -> None:
    faults = FaultPlan(rate=0.1, kinds=("429",), retry_after=0.01, seed=3)
    with serve_in_thread(create_app(faults=faults)) as served:
        report = _run(served.base_url, served.token, connection_id=1)
    assert faults.stats["429"] > 0
    assert report.exit_code == 0, report.verdict
    note = next(r for r in report.results if r.name == "run.rate_limited")
    assert note.outcome == "note" and f"{faults.stats['429']} time(s)" in note.summary


def test_endless_rate_limits_are_inconclusive_never_a_failure(
    capsys: pytest.CaptureFixture[str],
) -> None:
    faults = FaultPlan(rate=1.0, kinds=("429",), retry_after=1.0)
    with serve_in_thread(create_app(faults=faults)) as served:
        code = main(["conformance", "--base-url", served.base_url, "--api-key", served.token,
                     "--deadline", "3", "--max-examples", "2"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 6, out
    assert "INCONCLUSIVE: rate limited" in out
    assert "NOT CONFORMANT" not in out


@pytest.mark.parametrize("with_id", [True, False])
def test_a_redirecting_base_url_is_named_not_judged(
    mock: ServedMock, with_id: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    with redirecting_front("https://ls.example.com") as front:
        argv = ["conformance", "--base-url", front, "--api-key", mock.token, "--max-examples", "2"]
        code = main(argv + (["--id", "1"] if with_id else []))
        out = capsys.readouterr().out
        assert code == 2, out
        assert "the base URL redirects to https://ls.example.com/: use that" in out
        assert "NOT CONFORMANT" not in out and "no connection id to test" not in out
        code = main(["snapshot", "--ids", "1", "-o", "/dev/null", "--base-url", front,
                     "--api-key", mock.token])  # fmt: skip
    assert code == 2
    assert "redirects to https://ls.example.com/: use that" in capsys.readouterr().err


def test_get_through_a_redirect_to_another_origin_names_it_not_the_key(
    mock: ServedMock, capsys: pytest.CaptureFixture[str]
) -> None:
    """The client keeps the key from another origin, whose 401 says nothing of the key."""
    with redirecting_front(mock.base_url) as front:
        code = main(["get", "1", "--base-url", front, "--api-key", mock.token])
    err = capsys.readouterr().err
    assert code == 2, err
    assert (
        f"the base URL redirects to {mock.base_url.rstrip('/')}/, which was not sent the key" in err
    )
    assert f"(--base-url {mock.base_url.rstrip('/')}/)" in err and mock.token not in err
    code = main(["get", "1", "--base-url", mock.base_url, "--api-key", "f" * 40])
    assert code == 4, "a wrong key at the origin itself is still exit 4"


def test_a_proxy_answering_options_itself_is_a_note() -> None:
    # nginx in Label Studio's image: `if ($request_method = OPTIONS) { return 204; }`.
    def nginx(method: str, path: str, headers: dict[str, str]) -> Any:
        return (204, [], b"") if method == "OPTIONS" else None

    with serve_through(Override, nginx) as served:
        report = _run(served.base_url, served.token, connection_id=1)
    assert report.exit_code == 0, report.verdict
    options = next(r for r in report.results if r.name == "http.options")
    assert options.outcome == "note" and "a proxy in front answers OPTIONS" in options.summary


def test_snapshots_through_a_proxy_answering_options_compare_as_compatible(
    mock: ServedMock,
) -> None:
    from ls_model_providers.snapshot import record

    def nginx(method: str, path: str, headers: dict[str, str]) -> Any:
        return (204, [], b"") if method == "OPTIONS" else None

    app = create_app()
    app.add_middleware(Override, rule=nginx)
    direct = record(mock.base_url, mock.token, ids=[1, 2]).snapshot
    with serve_in_thread(app) as served:
        proxied = record(served.base_url, served.token, ids=[1, 2]).snapshot
    result = diff(direct, proxied)
    assert result.exit_code == 0, result.lines()
    assert any(c.where == "answer.options" for c in result.changes)


def test_the_schema_hash_ignores_the_host_that_served_it() -> None:
    def served(base: str) -> dict[str, Any]:
        return {
            "openapi": "3.0.3",
            "servers": [{"url": base}],
            "paths": {"/api/x/": {"get": {"description": f"curl {base}/api/x/ -H ..."}}},
        }

    one = schema_sha256(served("http://10.0.0.5:8080"), "http://10.0.0.5:8080/")
    other = schema_sha256(served("https://ls.example.com/ls"), "https://ls.example.com/ls/")
    assert one == other
    changed = served("http://10.0.0.5:8080")
    changed["paths"]["/api/y/"] = {}
    assert schema_sha256(changed, "http://10.0.0.5:8080/") != one


def test_a_masked_secret_is_a_note_not_a_leak() -> None:
    def masked(method: str, path: str, status: int, body: bytes) -> bytes:
        if method == "GET" and path.startswith(DETAIL) and status == 200 and body.startswith(b"{"):
            return json.dumps({**json.loads(body), "api_key": "********"}).encode()
        return body

    with serve_through(Rewrite, masked) as served:
        report = _run(served.base_url, served.token, connection_id=1)
    assert report.exit_code == 0, report.verdict
    secrets = next(r for r in report.results if r.name == "connection.no_secrets")
    assert secrets.outcome == "note" and "api_key" in secrets.summary


# -- leaky or open deployments that must fail -------------------------------------------------


def test_a_secret_in_every_answer_but_the_first_fails() -> None:
    answered = [0]

    def later(method: str, path: str, status: int, body: bytes) -> bytes:
        if method == "GET" and path.startswith(DETAIL) and status == 200 and body.startswith(b"{"):
            answered[0] += 1
            if answered[0] > 1:
                return json.dumps({**json.loads(body), "api_key": PROVIDER_KEY}).encode()
        return body

    with serve_through(Rewrite, later) as served:
        report = _run(served.base_url, served.token, connection_id=1)
    assert report.exit_code == 1
    assert "connection.no_secrets" in _failed(report), report.verdict
    assert PROVIDER_KEY not in _shown(report)


@pytest.mark.parametrize("form", ["object", "string"])
@pytest.mark.parametrize("secret", [PROVIDER_KEY, PEM], ids=["provider-key", "pem"])
def test_secrets_inside_model_params_fail(form: str, secret: str) -> None:
    def inside(method: str, path: str, status: int, body: bytes) -> bytes:
        if method == "GET" and path.startswith(DETAIL) and status == 200 and body.startswith(b"{"):
            data = json.loads(body)
            params = data["model_params"]
            params = json.loads(params) if isinstance(params, str) else params
            params["properties"]["api_key"] = {"type": "string", "default": secret}
            data["model_params"] = json.dumps(params) if form == "string" else params
            return json.dumps(data).encode()
        return body

    app = create_app(model_params=form)  # type: ignore[arg-type]
    app.add_middleware(Rewrite, rule=inside)
    with serve_in_thread(app) as served:
        report = _run(served.base_url, served.token, connection_id=1)
    secrets = next(r for r in report.failed if r.name == "connection.no_secrets")
    assert "model_params.properties.api_key.default" in secrets.summary
    assert max(secret.splitlines(), key=len) not in _shown(report)


def test_an_open_route_variant_fails() -> None:
    # Django serves the route without its trailing slash: an authentication class that only
    # guards the slashed route leaves this one open.
    def no_slash(method: str, path: str, headers: dict[str, str]) -> Any:
        if method == "GET" and path == f"{DETAIL}1" and "authorization" not in headers:
            return 200, [("content-type", "application/json")], json.dumps({"id": 1}).encode()
        return None

    with serve_through(Override, no_slash) as served:
        report = _run(served.base_url, served.token, connection_id=1)
    assert report.exit_code == 1
    variants = next(r for r in report.failed if r.name == "auth.route_variants")
    assert f"{DETAIL}1 (200)" in variants.summary


def test_a_secret_only_the_list_route_shows_fails() -> None:
    """The view set's list uses the same serializer: a key it shows is a leak, denied keys or
    not (the detail route is clean here)."""

    def listed(method: str, path: str, status: int, body: bytes) -> bytes:
        if method == "GET" and path == DETAIL and status == 200 and body.startswith(b"["):
            rows = json.loads(body)
            rows[-1]["api_key"] = PROVIDER_KEY
            return json.dumps(rows).encode()
        return body

    with serve_through(Rewrite, listed) as served:
        report = _run(served.base_url, served.token, connection_id=1)
    secrets = next(r for r in report.failed if r.name == "connection.no_secrets")
    assert f"in the 200 answer to GET {DETAIL}" in secrets.details[0], secrets.details
    assert PROVIDER_KEY not in _shown(report)


def test_an_open_list_route_fails() -> None:
    def open_list(method: str, path: str, headers: dict[str, str]) -> Any:
        if method == "GET" and path == DETAIL and "authorization" not in headers:
            return 200, [("content-type", "application/json")], b"[]"
        return None

    with serve_through(Override, open_list) as served:
        report = _run(served.base_url, served.token, connection_id=1)
    assert report.exit_code == 1
    variants = next(r for r in report.failed if r.name == "auth.route_variants")
    assert f"{DETAIL} (200)" in variants.summary
