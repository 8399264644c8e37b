"""A CLI that explains itself (issue 19): help that ends with exit codes, variables and an
example; errors that say what to do (the wrong scheme, a URL that is not Label Studio);
--insecure said once; Ctrl-C at any moment, imports included, is 130 and one line."""

from __future__ import annotations

import http.server
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ls_model_providers.cli import main
from ls_model_providers.mock import ServedMock, create_app, serve_in_thread

from .servers import certificates

KEY = "f" * 40
CODES = {
    "get": (0, 1, 2, 3, 4, 5, 130),
    "mock": (0, 2, 130),
    "conformance": (0, 1, 2, 3, 4, 5, 6, 130),
    "spec-diff": (0, 1, 2, 3, 5, 130),
    "snapshot": (0, 1, 2, 3, 4, 5, 6, 130),
    "snapshot-diff": (0, 1, 2, 130),
}


def _help(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit):
        main([*argv, "--help"])
    return capsys.readouterr().out


@pytest.mark.parametrize("command", sorted(CODES))
def test_every_commands_help_ends_with_its_exit_codes_variables_and_an_example(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = _help(capsys, command)
    tail = text.split("exit codes:", 1)[1]
    for code in CODES[command]:
        assert f"\n  {code:<4} " in tail, (command, code)
    assert "example" in tail and f"ls-model-providers {command}" in tail
    if command not in ("mock", "snapshot-diff"):
        assert "environment:" in tail and "SSL_CERT_FILE" in tail


def test_the_top_level_help_has_examples_and_the_variables(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = _help(capsys)
    assert "LABEL_STUDIO_URL" in text and "LABEL_STUDIO_API_KEY" in text
    assert "ls-model-providers mock --port 8080" in text
    assert "130" in text and "inconclusive" in text


def test_conformance_help_says_what_an_omitted_id_means(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = " ".join(_help(capsys, "conformance").split())
    assert (
        "--id N an existing connection id (default: connection 1, else the first the list shows)"
        in text
    )


# -- the wrong scheme, either way, from every command ------------------------------------------


@pytest.fixture(scope="module")
def plain() -> Iterator[ServedMock]:
    with serve_in_thread(create_app()) as served:
        yield served


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedMock]:
    paths = certificates(tmp_path_factory.mktemp("tls"))
    app = create_app()
    with serve_in_thread(app, certfile=str(paths.cert), keyfile=str(paths.key)) as served:
        yield served


def _argv(command: str, url: str, token: str) -> list[str]:
    return {
        "get": ["get", "1", "--base-url", url, "--api-key", token],
        "conformance": ["conformance", "--base-url", url, "--api-key", token, "--max-examples", "2"],
        "snapshot": ["snapshot", "--ids", "1", "-o", "/dev/null", "--base-url", url, "--api-key", token],
        "spec-diff": ["spec-diff", "--base-url", url],
    }[command]  # fmt: skip


@pytest.mark.parametrize("command", ["get", "conformance", "snapshot", "spec-diff"])
def test_https_to_a_plain_http_server_says_use_http(
    plain: ServedMock, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = plain.base_url.replace("http://", "https://")
    assert main(_argv(command, url, plain.token)) == 5
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert "the server speaks plain HTTP, not HTTPS: use " in text, text
    assert _suggested(text) == plain.base_url + "/", text  # the base URL, not the schema's
    assert "WRONG_VERSION_NUMBER" not in text and "Traceback" not in text


@pytest.mark.parametrize("command", ["get", "conformance", "snapshot", "spec-diff"])
def test_http_to_a_tls_server_says_use_https(
    tls: ServedMock, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = tls.base_url.replace("https://", "http://")
    assert main(_argv(command, url, tls.token)) == 5
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert "the server speaks HTTPS: use " in text, text
    assert _suggested(text) == tls.base_url + "/", text  # the base URL, not the schema's
    assert "Traceback" not in text


def _suggested(text: str) -> str:
    """The URL a wrong-scheme message says to use (after ``--base-url`` when it names it)."""
    return re.findall(r": use (?:--base-url )?(\S+)", text)[-1]


# -- not Label Studio (exit 2) against Label Studio without the endpoint (exit 3) -----------


@pytest.fixture(scope="module")
def not_label_studio() -> Iterator[str]:
    """Python's own http.server: HTML 404 pages for every path, like a wrong path prefix."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("command", ["get", "conformance", "snapshot", "spec-diff"])
def test_a_url_that_is_not_label_studio_is_exit_2(
    not_label_studio: str, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_argv(command, not_label_studio, KEY)) == 2
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert "Community" not in text, text
    if command != "spec-diff":  # spec-diff finds no schema there: "not a schema"
        assert "the URL does not point at Label Studio (check the base URL" in text, text


@pytest.mark.parametrize("command", ["get", "conformance", "snapshot"])
@pytest.mark.parametrize("path", ["/api", "/api/model-provider-connections/1/"])
def test_a_base_url_holding_the_api_path_says_which_to_use(
    plain: ServedMock, command: str, path: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The endpoint's URL, or one ending in /api, copied into --base-url: every path is
    appended to it (.../api/api/...), and the message says the base URL to use instead."""
    assert main(_argv(command, plain.base_url + path, plain.token)) == 2
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert "the URL does not point at Label Studio" in text, text
    assert f"the base URL ends before /api/, try {plain.base_url}/" in text, text


@pytest.mark.parametrize("command", ["get", "conformance", "snapshot"])
def test_label_studio_without_the_endpoint_is_exit_3(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve_in_thread(create_app(defects=["community"])) as community:
        assert main(_argv(command, community.base_url, community.token)) == 3
    captured = capsys.readouterr()
    assert "Community Edition" in captured.out + captured.err


def test_spec_diff_of_a_document_that_is_not_label_studios_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"openapi": "3.0.3", "paths": {}}')
    assert main(["spec-diff", "--against", str(bad)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: ") and "not Label Studio's schema" in captured.err


# -- --insecure, once, on standard error -------------------------------------------------------


@pytest.mark.parametrize("command", ["get", "conformance", "snapshot", "spec-diff"])
def test_insecure_warns_once_on_standard_error(
    tls: ServedMock, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    main([*_argv(command, tls.base_url, tls.token), "--insecure"])
    captured = capsys.readouterr()
    assert captured.err.count("WARNING: TLS certificate verification is OFF") == 1
    assert "WARNING" not in captured.out


# -- Ctrl-C whenever it lands ------------------------------------------------------------------


# Only while the package imports and the run starts: a Ctrl-C landing among the generated
# cases (0.6 s, 1 s on a quiet machine) can be absorbed and the run end by its budget, exit 6;
# an open defect, not pinned here as if it were the behaviour.
@pytest.mark.parametrize("delay", [0.15, 0.3])
def test_an_early_ctrl_c_is_130_and_one_line(delay: float, tmp_path: Path) -> None:
    # In the first ~0.4 s (while Python imports the package) it ended in a traceback and
    # exit -2; imports take longer on a loaded machine, so several delays. (The interpreter's
    # own start, a few tens of milliseconds before any code of ours runs, stays Python's.)
    # Enough cases that the run outlives every delay, even on a quiet machine (with two it
    # could end before 0.6 s, and the test then said nothing about Ctrl-C).
    process = subprocess.Popen(
        [sys.executable, "-m", "ls_model_providers", "conformance", "--max-examples", "400"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
    )  # fmt: skip
    time.sleep(delay)
    assert process.poll() is None, "the run ended before the signal was sent"
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, (out, err)
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert err.strip().splitlines()[-1] == "interrupted"
