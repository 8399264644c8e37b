"""Label Studio served as its docker image serves it: uwsgi's HTTP router (``pyuwsgi``, in
label-studio's venv) with the options of the image's uwsgi config (``deploy/uwsgi.ini``),
``DEBUG=false``."""

from __future__ import annotations

import signal
from pathlib import Path

from .procs import Process, answers_200, free_port

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "deploy" / "uwsgi.ini"
#: Workers per server: the image runs two per core; two in all keeps three servers and the
#: tests within this 2-core machine.
PROCESSES = 2


class Uwsgi:
    """One uwsgi master (its workers and HTTP router in its process group) on a free port.

    ``env``: Label Studio's environment (data dir, database, ``LABEL_STUDIO_HOST``...).
    """

    def __init__(self, name: str, venv: Path, env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        package = next((venv / "lib").glob("python3*/site-packages/label_studio"))
        env = {**env, "DEBUG": "false", "LS_UWSGI_HTTP": f"127.0.0.1:{self.port}",
               "LS_UWSGI_CHDIR": str(package), "LS_UWSGI_PROCESSES": str(PROCESSES)}  # fmt: skip
        cmd = [str(venv / "bin" / "uwsgi"), "--ini", str(CONFIG)]
        # uwsgi takes SIGTERM as "reload"; SIGINT stops it.
        self.process = Process(name, cmd, env=env, log_path=log_path, stop_signal=signal.SIGINT)

    def wait_ready(self) -> None:
        self.process.wait_until(lambda: answers_200(self.url + "/health"))
