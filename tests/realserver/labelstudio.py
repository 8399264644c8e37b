"""Real Label Studio (1.23.2 from PyPI) for the harness: its own venv, its environment, the
development server (``label-studio start``), a migrated template data dir, and seeding."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .procs import Process, answers_200, free_port, log

VERSION = "1.23.2"
#: The image serves Label Studio with uwsgi; PyPI's pyuwsgi wheel provides the binary.
PYUWSGI = "2.0.30.post1"
TOKEN = "5a4b3c2d1e0f5a4b3c2d1e0f5a4b3c2d1e0f5a4b"  # a throw-away server's admin token
ADMIN = "admin@example.com"
PASSWORD = "realserver-admin-password"
HERE = Path(__file__).resolve().parent


def ensure_venv(venv: Path) -> Path:
    """The label-studio executable, installing it (and pyuwsgi) into its own venv once."""
    exe = venv / "bin" / "label-studio"
    marker = venv / f".installed-{VERSION}-pyuwsgi-{PYUWSGI}"
    if marker.exists() and exe.exists():
        return exe
    started = time.monotonic()
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    packages = [f"label-studio=={VERSION}", f"pyuwsgi=={PYUWSGI}"]
    if importlib.util.find_spec("uv") is not None:
        cmd = [sys.executable, "-m", "uv", "pip", "install", "--python", python, *packages]
    else:
        cmd = [python, "-m", "pip", "install", "-q", *packages]
    subprocess.run(cmd, check=True)
    marker.touch()
    log(f"installed label-studio {VERSION} and pyuwsgi in {time.monotonic() - started:.0f} s")
    return exe


def env(data_dir: Path, addon: dict[str, str] | None = None) -> dict[str, str]:
    """Label Studio's environment: headless, no analytics, legacy tokens on; with ``addon``
    (extra variables), the settings module that loads ``lsaddon``."""
    out = {k: v for k, v in os.environ.items() if k not in {"USERNAME", "PASSWORD", "HOST"}}
    out.update(
        LABEL_STUDIO_USERNAME=ADMIN,
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
        # label_studio/server.py and core/wsgi.py only setdefault() the settings module.
        out.update(DJANGO_SETTINGS_MODULE="lsaddon.settings", PYTHONPATH=str(HERE), **addon)
    return out


class DevServer:
    """``label-studio start``: Django's development server on a free loopback port."""

    def __init__(self, exe: Path, data_dir: Path, log_path: Path, env: dict[str, str]) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        cmd = [str(exe), "start", "--no-browser", "--data-dir", str(data_dir), "--internal-host", "127.0.0.1",
               "--port", str(port), "--host", self.url, "--enable-legacy-api-token"]  # fmt: skip
        self.process = Process("label-studio start", cmd, env=env, log_path=log_path)

    def wait_ready(self) -> None:
        self.process.wait_until(lambda: answers_200(self.url + "/health"))


def ensure_template(exe: Path, cache: Path) -> Path:
    """A migrated data dir with the admin user, made once and then copied for every run."""
    template = cache / f"data-{VERSION}"
    marker = template / ".migrated"
    if marker.exists():
        return template
    shutil.rmtree(template, ignore_errors=True)
    template.mkdir(parents=True)
    started = time.monotonic()
    server = DevServer(exe, template, cache / "template.log", env(template))
    try:
        server.wait_ready()
    finally:
        server.process.stop()
    marker.touch()
    log(f"migrated a template data dir in {time.monotonic() - started:.0f} s")
    return template


def init(exe: Path, data_dir: Path, database: dict[str, str]) -> None:
    """``label-studio init`` as the image's entrypoint runs it: migrate ``database`` (its
    variables) and create the admin with its legacy token."""
    data_dir.mkdir(exist_ok=True)
    cmd = [str(exe), "init", "--username", ADMIN, "--password", PASSWORD, "--user-token", TOKEN,
           "--enable-legacy-api-token", "-q"]  # fmt: skip
    subprocess.run(cmd, env={**env(data_dir), **database}, check=True, stdout=subprocess.DEVNULL)


def write_rows(work: Path) -> Path:
    """The users and rows to store (rows.py needs hypothesis: this venv's python)."""
    rows = work / "rows.json"
    subprocess.run([sys.executable, str(HERE / "rows.py"), str(rows), TOKEN], check=True)
    return rows


def seed(exe: Path, rows: Path, seeded: Path, env: dict[str, str]) -> Path:
    """Store ``rows`` through the real ORM (seed.py, in label-studio's venv) in the database
    ``env`` names, before any server of it starts; the oracle goes to ``seeded``."""
    started = time.monotonic()
    python = str(exe.parent / "python")
    subprocess.run([python, str(HERE / "seed.py"), str(rows), str(seeded)], env=env, check=True)
    log(f"seeded {seeded.stem} in {time.monotonic() - started:.1f} s")
    return seeded
