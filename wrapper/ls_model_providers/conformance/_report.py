"""Reports: the console summary, JUnit XML and JSON.

Credentials never reach them (every text of a ``Report`` was scrubbed when the run ended).
Text the server controls is made safe where it is written: escape sequences and control
characters never reach a terminal, characters XML cannot hold never reach the JUnit file.
JUnit always has a failing testcase when the exit code is not 0, so a CI that reads only
JUnit sees what the exit code says.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import attrs

from ls_model_providers.cli._shared import EXIT_OK, terminal

from ._model import CheckResult, Report
from ._text import xml_safe

_MARKS = {"pass": "PASS", "fail": "FAIL", "note": "NOTE"}


def console(report: Report) -> str:
    """The summary table, then each failure with its reproduction."""
    width = max([len(r.name) for r in report.results] + [5])
    methods = ", ".join(f"{m} {n}" for m, n in sorted(report.methods.items()))
    lines = [
        *report.warnings,
        "",
        f"target   {report.target}{'  (embedded mock)' if report.embedded else ''}",
        f"server   {report.server_version or 'unknown'}    connection id {report.connection_id or '-'}",
        f"requests {report.requests} ({methods}) in {report.duration:.1f} s",
        "",
        f"{'check'.ljust(width)}  result  detail",
        f"{'-' * width}  ------  {'-' * 40}",
    ]
    for result in report.results:
        lines.append(f"{result.name.ljust(width)}  {_MARKS[result.outcome]:6}  {result.summary}")
    for result in report.failed:
        lines += ["", f"FAIL {result.name}: {result.summary}"]
        lines += [f"    - {detail}" for detail in result.details]
        if result.repro:
            lines.append(f"    reproduce: {result.repro}")
    lines += ["", *report.warnings, f"verdict: {report.verdict} (exit {report.exit_code})"]
    return terminal("\n".join(lines))


def write_json(report: Report, path: str | Path) -> None:
    data = attrs.asdict(report)
    data["failed"] = [r.name for r in report.failed]
    _write(path, json.dumps(data, indent=2) + "\n")


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
        ("verdict", report.verdict),
        *(("warning", w) for w in report.warnings),
    ]:
        ET.SubElement(properties, "property", name=name, value=xml_safe(value))
    for result in results:
        case = ET.SubElement(
            suite, "testcase", classname=result.name.split(".")[0], name=xml_safe(result.name)
        )
        text = "\n".join(
            [result.summary, *result.details]
            + ([f"reproduce: {result.repro}"] if result.repro else [])
        )
        if result.outcome == "fail":
            failure = ET.SubElement(case, "failure", message=xml_safe(result.summary))
            failure.text = xml_safe(text)
        else:
            ET.SubElement(case, "system-out").text = xml_safe(text)
    if report.warnings:
        ET.SubElement(suite, "system-err").text = xml_safe("\n".join(report.warnings))
    _write(path, ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n")


def _write(path: str | Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
