"""Every Python block in the README and in docs/ runs as written, against a served mock.

The blocks read ``LABEL_STUDIO_URL``, ``LABEL_STUDIO_API_KEY`` (a legacy token) and
``LABEL_STUDIO_PERSONAL_ACCESS_TOKEN`` from the environment, as a user's code would; here they
point at the mock. Each block runs alone in a fresh namespace, so one that needs an import it
does not have fails here as it would for someone pasting it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ls_model_providers.mock import ServedMock, create_app, serve_in_thread

from .conftest import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCKS = [
    (page.relative_to(ROOT).as_posix(), code)
    for page in PAGES
    for code in re.findall(r"^```python\n(.*?)^```", page.read_text(), re.S | re.M)
]


@pytest.fixture(scope="module")
def served() -> Iterator[ServedMock]:
    with serve_in_thread(create_app()) as mock:
        yield mock


def test_the_readme_has_python_blocks() -> None:
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize(
    ("page", "code"), BLOCKS, ids=[f"{page}-block{i + 1}" for i, (page, _) in enumerate(BLOCKS)]
)
def test_readme_block_runs_as_written(
    page: str,
    code: str,
    served: ServedMock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("LABEL_STUDIO_URL", served.base_url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", served.token)
    user = served.state.data.users[0]
    monkeypatch.setenv(
        "LABEL_STUDIO_PERSONAL_ACCESS_TOKEN", served.state.issue_refresh_token(user.id)
    )
    exec(compile(code, page, "exec"), {"__name__": "__readme__"})  # noqa: S102 - our own README
    assert capsys.readouterr().out, "every block shows what it does"


# -- the README as a user guide ---------------------------------------------------------------

README = (ROOT / "README.md").read_text()


def test_the_readme_is_a_guide_of_at_most_about_450_lines() -> None:
    assert len(README.splitlines()) <= 450
    headings = re.findall(r"^## (.+)$", README, re.M)
    assert headings[:3] == ["Quickstart", "The client", "The generated library on its own"]
    for link in re.findall(r"\]\((docs/[\w.-]+)\)", README):
        assert (ROOT / link).is_file(), link


def _anchors(page: str) -> set[str]:
    """The anchors a renderer gives the page's headings (lower case, punctuation dropped)."""
    return {
        re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        for heading in re.findall(r"^#+ (.+)$", page, re.M)
    }


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_every_relative_link_resolves(page: Path) -> None:
    """A link in README.md or docs/ leads to a file of the repository (relative to the page
    it is in, as a renderer reads it) and, with a #fragment, to a heading of that page."""
    text = page.read_text()
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue  # a web address
        path, _, fragment = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        missing = not linked.exists() or (
            fragment and linked.suffix == ".md" and fragment not in _anchors(linked.read_text())
        )
        if missing:
            broken.append(target)
    assert not broken, broken


def test_the_quickstart_starts_the_mock_first() -> None:
    quickstart = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    assert quickstart.index("ls-model-providers mock") < quickstart.index("```python")
    assert "export LABEL_STUDIO_URL=" in quickstart and "export LABEL_STUDIO_API_KEY=" in quickstart


def test_one_exit_code_table_for_every_command_as_their_help_says(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from ls_model_providers.cli import main

    table = [line for line in README.splitlines() if re.match(r"\| \*\*\d+\*\* \|", line)]
    header = next(line for line in README.splitlines() if line.startswith("| exit | meaning |"))
    commands = [c.strip() for c in header.split("|")[3:-1]]
    assert commands == ["get", "mock", "conformance", "spec-diff", "snapshot", "snapshot-diff"]
    for index, command in enumerate(commands):
        marked = {
            int(row.split("|")[1].strip("* "))
            for row in table
            if row.split("|")[3 + index].strip() == "✓"
        }
        with pytest.raises(SystemExit):
            main([command, "--help"])
        helped = {
            int(code)
            for code in re.findall(
                r"^  (\d+) ", capsys.readouterr().out.split("exit codes:")[1], re.M
            )
        }
        assert marked == helped, command


YAML_BLOCKS = re.findall(r"^```yaml\n(.*?)^```", README, re.S | re.M)


def _commands(job: Any) -> list[str]:
    steps = job.get("steps") or []
    return [s["run"] for s in steps if "run" in s] + list(job.get("script") or [])


def test_the_ci_jobs_are_valid_yaml_that_run_the_suite_and_keep_the_junit_file() -> None:
    import shlex

    import yaml

    from ls_model_providers.cli import build_parser

    assert len(YAML_BLOCKS) == 2
    github, gitlab = (yaml.safe_load(block) for block in YAML_BLOCKS)
    jobs = [github["jobs"]["conformance"], gitlab["label-studio-conformance"]]
    for job in jobs:
        commands = _commands(job)
        assert any("pip wheel" in c for c in commands) and any(
            ".whl)[conformance]" in c for c in commands
        )
        suite = next(c for c in commands if c.startswith("ls-model-providers conformance"))
        parser, _ = build_parser()
        args = parser.parse_args(shlex.split(suite)[1:])  # the line is a valid command
        assert str(args.junit_xml) == "reports/conformance.xml"
    secrets = github["jobs"]["conformance"]["steps"][4]["env"]
    assert set(secrets) == {"LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY", "LABEL_STUDIO_DENIED_KEYS"}
    assert any(
        s.get("uses", "").startswith("actions/upload-artifact")
        for s in github["jobs"]["conformance"]["steps"]
    )
    assert (
        gitlab["label-studio-conformance"]["artifacts"]["reports"]["junit"]
        == "reports/conformance.xml"
    )


def test_the_readme_says_how_to_set_every_variable_a_reproduction_reads() -> None:
    """A curl line the suite prints names its credentials by shell variable: each one is in
    the README, the access token's with the way to get one."""
    from ls_model_providers.conformance._context import (
        ACCESS_TOKEN_VARIABLE,
        API_KEY_VARIABLE,
        DENIED_KEY_VARIABLE,
    )

    for variable in (API_KEY_VARIABLE, f"{DENIED_KEY_VARIABLE}_n", ACCESS_TOKEN_VARIABLE):
        assert f"${variable}" in README, variable
    assert f"export {ACCESS_TOKEN_VARIABLE}=$(curl" in README
    assert f"export {DENIED_KEY_VARIABLE}_1=" in README


def test_the_first_command_is_about_120_requests_as_the_readme_says(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The first set-up command's run: conformance against the mock it starts itself."""
    import json

    from ls_model_providers.cli import main

    claimed = int(re.search(r"about\s+(\d+)\s+requests", README).group(1))  # type: ignore[union-attr]
    assert main(["conformance", "--json-report", "-"]) == 0
    sent = json.loads(capsys.readouterr().out)["requests"]
    assert abs(sent - claimed) <= claimed // 10, sent
