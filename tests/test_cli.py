"""The ls-model-providers command: get and mock, exit codes, options checked before any
output, one message for a missing extra, no secrets in output."""

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
        (["get", "1", "--api-key", "wrong"], 4, "HTTP 401"),
    ],
)
def test_get_api_errors_exit_1_and_rejected_credentials_4(
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


@pytest.mark.parametrize(
    "argv",
    [
        ["get", "abc"], ["get", "0"], ["get"], ["nope"],
        ["get", "1", "--timeout", "-1"], ["get", "1", "--timeout", "nan"], ["get", "1", "--timeout", "inf"],
        ["conformance", "--rate", "nan"], ["conformance", "--rate", "0"],
        ["conformance", "--max-examples", "0"], ["conformance", "--max-requests", "-3"],
        ["conformance", "--deadline", "-1"], ["conformance", "--timeout", "0"],
        ["mock", "--port", "70000"], ["mock", "--port", "-1"],
        ["spec-diff", "--against", "x", "--cacert", "ca.pem", "--insecure"],
    ],
)  # fmt: skip
def test_bad_option_values_exit_2_before_any_output(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    assert info.value.code == 2
    assert out == ""
    assert "usage: ls-model-providers" in err


@pytest.mark.parametrize("command", ["get", "mock", "conformance", "spec-diff"])
def test_an_unknown_flag_shows_the_commands_usage(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    argv = [
        command,
        *(["1"] if command == "get" else []),
        *(["--against", "x"] if command == "spec-diff" else []),
    ]
    with pytest.raises(SystemExit) as info:
        main([*argv, "--bogus"])
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert f"usage: ls-model-providers {command} " in err
    assert "unrecognized arguments: --bogus" in err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from ls_model_providers import __version__

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"ls-model-providers {__version__}"


@pytest.mark.parametrize("host", ["256.1.1.1", "no such host.invalid", "8.8.8.8"])
def test_mock_refuses_an_address_it_cannot_listen_on_before_the_banner(
    capsys: pytest.CaptureFixture[str], host: str
) -> None:
    code, out, err = run(capsys, "mock", "--host", host, "--port", "0")
    assert code == 2
    assert out == "", "nothing printed before the check"
    assert "cannot listen on" in err


def test_mock_refuses_a_port_in_use(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        code, out, err = run(capsys, "mock", "--port", str(taken.getsockname()[1]))
    assert (code, out) == (2, "")
    assert "cannot listen on" in err


def test_mock_refuses_a_certificate_it_cannot_use(
    capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("nope")
    code, out, err = run(capsys, "mock", "--port", "0", "--certfile", str(bad))
    assert (code, out) == (2, "")
    assert "cannot use --certfile/--keyfile" in err


@pytest.mark.parametrize(
    ("argv", "blocked", "extra"),
    [
        (["conformance"], "schemathesis", "conformance"),
        (["conformance"], "hypothesis", "conformance"),
        (["spec-diff", "--against", "x.yaml"], "yaml", "conformance"),
        (["mock", "--port", "0"], "uvicorn", "mock"),
        (["mock", "--port", "0"], "jwt", "mock"),
    ],
)
def test_a_missing_extra_says_which_to_install(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    argv: list[str], blocked: str, extra: str,
) -> None:  # fmt: skip
    import ls_model_providers

    for attribute in ("conformance", "mock"):  # restored afterwards, like sys.modules
        if hasattr(ls_model_providers, attribute):
            monkeypatch.setattr(
                ls_model_providers, attribute, getattr(ls_model_providers, attribute)
            )
    for name in list(sys.modules):  # forget what needs it, so it is imported again
        if name == blocked or name.startswith(
            (f"{blocked}.", "ls_model_providers.conformance", "ls_model_providers.mock")
        ):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, blocked, None)  # importing it now fails
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert (
        f"error: install the {extra} extra: pip install 'ls-model-providers[{extra}]' (missing module: {blocked})"
        in err
    )


def test_get_a_url_without_a_scheme_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "get", "1", "--base-url", "ls.example.com", "--api-key", CANARY)
    assert (code, out) == (2, "")
    assert "http(s) URL" in err


def test_get_against_a_closed_port_exits_5(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, out, err = run(
        capsys, "get", "1", "--base-url", f"http://127.0.0.1:{port}", "--api-key", CANARY
    )
    assert (code, out) == (5, "")
    assert "ConnectError" in err


def test_get_deadline_bounds_a_dripping_server(capsys: pytest.CaptureFixture[str]) -> None:
    from . import hostile

    with hostile.serve(hostile.drip_body) as server, hostile.elapsed() as took:
        code, out, err = run(
            capsys, "get", "1", "--base-url", server.base_url, "--api-key", CANARY,
            "--timeout", "5", "--deadline", "1",
        )  # fmt: skip
    assert (code, out) == (5, "")
    assert "deadline of 1 s exceeded" in err
    assert took[0] < 4.0, "a 1 s deadline, not the server's 20 s of dripping"


def test_get_strips_control_sequences_from_server_text(capsys: pytest.CaptureFixture[str]) -> None:
    from .servers import Override, ls_error

    app = create_app(data=default_data(CANARY))
    app.add_middleware(Override, rule=lambda *_: ls_error(404, "gone\x1b]0;pwned\x07\x1b[31m red"))
    with serve_in_thread(app) as served:
        code, _, err = run(capsys, "get", "1", "--base-url", served.base_url, "--api-key", CANARY)
    assert code == 1
    assert "\x1b" not in err and "\x07" not in err
    assert "gone" in err and "red" in err


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
