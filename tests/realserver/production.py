"""The production-shaped stack: Label Studio with the add-on as its docker image deploys it.

* ``uwsgi``: uwsgi's HTTP router, straight (SQLite: a copy of the seeded add-on database);
* ``nginx``: nginx with TLS from a private CA, gzip and its own OPTIONS answer, in front
  of that same uwsgi server;
* ``nginx-prefix``: the same nginx's ``/ls/`` location, in front of a second uwsgi server
  started with ``LABEL_STUDIO_HOST=https://host:port/ls`` and backed by PostgreSQL.

Every process is registered with the caller's ``ExitStack``, which stops them all (by
process group) in reverse order, on failure too. The tests read the shapes from the JSON
file named by ``LS_PROD_SHAPES``.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path

from . import labelstudio, nginx, postgres
from .procs import Process
from .uwsgi import Uwsgi


def start(
    stack: contextlib.ExitStack[bool | None],
    exe: Path,
    cache: Path,
    work: Path,
    seeded_sqlite: tuple[Path, Path],
    rows: Path,
    switch: Path,
) -> tuple[dict[str, str], list[Process]]:
    """Start the stack; returns the tests' environment and the processes (for their logs).

    ``seeded_sqlite``: a data dir already seeded from ``rows`` and its oracle file.
    """
    venv = exe.parent.parent
    nginx_exe = nginx.ensure_installed()
    pg_bin = postgres.ensure_installed()
    template = postgres.ensure_template(
        pg_bin, cache, lambda database: labelstudio.init(exe, work / "postgres-init", database)
    )
    cluster = postgres.copy_template(pg_bin, template)
    stack.callback(shutil.rmtree, cluster.data.parent, ignore_errors=True)
    processes = [cluster.start()]
    stack.callback(processes[0].stop)

    # The PostgreSQL server's data dir (media, its secret key: made by the seed, before
    # any worker starts, so two workers never race to make one).
    pg_env = {**labelstudio.env(work / "postgres-data", addon={"LSADDON_SWITCH": str(switch)}),
              **cluster.env}  # fmt: skip
    seeded_pg = labelstudio.seed(exe, rows, work / "seeded-postgres.json", pg_env)

    front = nginx.Nginx()
    stack.callback(shutil.rmtree, front.dir, ignore_errors=True)
    data_dir, seeded = seeded_sqlite
    sqlite_env = labelstudio.env(data_dir, addon={"LSADDON_SWITCH": str(switch)})
    direct = Uwsgi("uwsgi (SQLite)", venv, {**sqlite_env, "LABEL_STUDIO_HOST": front.url},
                   work / "uwsgi-sqlite.log")  # fmt: skip
    stack.callback(direct.process.stop)
    prefixed = Uwsgi("uwsgi (PostgreSQL, /ls)", venv,
                     {**pg_env, "LABEL_STUDIO_HOST": front.url + "/ls"},
                     work / "uwsgi-postgres.log")  # fmt: skip
    stack.callback(prefixed.process.stop)
    processes += [direct.process, prefixed.process]
    processes.append(front.start(nginx_exe, direct.port, prefixed.port))
    stack.callback(processes[-1].stop)
    for server in (direct, prefixed):
        server.wait_ready()
    front.wait_ready()

    cacert = str(front.cacert)
    shapes = [
        {"name": "uwsgi", "url": direct.url, "cacert": None, "database": "sqlite",
         "seeded": str(seeded)},
        {"name": "nginx", "url": front.url, "cacert": cacert, "database": "sqlite",
         "seeded": str(seeded)},
        {"name": "nginx-prefix", "url": front.url + "/ls", "cacert": cacert,
         "database": "postgresql", "seeded": str(seeded_pg)},
    ]  # fmt: skip
    path = work / "shapes.json"
    path.write_text(json.dumps({"shapes": shapes, "nginx_log": str(front.dir / "access.log")}))
    return {"LS_PROD_SHAPES": str(path)}, processes
