"""A private PostgreSQL cluster on loopback for Label Studio (Debian's ``postgresql``),
configured as Label Studio reads it: ``DJANGO_DB=default`` and ``POSTGRE_*``.

The cluster is made once, migrated by ``label-studio init`` as the image's entrypoint
does, and kept in the cache; every run starts a copy of it in a temp dir (as the
``postgres`` user when the harness runs as root: PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from .procs import Process, apt_install, free_port, log

NAME = USER = "labelstudio"
PASSWORD = "realserver-postgres-password"  # a throw-away cluster on loopback
#: Durability is not under test: a cluster that skips fsync migrates several times faster.
FAST = ("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")


def ensure_installed() -> Path:
    """The directory of initdb and postgres, installing Debian's ``postgresql`` if missing."""
    for attempt in range(2):
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        if found:
            return found[-1].parent
        if attempt == 0:
            apt_install("postgresql")
    raise RuntimeError("initdb is still missing after installing Debian's postgresql package")


def _owner() -> str | None:
    return "postgres" if os.geteuid() == 0 else None


def _private_dir(prefix: str) -> Path:
    """A temp dir the cluster's user owns."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    owner = _owner()
    if owner:
        shutil.chown(path, user=owner)
    return path


class Cluster:
    """One ``postgres`` on a free loopback port, its data dir in a temp dir of its own."""

    def __init__(self, bin_dir: Path, data: Path) -> None:
        self.bin_dir, self.data = bin_dir, data
        self.port = free_port()
        self.process: Process | None = None

    @property
    def env(self) -> dict[str, str]:
        """What Label Studio reads to use this cluster."""
        return {"DJANGO_DB": "default", "POSTGRE_NAME": NAME, "POSTGRE_USER": USER,
                "POSTGRE_PASSWORD": PASSWORD, "POSTGRE_HOST": "127.0.0.1",
                "POSTGRE_PORT": str(self.port)}  # fmt: skip

    def start(self) -> Process:
        cmd = [str(self.bin_dir / "postgres"), "-D", str(self.data), "-p", str(self.port),
               "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.data}",
               *FAST]  # fmt: skip
        # SIGINT: PostgreSQL's fast shutdown.
        self.process = Process("postgresql", cmd, env=dict(os.environ),
                               log_path=self.data.parent / "postgres.log",
                               stop_signal=signal.SIGINT, user=_owner())  # fmt: skip
        ready = [str(self.bin_dir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)]
        self.process.wait_until(lambda: subprocess.run(ready, check=False).returncode == 0, 60)
        return self.process


def ensure_template(bin_dir: Path, cache: Path, init: Callable[[dict[str, str]], None]) -> Path:
    """A cluster migrated by ``init`` (given the ``POSTGRE_*`` environment), made once."""
    template = cache / f"postgres-{bin_dir.parent.name}"
    marker = cache / f"{template.name}.migrated"
    if marker.exists() and template.exists():
        return template
    started = time.monotonic()
    shutil.rmtree(template, ignore_errors=True)
    work = _private_dir("ls-pg-template-")
    try:
        data = work / "data"
        pwfile = work / "pwfile"
        pwfile.write_text(PASSWORD)
        owner = _owner()
        if owner:
            shutil.chown(pwfile, user=owner)
        subprocess.run(
            [str(bin_dir / "initdb"), "-D", str(data), "-U", USER, f"--pwfile={pwfile}",
             "-E", "UTF8", "--locale=C.UTF-8", "--auth-local=trust",
             "--auth-host=scram-sha-256", "--no-sync"],
            check=True, user=_owner(), stdout=subprocess.DEVNULL,
        )  # fmt: skip
        cluster = Cluster(bin_dir, data)
        process = cluster.start()
        try:
            createdb = [str(bin_dir / "createdb"), "-h", str(data), "-p", str(cluster.port),
                        "-U", USER, NAME]  # fmt: skip
            subprocess.run(createdb, check=True, user=_owner())
            init(cluster.env)
        finally:
            process.stop()
        shutil.copytree(data, template, symlinks=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    marker.touch()
    log(f"made and migrated a PostgreSQL cluster in {time.monotonic() - started:.0f} s")
    return template


def copy_template(bin_dir: Path, template: Path) -> Cluster:
    """A fresh copy of the template cluster, owned by its user (the caller removes
    ``cluster.data.parent`` when done)."""
    work = _private_dir("ls-pg-")
    data = work / "data"
    shutil.copytree(template, data, symlinks=True)
    owner = _owner()
    if owner:
        for path in [data, *data.rglob("*")]:
            shutil.chown(path, user=owner, group=owner)
    data.chmod(0o700)
    return Cluster(bin_dir, data)
