"""The add-on stack as the tests see it: its URL, what was seeded, and its runtime switch."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs
import yaml

from .lsaddon import model_params, switch

ROOT = Path(__file__).resolve().parents[2]
FRAGMENT = ROOT / "openapi" / "model-provider-connection.yaml"
DATETIMES = ("created_at", "updated_at", "budget_last_reset_date")
SECRETS = ("api_key", "auth_token", "google_application_credentials")


@attrs.define
class Stack:
    url: str
    seeded: dict[str, Any]
    switch_path: Path

    @classmethod
    def load(cls, url: str, seeded: str, switch_path: str) -> Stack:
        return cls(url, json.loads(Path(seeded).read_text()), Path(switch_path))

    @property
    def rows(self) -> list[dict[str, Any]]:
        return list(self.seeded["connections"])

    def row(self, shape: str) -> dict[str, Any]:
        return next(r for r in self.rows if r["shape"] == shape)

    def user(self, key: str) -> dict[str, Any]:
        return next(u for u in self.seeded["users"] if u["key"] == key)

    def token(self, key: str) -> str:
        return str(self.user(key)["token"])

    def viewer_token(self, row: dict[str, Any]) -> str:
        """A token of a member of the row's organisation (the admin's for rows of none)."""
        return self.token("grace" if row["org"] == 2 else "admin")

    def expected(self, row: dict[str, Any], form: str) -> dict[str, Any] | None:
        """The body the endpoint must send for ``row``: the seed's DRF rendering of the
        stored row plus the computed ``model_params``; None when nobody may see it."""
        if row["expected"] is None:
            return None
        provider = row["expected"]["provider"]
        return {**row["expected"], "model_params": model_params.render(provider, form)}

    @contextlib.contextmanager
    def switched(self, form: str = "object", regression: str | None = None) -> Iterator[None]:
        """The add-on in that mode for the block (read per request: no restart)."""
        switch.write(self.switch_path, switch.Switch(form, regression))
        try:
            yield
        finally:
            switch.write(self.switch_path, switch.Switch())


def fragment() -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(FRAGMENT.read_text())
    return spec


def comparable(body: dict[str, Any]) -> dict[str, Any]:
    """A body with its datetimes parsed, so renderings of the same instant compare equal."""
    out = dict(body)
    for name in DATETIMES:
        if isinstance(out.get(name), str):
            out[name] = datetime.fromisoformat(out[name])
    return out
