"""The snapshot commands: real output, exit codes, no credential or secret in any output."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ls_model_providers.cli import main
from ls_model_providers.mock import ServedMock, create_app, default_data, serve_in_thread

CANARY = "canarycanarycanarycanarycanarycanary0001"
LEAKED = "sk-mock-LEAKED-provider-key-0123456789"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def canary_mock() -> Iterator[ServedMock]:
    """A served mock whose admin token is the canary and whose bodies leak a provider key."""
    with serve_in_thread(create_app(data=default_data(CANARY), defects=["secret_field"])) as served:
        yield served


def test_snapshot_writes_the_file_and_says_what_it_did(
    canary_mock: ServedMock, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "new" / "folder" / "prod.json"
    code, out, err = run(
        capsys, "snapshot", "--base-url", canary_mock.base_url, "--api-key", CANARY, "--all",
        "-o", str(path),
    )  # fmt: skip
    assert code == 0, err
    assert out.startswith(f"wrote {path}: 7 connection(s), 11 probe answers, server 2.30.0")
    assert "17 requests (15 GET, 1 HEAD, 1 OPTIONS)" in out
    assert "  200  GET api/model-provider-connections/\n" in err
    text = path.read_text()
    assert CANARY not in out + err + text
    assert LEAKED not in out + err + text
    code, out, err = run(capsys, "snapshot-diff", str(path), str(path))
    assert (code, out.splitlines()[-1]) == (
        0, "0 difference(s), 0 breaking (7 connection(s) in both snapshots compared)"
    )  # fmt: skip


def test_snapshot_diff_exits_1_on_a_breaking_change(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, options in (("old", {"model_params": "string"}), ("new", {})):
        with serve_in_thread(create_app(**options)) as served:  # type: ignore[arg-type]
            monkeypatch.setenv("LABEL_STUDIO_URL", served.base_url)
            monkeypatch.setenv("LABEL_STUDIO_API_KEY", served.token)
            assert (
                run(capsys, "snapshot", "--ids", "1,2", "-o", str(tmp_path / f"{name}.json"))[0]
                == 0
            )
    code, out, _ = run(
        capsys, "snapshot-diff", str(tmp_path / "old.json"), str(tmp_path / "new.json")
    )
    assert code == 1
    assert out.splitlines()[0] == "BREAKING    body.model_params: type string -> object"
    assert (
        out.splitlines()[-1]
        == f"BREAKING: {tmp_path / 'new.json'} sends what {tmp_path / 'old.json'} never did"
    )


def test_a_malformed_snapshot_is_exit_2_naming_the_spot(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "ls-model-providers-snapshot", "version": "1"}))
    code, out, err = run(capsys, "snapshot-diff", str(bad), str(bad))
    assert (code, out) == (2, "")
    assert err == f'error: {bad}: #: lacks the required key "server"\n'
    for argv in (["mock", "--snapshot", str(bad)], ["conformance", "--baseline", str(bad)]):
        with pytest.raises(SystemExit) as usage:
            main(argv)
        assert usage.value.code == 2
        err = capsys.readouterr().err
        assert f"usage: ls-model-providers {argv[0]}" in err  # the command's own usage
        assert f'{bad}: #: lacks the required key "server"' in err


@pytest.mark.parametrize(
    "argv",
    [
        ["--ids", "1", "--all"],  # one or the other
        ["--ids", "1,x"],
        ["--ids", "0"],
        ["--all", "--rate", "nan"],
        ["--all", "--max-requests", "0"],
        ["--all", "--cacert", "ca.pem", "--insecure"],
    ],
)
def test_bad_options_are_usage_errors_before_any_request(
    argv: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(SystemExit) as usage:
        main(
            [
                "snapshot",
                "--base-url",
                "http://127.0.0.1:9",
                "--api-key",
                "k",
                "-o",
                str(tmp_path / "s.json"),
                *argv,
            ]
        )
    assert usage.value.code == 2
    assert not (tmp_path / "s.json").exists()


def test_usage_and_deployment_exit_codes(
    canary_mock: ServedMock,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
    out = str(tmp_path / "s.json")
    assert run(capsys, "snapshot", "--all", "--api-key", CANARY, "-o", out)[0] == 2  # no URL
    code, _, err = run(
        capsys, "snapshot", "--base-url", "ls.example.com", "--api-key", CANARY, "--all", "-o", out
    )
    assert (code, err) == (
        2,
        "error: --base-url must be an http(s) URL with a host, got a URL without a scheme: "
        "start it with https:// (or http:// for a server without TLS)\n",
    )
    code, _, err = run(
        capsys,
        "snapshot",
        "--base-url",
        canary_mock.base_url,
        "--api-key",
        "f" * 40,
        "--all",
        "-o",
        out,
    )
    assert (code, err.splitlines()[-1]) == (4, "error: credentials rejected (401: Invalid token.)")
    code, _, err = run(
        capsys,
        "snapshot",
        "--base-url",
        canary_mock.base_url,
        "--api-key",
        CANARY,
        "--ids",
        "9",
        "-o",
        out,
    )
    assert code == 2 and "connection 9 does not exist for these credentials" in err
    with serve_in_thread(create_app(defects=["community"])) as community:
        assert (
            run(
                capsys,
                "snapshot",
                "--base-url",
                community.base_url,
                "--api-key",
                CANARY,
                "--all",
                "-o",
                out,
            )[0]
            == 3
        )
    closed = community.base_url
    code, _, err = run(
        capsys,
        "snapshot",
        "--base-url",
        closed,
        "--api-key",
        CANARY,
        "--ids",
        "1",
        "-o",
        out,
        "--timeout",
        "2",
    )
    assert code == 5 and "unreachable" in err
    assert not Path(out).exists()  # nothing written when a recording fails
    with pytest.raises(SystemExit):
        main(["snapshot", "--all", "-o", str(tmp_path)])  # a folder
    assert "is a folder, not a file" in capsys.readouterr().err


def _snapshot_of(served: ServedMock, path: Path, ids: str = "1,4") -> Path:
    target = ["--base-url", served.base_url, "--api-key", served.token]
    assert main(["snapshot", *target, "--ids", ids, "-o", str(path)]) == 0
    return path


def test_conformance_with_a_baseline_shows_what_changed_since(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with serve_in_thread(create_app()) as served:
        before = _snapshot_of(served, tmp_path / "before.json")
    capsys.readouterr()
    junit, report = tmp_path / "j.xml", tmp_path / "r.json"
    reports = ["--junit-xml", str(junit), "--json-report", str(report)]
    with serve_in_thread(create_app(model_params="string")) as upgraded:
        target = ["--base-url", upgraded.base_url, "--api-key", upgraded.token]
        code, out, err = run(
            capsys, "conformance", *target, "--max-examples", "2", "--baseline", str(before),
            *reports,
        )  # fmt: skip
    assert code == 1, err  # conformant, but model_params changed type since the baseline
    tail = out[out.index("FAIL baseline.changes: ") :].splitlines()
    assert tail == [
        f"FAIL baseline.changes: 1 difference(s), 1 breaking since {before} "
        "(2 connection(s) in both compared)",
        "    - BREAKING    body.model_params: type object -> string",
        "    - connection 1: body.model_params: type object -> string (BREAKING)",
        "    - connection 4: body.model_params: type object -> string (BREAKING)",
        "",
        f"verdict: BREAKING changes since {before}: the deployment sends what it never did "
        "(exit 1)",
    ]
    assert "baseline: recording the deployment to compare it with" in err
    # The reports say what the process returns: written once, after the comparison.
    data = json.loads(report.read_text())
    assert (data["exit_code"], data["failed"]) == (1, ["baseline.changes"])
    assert data["verdict"] == out.splitlines()[-1].removeprefix("verdict: ")[: -len(" (exit 1)")]
    changes = next(r for r in data["results"] if r["name"] == "baseline.changes")
    assert changes["details"][0] == "BREAKING    body.model_params: type object -> string"
    root = ET.parse(junit).getroot()  # noqa: S314 - a file this test wrote
    failing = [c for c in root.iter("testcase") if c.find("failure") is not None]
    assert [c.get("name") for c in failing] == ["baseline.changes"]
    assert "type object -> string" in (failing[0].findtext("failure") or "")
    assert {p.get("name"): p.get("value") for p in root.iter("property")}["exit_code"] == "1"

    code, out, _ = run(
        capsys, "conformance", "--max-examples", "2", "--baseline", str(before), *reports
    )  # embedded
    assert code == 0
    assert "baseline.changes" in out
    assert out.endswith(f"verdict: CONFORMANT, nothing breaking since {before} (exit 0)\n")
    data = json.loads(report.read_text())
    assert (data["exit_code"], data["failed"]) == (0, [])


def test_a_baseline_with_compatible_changes_lists_them_and_passes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with serve_in_thread(create_app()) as served:
        before = _snapshot_of(served, tmp_path / "before.json", ids="1,7")
    capsys.readouterr()
    data = default_data()
    data.connections[6]["provider"] = "OpenAI"  # a value less: narrower, compatible
    with serve_in_thread(create_app(data=data)) as upgraded:
        target = ["--base-url", upgraded.base_url, "--api-key", upgraded.token]
        code, out, _ = run(
            capsys, "conformance", *target, "--max-examples", "2", "--baseline", str(before)
        )
    assert code == 0, out
    block = out[out.index("PASS baseline.changes: ") :].splitlines()
    assert block[1] == '    - compatible  body.provider: enum value removed: "Custom"'
    assert out.splitlines()[-1] == (
        f"verdict: CONFORMANT, nothing breaking since {before} (exit 0)"
    )


def test_a_failed_baseline_recording_is_in_the_reports_with_the_exit_code(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from .servers import Override, ls_error

    with serve_in_thread(create_app()) as served:
        before = _snapshot_of(served, tmp_path / "before.json", ids="1,2")
    capsys.readouterr()

    def rule(method: str, path: str, headers: dict[str, str]) -> Any:  # only the recording asks
        return ls_error(403, "nope") if path == "/api/model-provider-connections/" else None

    app = create_app()
    app.add_middleware(Override, rule=rule)
    report = tmp_path / "r.json"
    with serve_in_thread(app) as served:
        target = ["--base-url", served.base_url, "--api-key", served.token]
        code, out, _ = run(
            capsys, "conformance", *target, "--id", "1", "--max-examples", "2",
            "--baseline", str(before), "--json-report", str(report),
        )  # fmt: skip
    data = json.loads(report.read_text())
    assert code == data["exit_code"] == 4, data["verdict"]  # the recording's: credentials
    assert data["failed"] == ["baseline.recording"]
    assert "may not view connections (403: nope)" in data["verdict"]
    assert out.splitlines()[-1].startswith("verdict: NOT COMPARED: recording the deployment")


def test_mock_serves_a_snapshot(tmp_path: Path) -> None:
    data = default_data()
    data.connections[0]["provider"] = "OpenRouter"
    path = tmp_path / "prod.json"
    with serve_in_thread(create_app(data=data)) as served:
        assert (
            main(
                [
                    "snapshot",
                    "--base-url",
                    served.base_url,
                    "--api-key",
                    served.token,
                    "--ids",
                    "1",
                    "-o",
                    str(path),
                ]
            )
            == 0
        )
    process = subprocess.Popen(
        [sys.executable, "-m", "ls_model_providers", "mock", "--port", "0", "--snapshot", str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline() for _ in range(4)]
        assert (
            banner[1]
            == f"  replaying {path}: 1 connection(s), server 2.30.0+ls-model-providers-mock\n"
        )
        base_url = banner[2].strip().removeprefix("export LABEL_STUDIO_URL=")
        token = banner[3].strip().removeprefix("export LABEL_STUDIO_API_KEY=")
        headers = {"Authorization": f"Token {token}"}
        for _ in range(200):  # the banner is printed before uvicorn serves
            try:
                answer = httpx.get(f"{base_url}/api/model-provider-connections/1/", headers=headers)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        assert answer.json()["provider"] == "OpenRouter"
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=15)
    assert process.returncode == 0
