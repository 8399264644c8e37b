"""The conformance suite: does a deployment serve GET /api/model-provider-connections/{id}/
as documented? Read-only (GET, HEAD, OPTIONS), bounded, rate-limitable, never prints the
credentials. Needs the ``conformance`` extra.

From a shell: ``ls-model-providers conformance [--base-url URL --api-key KEY --id N]``.
From Python::

    from ls_model_providers.conformance import RunConfig, run
    report = run(RunConfig(base_url="https://ls.example.com", api_key="...", connection_id=3))
    report.exit_code, [r.name for r in report.failed]

Under pytest: ``pytest --pyargs ls_model_providers.conformance --ls-base-url URL``.
"""

from ._suite import (
    EXIT_CONFORMANT,
    EXIT_CREDENTIALS,
    EXIT_FAILED,
    EXIT_NOT_SERVED,
    EXIT_USAGE,
    CheckResult,
    Report,
    RunConfig,
    UsageError,
    run,
)

__all__ = [
    "EXIT_CONFORMANT",
    "EXIT_CREDENTIALS",
    "EXIT_FAILED",
    "EXIT_NOT_SERVED",
    "EXIT_USAGE",
    "CheckResult",
    "Report",
    "RunConfig",
    "UsageError",
    "run",
]
