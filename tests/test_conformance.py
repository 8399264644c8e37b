"""The conformance suite catches each contract violation, stays read-only and hides the token."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ls_model_providers.cli import main
from ls_model_providers.conformance import RunConfig, run
from ls_model_providers.conformance._http import Prober, UnsafeRequestError
from ls_model_providers.mock import ServedMock, create_app, default_data, serve_in_thread

CANARY = "c4n4ryc4n4ryc4n4ryc4n4ryc4n4ryc4n4ry0042"
FAST: dict[str, Any] = {"max_examples": 10}


@pytest.fixture(scope="module")
def conformant() -> Iterator[ServedMock]:
    with serve_in_thread(create_app(data=default_data(CANARY))) as served:
        yield served


def _run(served: ServedMock, **kwargs: Any) -> Any:
    config = {
        "base_url": served.base_url,
        "api_key": served.token,
        "connection_id": 1,
        **FAST,
        **kwargs,
    }
    return run(RunConfig(**config))


def test_embedded_mock_run_is_conformant() -> None:
    report = run(RunConfig())
    assert report.embedded
    assert report.exit_code == 0, report.verdict
    assert not report.failed
    assert report.requests <= 300
    names = {r.name for r in report.results}
    assert {
        "connection.valid_200",
        "auth.missing_header",
        "schemathesis.response_schema_conformance",
    } <= names
    assert "schemathesis.negative_data_rejection" in names


@pytest.mark.parametrize(
    ("defect", "expected"),
    [
        ("wrong_type", {"connection.valid_200", "schemathesis.response_schema_conformance"}),
        ("missing_required", {"connection.valid_200", "schemathesis.response_schema_conformance"}),
        ("null_non_nullable", {"connection.valid_200", "schemathesis.response_schema_conformance"}),
        ("unknown_enum", {"connection.valid_200", "schemathesis.response_schema_conformance"}),
        ("over_max_length", {"connection.valid_200", "schemathesis.response_schema_conformance"}),
        ("no_auth", {"auth.missing_header", "auth.unknown_token", "schemathesis.ignored_auth"}),
        ("any_bearer", {"auth.forged_bearer"}),
        ("500_non_integer_id", {"not_found.non_integer_id"}),
        ("secret_field", {"connection.no_secrets"}),
        ("non_json_errors", {"auth.missing_header", "not_found.unknown_id"}),
        ("wrong_content_type", {"connection.valid_200", "schemathesis.content_type_conformance"}),
    ],
)
def test_each_defect_is_caught_and_named(defect: str, expected: set[str]) -> None:
    with serve_in_thread(create_app(defects=[defect])) as served:
        report = _run(served)
    failed = {r.name for r in report.failed}
    assert report.exit_code == 1
    assert expected <= failed, failed
    assert all(r.name in report.verdict for r in report.failed)


def test_community_server_exits_3_and_says_why() -> None:
    with serve_in_thread(create_app(defects=["community"])) as served:
        report = _run(served)
    assert report.exit_code == 3
    assert "Community Edition" in report.verdict


def test_non_label_studio_url_exits_3_and_says_check_the_url() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, html="<html>nginx</html>")

    report = run(
        RunConfig(
            base_url="http://x.example", api_key="f" * 40, transport=httpx.MockTransport(handler)
        )
    )
    assert report.exit_code == 3
    assert "check --base-url" in report.verdict


def test_rejected_credentials_exit_4(conformant: ServedMock) -> None:
    report = _run(conformant, api_key="0" * 40)
    assert report.exit_code == 4
    assert "Invalid token." in report.verdict


def test_missing_credentials_against_a_deployment_exit_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, conformant: ServedMock
) -> None:
    monkeypatch.delenv("LABEL_STUDIO_API_KEY", raising=False)
    assert main(["conformance", "--base-url", conformant.base_url]) == 2
    assert "credentials are required" in capsys.readouterr().err


def test_unknown_id_exit_2(conformant: ServedMock) -> None:
    report = _run(conformant, connection_id=424242)
    assert report.exit_code == 2
    assert "does not exist" in report.verdict


def test_personal_access_token_uses_only_the_refresh_post() -> None:
    app = create_app()
    refresh = app.state.mock.issue_refresh_token(1)
    with serve_in_thread(app) as served:
        report = run(RunConfig(base_url=served.base_url, api_key=refresh, connection_id=1, **FAST))
        methods = dict(app.state.mock.methods)
    assert report.exit_code == 0, report.verdict
    assert methods.pop("POST") == 1, "the one token refresh"
    assert set(methods) <= {"GET", "HEAD", "OPTIONS"}


def test_only_safe_methods_leave_the_process(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[str] = []
    original = httpx.HTTPTransport.handle_request

    def spy(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        sent.append(request.method)
        return original(self, request)

    import requests

    original_requests = requests.Session.send

    def spy_requests(self: requests.Session, request: Any, **kwargs: Any) -> Any:
        sent.append(request.method)
        return original_requests(self, request, **kwargs)

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", spy)
    monkeypatch.setattr(requests.Session, "send", spy_requests)
    app = create_app()
    with serve_in_thread(app) as served:
        report = _run(served)
    assert report.exit_code == 0
    assert sent, "the spies saw the traffic"
    assert set(sent) <= {"GET", "HEAD", "OPTIONS"}
    assert set(app.state.mock.methods) <= {"GET", "HEAD", "OPTIONS"}, "the server saw the same"


def test_prober_refuses_writes() -> None:
    prober = Prober(
        "http://x.example", "k", transport=httpx.MockTransport(lambda r: httpx.Response(200))
    )
    for method in ("DELETE", "PUT", "PATCH", "POST", "TRACE"):
        with pytest.raises(UnsafeRequestError):
            prober.request(method, "api/model-provider-connections/1/")
    assert prober.exchanges == []


def test_request_budget_is_enforced(conformant: ServedMock) -> None:
    report = _run(conformant, max_requests=12)
    assert report.requests == 12
    assert report.exit_code == 1
    assert "run.budget" in {r.name for r in report.failed}


def test_rate_limit_spaces_requests(
    conformant: ServedMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    monkeypatch.setattr("ls_model_providers.conformance._http.time.sleep", waits.append)
    report = _run(conformant, rate=20.0, max_examples=3)
    assert report.exit_code == 0
    # Requests are sent back to back, so nearly every one waits for its 50 ms slot.
    assert sum(waits) >= (report.requests - 1) * 0.05 * 0.5
    assert max(waits) <= 0.05 * report.requests


def test_seeded_runs_send_the_same_requests(conformant: ServedMock) -> None:
    first = _run(conformant, seed=7)
    second = _run(conformant, seed=7)
    assert first.requests == second.requests
    assert [r.summary for r in first.results] == [r.summary for r in second.results]


def test_token_never_printed_or_reported(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    app = create_app(data=default_data(CANARY), defects=["secret_field", "any_bearer"])
    junit, report_json = tmp_path / "junit.xml", tmp_path / "report.json"
    with serve_in_thread(app) as served:
        code = main([
            "conformance", "--base-url", served.base_url, "--api-key", CANARY, "--id", "1",
            "--max-examples", "5", "--junit-xml", str(junit), "--json-report", str(report_json),
        ])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 1
    everything = out + err + junit.read_text() + report_json.read_text()
    assert CANARY not in everything
    assert "sk-mock-LEAKED" not in everything
    assert "Authorization: Token $LABEL_STUDIO_API_KEY" in out, "reproductions use the variable"
    assert "FAIL" in out
    assert "connection.no_secrets" in out
    data = json.loads(report_json.read_text())
    assert data["exit_code"] == 1
    assert "connection.no_secrets" in data["failed"]
    assert "<failure" in junit.read_text()


def test_cli_without_arguments_runs_the_embedded_mock(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
    assert main(["conformance", "--max-examples", "5"]) == 0
    out, err = capsys.readouterr()
    assert "verdict: CONFORMANT (exit 0)" in out
    assert "(embedded mock)" in out
    assert "connection.valid_200" in err, "progress is shown while it runs"


def test_pytest_entry_point(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--pyargs", "ls_model_providers.conformance", "-q",
         "-p", "no:cacheprovider", "--ls-max-examples", "5"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed" in result.stdout
