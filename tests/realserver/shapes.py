"""The production-shaped stack as the tests see it (``production.py`` starts it): each
shape's URL, the CA its TLS needs, its database and what was seeded there, and the tokens
to use on it."""

from __future__ import annotations

import json
import os
import ssl
from pathlib import Path
from typing import Any

import attrs
import httpx

from .stack import Stack

#: The credentials every test runs with: the viewer's legacy token, or a personal access
#: token made for that viewer with POST /api/token/.
CREDENTIALS = ("legacy", "personal")


@attrs.define
class Shape:
    name: str
    url: str
    cacert: str | None
    database: str
    stack: Stack

    @property
    def verify(self) -> ssl.SSLContext | bool:
        """What httpx and the Client trust here: the private CA behind nginx."""
        return ssl.create_default_context(cafile=self.cacert) if self.cacert else True

    @property
    def tls_options(self) -> list[str]:
        """The CLI's options to trust this shape's certificate."""
        return ["--cacert", self.cacert] if self.cacert else []


def load() -> list[Shape]:
    """Every shape of the running stack (needs ``LS_PROD_SHAPES``, set by the harness)."""
    spec = json.loads(Path(os.environ["LS_PROD_SHAPES"]).read_text())
    switch = os.environ["LS_ADDON_SWITCH"]
    return [
        Shape(s["name"], s["url"], s["cacert"], s["database"],
              Stack.load(s["url"], s["seeded"], switch))
        for s in spec["shapes"]
    ]  # fmt: skip


class Tokens:
    """Each viewer's tokens per database: personal access tokens are made once per database
    (a second POST /api/token/ is a 409), through whichever shape asks first."""

    def __init__(self) -> None:
        self._personal: dict[tuple[str, str], str] = {}

    def for_row(self, shape: Shape, row: dict[str, Any], credential: str) -> str:
        return self.of(shape, "grace" if row["org"] == 2 else "admin", credential)

    def of(self, shape: Shape, user: str, credential: str) -> str:
        legacy = shape.stack.token(user)
        if credential == "legacy":
            return legacy
        key = (shape.database, user)
        if key not in self._personal:
            # A connection of its own: uwsgi closes every one after its answer.
            created = httpx.post(
                f"{shape.url}/api/token/",
                headers={"Authorization": f"Token {legacy}"},
                verify=shape.verify,
            )
            assert created.status_code == 201, created.text
            self._personal[key] = created.json()["token"]
        return self._personal[key]


def visible(stack: Stack) -> list[dict[str, Any]]:
    """The rows some viewer may see (every named shape and drawn row of an organisation)."""
    return [r for r in stack.rows if r["expected"] is not None]
