"""The one writer of reports and snapshots (``cli._shared.write_atomic``): a regular file is
replaced whole through a temporary file nobody can predict, removed on any failure; what is
not a regular file (a FIFO, ``/dev/stdout``, a symlink to it) is written through, never
replaced by a file."""

from __future__ import annotations

import json
import os
import resource
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ls_model_providers.mock import SyncASGITransport, create_app
from ls_model_providers.snapshot import ALL, Snapshot, record
from ls_model_providers.toolkit.files import write_atomic

from .helpers import environ_without_target


def _snapshot() -> Snapshot:
    app = create_app()
    token = app.state.mock.data.users[0].token
    return record("http://mock", token, ids=ALL, transport=SyncASGITransport(app)).snapshot


class _Reader(threading.Thread):
    """Reads a FIFO to its end (its open waits for the writer, as a real reader's does)."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path, self.data = path, b""

    def run(self) -> None:
        with open(self.path, "rb") as fifo:
            self.data = fifo.read()


def test_a_fifo_is_written_through_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "report.json"
    os.mkfifo(fifo)
    reader = _Reader(fifo)
    reader.start()
    write_atomic(fifo, '{"exit_code": 0}\n')
    reader.join(timeout=10)
    assert reader.data == b'{"exit_code": 0}\n'
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode), "still the FIFO"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_reports_reach_a_symlink_to_stdout_and_a_fifo(tmp_path: Path) -> None:
    """``--json-report /dev/stdout`` (here a link to it, so no test can replace the real one)
    and ``--junit-xml FIFO``: both written where they point, both left as they were."""
    stdout = tmp_path / "stdout.json"
    stdout.symlink_to("/dev/stdout")
    fifo = tmp_path / "junit.xml"
    os.mkfifo(fifo)
    reader = _Reader(fifo)
    reader.start()
    done = subprocess.run(
        [sys.executable, "-m", "ls_model_providers", "conformance", "--max-examples", "1",
         "--json-report", str(stdout), "--junit-xml", str(fifo)],
        capture_output=True, text=True, timeout=120, check=False,
        env=environ_without_target(),
    )  # fmt: skip
    reader.join(timeout=10)
    assert done.returncode == 0, done.stderr
    assert stdout.is_symlink() and os.readlink(stdout) == "/dev/stdout"
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    report = done.stdout[done.stdout.index("\n{\n") :]  # after the console's table
    assert json.loads(report)["exit_code"] == 0
    assert reader.data.startswith(b"<?xml") and b"</testsuite>" in reader.data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junit.xml", "stdout.json"]


def test_a_planted_temporary_name_is_never_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    planted = tmp_path / "out" / ".prod.json.tmp"  # a name an attacker could predict
    planted.parent.mkdir()
    planted.symlink_to(victim)
    snapshot = _snapshot()
    snapshot.write(tmp_path / "out" / "prod.json")
    assert victim.read_text() == "precious\n"
    assert planted.is_symlink(), "left alone"
    assert Snapshot.load(tmp_path / "out" / "prod.json").to_json() == snapshot.to_json()


def _limit_file_size() -> None:  # in the child: a write past 4 KB fails (EFBIG), as on a full disk
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path: Path) -> None:
    source = tmp_path / "source.json"
    _snapshot().write(source)
    assert source.stat().st_size > 4096
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "prod.json").write_text("old\n")
    code = (
        "import sys; from ls_model_providers.snapshot import Snapshot\n"
        "try:\n"
        f"    Snapshot.load({str(source)!r}).write({str(folder / 'prod.json')!r})\n"
        "except OSError as exc:\n"
        "    sys.exit(f'OSError {exc.errno}')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False,
        preexec_fn=_limit_file_size, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )  # fmt: skip
    assert done.stderr.strip().startswith("OSError"), done.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["prod.json"], "no temporary file left"
    assert (folder / "prod.json").read_text() == "old\n"


def test_a_regular_file_is_replaced_whole_and_readable(tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    target.write_text("old\n")
    os.chmod(target, 0o600)
    write_atomic(target, "new\n")
    assert target.read_text() == "new\n"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask, "CI users can read it"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


@pytest.mark.parametrize("argv", [["snapshot", "--all", "-o"], ["conformance", "--json-report"]])
def test_a_fifo_is_an_accepted_output(tmp_path: Path, argv: list[str]) -> None:
    from ls_model_providers.cli import build_parser

    fifo = tmp_path / "out"
    os.mkfifo(fifo)
    parser, _ = build_parser()
    parser.parse_args([*argv, str(fifo)])  # no SystemExit: a FIFO can be written
