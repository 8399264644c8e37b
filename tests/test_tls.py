"""TLS as users have it: the mock served over HTTPS with a certificate from a throwaway CA,
reached by the client, ``get``, the whole conformance suite and ``spec-diff``: trusted through
``--cacert``, through the environment, not trusted (exit 5, naming the fix), or not verified
(``--insecure``, loudly)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from ls_model_providers import APIConnectionError, CertificateError, Client
from ls_model_providers.cli import main
from ls_model_providers.mock import ServedMock, create_app, serve_in_thread
from ls_model_providers.toolkit.tls import CA_DIR_VARIABLES, CA_FILE_VARIABLES

from .servers import Certificates, certificates

TRUST = ["--cacert", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "untrusted", "--insecure"]
EXPECTED = {"untrusted": 5}


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def https(certs: Certificates) -> Iterator[ServedMock]:
    with serve_in_thread(create_app(), certfile=str(certs.cert), keyfile=str(certs.key)) as served:
        yield served


@pytest.fixture(autouse=True)
def _no_ca_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """This machine sets them all to the system bundle; each test sets its own."""
    for name in (*CA_FILE_VARIABLES, *CA_DIR_VARIABLES):
        monkeypatch.delenv(name, raising=False)


def _trust(trust: str, certs: Certificates, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Arrange ``trust``; the options to add to the command."""
    if trust == "--cacert":
        return ["--cacert", str(certs.ca)]
    if trust == "--insecure":
        return ["--insecure"]
    if trust != "untrusted":
        monkeypatch.setenv(trust, str(certs.ca))
    return []


def test_the_client_over_tls(https: ServedMock, certs: Certificates) -> None:
    assert https.base_url.startswith("https://127.0.0.1:")
    with Client(base_url=https.base_url, api_key=https.token, verify=str(certs.ca)) as client:
        assert client.get_connection(1).id == 1
    before = https.state.stats["requests"]
    with (
        Client(base_url=https.base_url, api_key=https.token, max_retries=3) as client,
        pytest.raises(CertificateError, match="TLS certificate not trusted") as info,
    ):
        client.get_connection(1)
    assert isinstance(info.value, APIConnectionError)
    assert "certificate" in info.value.reason
    assert https.state.stats["requests"] == before, "no request got through"


@pytest.mark.parametrize("trust", TRUST)
def test_get(
    trust: str, https: ServedMock, certs: Certificates, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    options = _trust(trust, certs, monkeypatch)
    code = main(["get", "1", "--base-url", https.base_url, "--api-key", https.token, *options])
    out, err = capsys.readouterr()
    assert code == EXPECTED.get(trust, 0), err
    if code == 0:
        assert json.loads(out)["id"] == 1
    if trust == "untrusted":
        assert "TLS certificate not trusted" in err and "--cacert FILE" in err
    assert ("WARNING: TLS certificate verification is OFF" in err) == (trust == "--insecure")


@pytest.mark.parametrize("trust", TRUST)
def test_the_whole_conformance_suite(
    trust: str, https: ServedMock, certs: Certificates, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:  # fmt: skip
    options = _trust(trust, certs, monkeypatch)
    junit, report = tmp_path / "junit.xml", tmp_path / "report.json"
    code = main([
        "conformance", "--base-url", https.base_url, "--api-key", https.token, "--id", "1",
        "--max-examples", "3", "--junit-xml", str(junit), "--json-report", str(report), *options,
    ])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == EXPECTED.get(trust, 0), out
    data = json.loads(report.read_text())
    if trust == "untrusted":
        assert "TLS certificate not trusted" in out and "--cacert FILE" in out
        assert data["failed"] == ["run.reachable"]
    else:
        passed = {r["name"] for r in data["results"] if r["outcome"] == "pass"}
        assert "schemathesis.ignored_auth" in passed, "schemathesis's own probes over TLS too"
    warned = "WARNING: TLS certificate verification is OFF" in err
    assert warned == (trust == "--insecure")
    assert err.count("WARNING: TLS") == int(warned), "once, on standard error"
    assert "WARNING: TLS" not in out
    assert bool(data["warnings"]) == warned
    properties = [p.get("name") for p in ET.parse(junit).getroot().iter("property")]  # noqa: S314 - a file this test wrote
    assert ("warning" in properties) == warned


@pytest.mark.parametrize("trust", TRUST)
def test_spec_diff(
    trust: str, https: ServedMock, certs: Certificates, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    options = _trust(trust, certs, monkeypatch)
    code = main(["spec-diff", "--base-url", https.base_url, *options])
    _, err = capsys.readouterr()
    assert code == EXPECTED.get(trust, 0), err
    if trust == "untrusted":
        assert "--cacert FILE" in err


@pytest.mark.parametrize("command", ["get", "conformance", "spec-diff"])
def test_an_unusable_ca_bundle_is_a_usage_error(
    command: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate")
    target = ["1"] if command == "get" else []
    url = ["--base-url", "https://127.0.0.1:1"] + (
        ["--api-key", "f" * 40] if command != "spec-diff" else []
    )
    assert main([command, *target, *url, "--cacert", str(garbage)]) == 2
    assert "--cacert names" in capsys.readouterr().err
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "missing.pem"))
    assert main([command, *target, *url]) == 2
    assert "REQUESTS_CA_BUNDLE names" in capsys.readouterr().err


def test_the_mock_command_serves_tls(
    certs: Certificates, capsys: pytest.CaptureFixture[str]
) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "ls_model_providers", "mock", "--port", "0",
         "--certfile", str(certs.cert), "--keyfile", str(certs.key)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert process.stdout is not None
    try:
        banner = process.stdout.readline()
        url = banner.split(" on ", 1)[1].split()[0]
        assert url.startswith("https://127.0.0.1:")
        token = next(
            line.split("=", 1)[1].strip()
            for line in iter(process.stdout.readline, "")
            if "LABEL_STUDIO_API_KEY=" in line
        )
        code = 1
        for _ in range(100):  # the banner comes just before uvicorn starts serving
            code = main(
                ["get", "1", "--base-url", url, "--api-key", token, "--cacert", str(certs.ca)]
            )
            if code != 5:
                break
        assert code == 0, capsys.readouterr().err
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=15)
    assert process.returncode == 0
