"""The conformance suite on the production-shaped stack (uwsgi; nginx with TLS; nginx under
/ls with PostgreSQL), with a legacy token and with a personal access token: conformant on
every row its viewer may see, and each regression of the add-on exits 1 naming the check
that must catch it, through nginx too."""

from __future__ import annotations

from typing import Any

import pytest

from ls_model_providers.conformance import EXIT_CONFORMANT, EXIT_FAILED, Report, RunConfig, run

from .lsaddon.switch import REGRESSIONS
from .shapes import Shape, Tokens, visible
from .test_addon_conformance import CATCHES, SEED, _failures

#: Per row: the hand-written checks in full, schemathesis with two cases per mode (the full
#: runs are test_addon_conformance's); ~0.3 s a run.
EXAMPLES = 2


def _run(shape: Shape, api_key: str, connection_id: int) -> Report:
    config = RunConfig(
        base_url=shape.url, api_key=api_key, connection_id=connection_id,
        max_examples=EXAMPLES, seed=SEED, cacert=shape.cacert,
    )  # fmt: skip
    return run(config)


def _outcome(report: Report) -> str:
    return f"exit {report.exit_code} ({report.verdict}): {_failures(report)}"


def test_conformant_on_every_visible_row(shape: Shape, credential: str, tokens: Tokens) -> None:
    wrong: dict[str, str] = {}
    for row in visible(shape.stack):
        report = _run(shape, tokens.for_row(shape, row, credential), row["id"])
        if report.exit_code != EXIT_CONFORMANT:
            wrong[row["shape"]] = _outcome(report)
    assert not wrong, f"{len(wrong)} row(s) not conformant: {wrong}"


#: The regressions every shape must still catch: the two the issue names and the three
#: that one-answer checks miss (every other one is test_addon_conformance's).
ON_EVERY_SHAPE = ("secret_kept", "auth_off", "params_secret", "secret_after_first", "noslash_open")


@pytest.mark.parametrize("regression", ON_EVERY_SHAPE)
def test_regression_exits_1_naming_the_check(shape: Shape, regression: str, tokens: Tokens) -> None:
    assert regression in REGRESSIONS
    row = shape.stack.row("provider-OpenAI")
    must, may = CATCHES[regression]
    with shape.stack.switched("object", regression):
        report = _run(shape, tokens.for_row(shape, row, "legacy"), row["id"])
    failed = {r.name for r in report.failed}
    assert report.exit_code == EXIT_FAILED, _outcome(report)
    assert must in failed, _outcome(report)
    assert failed <= {must, *may}, f"unrelated checks failed: {failed - {must, *may}}"
    assert must in report.verdict
    _assert_no_secret_shown(report, row)


def _assert_no_secret_shown(report: Report, row: dict[str, Any]) -> None:
    shown = " ".join([report.verdict, *(" ".join([r.summary, *r.details]) for r in report.results)])
    pem = row["secrets"]["google_application_credentials"]
    secrets = [row["secrets"]["api_key"], row["secrets"]["auth_token"], pem]
    assert not any(secret in shown for secret in secrets), "the report shows a secret"
