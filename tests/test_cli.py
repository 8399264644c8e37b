"""The ls-model-providers command: get and mock, exit codes, no secrets in output."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ls_model_providers.cli import main
from ls_model_providers.mock import ServedMock, create_app, default_data, serve_in_thread

CANARY = "canarycanarycanarycanarycanarycanary0001"


@pytest.fixture(scope="module")
def canary_mock() -> Iterator[ServedMock]:
    """A served mock whose admin token is the canary and which leaks a secret field."""
    with serve_in_thread(create_app(data=default_data(CANARY), defects=["secret_field"])) as served:
        yield served


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_get_prints_redacted_json(
    canary_mock: ServedMock, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys, "get", "2", "--base-url", canary_mock.base_url, "--api-key", CANARY
    )
    assert code == 0, err
    printed = json.loads(out)
    assert printed["provider"] == "AzureOpenAI"
    assert printed["api_key"] == "<redacted>"
    assert "sk-mock-LEAKED" not in out
    assert CANARY not in out + err


def test_get_reads_the_environment(
    canary_mock: ServedMock, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LABEL_STUDIO_URL", canary_mock.base_url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", CANARY)
    code, out, _ = run(capsys, "get", "1")
    assert code == 0
    assert json.loads(out)["id"] == 1


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["get", "99"], 1, "No ModelProviderConnection matches the given query."),
        (["get", "1", "--api-key", "wrong"], 1, "HTTP 401"),
    ],
)
def test_get_api_errors_exit_1(
    canary_mock: ServedMock,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    code: int,
    message: str,
) -> None:
    args = [*argv, "--base-url", canary_mock.base_url]
    if "--api-key" not in args:
        args += ["--api-key", CANARY]
    got, out, err = run(capsys, *args)
    assert got == code
    assert out == ""
    assert message in err
    assert CANARY not in err


def test_get_on_community_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    with serve_in_thread(create_app(defects=["community"])) as served:
        code, _, err = run(
            capsys, "get", "1", "--base-url", served.base_url, "--api-key", served.token
        )
    assert code == 3
    assert "endpoint not available on this deployment" in err


@pytest.mark.parametrize("argv", [["get", "abc"], ["get", "0"], ["get"], ["nope"]])
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2


def test_missing_configuration_exits_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
    code, _, err = run(capsys, "get", "1")
    assert code == 2
    assert "LABEL_STUDIO_URL" in err


def _start_mock(*extra: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "ls_model_providers", "mock", "--port", "0", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    printed: dict[str, str] = {}
    for _ in range(4):
        line = process.stdout.readline()
        if "export " in line:
            key, _, value = line.strip().removeprefix("export ").partition("=")
            printed[key] = value
        if "curl" in line:
            printed["curl"] = line.strip()
    return process, printed


def _wait_ready(url: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/_mock/stats")
        except httpx.TransportError:
            time.sleep(0.05)
        else:
            return
    raise AssertionError("mock did not come up")


def test_mock_command_serves_prints_and_stops_on_sigterm() -> None:
    process, printed = _start_mock("--api-key", CANARY, "--model-params", "string")
    try:
        base_url = printed["LABEL_STUDIO_URL"]
        assert base_url.startswith("http://127.0.0.1:"), "binds loopback by default"
        assert printed["LABEL_STUDIO_API_KEY"] == CANARY
        assert "/api/model-provider-connections/1/" in printed["curl"]
        _wait_ready(base_url)
        response = httpx.get(
            base_url + "/api/model-provider-connections/1/",
            headers={"Authorization": f"Token {CANARY}"},
        )
        assert response.status_code == 200
        assert isinstance(response.json()["model_params"], str)
    finally:
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=15)
    assert process.returncode == 0
    assert "mock stopped" in out


def test_mock_command_rejects_bad_options(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "mock", "--faults", "kinds=meteor")
    assert code == 2
    assert "unknown fault" in err


def test_mock_command_loads_a_data_file(tmp_path: Any) -> None:
    data = default_data()
    data.connections = data.connections[:1]
    path = tmp_path / "data.json"
    path.write_text(data.to_json())
    process, printed = _start_mock("--data", str(path))
    try:
        base_url = printed["LABEL_STUDIO_URL"]
        _wait_ready(base_url)
        headers = {"Authorization": f"Token {printed['LABEL_STUDIO_API_KEY']}"}
        assert (
            httpx.get(base_url + "/api/model-provider-connections/1/", headers=headers).status_code
            == 200
        )
        assert (
            httpx.get(base_url + "/api/model-provider-connections/2/", headers=headers).status_code
            == 404
        )
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=15)
    assert process.returncode == 0
