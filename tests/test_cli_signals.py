"""The command in a real process, where a signal or a pipe is the point: Ctrl-C ends any
command with one line and exit 130 (conformance writes both reports first), and a reader
that goes away (``| head``, ``| true``) never costs a traceback or the command's exit code."""

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

import pytest

from ls_model_providers.mock import ServedMock, create_app, default_data, serve_in_thread

from . import hostile
from .helpers import environ_without_target

KEY = "0123456789abcdef0123456789abcdef01234567"


def _start(*argv: str, stdout: int = subprocess.PIPE) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "ls_model_providers", *argv],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        env=environ_without_target(),
        # A runner started in the background may ignore SIGINT, and a child inherits that;
        # with the default disposition Python turns SIGINT into KeyboardInterrupt, as in a shell.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


@pytest.fixture
def silent() -> Iterator[hostile.Served]:
    """A server that reads each request and never answers."""
    with hostile.serve(hostile.hang) as served:
        yield served


def _interrupt_once_asked(process: subprocess.Popen[str], served: hostile.Served) -> str:
    """SIGINT once the command's request reached the server; its stderr."""
    give_up = time.monotonic() + 30
    while not served.requests:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < give_up, "the command never sent its request"
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    return err


@pytest.mark.parametrize(
    "argv",
    [
        ["get", "1", "--api-key", KEY, "--base-url"],
        ["spec-diff", "--base-url"],
        ["snapshot", "--ids", "1", "-o", "{tmp}/s.json", "--api-key", KEY, "--base-url"],
        ["conformance", "--id", "1", "--api-key", KEY, "--base-url"],
    ],
    ids=lambda argv: argv[0],
)
def test_ctrl_c_is_one_line_and_exit_130(
    silent: hostile.Served, tmp_path: Path, argv: list[str]
) -> None:
    process = _start(*(a.format(tmp=tmp_path) for a in argv), silent.base_url)
    err = _interrupt_once_asked(process, silent)
    assert process.returncode == 130
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert err.splitlines()[-1] == "interrupted"


def test_ctrl_c_in_conformance_writes_both_reports(silent: hostile.Served, tmp_path: Path) -> None:
    junit, report = tmp_path / "ci" / "j.xml", tmp_path / "ci" / "r.json"
    process = _start(
        "conformance", "--base-url", silent.base_url, "--api-key", KEY, "--id", "1",
        "--json-report", str(report), "--junit-xml", str(junit),
    )  # fmt: skip
    err = _interrupt_once_asked(process, silent)
    assert process.returncode == 130, err
    data = json.loads(report.read_text())
    assert data["exit_code"] == 130
    assert "run.interrupted" in data["failed"]
    assert data["requests"] == 1
    root = ET.parse(junit).getroot()  # noqa: S314 - a file this run wrote
    failing = [case.get("name") for case in root.iter("testcase") if case.find("failure") is not None]  # fmt: skip
    assert failing == ["run.interrupted"]
    assert not list(tmp_path.glob("ci/.*")), "no temporary file left behind"


def _reports(folder: Path) -> tuple[dict[str, Any], list[str | None]]:
    """The JSON report, and the names of JUnit's failing testcases."""
    data = json.loads((folder / "r.json").read_text())
    root = ET.parse(folder / "j.xml").getroot()  # noqa: S314 - a file this run wrote
    failing = [case.get("name") for case in root.iter("testcase") if case.find("failure") is not None]  # fmt: skip
    return data, failing


def test_ctrl_c_in_the_baseline_recording_writes_both_reports_with_its_requests(
    tmp_path: Path,
) -> None:
    """The suite's checks done, Ctrl-C while the baseline's recording waits on the list route:
    the reports hold the checks, a failing run.interrupted, and every request the server saw."""
    import asyncio

    from ls_model_providers.mock import SyncASGITransport
    from ls_model_providers.snapshot import record

    from .servers import Override, Recorder, Seen

    async def hang_on_the_list(method: str, path: str, headers: dict[str, str]) -> Any:
        if path == "/api/model-provider-connections/":  # only the recording asks for it
            await asyncio.sleep(60)
        return None

    source = create_app(data=default_data(KEY))
    baseline = tmp_path / "before.json"
    recording = record("http://mock", KEY, ids=[1], transport=SyncASGITransport(source))
    recording.snapshot.write(baseline)
    app = create_app(data=default_data(KEY))
    seen: list[Seen] = []
    app.add_middleware(Override, rule=hang_on_the_list)
    app.add_middleware(Recorder, log=seen)
    with serve_in_thread(app) as served:
        process = _start(
            "conformance", "--base-url", served.base_url, "--api-key", KEY, "--id", "1",
            "--max-examples", "2", "--baseline", str(baseline),
            "--json-report", str(tmp_path / "r.json"), "--junit-xml", str(tmp_path / "j.xml"),
        )  # fmt: skip
        give_up = time.monotonic() + 60
        while not any(s.path == "/api/model-provider-connections/" for s in seen):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < give_up, "the recording never asked for the list"
            time.sleep(0.02)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert err.splitlines()[-1] == "interrupted"
    data, failing = _reports(tmp_path)
    assert data["exit_code"] == 130
    assert data["requests"] == len(seen), "the recording's requests are counted too"
    assert failing == ["run.interrupted"]
    assert "connection.valid_200" in {r["name"] for r in data["results"]}


#: Run in the child: the first time anything looks for schemathesis (the suite's first step:
#: its extra is checked, then imported), say so and wait, interruptibly, as a slow import does.
_SLOW_IMPORT = """
import sys, time
from ls_model_providers.cli import main

class SlowSchemathesis:
    def find_spec(self, name, path=None, target=None):
        if name == "schemathesis":
            sys.meta_path.remove(self)
            print("importing schemathesis", file=sys.stderr, flush=True)
            time.sleep(60)
        return None

sys.meta_path.insert(0, SlowSchemathesis())
sys.exit(main(sys.argv[1:]))
"""


def test_ctrl_c_while_schemathesis_is_imported_still_writes_both_reports(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", _SLOW_IMPORT, "conformance", "--max-examples", "2",
         "--json-report", str(tmp_path / "r.json"), "--junit-xml", str(tmp_path / "j.xml")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=environ_without_target(),
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    assert process.stderr is not None
    assert process.stderr.readline() == "importing schemathesis\n", process.communicate()
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Traceback" not in err and err.splitlines()[-1] == "interrupted", err
    data, failing = _reports(tmp_path)
    assert (data["exit_code"], data["failed"], data["requests"]) == (130, ["run.interrupted"], 0)
    assert data["target"] == "(embedded mock)"
    assert failing == ["run.interrupted"]
    assert out.splitlines()[-1].endswith("(exit 130)")


#: Run in the child: when the suite first looks for schemathesis, a finalizer runs in the main
#: thread (as the garbage collector runs them, whatever the main thread was doing) and waits.
_IN_A_FINALIZER = """
import gc, sys, time
from ls_model_providers.cli import main

class Slow:
    def __del__(self):
        print("finalizing", file=sys.stderr, flush=True)
        time.sleep(60)

class Collect:
    def find_spec(self, name, path=None, target=None):
        if name == "schemathesis":
            sys.meta_path.remove(self)
            garbage = Slow()
            garbage.cycle = garbage
            del garbage
            gc.collect()
        return None

sys.meta_path.insert(0, Collect())
sys.exit(main(sys.argv[1:]))
"""


def test_ctrl_c_in_a_finalizer_is_not_lost(tmp_path: Path) -> None:
    """Python prints an exception raised in a finalizer as "ignored" and goes on: Ctrl-C there
    would be dropped and the run would carry on to exit 0. It is raised again after it."""
    process = subprocess.Popen(
        [sys.executable, "-c", _IN_A_FINALIZER, "conformance", "--max-examples", "2",
         "--json-report", str(tmp_path / "r.json"), "--junit-xml", str(tmp_path / "j.xml")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=environ_without_target(),
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    assert process.stderr is not None
    assert process.stderr.readline() == "finalizing\n", process.communicate()
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "Exception ignored" not in err and "Traceback" not in err, err
    data, failing = _reports(tmp_path)
    assert (data["exit_code"], failing) == (130, ["run.interrupted"])


# -- a reader that goes away -----------------------------------------------------------------


@pytest.fixture(scope="module")
def mock() -> Iterator[ServedMock]:
    with serve_in_thread(create_app(data=default_data(KEY))) as served:
        yield served


def _closed_early(*argv: str) -> tuple[int, str]:
    """Run with stdout a pipe whose reader is gone before anything is written."""
    read, write = os.pipe()
    os.close(read)  # writing now fails with EPIPE
    try:
        process = _start(*argv, stdout=write)
    finally:
        os.close(write)
    _, err = process.communicate(timeout=120)
    return process.returncode, err


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["get", "1"], 0),
        (["get", "99"], 1),  # stdout untouched: the command's own code all the same
        (["spec-diff", "--base-url", "{url}"], 0),
        (["conformance", "--max-examples", "2"], 0),
    ],
    ids=["get", "get-404", "spec-diff", "conformance"],
)
def test_a_closed_stdout_keeps_the_commands_exit_code(
    mock: ServedMock, argv: list[str], code: int
) -> None:
    target = ["--base-url", mock.base_url, "--api-key", KEY] if argv[0] != "spec-diff" else []
    got, err = _closed_early(*(a.format(url=mock.base_url) for a in argv), *target)
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert got == code, err


def test_a_closed_stdout_still_writes_the_reports(mock: ServedMock, tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    code, err = _closed_early(
        "conformance", "--base-url", mock.base_url, "--api-key", KEY, "--id", "1",
        "--max-examples", "2", "--json-report", str(report),
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(report.read_text())["exit_code"] == 0


def _run_with(stdout: Any, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ls_model_providers", *argv], stdout=stdout, stderr=subprocess.PIPE,
        text=True, env=environ_without_target(),
        timeout=60, check=False,
    )  # fmt: skip


def test_a_closed_stdout_descriptor_is_no_traceback(mock: ServedMock) -> None:
    """``>&-``: sys.stdout is None from the start; the answer goes nowhere, the code is its own."""
    code = (
        "import os, sys; os.close(1); sys.stdout = None; from ls_model_providers.cli import main; "
        f"sys.exit(main(['get', '1', '--base-url', {mock.base_url!r}, '--api-key', {KEY!r}]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], stderr=subprocess.PIPE, text=True, check=False
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 0


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_for_stdout_is_exit_2_not_a_traceback(mock: ServedMock) -> None:
    with open("/dev/full", "w") as full:
        done = _run_with(full, "get", "1", "--base-url", mock.base_url, "--api-key", KEY)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 2
    assert "the output could not be written" in done.stderr
