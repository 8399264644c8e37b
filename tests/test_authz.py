"""Authorization with several identities (issue 18): the ``authz.*`` checks against the served
mock, healthy and with each regression, and the denied keys never shown anywhere."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ls_model_providers.cli import main
from ls_model_providers.conformance import Report, RunConfig, run
from ls_model_providers.mock import ServedMock, create_app, serve_in_thread

from .servers import Override, ls_error

DETAIL = "/api/model-provider-connections/"
AUTHZ = {
    "authz.identities", "authz.detail_refused", "authz.no_existence_oracle",
    "authz.list_refused", "authz.both_directions",
}  # fmt: skip


def _tokens(app: Any) -> dict[str, str]:
    return {u.username: u.token for u in app.state.mock.data.users}


@pytest.fixture
def served() -> Iterator[tuple[ServedMock, dict[str, str]]]:
    app = create_app()
    with serve_in_thread(app) as mock:
        yield mock, _tokens(app)


def _run(mock: ServedMock, denied: list[str], **options: Any) -> Report:
    return run(RunConfig(base_url=mock.base_url, api_key=mock.token, denied_keys=denied,
                         max_examples=2, seed=5, **options))  # fmt: skip


def _results(report: Report) -> dict[str, Any]:
    return {r.name: r for r in report.results if r.name.startswith("authz.")}


def test_a_run_without_denied_keys_has_no_authz_results(
    served: tuple[ServedMock, dict[str, str]],
) -> None:
    mock, _ = served
    report = _run(mock, [])
    assert report.exit_code == 0 and _results(report) == {}


def test_label_studios_rules_pass_and_each_kind_is_told_apart(
    served: tuple[ServedMock, dict[str, str]],
) -> None:
    mock, tokens = served
    report = _run(mock, [tokens["alan"], tokens["grace"]])
    assert report.exit_code == 0, report.verdict
    results = _results(report)
    assert set(results) == AUTHZ
    told = results["authz.identities"].summary
    assert (
        "denied key #1 ($LABEL_STUDIO_DENIED_KEY_1 in reproductions): a member of the "
        "organisation without a role" in told
    )
    assert "denied key #2 ($LABEL_STUDIO_DENIED_KEY_2 in reproductions): a user of another" in told
    assert all(r.outcome in ("pass", "note") for r in results.values())


def test_a_denied_personal_access_token_is_refreshed_like_the_main_one() -> None:
    app = create_app()
    refresh = app.state.mock.issue_refresh_token(3)  # grace, of the second organisation
    with serve_in_thread(app) as mock:
        report = _run(mock, [refresh])
    assert report.exit_code == 0, report.verdict
    assert "a user of another organisation" in _results(report)["authz.identities"].summary
    assert report.methods.get("POST") == 1


def test_a_denied_access_token_is_named_after_its_key_in_reproductions() -> None:
    """Two users' tokens in one run: a reproduction must say whose token it sends."""
    app = create_app()
    refresh = app.state.mock.issue_refresh_token(3)  # grace, of the second organisation

    def bearer_reads(method: str, path: str, headers: dict[str, str]) -> Any:
        # The main key is a legacy Token: any Bearer is grace's access token.
        if headers.get("authorization", "").startswith("Bearer ") and path == f"{DETAIL}1/":
            return 200, [("content-type", "application/json")], _connection_body(1)
        return None

    app.add_middleware(Override, rule=bearer_reads)
    with serve_in_thread(app) as mock:
        report = _run(mock, [refresh], connection_id=1)
    failed = {r.name: r for r in report.failed}
    assert "authz.detail_refused" in failed, report.verdict
    repro = failed["authz.detail_refused"].repro or ""
    assert "'Authorization: Bearer '\"$LABEL_STUDIO_DENIED_ACCESS_TOKEN_1\"" in repro, repro
    assert "$LABEL_STUDIO_ACCESS_TOKEN" not in repro and refresh not in repro


def test_a_rejected_denied_key_is_a_usage_error_naming_which(
    served: tuple[ServedMock, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    mock, tokens = served
    unknown = "0" * 39 + "1"
    code = main(["conformance", "--base-url", mock.base_url, "--api-key", mock.token,
                 "--denied-key", tokens["alan"], "--denied-key", unknown])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 2, out
    assert "--denied-key: denied key #2 was rejected as credentials (401" in out
    assert unknown not in out


def _with(rule: Callable[[str, str, dict[str, str]], Any]) -> Any:
    app = create_app()
    app.add_middleware(Override, rule=rule)
    return app


def _connection_body(connection_id: int) -> bytes:
    return json.dumps({"id": connection_id, "provider": "OpenAI", "scope": "Organization"}).encode()


def test_another_organisation_reading_a_connection_fails() -> None:
    app = create_app()
    grace = _tokens(app)["grace"]

    def no_org_filter(method: str, path: str, headers: dict[str, str]) -> Any:
        if headers.get("authorization") == f"Token {grace}" and path == f"{DETAIL}1/":
            return 200, [("content-type", "application/json")], _connection_body(1)
        return None

    app.add_middleware(Override, rule=no_org_filter)
    with serve_in_thread(app) as mock:
        report = _run(mock, [grace], connection_id=1)
    failed = {r.name: r for r in report.failed}
    assert report.exit_code == 1 and "authz.detail_refused" in failed, report.verdict
    assert "denied key #2" not in report.verdict
    assert any("read connection 1 (200)" in d for d in failed["authz.detail_refused"].details)


def test_an_existence_oracle_fails() -> None:
    app = create_app()
    grace = _tokens(app)["grace"]
    org1 = {c["id"] for c in app.state.mock.data.connections if c["organization"] == 1}

    def oracle(method: str, path: str, headers: dict[str, str]) -> Any:
        wanted = path.removeprefix(DETAIL).rstrip("/")
        if (
            headers.get("authorization") == f"Token {grace}"
            and wanted.isdigit()
            and int(wanted) in org1
        ):
            return ls_error(403, "You do not have permission to perform this action.")
        return None

    app.add_middleware(Override, rule=oracle)
    with serve_in_thread(app) as mock:
        report = _run(mock, [grace], connection_id=1)
    failed = {r.name: r for r in report.failed}
    assert set(failed) == {"authz.no_existence_oracle"}, report.verdict
    assert (
        'answers 403 "You do not have permission' in failed["authz.no_existence_oracle"].details[0]
    )


def test_an_oracle_in_the_error_body_alone_fails() -> None:
    """Same status and detail, but a body that tells an existing id from an unknown one."""
    app = create_app()
    grace = _tokens(app)["grace"]
    org1 = {c["id"] for c in app.state.mock.data.connections if c["organization"] == 1}

    def oracle(method: str, path: str, headers: dict[str, str]) -> Any:
        wanted = path.removeprefix(DETAIL).rstrip("/")
        if headers.get("authorization") == f"Token {grace}" and wanted.isdigit():
            status, fields, body = ls_error(
                404, "No ModelProviderConnection matches the given query."
            )
            if int(wanted) in org1:
                body = json.dumps({**json.loads(body), "exc_info": "PermissionDenied"}).encode()
            return status, fields, body
        return None

    app.add_middleware(Override, rule=oracle)
    with serve_in_thread(app) as mock:
        report = _run(mock, [grace], connection_id=1)
    failed = {r.name: r for r in report.failed}
    assert set(failed) == {"authz.no_existence_oracle"}, report.verdict
    assert "different bodies" in failed["authz.no_existence_oracle"].details[0]
    assert "PermissionDenied" in failed["authz.no_existence_oracle"].details[0]


def test_a_member_listing_connections_fails() -> None:
    app = create_app()
    alan = _tokens(app)["alan"]

    def open_list(method: str, path: str, headers: dict[str, str]) -> Any:
        if headers.get("authorization") == f"Token {alan}" and path == DETAIL:
            body = json.dumps([json.loads(_connection_body(i)) for i in (1, 2)]).encode()
            return 200, [("content-type", "application/json")], body
        return None

    app.add_middleware(Override, rule=open_list)
    with serve_in_thread(app) as mock:
        report = _run(mock, [alan], connection_id=1)
    failed = {r.name: r for r in report.failed}
    assert "authz.list_refused" in failed, report.verdict
    assert "denied key #1" in failed["authz.list_refused"].details[0]
    assert (
        ": 1, 2" in failed["authz.list_refused"].details[0]
        or "(1, 2)" in failed["authz.list_refused"].details[0]
    )


def test_no_denied_key_reaches_any_output(
    served: tuple[ServedMock, dict[str, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mock, tokens = served
    junit, report = tmp_path / "r.xml", tmp_path / "r.json"
    code = main(["conformance", "--base-url", mock.base_url, "--api-key", mock.token,
                 "--denied-key", tokens["alan"], "--denied-key", tokens["grace"],
                 "--junit-xml", str(junit), "--json-report", str(report)])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.out
    shown = captured.out + captured.err + junit.read_text() + report.read_text()
    assert tokens["alan"] not in shown and tokens["grace"] not in shown
    assert "denied key #1" in shown and "denied key #2" in shown
    with pytest.raises(SystemExit) as usage:  # argparse: a mistyped option, its value a key
        main(["conformance", "--denid-key", tokens["alan"]])
    assert usage.value.code == 2
    assert tokens["alan"] not in capsys.readouterr().err


def test_the_main_credentials_reading_what_another_organisation_lists_fails(
    tmp_path: Path,
) -> None:
    """No organisation filter at all: both users list every row; the main credentials reading
    the other organisation's rows is a failure of its own, even for ids both list."""
    app = create_app(defects=["authz_no_org_filter"])
    grace = _tokens(app)["grace"]
    theirs = {c["id"] for c in app.state.mock.data.connections if c["organization"] != 1}
    with serve_in_thread(app) as mock:
        report = _run(mock, [grace], connection_id=1)
    failed = {r.name: r for r in report.failed}
    assert "authz.both_directions" in failed, report.verdict
    read = failed["authz.both_directions"].details
    assert theirs and all(any(f"connection {i}," in d for d in read) for i in theirs), read
    assert not any("connection 1," in d for d in read)  # its own rows are no leak


def test_a_broken_answer_to_a_denied_user_is_a_verdict_not_an_internal_error() -> None:
    app = create_app()
    grace = _tokens(app)["grace"]

    def corrupt(method: str, path: str, headers: dict[str, str]) -> Any:
        if headers.get("authorization") == f"Token {grace}" and "whoami" in path:
            return 200, [("content-type", "application/json"), ("content-encoding", "gzip")], b"{}"
        return None

    app.add_middleware(Override, rule=corrupt)
    with serve_in_thread(app) as mock:
        report = _run(mock, [grace], connection_id=1)
    assert report.exit_code == 1, report.verdict
    assert [r.name for r in report.failed] == ["authz.identities"], report.verdict
    assert "cannot be decoded" in report.failed[0].summary
    assert "whoami" in (report.failed[0].repro or "")
