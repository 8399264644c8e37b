"""Child processes of the harness: each in its own process group, logged to a file, and
stopped by group (on failure too), with the signal that really stops that program."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path


def log(message: str) -> None:
    print(f"[realserver] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def apt_install(package: str) -> None:
    """Install one of Debian's packages, as root and non-interactively (a fresh machine, as
    CI's, has neither nginx nor PostgreSQL). The lists are refreshed only when the install
    fails on missing or stale ones."""
    if os.geteuid() != 0:
        raise RuntimeError(f"{package} is missing: install Debian's {package} package")
    started = time.monotonic()
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["/usr/bin/apt-get", "install", "-y", "-q", "--no-install-recommends", package]
    if subprocess.run(install, env=env, check=False).returncode != 0:
        subprocess.run(["/usr/bin/apt-get", "update", "-q"], env=env, check=True)
        subprocess.run(install, env=env, check=True)
    log(f"installed {package} in {time.monotonic() - started:.0f} s")


def answers_200(url: str, context: ssl.SSLContext | None = None) -> bool:
    """Whether ``url`` answers 200 now (a readiness probe)."""
    with (
        contextlib.suppress(OSError),
        urllib.request.urlopen(url, timeout=2, context=context) as response,  # noqa: S310 - loopback
    ):
        return bool(response.status == 200)
    return False


class Process:
    """``cmd`` started in a new session (so its workers share its process group).

    ``stop_signal``: what ends it cleanly (uwsgi ignores SIGTERM, SIGINT stops it; nginx
    and PostgreSQL take SIGQUIT/SIGINT for a fast shutdown). ``user``: run as this user
    (PostgreSQL refuses to run as root).
    """

    def __init__(
        self,
        name: str,
        cmd: Sequence[str],
        *,
        env: dict[str, str],
        log_path: Path,
        stop_signal: signal.Signals = signal.SIGTERM,
        user: str | None = None,
    ) -> None:
        self.name, self.log_path, self.stop_signal = name, log_path, stop_signal
        self.started = time.monotonic()
        with log_path.open("ab") as out:
            self.process = subprocess.Popen(
                list(cmd), env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True, user=user,
            )  # fmt: skip

    def wait_until(self, ready: Callable[[], bool], timeout: float = 240.0) -> None:
        """Poll ``ready`` until it holds; fail at once if the process died."""
        while not ready():
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.process.returncode}; see {self.log_path}"
                    f"\n{self.tail()}"
                )
            if time.monotonic() - self.started > timeout:
                raise RuntimeError(
                    f"{self.name} not ready after {timeout:.0f} s; see {self.log_path}"
                )
            time.sleep(0.25)
        log(
            f"{self.name} ready after {time.monotonic() - self.started:.1f} s (pid {self.process.pid})"
        )

    def stop(self) -> None:
        """Its clean stop signal to the whole group, then SIGKILL if it lingers."""
        for sig, wait in ((self.stop_signal, 30), (signal.SIGKILL, 10)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        # Workers that outlived their master (same group) go too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        log(f"stopped {self.name} (pid {self.process.pid})")

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
