"""The conformance suite as pytest tests, one per check:

    pytest --pyargs ls_model_providers.conformance --ls-base-url URL --ls-api-key KEY [--ls-id N]

Collection sends nothing: the tests are the suite's fixed list of checks. The suite runs once,
on the first test, and each test reports its check: a failure with its details and a curl
reproduction, a note as a pass with its text, a check the run never reached as a skip.
``test_verdict`` fails for any verdict but CONFORMANT, saying why (credentials rejected,
endpoint not served, a limit reached...).
"""

from __future__ import annotations

import pytest

from ls_model_providers.conformance import (
    RUN_NAMES,
    Report,
    RunConfig,
    UsageError,
    check_names,
    run,
    validate,
)

#: The plugin's own option names, so every message names an option that exists here.
OPTIONS = {
    "base_url": "--ls-base-url",
    "api_key": "--ls-api-key",
    "connection_id": "--ls-id",
    "denied_keys": "--ls-denied-key",
    "max_examples": "--ls-max-examples",
    "max_requests": "--ls-max-requests",
    "deadline": "--ls-deadline",
    "cacert": "--ls-cacert",
    "insecure": "--ls-insecure",
}


def _config(config: pytest.Config) -> RunConfig:
    try:
        return _from_env(config)
    except UsageError as exc:  # a variable set but empty
        raise pytest.UsageError(f"ls-model-providers conformance: {exc}") from None


def _from_env(config: pytest.Config) -> RunConfig:
    return RunConfig.from_env(
        base_url=config.getoption("--ls-base-url"),
        api_key=config.getoption("--ls-api-key"),
        connection_id=config.getoption("--ls-id"),
        denied_keys=config.getoption("--ls-denied-key"),
        max_examples=config.getoption("--ls-max-examples"),
        max_requests=config.getoption("--ls-max-requests"),
        deadline=config.getoption("--ls-deadline"),
        cacert=config.getoption("--ls-cacert"),
        insecure=config.getoption("--ls-insecure"),
        options=OPTIONS,
    )


def check_options(config: pytest.Config) -> None:
    """Refuse options the suite cannot use, before anything runs (the plugin calls this once
    these tests are collected)."""
    checked = _config(config)
    try:
        validate(checked)
    except UsageError as exc:
        raise pytest.UsageError(f"ls-model-providers conformance: {exc}") from None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "check" in metafunc.fixturenames:
        names = [n for n in check_names() if n not in RUN_NAMES]
        try:
            denied = _from_env(metafunc.config).denied_keys
        except UsageError:  # check_options says it, once the tests are collected
            denied = ()
        if not denied:  # no identities: no authz.* to run
            names = [n for n in names if not n.startswith("authz.")]
        metafunc.parametrize("check", names, ids=names)


@pytest.fixture(scope="session")
def conformance_report(pytestconfig: pytest.Config) -> Report:
    """The suite's one run (on the first test that needs it, never at collection)."""
    return run(_config(pytestconfig))


def test_verdict(conformance_report: Report) -> None:
    report = conformance_report
    if report.exit_code != 0:
        reasons = [f"{r.name}: {r.summary}" for r in report.failed]
        pytest.fail(
            "\n".join([f"{report.verdict} (exit {report.exit_code})", *reasons]), pytrace=False
        )


def test_check(check: str, conformance_report: Report) -> None:
    results = [r for r in conformance_report.results if r.name == check]
    if not results:
        if check.startswith("drift.") and conformance_report.exit_code in (0, 1):
            return  # nothing to note
        pytest.skip(f"not run: {conformance_report.verdict}")
    for result in results:
        if result.outcome == "fail":
            lines = [result.summary, *result.details]
            lines += [f"reproduce: {result.repro}"] if result.repro else []
            pytest.fail("\n".join(lines), pytrace=False)
        print(f"{result.outcome}: {result.summary}")
