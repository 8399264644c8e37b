"""Where the OpenAPI fragment is at run time (the mock serves it, the conformance suite reads it).

Installed from a wheel it sits inside this package (``_openapi/``); from a source checkout
(editable install) it is ``openapi/`` at the top of the repository.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

NAME = "model-provider-connection.yaml"


def spec_path() -> Path:
    """The fragment's path; raises ``FileNotFoundError`` with both places it looked."""
    here = Path(__file__).resolve().parent
    candidates = [here / "_openapi" / NAME, here.parent.parent / "openapi" / NAME]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"OpenAPI fragment not found in {[str(c) for c in candidates]}")


@functools.cache
def _load() -> str:
    import yaml

    return json.dumps(yaml.safe_load(spec_path().read_text()))


def load_spec() -> dict[str, Any]:
    """A fresh copy of the fragment as a dict (callers may mutate it)."""
    spec: dict[str, Any] = json.loads(_load())
    return spec
