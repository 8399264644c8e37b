"""Start real Label Studio servers (1.23.2 from PyPI) on loopback, run a command, always stop them.

    python -m tests.realserver.harness --venv DIR --cache DIR -- pytest tests/realserver

Installs ``label-studio==VERSION`` (and pyuwsgi) into ``--venv`` once, migrates a template
data dir and a PostgreSQL cluster once (kept in ``--cache``), installs Debian's nginx and
postgresql when missing, then for every run starts, each on a copy of a template:

* Community as shipped under ``label-studio start`` (``LS_REAL_URL``): the endpoint is
  absent there;
* the same package with the ``lsaddon`` Django add-on under ``label-studio start``
  (``LS_ADDON_URL``), which serves the endpoint from the real model; its database is
  seeded first through the real ORM (``rows.py`` -> ``seed.py``; the result in
  ``LS_ADDON_SEEDED``), and its runtime switch file is ``LS_ADDON_SWITCH``;
* the production-shaped stack (``production.py``: uwsgi, nginx with TLS, a path prefix,
  PostgreSQL), seeded with the same rows; its shapes in the file ``LS_PROD_SHAPES``.

It waits until every server answers, runs the command with those variables and
``LS_REAL_TOKEN`` (the admin's legacy token) set, and stops every process by process group,
on failure too. Used by ``nox -s realserver``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import labelstudio, production
from .procs import log


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--venv", type=Path, required=True, help="where label-studio is installed (cached)"
    )
    parser.add_argument(
        "--cache", type=Path, required=True, help="where the migrated templates are kept"
    )
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command to run")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command to run")
    started = time.monotonic()
    exe = labelstudio.ensure_venv(args.venv.resolve())
    cache = args.cache.resolve()
    template = labelstudio.ensure_template(exe, cache)
    with tempfile.TemporaryDirectory(prefix="ls-real-") as tmp, contextlib.ExitStack() as stack:
        work = Path(tmp)
        community_dir, addon_dir, prod_dir = work / "community", work / "addon", work / "prod"
        shutil.copytree(template, community_dir)
        shutil.copytree(template, addon_dir)
        switch = work / "switch.json"
        # The Community server starts while the add-on's database is seeded.
        community = labelstudio.DevServer(
            exe, community_dir, work / "community.log", labelstudio.env(community_dir)
        )
        stack.callback(community.process.stop)
        rows = labelstudio.write_rows(work)
        addon_env = labelstudio.env(addon_dir, addon={"LSADDON_SWITCH": str(switch)})
        seeded = labelstudio.seed(exe, rows, work / "seeded-sqlite.json", addon_env)
        # The uwsgi server gets its own copy of the seeded database (tokens made by the
        # tests on one server must not exist on the other).
        shutil.copytree(addon_dir, prod_dir)
        addon = labelstudio.DevServer(exe, addon_dir, work / "addon.log", addon_env)
        stack.callback(addon.process.stop)
        prod_env, prod_processes = production.start(
            stack, exe, cache, work, (prod_dir, seeded), rows, switch
        )
        for server in (community, addon):
            server.wait_ready()
        log(f"every server is up {time.monotonic() - started:.0f} s after the start")
        env = {**os.environ, "LS_REAL_URL": community.url, "LS_REAL_TOKEN": labelstudio.TOKEN,
               "LS_ADDON_URL": addon.url, "LS_ADDON_SEEDED": str(seeded),
               "LS_ADDON_SWITCH": str(switch), **prod_env}  # fmt: skip
        result = subprocess.run(command, env=env, check=False)
        if result.returncode != 0:
            for process in [community.process, addon.process, *prod_processes]:
                log(f"{process.name}: {process.log_path.name} (last 40 lines):\n{process.tail()}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
