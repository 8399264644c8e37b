"""The typed result of a call, and the one function that turns a 2xx body into it.

``Connection`` *is* the generated ``ModelProviderConnection`` (same fields, same
``to_dict``) plus what the generated model cannot do: validate types, expose
``model_params`` as a dict whatever form the server sent, and keep secrets out of ``repr``.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import types
import typing
from collections.abc import Mapping
from typing import Any

import attrs
import httpx

from ls_model_providers_api import models as generated_models
from ls_model_providers_api.models import ModelParamsObject, ModelProviderConnection
from ls_model_providers_api.types import Unset

from ._errors import ResponseValidationError
from ._secrets import redact

__all__ = ["Connection", "DetailedResponse"]


class Connection(ModelProviderConnection):
    """One model provider connection, as the server sent it.

    Fields are the generated model's (see ``ModelProviderConnection``): unknown enum values
    are kept as pseudo-members (``conn.provider == "Mistral"``), fields the fragment does not
    know are in ``additional_properties``, optional fields the server left out are ``UNSET``,
    and ``created_by`` is ``None`` when the creating user was deleted.

    Example::

        conn = client.get_connection(1)
        conn.provider, conn.budget_limit, conn.model_params_dict.get("properties")
    """

    __slots__ = ()

    @property
    def model_params_dict(self) -> dict[str, Any] | None:
        """``model_params`` as a dict, whether the server sent JSON text or an object.

        ``None`` when the server sent text that is not a JSON object.
        """
        if isinstance(self.model_params, ModelParamsObject):
            return dict(self.model_params.additional_properties)
        try:
            parsed = json.loads(self.model_params)
        except (ValueError, RecursionError):
            return None
        return parsed if isinstance(parsed, dict) else None

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in redact(self.to_dict()).items())
        return f"Connection({fields})"

    __str__ = __repr__


@attrs.frozen
class DetailedResponse:
    """A call's full answer: ``status_code``, ``headers``, the raw ``content``, and ``parsed``."""

    status_code: int
    headers: httpx.Headers
    content: bytes = attrs.field(repr=False)
    parsed: Connection
    url: str
    #: How many attempts the call took (1 = no retry).
    attempts: int = 1


# -- validation ---------------------------------------------------------------------------
# The generated from_dict trusts its input (a string where a number belongs passes through),
# so the JSON types are checked first, against a table derived from the generated classes'
# annotations: the fragment stays the single source of truth.

_Check = tuple[str, tuple[type, ...], bool, "tuple[_Check, ...] | None", bool]
_NoneType = type(None)


def _json_types(hint: Any) -> tuple[tuple[type, ...], bool, tuple[_Check, ...] | None, bool]:
    """(allowed JSON types, may be absent, nested table, is date-time) for one annotation."""
    args = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    allowed: list[type] = []
    optional, nested, is_datetime = False, None, False
    for arg in args:
        if arg is Unset:
            optional = True
        elif arg is float:
            allowed += [int, float]
        elif arg is dt.datetime:
            allowed.append(str)
            is_datetime = True
        elif isinstance(arg, type) and issubclass(arg, enum.Enum):
            allowed.append(str)
        elif attrs.has(arg):
            allowed.append(dict)
            nested = _table(arg)
        else:
            allowed.append(arg)
    return tuple(dict.fromkeys(allowed)), optional, nested, is_datetime


def _table(cls: type) -> tuple[_Check, ...]:
    # The generated modules import their nested models only under TYPE_CHECKING.
    hints = typing.get_type_hints(cls, localns=vars(generated_models))
    table = []
    for field in attrs.fields(cls):
        if field.name == "additional_properties":
            continue
        allowed, optional, nested, is_datetime = _json_types(hints[field.name])
        table.append((field.name, allowed, optional, nested, is_datetime))
    return tuple(table)


_JSON_NAMES = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    dict: "object",
    list: "array",
}
_JSON_NAMES[_NoneType] = "null"


def _null_last(name: str) -> bool:
    return name == "null"


def _type_name(value: object) -> str:
    return _JSON_NAMES.get(type(value), type(value).__name__)


def _problem(data: Mapping[str, Any], table: tuple[_Check, ...], prefix: str = "") -> str | None:
    """The first way ``data`` breaks the table, or ``None``. Never shows a value."""
    for name, allowed, optional, nested, is_datetime in table:
        if name not in data:
            if optional:
                continue
            return f"missing required field '{prefix}{name}'"
        value = data[name]
        # bool is an int subclass in Python, not in JSON.
        if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
            names = sorted((_JSON_NAMES.get(t, t.__name__) for t in allowed), key=_null_last)
            return f"field '{prefix}{name}': expected {' or '.join(names)}, got {_type_name(value)}"
        if is_datetime and isinstance(value, str):
            try:
                dt.datetime.fromisoformat(value)
            except ValueError:
                return f"field '{prefix}{name}': not an ISO 8601 date-time"
        if nested is not None and isinstance(value, dict):
            found = _problem(value, nested, f"{prefix}{name}.")
            if found:
                return found
    return None


_CONNECTION_TABLE: tuple[_Check, ...] | None = None


def connection_problem(data: Mapping[str, Any]) -> str | None:
    """Why ``data`` is not a valid connection body, or ``None`` if it is."""
    global _CONNECTION_TABLE  # built on first use, not at import
    if _CONNECTION_TABLE is None:
        _CONNECTION_TABLE = _table(ModelProviderConnection)
    return _problem(data, _CONNECTION_TABLE)


def parse_connection(response: httpx.Response) -> Connection:
    """Parse a 2xx response into a ``Connection`` or raise ``ResponseValidationError``."""
    try:
        data = json.loads(response.content)
    except (ValueError, UnicodeDecodeError, RecursionError):
        kind = response.headers.get("content-type", "no content type")
        raise _invalid(response, f"body is not JSON ({kind})") from None
    if not isinstance(data, dict):
        raise _invalid(response, f"body is a JSON {_type_name(data)}, not an object")
    problem = connection_problem(data)
    if problem:
        raise _invalid(response, problem)
    try:
        return Connection.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # pragma: no cover
        # The table above mirrors from_dict; this is a net for a generator change.
        raise _invalid(response, f"body does not match the schema ({type(exc).__name__})") from None


def _invalid(response: httpx.Response, why: str) -> ResponseValidationError:
    return ResponseValidationError(
        f"HTTP {response.status_code} with an invalid body: {why}",
        status_code=response.status_code,
        body=response.content,
        headers=response.headers,
        method=response.request.method,
        url=str(response.request.url),
    )
