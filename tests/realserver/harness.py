"""Start real Label Studio servers (1.23.2 from PyPI) on loopback, run a command, always stop them.

    python tests/realserver/harness.py --venv DIR --cache DIR -- pytest tests/realserver

Installs ``label-studio==VERSION`` into ``--venv`` once (kept between runs), migrates a
template data dir once (kept in ``--cache``), then for every run starts two servers, each
on a copy of the template:

* Community as shipped (``LS_REAL_URL``): the endpoint is absent there;
* the same package with the ``lsaddon`` Django add-on (``LS_ADDON_URL``), which serves
  the endpoint from the real model; its database is seeded first through the real ORM
  (``rows.py`` -> ``seed.py``; the result in ``LS_ADDON_SEEDED``), and its runtime switch
  file is ``LS_ADDON_SWITCH``.

It waits for ``/health``, runs the command with those variables and ``LS_REAL_TOKEN``
(the admin's legacy token) set, and stops the servers by process group, on failure too.
Used by ``nox -s realserver``.
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


HERE = Path(__file__).resolve().parent


def _env(data_dir: Path, addon: dict[str, str] | None = None) -> dict[str, str]:
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
    if addon is not None:
        # label_studio/server.py only setdefault()s the settings module: ours extends its.
        env.update(DJANGO_SETTINGS_MODULE="lsaddon.settings", PYTHONPATH=str(HERE), **addon)
    return env


class Server:
    """One label-studio process on a free loopback port, in its own process group."""

    def __init__(self, exe: Path, data_dir: Path, log: Path, env: dict[str, str]) -> None:
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        cmd = [str(exe), "start", "--no-browser", "--data-dir", str(data_dir), "--internal-host", "127.0.0.1",
               "--port", str(port), "--host", self.url, "--enable-legacy-api-token"]  # fmt: skip
        self.started = time.monotonic()
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def wait_healthy(self, timeout: float = 240.0) -> None:
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"label-studio exited with {self.process.returncode}; see {self.log}"
                )
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(self.url + "/health", timeout=2) as response,  # noqa: S310 - loopback
            ):
                if response.status == 200:
                    break
            if time.monotonic() - self.started > timeout:
                raise RuntimeError(
                    f"label-studio not healthy after {timeout:.0f} s; see {self.log}"
                )
            time.sleep(0.25)
        _log(f"label-studio {VERSION} healthy at {self.url} after "
             f"{time.monotonic() - self.started:.1f} s (pid {self.process.pid})")  # fmt: skip

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        _log(f"stopped label-studio (pid {self.process.pid})")

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def ensure_template(exe: Path, cache: Path) -> Path:
    """A migrated data dir with the admin user, made once and then copied for every run."""
    template = cache / f"data-{VERSION}"
    marker = template / ".migrated"
    if marker.exists():
        return template
    shutil.rmtree(template, ignore_errors=True)
    template.mkdir(parents=True)
    started = time.monotonic()
    server = Server(exe, template, cache / "template.log", _env(template))
    try:
        server.wait_healthy()
    finally:
        server.stop()
    marker.touch()
    _log(f"migrated a template data dir in {time.monotonic() - started:.0f} s")
    return template


def seed(exe: Path, data_dir: Path, work: Path) -> Path:
    """Rows from rows.py stored through the real ORM (seed.py, in label-studio's venv)."""
    started = time.monotonic()
    rows_path, seeded = work / "rows.json", work / "seeded.json"
    # hypothesis lives in this (the test) venv, Django in label-studio's: two processes.
    subprocess.run([sys.executable, str(HERE / "rows.py"), str(rows_path), TOKEN], check=True)
    python = str(exe.parent / "python")
    subprocess.run(
        [python, str(HERE / "seed.py"), str(rows_path), str(seeded)],
        env=_env(data_dir, addon={}), check=True,
    )  # fmt: skip
    _log(f"seeded the add-on's database in {time.monotonic() - started:.1f} s")
    return seeded


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
        work = Path(tmp)
        community_dir, addon_dir = work / "community", work / "addon"
        shutil.copytree(template, community_dir)
        shutil.copytree(template, addon_dir)
        switch = work / "switch.json"
        servers: list[Server] = []
        try:
            # The Community server starts while the add-on's database is seeded.
            community = Server(exe, community_dir, work / "community.log", _env(community_dir))
            servers.append(community)
            seeded = seed(exe, addon_dir, work)
            addon_env = _env(addon_dir, addon={"LSADDON_SWITCH": str(switch)})
            addon = Server(exe, addon_dir, work / "addon.log", addon_env)
            servers.append(addon)
            for server in servers:
                server.wait_healthy()
            env = {**os.environ, "LS_REAL_URL": community.url, "LS_REAL_TOKEN": TOKEN,
                   "LS_ADDON_URL": addon.url, "LS_ADDON_SEEDED": str(seeded),
                   "LS_ADDON_SWITCH": str(switch)}  # fmt: skip
            result = subprocess.run(command, env=env, check=False)
            if result.returncode != 0:
                for server in servers:
                    _log(f"{server.log.name} (last 40 lines):\n{server.tail()}")
        finally:
            for server in servers:
                server.stop()
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
