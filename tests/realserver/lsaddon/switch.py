"""The add-on's runtime switch, read on every request (no Django import: the tests use it too).

The tests write a small JSON file whose path is in ``LSADDON_SWITCH``; flipping the
``model_params`` form or a regression then needs no server restart.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

ENV = "LSADDON_SWITCH"
FORMS = ("object", "string")
#: Realistic regressions, each of which the conformance suite must catch.
REGRESSIONS = {
    "secret_kept": "to_representation no longer removes the secret fields",
    "auth_off": "authentication and permissions switched off (AllowAny, no authenticators)",
    "field_renamed": "budget_limit renamed to budget_cap",
    "field_retyped": "budget_limit sent as a decimal string, as a DecimalField would",
    "created_by_flat": "created_by sent as the user's id, ModelSerializer's default",
    "params_secret": "model_params carries the connection's provider key and PEM private key "
    "as default values",
    "secret_after_first": "api_key kept in every detail answer but the first a process serves",
    "noslash_open": "the route without its trailing slash serves requests without credentials "
    "as the first superuser (a trusted-network fallback left in)",
    "authz_no_org_filter": "the queryset is no longer filtered by the active organisation and "
    "the object permission is gone: any user who passes the role check reads and lists every row",
    "authz_oracle": "the detail is looked up in the whole table, its object permission kept: "
    "another organisation's row is a 403 where an unknown id is a 404",
    "authz_no_role_check": "the view-level role check is dropped: a member without the role "
    "lists every row of the organisation (the object permission still guards the detail)",
}


@dataclasses.dataclass(frozen=True)
class Switch:
    model_params: str = "object"
    regression: str | None = None

    def __post_init__(self) -> None:
        if self.model_params not in FORMS:
            raise ValueError(f"model_params must be one of {FORMS}")
        if self.regression is not None and self.regression not in REGRESSIONS:
            raise ValueError(f"unknown regression {self.regression!r}")


def read() -> Switch:
    """The switch in force: the file's content, or the defaults when there is none."""
    path = os.environ.get(ENV)
    if not path:
        return Switch()
    try:
        return Switch(**json.loads(Path(path).read_text()))
    except FileNotFoundError:
        return Switch()


def stamp() -> tuple[int, int] | None:
    """The identity of the switch in force (every ``write`` makes a new file), so a process
    can tell when it was switched; None when there is none."""
    path = os.environ.get(ENV)
    try:
        info = os.stat(path) if path else None
    except FileNotFoundError:
        return None
    return None if info is None else (info.st_ino, info.st_mtime_ns)


def write(path: str | Path, switch: Switch) -> None:
    """Replace the switch atomically (a request never reads half a file)."""
    target = Path(path)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(dataclasses.asdict(switch)))
    tmp.replace(target)
