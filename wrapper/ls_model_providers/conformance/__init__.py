"""The conformance suite: does a deployment serve GET /api/model-provider-connections/{id}/
as documented and as Label Studio does? Read-only (GET, HEAD, OPTIONS), bounded in requests,
rate and time, never prints the credentials. Needs the ``conformance`` extra.

From a shell: ``ls-model-providers conformance [--base-url URL --api-key KEY --id N]``.
From Python::

    from ls_model_providers.conformance import RunConfig, run
    report = run(RunConfig(base_url="https://ls.example.com", api_key="...", connection_id=3))
    report.exit_code, [r.name for r in report.failed]

Under pytest: ``pytest --pyargs ls_model_providers.conformance --ls-base-url URL``.

Needs the ``conformance`` extra: without it, importing this package raises
``ModuleNotFoundError("install the conformance extra: pip install
'ls-model-providers[conformance]' (missing module: ...)")``, the one message for a missing
extra (checked here without importing them: schemathesis is imported when a run starts).

Modules: ``_run`` (a run, start to verdict), ``_checks`` (the hand-written checks),
``_fuzz`` (schemathesis), ``_context`` (what a check gets), ``_report`` (console, JUnit,
JSON). The one path to the deployment is ``toolkit.guard``.
"""

from importlib.util import find_spec

from ls_model_providers.toolkit.exits import (
    EXIT_CREDENTIALS,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_NOT_SERVED,
    EXIT_OK,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    missing_extra,
)

#: What the extra brings that this package imports (the mock is only needed without a URL).
EXTRA_MODULES = ("schemathesis", "hypothesis", "yaml")
for _name in EXTRA_MODULES:
    if find_spec(_name) is None:
        raise ModuleNotFoundError(missing_extra("conformance", _name), name=_name)

from ._model import CheckResult, Report, RunConfig, UsageError  # noqa: E402 - after the check
from ._report import console, write_json, write_junit  # noqa: E402
from ._run import RUN_NAMES, Interrupted, check_names, run, validate  # noqa: E402

#: The exit code of a conformant run.
EXIT_CONFORMANT = EXIT_OK

__all__ = [
    "EXIT_CONFORMANT",
    "EXIT_CREDENTIALS",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_NOT_SERVED",
    "EXIT_UNREACHABLE",
    "EXIT_USAGE",
    "RUN_NAMES",
    "CheckResult",
    "Interrupted",
    "Report",
    "RunConfig",
    "UsageError",
    "check_names",
    "console",
    "run",
    "validate",
    "write_json",
    "write_junit",
]
