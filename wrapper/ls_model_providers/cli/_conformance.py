"""``ls-model-providers conformance``: run the suite, print the table, write the reports."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ls_model_providers._constants import ENV_DENIED_KEYS, ENV_URL
from ls_model_providers.toolkit.exits import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    ConfigurationError,
    missing_extra,
)
from ls_model_providers.toolkit.options import (
    DEFAULT_MAX_EXAMPLES,
    MAX_EXAMPLES,
    resolve_url,
)
from ls_model_providers.toolkit.text import one_line
from ls_model_providers.toolkit.tls import INSECURE_WARNING

from ._shared import (
    HELP_FORMAT,
    add_limit_options,
    add_target_options,
    add_tls_options,
    connection_id,
    count,
    epilog,
    error,
    progress,
    report_path,
    warn_insecure,
)
from ._snapshot import add_baseline_option

if TYPE_CHECKING:
    from ls_model_providers.conformance import Report


def add_parser(commands: Any) -> argparse.ArgumentParser:
    help_text = "check a deployment (or the embedded mock) against the contract"
    conf: argparse.ArgumentParser = commands.add_parser(
        "conformance", help=help_text, description=help_text, formatter_class=HELP_FORMAT,
        epilog=epilog(
            (0, 1, 2, 3, 4, 5, 6, 130),
            ("LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY", "LABEL_STUDIO_DENIED_KEYS", "SSL_CERT_FILE, SSL_CERT_DIR", "HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY"),
            "ls-model-providers conformance        # the embedded mock",
            "ls-model-providers conformance --base-url https://ls.example.com --id 3 "
            "--junit-xml reports/conformance.xml",
        ),
    )  # fmt: skip
    add_target_options(conf, f"deployment URL (default: ${ENV_URL}; none: the embedded mock)")
    conf.add_argument(
        "--denied-key", action="append", default=[], dest="denied_keys", metavar="KEY",
        help="credentials of a user who must not read the connections --api-key reads (a "
        "member without the role, or a user of another organisation): runs the authz.* checks; "
        f"repeat it for several (default: ${ENV_DENIED_KEYS}, separated by spaces or commas)",
    )  # fmt: skip
    conf.add_argument(
        "--id", type=connection_id, dest="connection_id", metavar="N",
        help="an existing connection id (default: connection 1, else the first the list shows)",
    )  # fmt: skip
    conf.add_argument(
        "--max-examples", type=lambda text: count(text, MAX_EXAMPLES), default=DEFAULT_MAX_EXAMPLES,
        help=f"generated cases per mode (default {DEFAULT_MAX_EXAMPLES}, at most {MAX_EXAMPLES:,})",
    )  # fmt: skip
    add_limit_options(conf)
    conf.add_argument("--seed", type=int, help="seed for generated cases (reproducible runs)")
    conf.add_argument(
        "--junit-xml", type=report_path, help="write a JUnit XML report here (folders are created)"
    )
    conf.add_argument(
        "--json-report", type=report_path, help="write a JSON report here (folders are created)"
    )
    add_tls_options(conf)
    add_baseline_option(conf)
    return conf


def run(args: argparse.Namespace) -> int:
    """Run the suite (and the comparison with ``--baseline``), print the table, write both
    reports once, with the exit code the command returns.

    Once the options are parsed, however the command ends, the reports asked for are written:
    Ctrl-C at any point (while schemathesis is still being imported too) is a failing
    ``run.interrupted`` (exit 130); anything else that ends it early, a failing
    ``run.internal``. Only a missing extra leaves no report (nothing to write it with).
    """
    started = time.monotonic()
    if args.junit_xml == args.json_report == Path("-"):
        error("--junit-xml and --json-report cannot both be - (standard output)")
        return EXIT_USAGE
    if args.insecure:
        warn_insecure()
    # A report on standard output: the table goes to standard error, so stdout is the report.
    table = sys.stderr if Path("-") in (args.junit_xml, args.json_report) else sys.stdout
    interrupted = False
    # Hypothesis keeps a cache in ./.hypothesis unless told where: not in the user's folder.
    scratch = None
    if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        scratch = tempfile.mkdtemp(prefix="ls-model-providers-hypothesis-")
        os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = scratch
    try:
        report = _report(args, started, table)
    except KeyboardInterrupt as stop:  # the run's own report (Interrupted), or one made here
        interrupted = True
        report = getattr(stop, "report", None) or _early_report(
            args, started, "run.interrupted", "interrupted (Ctrl-C) before the run started",
            EXIT_INTERRUPTED, "INTERRUPTED (Ctrl-C) before the run started",
        )  # fmt: skip
        if report is not None:
            from ls_model_providers.conformance import console

            print(console(report), file=table)  # what was found until then
    except Exception as exc:  # noqa: BLE001 - a report and one line, never a traceback
        summary = one_line(f"the run could not complete: {type(exc).__name__}: {exc}")
        error(summary)
        report = _early_report(args, started, "run.internal", summary, EXIT_FAILED, summary)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
            del os.environ["HYPOTHESIS_STORAGE_DIRECTORY"]
    if report is None:  # the conformance extra is missing: said, and nothing to write with
        if interrupted:
            raise KeyboardInterrupt
        return EXIT_USAGE
    from ls_model_providers.conformance import write_json, write_junit

    code = report.exit_code
    for path, write in ((args.junit_xml, write_junit), (args.json_report, write_json)):
        if path:
            try:
                write(report, path)
            except OSError as exc:
                error(f"cannot write {path}: {exc.strerror or exc}")
                code = code or EXIT_USAGE
    if interrupted:
        raise KeyboardInterrupt  # the entry point says "interrupted" and exits 130
    return code


def _report(args: argparse.Namespace, started: float, table: TextIO) -> Report | None:
    """The run's ``Report``, its table printed (a usage error's report: no run, no table), or
    ``None`` without the conformance extra."""
    try:
        from ls_model_providers.conformance import (
            RunConfig,
            UsageError,
            console,
            run,
            validate,
        )
    except ImportError as exc:
        error(missing_extra("conformance", exc))
        return None
    try:
        config = RunConfig.from_env(
            base_url=args.base_url, api_key=args.api_key, connection_id=args.connection_id,
            denied_keys=args.denied_keys,
            max_examples=args.max_examples, seed=args.seed, rate=args.rate,
            max_requests=args.max_requests, deadline=args.deadline, timeout=args.timeout,
            cacert=args.cacert, insecure=args.insecure, baseline=args.baseline,
        )  # fmt: skip
        validate(config)
        report = run(config, progress=progress)
    except UsageError as exc:
        error(str(exc))
        summary = one_line(str(exc))
        return _early_report(
            args, started, "run.configuration", summary, EXIT_USAGE, f"usage: {summary}"
        )
    print(console(report), file=table)
    return report


def _early_report(
    args: argparse.Namespace, started: float, name: str, summary: str, code: int, verdict: str
) -> Report | None:
    """The report of a run that ended before it began: one failing result ``name``. Its
    target is the URL only once it is known to be one (it could hold a password)."""
    try:
        from ls_model_providers.conformance import CheckResult, Report
    except ImportError:
        return None
    url = args.base_url if args.base_url is not None else os.environ.get(ENV_URL)
    try:
        target = resolve_url(url) if url is not None else None
    except ConfigurationError:
        target = "(an unusable --base-url)"
    return Report(
        target=target or "(embedded mock)", embedded=url is None, exit_code=code, verdict=verdict,
        results=[CheckResult(name, "fail", summary)], duration=time.monotonic() - started,
        seed=args.seed, warnings=[INSECURE_WARNING] if args.insecure else [],
    )  # fmt: skip
