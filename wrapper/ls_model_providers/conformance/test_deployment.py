"""The conformance suite as pytest tests, one per check:

    pytest --pyargs ls_model_providers.conformance --ls-base-url URL --ls-api-key KEY [--ls-id N]

The suite runs once per session (at collection, so each check becomes a test); notes pass
and print their text; a failing check fails with its details and a curl reproduction.
"""

from __future__ import annotations

import os

import pytest

from ls_model_providers.conformance import CheckResult, Report, RunConfig, run

_REPORTS: dict[tuple[object, ...], Report] = {}


def _report(config: pytest.Config) -> Report:
    base_url = config.getoption("--ls-base-url") or os.environ.get("LABEL_STUDIO_URL")
    api_key = config.getoption("--ls-api-key") or os.environ.get("LABEL_STUDIO_API_KEY")
    key = (base_url, api_key, config.getoption("--ls-id"), config.getoption("--ls-max-examples"))
    if key not in _REPORTS:
        _REPORTS[key] = run(
            RunConfig(base_url=base_url, api_key=api_key, connection_id=key[2], max_examples=key[3])
        )
    return _REPORTS[key]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "check" in metafunc.fixturenames:
        report = _report(metafunc.config)
        metafunc.parametrize("check", report.results, ids=[r.name for r in report.results])
    if "report" in metafunc.fixturenames:
        metafunc.parametrize("report", [_report(metafunc.config)], ids=["verdict"])


def test_verdict(report: Report) -> None:
    assert report.exit_code in (0, 1), report.verdict


def test_check(check: CheckResult) -> None:
    if check.outcome == "fail":
        lines = [check.summary, *check.details] + (
            [f"reproduce: {check.repro}"] if check.repro else []
        )
        pytest.fail("\n".join(lines), pytrace=False)
    print(f"{check.outcome}: {check.summary}")
