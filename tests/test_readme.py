"""Every Python block in the README runs as written, against a served mock.

The blocks read ``LABEL_STUDIO_URL``, ``LABEL_STUDIO_API_KEY`` (a legacy token) and
``LABEL_STUDIO_PERSONAL_ACCESS_TOKEN`` from the environment, as a user's code would; here they
point at the mock. Each block runs alone in a fresh namespace, so one that needs an import it
does not have fails here as it would for someone pasting it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from ls_model_providers.mock import ServedMock, create_app, serve_in_thread

from .conftest import ROOT

BLOCKS = re.findall(r"^```python\n(.*?)^```", (ROOT / "README.md").read_text(), re.S | re.M)


@pytest.fixture(scope="module")
def served() -> Iterator[ServedMock]:
    with serve_in_thread(create_app()) as mock:
        yield mock


def test_the_readme_has_python_blocks() -> None:
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i + 1}" for i in range(len(BLOCKS))])
def test_readme_block_runs_as_written(
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
    exec(compile(code, "README.md", "exec"), {"__name__": "__readme__"})  # noqa: S102 - our own README
    assert capsys.readouterr().out, "every block shows what it does"
