"""The freshness check fails, naming the file, on a hand edit or an unregenerated spec change."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for part in ["openapi", "generated"]:
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def _check(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(tree / "openapi" / "regenerate.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )


def test_committed_generated_code_is_fresh(tree: Path) -> None:
    result = _check(tree)
    assert result.returncode == 0, result.stderr


def test_one_character_edited_in_generated_is_named(tree: Path) -> None:
    target = tree / "generated/ls_model_providers_api/models/scope_enum.py"
    target.write_text(target.read_text().replace('"User"', '"Usr"'))
    result = _check(tree)
    assert result.returncode == 1
    assert "differs: models/scope_enum.py" in result.stderr
    assert "nox -s generate" in result.stderr


def test_spec_change_without_regeneration_is_named(tree: Path) -> None:
    spec = tree / "openapi/model-provider-connection.yaml"
    spec.write_text(spec.read_text().replace("maxLength: 4096", "maxLength: 4095", 1))
    text = spec.read_text().replace(
        "        is_internal:\n",
        "        is_shared:\n          type: boolean\n        is_internal:\n",
    )
    spec.write_text(text)
    result = _check(tree)
    assert result.returncode == 1
    assert "differs: models/model_provider_connection.py" in result.stderr
    assert "is_shared" in result.stderr
