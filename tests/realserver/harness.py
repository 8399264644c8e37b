"""Start a real Label Studio (Community, from PyPI) on loopback, run a command, always stop it.

    python tests/realserver/harness.py --venv DIR --cache DIR -- pytest tests/realserver

Installs ``label-studio==VERSION`` into ``--venv`` once (kept between runs), migrates a
template data dir once (kept in ``--cache``), then for every run copies the template to a
throw-away dir, starts the server with a known admin and legacy token, waits for
``/health``, runs the command with ``LS_REAL_URL`` / ``LS_REAL_TOKEN`` set, and stops the
server by its process group, on failure too. Used by ``nox -s realserver``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

VERSION = "1.23.2"
TOKEN = "5a4b3c2d1e0f5a4b3c2d1e0f5a4b3c2d1e0f5a4b"  # a throw-away server's admin token
PASSWORD = "realserver-admin-password"


def _log(message: str) -> None:
    print(f"[realserver] {message}", file=sys.stderr, flush=True)


def ensure_venv(venv: Path) -> Path:
    """The label-studio executable, installing it into its own venv the first time."""
    exe = venv / "bin" / "label-studio"
    marker = venv / f".installed-{VERSION}"
    if marker.exists() and exe.exists():
        return exe
    started = time.monotonic()
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    if importlib.util.find_spec("uv") is not None:
        cmd = [
            sys.executable,
            "-m",
            "uv",
            "pip",
            "install",
            "--python",
            python,
            f"label-studio=={VERSION}",
        ]
    else:
        cmd = [python, "-m", "pip", "install", "-q", f"label-studio=={VERSION}"]
    subprocess.run(cmd, check=True)
    marker.touch()
    _log(f"installed label-studio {VERSION} in {time.monotonic() - started:.0f} s")
    return exe


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"USERNAME", "PASSWORD", "HOST"}}
    env.update(
        LABEL_STUDIO_USERNAME="admin@example.com",
        LABEL_STUDIO_PASSWORD=PASSWORD,
        LABEL_STUDIO_USER_TOKEN=TOKEN,
        LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN="true",
        LABEL_STUDIO_BASE_DATA_DIR=str(data_dir),
        SENTRY_DSN="",
        FRONTEND_SENTRY_DSN="",
        COLLECT_ANALYTICS="false",
        LATEST_VERSION_CHECK="false",
    )
    return env


@contextlib.contextmanager
def running(exe: Path, data_dir: Path, log: Path, timeout: float = 240.0) -> Iterator[str]:
    """A server on a free loopback port for the duration of the block; yields its URL."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [str(exe), "start", "--no-browser", "--data-dir", str(data_dir), "--internal-host", "127.0.0.1",
           "--port", str(port), "--host", url, "--enable-legacy-api-token"]  # fmt: skip
    with log.open("ab") as out:
        process = subprocess.Popen(
            cmd, env=_env(data_dir), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    started = time.monotonic()
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"label-studio exited with {process.returncode}; see {log}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(url + "/health", timeout=2) as response,  # noqa: S310 - loopback
            ):
                if response.status == 200:
                    break
            if time.monotonic() - started > timeout:
                raise RuntimeError(f"label-studio not healthy after {timeout:.0f} s; see {log}")
            time.sleep(0.5)
        _log(
            f"label-studio {VERSION} healthy at {url} after {time.monotonic() - started:.1f} s (pid {process.pid})"
        )
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        _log(f"stopped label-studio (pid {process.pid})")


def ensure_template(exe: Path, cache: Path) -> Path:
    """A migrated data dir with the admin user, made once and then copied for every run."""
    template = cache / f"data-{VERSION}"
    marker = template / ".migrated"
    if marker.exists():
        return template
    shutil.rmtree(template, ignore_errors=True)
    template.mkdir(parents=True)
    started = time.monotonic()
    with running(exe, template, cache / "template.log"):
        pass
    marker.touch()
    _log(f"migrated a template data dir in {time.monotonic() - started:.0f} s")
    return template


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--venv", type=Path, required=True, help="where label-studio is installed (cached)"
    )
    parser.add_argument(
        "--cache", type=Path, required=True, help="where the template data dir is kept"
    )
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command to run")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command to run")
    exe = ensure_venv(args.venv.resolve())
    template = ensure_template(exe, args.cache.resolve())
    with tempfile.TemporaryDirectory(prefix="ls-real-") as tmp:
        data_dir = Path(tmp) / "data"
        shutil.copytree(template, data_dir)
        with running(exe, data_dir, Path(tmp) / "server.log") as url:
            env = {**os.environ, "LS_REAL_URL": url, "LS_REAL_TOKEN": TOKEN}
            result = subprocess.run(command, env=env, check=False)
            if result.returncode != 0:
                log = (Path(tmp) / "server.log").read_text(errors="replace")
                _log("server log (last 40 lines):\n" + "\n".join(log.splitlines()[-40:]))
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
