"""The ls-model-providers command: get and mock, exit codes, options checked before any
output, one message for a missing extra, no secrets in output."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ls_model_providers.cli import main
from ls_model_providers.conformance._context import DENIED_KEY_VARIABLE
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
        ["get", "1", "--timeout", "1e10"], ["get", "1", "--deadline", "1e10"],
        ["conformance", "--deadline", "1e10"], ["snapshot", "--ids", "1", "-o", "x", "--timeout", "1e10"],
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
    assert f"cannot use --certfile {bad}: not a PEM certificate with its private key" in err


@pytest.mark.parametrize(
    ("argv", "blocked", "extra"),
    [
        (["conformance"], "schemathesis", "conformance"),
        (["conformance"], "hypothesis", "conformance"),
        (["spec-diff", "--against", "x.yaml"], "yaml", "conformance"),
        (["snapshot-diff", "old.json", "new.json"], "yaml", "conformance"),
        (["mock", "--port", "0"], "uvicorn", "mock"),
        (["mock", "--port", "0"], "jwt", "mock"),
    ],
)
def test_a_missing_extra_says_which_to_install(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    argv: list[str], blocked: str, extra: str,
) -> None:  # fmt: skip
    import ls_model_providers
    import ls_model_providers.toolkit

    for package, attribute in (
        (ls_model_providers, "conformance"),
        (ls_model_providers, "mock"),
        (ls_model_providers.toolkit, "schemas"),
    ):  # restored afterwards, like sys.modules; gone meanwhile, so it is imported again
        if hasattr(package, attribute):
            monkeypatch.delattr(package, attribute)
    for name in list(sys.modules):  # forget what needs it, so it is imported again
        if name == blocked or name.startswith(
            (f"{blocked}.", "ls_model_providers.conformance", "ls_model_providers.mock",
             "ls_model_providers.toolkit.schemas")
        ):  # fmt: skip
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
    assert f"connection refused: nothing listens at 127.0.0.1:{port} (is the server running" in err


@pytest.mark.parametrize(("drip", "code"), [("head", 5), ("body", 1)])
def test_get_deadline_bounds_a_dripping_server(
    capsys: pytest.CaptureFixture[str], drip: str, code: int
) -> None:
    """Dripping headers: no answer came (5). Dripping the body: one began (1), as conformance."""
    from . import hostile

    behaviour = hostile.drip_head if drip == "head" else hostile.drip_body
    with hostile.serve(behaviour) as server, hostile.elapsed() as took:
        got, out, err = run(
            capsys, "get", "1", "--base-url", server.base_url, "--api-key", CANARY,
            "--timeout", "5", "--deadline", "1",
        )  # fmt: skip
    assert (got, out) == (code, "")
    assert "deadline of 1 s exceeded" in err
    assert took[0] < 4.0, "a 1 s deadline, not the server's 20 s of dripping"


def test_get_scrubs_the_key_a_server_echoes_into_a_field(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from .servers import Override

    payload = {
        **_body_of(create_app(data=default_data(CANARY)), 1),
        "deployment_name": f"echo {CANARY}",
    }
    app = create_app(data=default_data(CANARY))
    content = json.dumps(payload).encode()
    app.add_middleware(
        Override, rule=lambda *_: (200, [("content-type", "application/json")], content)
    )
    with serve_in_thread(app) as served:
        code, out, _ = run(capsys, "get", "1", "--base-url", served.base_url, "--api-key", CANARY)
    assert code == 0
    assert CANARY not in out
    assert json.loads(out)["deployment_name"] == "echo <redacted>"


def _body_of(app: Any, connection_id: int) -> dict[str, Any]:
    from ls_model_providers.mock import SyncASGITransport

    with httpx.Client(transport=SyncASGITransport(app)) as http:
        answer = http.get(
            f"http://mock/api/model-provider-connections/{connection_id}/",
            headers={"Authorization": f"Token {CANARY}"},
        )
    body: dict[str, Any] = answer.json()
    return body


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
    while "curl" not in printed:
        line = process.stdout.readline()
        if not line:
            raise AssertionError(f"the mock exited: {process.communicate(timeout=5)}")
        if "export " in line:
            key, _, value = line.strip().removeprefix("export ").partition("=")
            printed[key] = shlex.split(value)[0]  # as a shell reads it
        elif "curl" in line:
            printed["curl"] = line.strip()
        elif line.strip():
            printed.setdefault("other", "")
            printed["other"] += line
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
        from ls_model_providers import Client

        personal = printed["LABEL_STUDIO_PERSONAL_ACCESS_TOKEN"]  # the README's example reads it
        with Client(base_url=base_url, api_key=personal) as client:
            assert client.get_connection(1).id == 1
    finally:
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=15)
    assert process.returncode == 0
    assert "mock stopped" in out


def test_ctrl_c_stops_a_serving_mock_as_asked_exit_0() -> None:
    # The README's table: a stop asked for while serving is a success (130 is for an
    # interrupt before it serves, as for every command).
    process, printed = _start_mock()
    _wait_ready(printed["LABEL_STUDIO_URL"])
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=15)
    assert (process.returncode, "Traceback" in err) == (0, False), err
    assert out.rstrip().endswith("mock stopped")


def test_mock_command_rejects_bad_options(capsys: pytest.CaptureFixture[str]) -> None:
    # A usage error naming the option, like every other bad option value.
    with pytest.raises(SystemExit) as usage:
        run(capsys, "mock", "--faults", "kinds=meteor")
    assert usage.value.code == 2
    assert "error: argument --faults: unknown fault kind(s) ['meteor']" in capsys.readouterr().err


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


# -- what a new user ran into ------------------------------------------------------------------


@pytest.fixture
def no_target(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("no_target")
@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["get", "1"], "--base-url"),
        (["get", "1", "--base-url", "http://127.0.0.1:1"], "--api-key"),
        (["get", "1", "--base-url", "ls.example.com", "--api-key", CANARY], "--base-url"),
        (["get", "1", "--base-url", "http://u:p@ls.example.com", "--api-key", CANARY], "--base-url"),
        (["get", "1", "--base-url", "http://127.0.0.1:1", "--api-key", "bad key"], "--api-key"),
    ],
)  # fmt: skip
def test_get_messages_name_options_not_arguments(
    capsys: pytest.CaptureFixture[str], argv: list[str], option: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert option in err
    assert "base_url" not in err and "api_key" not in err, err


def test_get_an_untrusted_certificate_says_the_reason_and_the_clis_fix_only(
    capsys: pytest.CaptureFixture[str], tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from .servers import certificates

    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    certs = certificates(tmp_path)
    app = create_app(data=default_data(CANARY))
    with serve_in_thread(app, certfile=str(certs.cert), keyfile=str(certs.key)) as served:
        code, out, err = run(capsys, "get", "1", "--base-url", served.base_url, "--api-key", CANARY)
    assert (code, out) == (5, "")
    lines = err.splitlines()
    assert len(lines) == 2, err
    assert lines[0].startswith("error: TLS certificate not trusted (")
    assert "certificate" in lines[0].split("(", 1)[1]  # OpenSSL's reason
    assert lines[1].startswith("  fix: pass the deployment's CA bundle with --cacert FILE")
    assert "verify=" not in err, "the library's fix names a Python argument"


def test_get_server_text_never_starts_a_line_of_its_own(capsys: pytest.CaptureFixture[str]) -> None:
    from .servers import Override, ls_error

    app = create_app(data=default_data(CANARY))
    app.add_middleware(Override, rule=lambda *_: ls_error(500, "boom\r\nfake: line"))
    with serve_in_thread(app) as served:
        code, out, err = run(capsys, "get", "1", "--base-url", served.base_url, "--api-key", CANARY)
    assert (code, out) == (1, "")
    assert len(err.splitlines()) == 1, err
    assert "\r" not in err
    assert "boom\\r\\nfake: line" in err, "the text is kept, shown escaped"


@pytest.mark.parametrize("command", ["get", "mock", "conformance", "spec-diff", "snapshot", "snapshot-diff"])  # fmt: skip
def test_version_after_any_command(capsys: pytest.CaptureFixture[str], command: str) -> None:
    from ls_model_providers import __version__

    with pytest.raises(SystemExit) as info:
        main([command, "--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"ls-model-providers {__version__}"


def test_a_report_path_through_a_file_says_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    afile = tmp_path / "afile"
    afile.write_text("")
    with pytest.raises(SystemExit) as info:
        main(["conformance", "--json-report", str(afile / "r.json")])
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert f"{afile} is not a folder" in err
    assert "File exists" not in err


def test_a_report_path_is_checked_but_not_created_before_the_run(tmp_path: Any) -> None:
    """An empty file left by the option check would read as a report (a Ctrl-C, a crash)."""
    from ls_model_providers.cli._shared import report_path

    path = tmp_path / "new" / "r.json"
    assert report_path(str(path)) == path
    assert path.parent.is_dir()
    assert list(path.parent.iterdir()) == []


# -- the mock command's banner and options (served by a no-op uvicorn: nothing listens) --------


@pytest.fixture
def banner(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """Run ``mock`` in-process up to its banner; uvicorn is not started."""
    import uvicorn

    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: None)

    def start(*argv: str) -> tuple[int, list[str], str]:
        code, out, err = run(capsys, "mock", "--port", "0", *argv)
        return code, out.splitlines(), err

    return start


def _exports(lines: list[str]) -> dict[str, str]:
    """The banner's export lines, read as a shell reads them."""
    found = {}
    for line in lines:
        words = shlex.split(line)
        if words[:1] == ["export"]:
            name, _, value = words[1].partition("=")
            found[name] = value
    return found


def test_mock_banner_prints_a_personal_access_token_for_the_admin(banner: Any) -> None:
    code, lines, _ = banner()
    assert code == 0
    exports = _exports(lines)
    assert set(exports) == {
        "LABEL_STUDIO_URL",
        "LABEL_STUDIO_API_KEY",
        "LABEL_STUDIO_PERSONAL_ACCESS_TOKEN",
        "LABEL_STUDIO_DENIED_KEY_1",
        "LABEL_STUDIO_DENIED_KEY_2",
        "LABEL_STUDIO_DENIED_KEYS",
    }
    assert exports["LABEL_STUDIO_PERSONAL_ACCESS_TOKEN"].count(".") == 2  # a JWT


def test_mock_banner_prints_the_denied_keys(banner: Any, tmp_path: Any) -> None:
    users = default_data().users
    code, lines, _ = banner()
    assert code == 0
    exports = _exports(lines)
    # alan: a member of the admin's organisation without the role; grace: another organisation.
    assert exports["LABEL_STUDIO_DENIED_KEY_1"] == users[1].token
    assert exports["LABEL_STUDIO_DENIED_KEY_2"] == users[2].token
    # What conformance reads for --denied-key, in that order.
    assert exports["LABEL_STUDIO_DENIED_KEYS"] == f"{users[1].token} {users[2].token}"
    assert lines.index(next(line for line in lines if "DENIED_KEY_1" in line)) < lines.index(
        next(line for line in lines if "curl" in line)
    ), "pasted with the other exports"
    data = default_data()
    data.users = data.users[:1]  # a data file with the admin only
    path = tmp_path / "admin-only.json"
    path.write_text(data.to_json())
    code, lines, _ = banner("--data", str(path))
    assert code == 0
    assert not any("DENIED" in line for line in lines)


def test_the_mock_banner_pasted_gives_conformance_its_keys(
    banner: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ls_model_providers.conformance import RunConfig

    code, lines, _ = banner()
    assert code == 0
    for name, value in _exports(lines).items():
        monkeypatch.setenv(name, value)
    config = RunConfig.from_env()
    users = default_data().users
    assert (config.api_key, config.denied_keys) == (
        users[0].token,
        [users[1].token, users[2].token],
    )
    # Named as conformance's reproductions name the n-th denied key: pasted, they run.
    exports = _exports(lines)
    assert [exports[f"{DENIED_KEY_VARIABLE}_{n}"] for n in (1, 2)] == config.denied_keys


def test_mock_banner_shell_quotes_the_denied_keys(banner: Any, tmp_path: Any) -> None:
    data = default_data()
    odd = "k$(touch${IFS}pwned)';`id`"
    data.users[1].token, data.users[2].token = odd + "1", odd + "2"
    path = tmp_path / "odd.json"
    path.write_text(data.to_json())
    code, lines, _ = banner("--data", str(path))
    assert code == 0
    exports = _exports(lines)
    assert (
        exports["LABEL_STUDIO_DENIED_KEY_1"],
        exports["LABEL_STUDIO_DENIED_KEY_2"],
    ) == (
        odd + "1",
        odd + "2",
    )
    assert exports["LABEL_STUDIO_DENIED_KEYS"] == f"{odd}1 {odd}2"
    data.users[2].token = "has,a comma"  # would split in two: listed on its own line only
    path.write_text(data.to_json())
    code, lines, _ = banner("--data", str(path))
    assert code == 0
    assert _exports(lines)["LABEL_STUDIO_DENIED_KEY_2"] == "has,a comma"
    assert "LABEL_STUDIO_DENIED_KEYS" not in _exports(lines)


def test_mock_banner_shell_quotes_every_value(banner: Any) -> None:
    key = "k$(touch${IFS}pwned)';`id`"
    code, lines, _ = banner("--api-key", key)
    assert code == 0
    assert _exports(lines)["LABEL_STUDIO_API_KEY"] == key
    curl = next(line for line in lines if "curl" in line)
    assert shlex.split(curl)[-1].endswith("/api/model-provider-connections/1/")


def test_mock_banner_lists_the_defects_switched_on(banner: Any) -> None:
    code, lines, _ = banner("--defect", "wrong_type", "--defect", "no_auth")
    assert code == 0
    assert "  defects on (a deliberately broken server): wrong_type, no_auth" in lines


def test_mock_help_says_defect_can_be_repeated(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["mock", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "repeat it for several" in text
    assert "community" in text


def test_mock_refuses_a_key_the_client_would_refuse(banner: Any) -> None:
    code, lines, err = banner("--api-key", "bad key")
    assert (code, lines) == (2, [])
    assert "--api-key has a white-space or control character at position 3" in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"users": []}', "is not mock data: no 'connections' list"),
        ("[1, 2]", "is not mock data: expected an object"),
        ('{"connections": [], "user": []}', "is not mock data: no 'users' list"),
        ('{"users": [{"id": 1}], "connections": []}', "users[0]: "),
        ('{"users": [], "connections": []}', "no users"),
        ("not json", "is not JSON: Expecting value: line 1 column 1"),
        ("[" * 200_000, "is not JSON: nested deeper than 64"),
    ],
)
def test_mock_data_errors_name_the_file_and_the_problem(
    banner: Any, tmp_path: Any, content: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    code, lines, err = banner("--data", str(path))
    assert (code, lines) == (2, [])
    assert f"{path}" in err and message in err, err


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_mock_data_that_never_ends_is_exit_2(banner: Any) -> None:
    code, lines, err = banner("--data", "/dev/zero")
    assert (code, lines) == (2, [])
    assert "error: /dev/zero: larger than" in err, err


def test_mock_certificate_errors_name_the_file(banner: Any) -> None:
    code, lines, err = banner("--certfile", "/nonexistent.pem")
    assert (code, lines) == (2, [])
    assert "--certfile /nonexistent.pem: No such file or directory" in err


def test_mock_port_in_use_suggests_port_0(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        code, _, err = run(capsys, "mock", "--port", str(taken.getsockname()[1]))
    assert code == 2
    assert "--port 0 for any free one" in err


def test_spec_diff_against_a_community_mock_is_not_served(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with serve_in_thread(create_app(defects=["community"])) as served:
        code, out, _ = run(capsys, "spec-diff", "--base-url", served.base_url)
    assert code == 3
    assert "endpoint not in the served schema" in out


# -- conformance: server text, the baseline's verdict, the progress line ---------------------

FORGED = "Invalid token.\n\nverdict: CONFORMANT (exit 0)"


def test_conformance_server_text_cannot_forge_a_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    import xml.etree.ElementTree as ET

    from .servers import Override, ls_error

    def rule(method: str, path: str, headers: dict[str, str]) -> Any:
        return None if "authorization" in headers else ls_error(401, FORGED)

    app = create_app(data=default_data(CANARY), defects=["wrong_type"])
    app.add_middleware(Override, rule=rule)
    junit, report = tmp_path / "j.xml", tmp_path / "r.json"
    with serve_in_thread(app) as served:
        code, out, err = run(
            capsys, "conformance", "--base-url", served.base_url, "--api-key", CANARY, "--id", "1",
            "--max-examples", "2", "--junit-xml", str(junit), "--json-report", str(report),
        )  # fmt: skip
    assert code == 1
    for text in (out, err):
        assert not any(line.startswith("verdict: CONFORMANT") for line in text.splitlines())
    assert out.splitlines()[-1].startswith("verdict: NOT CONFORMANT")
    assert "Invalid token.\\n\\nverdict: CONFORMANT (exit 0)" in err, "kept, escaped"
    data = json.loads(report.read_text())
    summaries = [r["summary"] for r in data["results"]]
    assert any("\\n\\nverdict: CONFORMANT" in s for s in summaries), "escaped, as data"
    assert not any("\n" in s for s in summaries)
    for case in ET.parse(junit).getroot().iter("system-out"):  # noqa: S314 - written here
        assert not any(line.startswith("verdict:") for line in (case.text or "").splitlines())


def test_conformance_progress_line_says_what_runs(capsys: pytest.CaptureFixture[str]) -> None:
    from .conftest import ROOT

    code, _, err = run(capsys, "conformance", "--max-examples", "3")
    assert code == 0
    assert "schemathesis: 1 + 3 positive and 3 negative cases" in err
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert "1 + K positive and K negative generated cases" in readme


def test_conformance_with_a_baseline_states_the_exit_code_it_returns(
    capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    before = tmp_path / "before.json"
    with serve_in_thread(create_app()) as served:
        target = ["--base-url", served.base_url, "--api-key", served.token]
        assert run(capsys, "snapshot", *target, "--ids", "1", "-o", str(before))[0] == 0
    with serve_in_thread(create_app(model_params="string")) as upgraded:
        target = ["--base-url", upgraded.base_url, "--api-key", upgraded.token]
        code, out, _ = run(
            capsys, "conformance", *target, "--max-examples", "2", "--baseline", str(before)
        )
    assert code == 1
    claims = [line for line in out.splitlines() if "(exit " in line]
    assert claims == [line for line in claims if line.endswith("(exit 1)")], claims
    assert out.splitlines()[-1].endswith("(exit 1)")


@pytest.mark.parametrize(
    ("argv", "environ", "said"),
    [
        (["conformance", "--base-url", ""], {}, "--base-url is empty (was it given an unset"),
        (["conformance"], {"LABEL_STUDIO_URL": ""}, "LABEL_STUDIO_URL is set but empty: set it"),
        (["get", "1", "--base-url", "http://127.0.0.1:9", "--api-key", " "],
         {"LABEL_STUDIO_API_KEY": CANARY}, "--api-key is empty (was it given an unset"),
        (["snapshot", "--ids", "1", "-o", "-", "--base-url", "http://127.0.0.1:9"],
         {"LABEL_STUDIO_API_KEY": ""}, "LABEL_STUDIO_API_KEY is set but empty"),
        (["spec-diff", "--base-url", ""], {"LABEL_STUDIO_URL": "http://127.0.0.1:9"},
         "--base-url is empty"),
        (["conformance", "--api-key", "abcdefghijkl"], {}, "a key given, but no deployment URL"),
        (["conformance"], {"LABEL_STUDIO_API_KEY": "abcdefghijkl"}, "a key given, but no deployment"),
        (["conformance", "--denied-key", "abcdefghijkl"], {}, "denied keys given, but no deployment"),
        (["conformance"], {"LABEL_STUDIO_DENIED_KEYS": " , "},
         "LABEL_STUDIO_DENIED_KEYS is set but empty"),
    ],
    ids=["empty option: not the embedded mock", "empty variable: not the embedded mock",
         "empty key: not the variable's", "empty key variable", "spec-diff empty option",
         "key option, no url", "key variable, no url", "denied key, no url",
         "empty denied keys: authz not skipped"],
)  # fmt: skip
def test_an_empty_url_or_key_is_refused_never_replaced(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    environ: dict[str, str],
    said: str,
) -> None:
    # `--base-url "$URL"` with a CI secret missing must not check the embedded mock and pass.
    for name in ("LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY", "LABEL_STUDIO_DENIED_KEYS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    code, out, err = run(capsys, *argv)
    assert code == 2, (out, err)
    assert said in err
    assert "CONFORMANT" not in out and CANARY not in out + err


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["get", "1", "--base-url", "http://127.0.0.1:9", "--api-key", CANARY, "--cacert", ""],
         "--cacert"),
        (["mock", "--certfile", ""], "--certfile"),
        (["mock", "--certfile", "c.pem", "--keyfile", " "], "--keyfile"),
        (["mock", "--data", ""], "--data"),
        (["snapshot", "--ids", "1", "-o", ""], "-o/--output"),
        (["snapshot-diff", "", "b.json"], "old"),
        (["snapshot-diff", "a.json", ""], "new"),
        (["conformance", "--json-report", ""], "--json-report"),
        (["conformance", "--baseline", ""], "--baseline"),
        (["spec-diff", "--against", ""], "--against"),
    ],
)  # fmt: skip
def test_an_empty_path_is_refused_naming_its_option(
    capsys: pytest.CaptureFixture[str], argv: list[str], named: str
) -> None:
    """An empty path is never "no file": not the environment's CAs for --cacert, not plain
    HTTP for the mock's --certfile, not "is a folder" for -o (the current one)."""
    with pytest.raises(SystemExit) as stop:
        main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2
    assert f"argument {named}: empty (was it given an unset variable?)" in err, err
    assert "Traceback" not in err and CANARY not in err


@pytest.mark.parametrize("given", ["abc", "1.5", "0x1", "", "1_000", " 1", "+1", "\u0663"])
def test_a_connection_id_that_is_not_a_number_says_what_one_is(
    capsys: pytest.CaptureFixture[str], given: str
) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["get", given, "--base-url", "http://127.0.0.1:9", "--api-key", CANARY])
    err = capsys.readouterr().err
    assert stop.value.code == 2
    assert f"not a connection id: {given!r} (a whole number from 1, as in " in err
    assert "int()" not in err


@pytest.mark.parametrize("through", ["direct", "proxy"])
def test_a_refused_connection_names_who_refused_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, through: str
) -> None:
    import socket

    with socket.socket(socket.AF_INET6 if through == "direct" else socket.AF_INET) as sock:
        sock.bind(("::1", 0) if through == "direct" else ("127.0.0.1", 0))
        port = sock.getsockname()[1]
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    if through == "proxy":  # the deployment may be fine: the proxy is what refused
        monkeypatch.setenv("HTTPS_PROXY", f"http://user:{CANARY}@127.0.0.1:{port}")
        url = "https://ls.example.com"
    else:
        url = f"http://[::1]:{port}"
    code, out, err = run(capsys, "get", "1", "--base-url", url, "--api-key", CANARY)
    assert (code, out) == (5, "")
    said = (
        f"connection refused by the proxy http://127.0.0.1:{port} (HTTPS_PROXY)"
        if through == "proxy"
        else f"connection refused: nothing listens at [::1]:{port} "
    )
    assert said in err and CANARY not in err


def test_a_host_name_that_does_not_resolve_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    url = "http://no-such-host.invalid"  # RFC 6761: never resolves
    code, out, err = run(capsys, "get", "1", "--base-url", url, "--api-key", CANARY)
    assert (code, out) == (5, "")
    assert "the host name no-such-host.invalid does not resolve (" in err
    assert "a typo in the URL, or a DNS or VPN that is not up?" in err


def test_a_proxy_host_that_does_not_resolve_is_named_not_the_deployment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://no-such-proxy.invalid:3128")
    code, out, err = run(
        capsys, "get", "1", "--base-url", "https://ls.example.com", "--api-key", CANARY
    )
    assert (code, out) == (5, "")
    assert "the proxy http://no-such-proxy.invalid:3128 (HTTPS_PROXY) does not resolve (" in err
    assert "ls.example.com" not in err.split("(HTTPS_PROXY)")[0]
