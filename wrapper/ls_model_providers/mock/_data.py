"""The mock's data: organisations, users (with their tokens) and connections.

Stored the way the server stores them (``model_params`` as an object, ``created_by`` as a
user id or ``None``); ``_app.py`` renders them the way a server of a given age sends them.
The default set is deterministic and covers every provider, Azure and Vertex specifics,
nulls, budgets, two organisations and a connection whose creator was deleted.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import attrs

from ls_model_providers._body import JSONRejected, loads

#: Bytes a ``--data`` file may hold, read no further: a connection takes about 1 KB as
#: ``to_json`` writes it and a user 0.3 KB (the default set is 9.7 KB), so 4 MiB hold some
#: 4,000 connections, far more than a test's data needs. The worst file of that size
#: (``[{},{},...]``) parses in about 1 s and 240 MB; ``/dev/zero`` took 2.7 GB unbounded.
MAX_DATA_FILE_SIZE = 4 * 1024 * 1024

PROVIDERS = ["OpenAI", "AzureOpenAI", "AzureAIFoundry", "VertexAI", "Gemini", "Anthropic", "Custom"]


def legacy_token(seed: str) -> str:
    """A deterministic 40-hex-char legacy token (the format Label Studio uses)."""
    return hashlib.sha1(seed.encode(), usedforsecurity=False).hexdigest()


@attrs.define
class User:
    id: int
    email: str
    first_name: str
    last_name: str
    username: str
    organization: int
    token: str
    #: Whether the user's role lets it view model provider connections.
    can_view: bool = True
    avatar: str | None = None
    #: False for a deactivated user: its token is refused ("User inactive or deleted.").
    is_active: bool = True
    #: True once removed from its organisation (the membership is soft-deleted): it is
    #: then shown as "Deleted User" in the connections it created.
    removed: bool = False


@attrs.define
class MockData:
    users: list[User]
    #: Connections as stored: ``created_by`` is a user id (or None), ``model_params`` a dict.
    connections: list[dict[str, Any]]

    def user_by_token(self, token: str) -> User | None:
        return next((u for u in self.users if u.token == token), None)

    def user(self, user_id: int) -> User | None:
        return next((u for u in self.users if u.id == user_id), None)

    def member_without_role(self) -> User | None:
        """A member of the admin's organisation (the first user's) whose role may not view
        connections (``alan``): a denied key the view's role check refuses."""
        admin = self.users[0]
        return next(
            (u for u in self.users[1:] if u.organization == admin.organization and not u.can_view and _usable(u)),
            None,
        )  # fmt: skip

    def other_organisation_user(self) -> User | None:
        """A user of another organisation whose role may view its own connections (``grace``):
        a denied key for the admin's rows that only the organisation filter refuses."""
        admin = self.users[0]
        return next(
            (u for u in self.users if u.organization != admin.organization and u.can_view and _usable(u)),
            None,
        )  # fmt: skip

    def owner(self, organization: int) -> User | None:
        """The organisation's creator: its first user here."""
        return next((u for u in self.users if u.organization == organization), None)

    @classmethod
    def from_json(cls, path: str | Path) -> MockData:
        """Load ``{"users": [...], "connections": [...]}`` (the shape of ``to_json``).

        Read bounded (``MAX_DATA_FILE_SIZE``) and parsed as the client parses bodies (RFC 8259,
        at most 64 levels deep). Every failure is a ``ValueError`` naming the file and what is
        wrong with it (unreadable, too large, not JSON, not that shape), so a bad ``--data``
        file is a usage error that says which and why.
        """
        try:
            with open(path, "rb") as handle:  # never more than the limit, even of /dev/zero
                content = handle.read(MAX_DATA_FILE_SIZE + 1)
        except OSError as exc:
            raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
        if len(content) > MAX_DATA_FILE_SIZE:
            raise ValueError(f"{path}: larger than {MAX_DATA_FILE_SIZE} bytes, not mock data")
        try:
            raw = loads(content)
        except JSONRejected as exc:
            where = exc.__context__  # the decoder's own error, which loads does not chain
            if isinstance(where, json.JSONDecodeError):  # a syntax error: say where it is
                reason = f"{where.msg}: line {where.lineno} column {where.colno}"
            else:
                reason = str(exc)
            raise ValueError(f"{path} is not JSON: {reason}") from None
        for key in ("users", "connections"):  # the shape first, then each item
            _list(raw, key, path)
        return cls(users=_users(raw, path), connections=_connections(raw, path))

    def to_json(self) -> str:
        return json.dumps(
            {"users": [attrs.asdict(u) for u in self.users], "connections": self.connections},
            indent=2,
        )


def _usable(user: User) -> bool:
    """Whether the user's legacy token authenticates it as a member of its organisation."""
    return user.is_active and not user.removed


_SHAPE = 'an object {"users": [...], "connections": [...]}, as MockData.to_json() writes it'


def _list(raw: Any, key: str, path: str | Path) -> list[Any]:
    if not isinstance(raw, dict):
        raise ValueError(f"{path} is not mock data: expected {_SHAPE}")
    items = raw.get(key)
    if not isinstance(items, list):
        raise ValueError(f"{path} is not mock data: no {key!r} list; expected {_SHAPE}")
    return items


def _users(raw: Any, path: str | Path) -> list[User]:
    users = []
    for index, item in enumerate(_list(raw, "users", path)):
        try:
            if not isinstance(item, dict):
                raise TypeError("not an object")
            user = User(**item)
            if type(user.id) is not int or type(user.organization) is not int:
                raise TypeError("id and organization must be integers")
            if not isinstance(user.token, str) or not user.token:
                raise TypeError("token must be a non-empty string")
        except TypeError as exc:
            raise ValueError(f"{path}: users[{index}]: {exc}") from None
        users.append(user)
    if not users:
        raise ValueError(f"{path}: no users (the first one is the admin whose token is printed)")
    return users


def _connections(raw: Any, path: str | Path) -> list[dict[str, Any]]:
    connections = _list(raw, "connections", path)
    for index, item in enumerate(connections):
        where = f"{path}: connections[{index}]"
        if not isinstance(item, dict):
            raise ValueError(f"{where}: not an object")
        for key in ("id", "organization"):
            if type(item.get(key)) is not int:
                raise ValueError(f"{where}: {key!r} must be an integer")
        if "created_by" not in item or (
            item["created_by"] is not None and type(item["created_by"]) is not int
        ):
            raise ValueError(f"{where}: 'created_by' must be a user id or null")
    return connections


def _params(*extra: str) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "temperature": {"type": "number", "minimum": 0, "maximum": 2, "default": 1.0},
        "max_tokens": {"type": "integer", "minimum": 1},
    }
    for name in extra:
        properties[name] = {"type": "string"}
    return {"type": "object", "properties": properties}


def _connection(
    connection_id: int, provider: str, organization: int, created_by: int | None, **fields: Any
) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": connection_id,
        "provider": provider,
        "scope": "Organization",
        "organization": organization,
        "created_by": created_by,
        "created_at": f"2026-01-{connection_id:02d}T09:30:00.123456Z",
        "updated_at": f"2026-02-{connection_id:02d}T12:00:00.000000Z",
        "model_params": _params(),
        "deployment_name": None,
        "endpoint": None,
        "google_project_id": None,
        "google_location": None,
        "cached_available_models": None,
        "is_internal": False,
        "budget_limit": None,
        "budget_alert_threshold": None,
        "budget_total_spent": 0.0,
        "budget_reset_period": None,
        "budget_last_reset_date": None,
    }
    base.update(fields)
    return base


def default_data(admin_token: str | None = None) -> MockData:
    """The default data set. ``admin_token`` replaces the first user's legacy token."""
    users = [
        User(
            1,
            "ada@acme.example",
            "Ada",
            "Lovelace",
            "ada",
            1,
            admin_token or legacy_token("ls-mock-ada"),
        ),
        User(
            2,
            "alan@acme.example",
            "Alan",
            "Turing",
            "alan",
            1,
            legacy_token("ls-mock-alan"),
            can_view=False,
        ),
        User(
            3, "grace@globex.example", "Grace", "Hopper", "grace", 2, legacy_token("ls-mock-grace")
        ),
    ]
    monthly = {"budget_limit": 100.0, "budget_alert_threshold": 80.0, "budget_total_spent": 12.5,
               "budget_reset_period": "Monthly", "budget_last_reset_date": "2026-02-01T00:00:00.000000Z"}  # fmt: skip
    connections = [
        _connection(
            1, "OpenAI", 1, 1, cached_available_models="gpt-4o,gpt-4o-mini,o3", budget_limit=1.0
        ),
        _connection(
            2,
            "AzureOpenAI",
            1,
            1,
            deployment_name="gpt-4o-prod",
            endpoint="https://acme-openai.openai.azure.com",
            **monthly,
        ),
        _connection(
            3,
            "AzureAIFoundry",
            1,
            1,
            deployment_name="phi-4",
            endpoint="https://acme-foundry.services.ai.azure.com",
            scope="User",
        ),
        _connection(
            4,
            "VertexAI",
            1,
            1,
            google_project_id="acme-ml",
            google_location="us-central1",
            model_params=_params("safety_settings"),
            budget_limit=500.0,
            budget_reset_period="Yearly",
            budget_total_spent=499.99,
            budget_last_reset_date="2026-01-01T00:00:00.000000Z",
        ),
        _connection(5, "Gemini", 1, 1, scope="Model", is_internal=None),
        _connection(6, "Anthropic", 1, None, cached_available_models="claude-sonnet-4-5"),
        _connection(7, "Custom", 1, 2, endpoint="https://llm.acme.internal/v1", is_internal=True),
        _connection(8, "OpenAI", 2, 3, scope="User", budget_limit=10.0),
        _connection(9, "Anthropic", 2, 3),
    ]
    return MockData(users=users, connections=connections)
