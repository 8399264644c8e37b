"""Every workflow of the project is a session here. `nox` runs the default ones (CI).

nox                      generated_fresh, lint, typecheck, tests, sdk   (the README's test command)
nox -s realserver soak   real Label Studio, as developed and as deployed; soak and hostile tables (CI)
nox -s bench             benchmark table vs raw httpx and label-studio-sdk
nox -s generate          regenerate generated/ from openapi/
nox -s mutation          mutation score of the core and the conformance checks (~30 min)
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True
nox.options.sessions = ["generated_fresh", "lint", "typecheck", "tests", "sdk"]

ROOT = Path(__file__).parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
EXTRAS = PYPROJECT["project"]["optional-dependencies"]


@nox.session
def generate(session: nox.Session) -> None:
    """Regenerate generated/ls_model_providers_api from openapi/ with the pinned generator."""
    session.install(*EXTRAS["generate"])
    session.run("python", "openapi/regenerate.py")


@nox.session
def generated_fresh(session: nox.Session) -> None:
    """Fail if generated/ is not byte for byte what openapi/ generates."""
    session.install(*EXTRAS["generate"])
    session.run("python", "openapi/regenerate.py", "--check")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff lint and format check on the handwritten code."""
    session.install(*[r for r in EXTRAS["generate"] if r.startswith("ruff")])
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on both packages (configured in pyproject.toml)."""
    session.install("-e", ".[dev]")
    session.run("mypy")
    session.run("mypy", "tests", "benchmarks", "noxfile.py", "openapi/regenerate.py")


@nox.session
def tests(session: nox.Session) -> None:
    """The project's test suite (the SDK and real-server suites have sessions of their own)."""
    session.install("-e", ".[dev]")
    session.run("pytest", "--ignore=tests/sdk", "--ignore=tests/realserver", *session.posargs)


@nox.session
def sdk(session: nox.Session) -> None:
    """The official label-studio-sdk against our served mock (the SDK lives only in this venv)."""
    session.install("-e", ".[dev,bench]")
    session.run("pytest", "tests/sdk", *session.posargs)


@nox.session
def realserver(session: nox.Session) -> None:
    """Tests against a real Label Studio 1.23.2 (from PyPI) started on loopback: Community as
    shipped, with tests/realserver/lsaddon serving the endpoint from the real model, and that
    add-on deployed as in production (uwsgi, nginx with TLS and a path prefix, PostgreSQL).

    label-studio (and pyuwsgi) live in their own cached venv, and a migrated data dir and
    PostgreSQL cluster are cached too, so a warm run only copies them, seeds them and starts
    the servers (see tests/realserver/harness.py). Debian's nginx and postgresql are
    installed when missing (as root). The official SDK is installed here to be held to the
    real stack too.
    """
    session.install("-e", ".[dev,bench]")
    cache = ROOT / ".nox" / "_labelstudio"
    session.run(
        "python", "-m", "tests.realserver.harness", "--venv", str(cache / "venv"), "--cache", str(cache),
        "--", "python", "-m", "pytest", "tests/realserver", *session.posargs,
    )  # fmt: skip


@nox.session
def soak(session: nox.Session) -> None:
    """Reliability tables: the client against the served mock with >= 25 % faults, a parser
    fuzz run, a canary scan, and hostile servers on real sockets. Exits 1 if any invariant fails."""
    session.install("-e", ".[mock,conformance]")
    session.run("python", "benchmarks/soak.py", *session.posargs)
    session.run("python", "benchmarks/hostile.py")


@nox.session
def bench(session: nox.Session) -> None:
    """Print the benchmark table: ours vs raw httpx vs label-studio-sdk, same run."""
    session.install("-e", ".[mock,bench]")
    session.run("python", "benchmarks/bench.py")


@nox.session
def mutation(session: nox.Session) -> None:
    """Mutation testing (mutmut, pinned): per module of the core and the conformance checks,
    how many mutants the tests kill. Not a default session: about half an hour on two cores.
    Exits 1 if a module is under 90 %. See benchmarks/mutation.py."""
    session.install("-e", ".[dev]", "mutmut==3.8.1")
    session.run("python", "benchmarks/mutation.py", *session.posargs)
