"""The conformance suite: does a deployment serve GET /api/model-provider-connections/{id}/
as documented and as Label Studio does? Read-only (GET, HEAD, OPTIONS), bounded in requests,
rate and time, never prints the credentials. Needs the ``conformance`` extra.

From a shell: ``ls-model-providers conformance [--base-url URL --api-key KEY --id N]``.
From Python::

    from ls_model_providers.conformance import RunConfig, run
    report = run(RunConfig(base_url="https://ls.example.com", api_key="...", connection_id=3))
    report.exit_code, [r.name for r in report.failed]

Under pytest: ``pytest --pyargs ls_model_providers.conformance --ls-base-url URL``.

Modules: ``_run`` (a run, start to verdict), ``_checks`` (the hand-written checks),
``_fuzz`` (schemathesis), ``_context`` (what a check gets), ``_guard`` (the one path to the
deployment), ``_report`` (console, JUnit, JSON), ``_text`` (reproductions), ``_specdiff``.
"""

from ls_model_providers.cli._shared import (
    EXIT_CREDENTIALS,
    EXIT_FAILED,
    EXIT_NOT_SERVED,
    EXIT_OK,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
)

from ._model import CheckResult, Report, RunConfig, UsageError
from ._run import check_names, run, validate

#: The exit code of a conformant run.
EXIT_CONFORMANT = EXIT_OK

__all__ = [
    "EXIT_CONFORMANT",
    "EXIT_CREDENTIALS",
    "EXIT_FAILED",
    "EXIT_NOT_SERVED",
    "EXIT_UNREACHABLE",
    "EXIT_USAGE",
    "CheckResult",
    "Report",
    "RunConfig",
    "UsageError",
    "check_names",
    "run",
    "validate",
]
