"""Reports: the console summary, JUnit XML and JSON. Credentials never reach them: every
text in a ``Report`` was scrubbed when the run ended."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import attrs

from ._suite import Report

_MARKS = {"pass": "PASS", "fail": "FAIL", "note": "NOTE"}


def console(report: Report) -> str:
    """The summary table, then each failure with its reproduction."""
    width = max([len(r.name) for r in report.results] + [5])
    lines = [
        "",
        f"target   {report.target}{'  (embedded mock)' if report.embedded else ''}",
        f"server   {report.server_version or 'unknown'}    connection id {report.connection_id or '-'}",
        f"requests {report.requests} ({', '.join(f'{m} {n}' for m, n in sorted(report.methods.items()))}) "
        f"in {report.duration:.1f} s",
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
    lines += ["", f"verdict: {report.verdict} (exit {report.exit_code})"]
    return "\n".join(lines)


def write_json(report: Report, path: str | Path) -> None:
    data = attrs.asdict(report)
    data["failed"] = [r.name for r in report.failed]
    Path(path).write_text(json.dumps(data, indent=2) + "\n")


def write_junit(report: Report, path: str | Path) -> None:
    suite = ET.Element(
        "testsuite",
        name="ls-model-providers conformance",
        tests=str(len(report.results)),
        failures=str(len(report.failed)),
        time=f"{report.duration:.3f}",
    )
    ET.SubElement(
        ET.SubElement(suite, "properties"), "property", name="target", value=report.target
    )
    for result in report.results:
        case = ET.SubElement(
            suite, "testcase", classname=result.name.split(".")[0], name=result.name
        )
        text = "\n".join(
            [
                result.summary,
                *result.details,
                *([f"reproduce: {result.repro}"] if result.repro else []),
            ]
        )
        if result.outcome == "fail":
            ET.SubElement(case, "failure", message=result.summary).text = text
        else:
            ET.SubElement(case, "system-out").text = text
    ET.ElementTree(suite).write(path, encoding="unicode", xml_declaration=True)
