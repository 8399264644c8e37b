"""Reports: the console summary, JUnit XML and JSON.

Credentials never reach them (every text of a ``Report`` was scrubbed when the run ended).
Text the server controls is made safe where it is written: escape sequences and control
characters never reach a terminal, characters XML cannot hold never reach the JUnit file,
and a line break in it is shown escaped (``\\n``) so it cannot start a line of its own (a
forged verdict); only our own layout breaks lines. JUnit always has a failing testcase when
the exit code is not 0, so a CI that reads only JUnit sees what the exit code says. A report
file is written whole or not at all (``write_atomic``: a temporary file, renamed; a FIFO or
``/dev/stdout`` is written through).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import attrs

from ls_model_providers.toolkit.exits import EXIT_OK
from ls_model_providers.toolkit.files import write_atomic
from ls_model_providers.toolkit.text import one_line, terminal, xml_safe
from ls_model_providers.toolkit.tls import INSECURE_WARNING

from ._model import CheckResult, Report

_MARKS = {"pass": "PASS", "fail": "FAIL", "note": "NOTE"}


def console(report: Report) -> str:
    """The summary table, then each failure with its details and reproduction (and any other
    result with details: the baseline comparison's compatible changes), then the verdict
    with the exit code the command returns."""
    width = max([len(r.name) for r in report.results] + [5])
    methods = ", ".join(f"{m} {n}" for m, n in sorted(report.methods.items()))
    version = one_line(report.server_version or "unknown")
    mock = report.embedded and report.target != "(embedded mock)"  # said once
    lines = [
        "",
        f"target   {one_line(report.target)}{'  (embedded mock)' if mock else ''}",
        f"server   {version}    connection id {report.connection_id or '-'}",
        f"requests {report.requests} ({methods}) in {report.duration:.1f} s",
        "",
        f"{'check'.ljust(width)}  result  detail",
        f"{'-' * width}  ------  {'-' * 40}",
    ]
    for result in report.results:
        summary = one_line(result.summary)
        lines.append(f"{result.name.ljust(width)}  {_MARKS[result.outcome]:6}  {summary}")
    shown = report.failed + [r for r in report.results if r.outcome != "fail" and r.details]
    for result in shown:
        lines += ["", f"{_MARKS[result.outcome]} {result.name}: {one_line(result.summary)}"]
        lines += [f"    - {one_line(detail)}" for detail in result.details]
        if result.repro and result.outcome == "fail":
            lines.append(f"    reproduce: {one_line(result.repro)}")
    verdict = one_line(report.verdict)
    # Said once, here; --insecure's warning the command says on standard error, when it starts.
    warnings = [w for w in report.warnings if w != INSECURE_WARNING]
    lines += ["", *warnings, f"verdict: {verdict} (exit {report.exit_code})"]
    return terminal("\n".join(lines))


def write_json(report: Report, path: str | Path) -> None:
    data = attrs.asdict(report)
    data["failed"] = [r.name for r in report.failed]
    write_atomic(path, json.dumps(data, indent=2) + "\n")


def write_junit(report: Report, path: str | Path) -> None:
    results = list(report.results)
    if report.exit_code != EXIT_OK and not report.failed:  # never: the run adds one; a guard
        results.append(CheckResult("run.verdict", "fail", report.verdict))
    failures = sum(r.outcome == "fail" for r in results)
    suite = ET.Element(
        "testsuite", name="ls-model-providers conformance", tests=str(len(results)),
        failures=str(failures), time=f"{report.duration:.3f}",
    )  # fmt: skip
    properties = ET.SubElement(suite, "properties")
    for name, value in [
        ("target", report.target),
        ("exit_code", str(report.exit_code)),
        ("verdict", one_line(report.verdict)),
        *(("warning", w) for w in report.warnings),
    ]:
        ET.SubElement(properties, "property", name=name, value=xml_safe(value))
    for result in results:
        case = ET.SubElement(
            suite, "testcase", classname=result.name.split(".")[0], name=xml_safe(result.name)
        )
        text = "\n".join(  # one line each: a server's line breaks stay escaped, as data
            [one_line(result.summary), *map(one_line, result.details)]
            + ([f"reproduce: {one_line(result.repro)}"] if result.repro else [])
        )
        if result.outcome == "fail":
            failure = ET.SubElement(case, "failure", message=xml_safe(one_line(result.summary)))
            failure.text = xml_safe(text)
        else:
            ET.SubElement(case, "system-out").text = xml_safe(text)
    if report.warnings:
        ET.SubElement(suite, "system-err").text = xml_safe("\n".join(report.warnings))
    write_atomic(path, ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n")
