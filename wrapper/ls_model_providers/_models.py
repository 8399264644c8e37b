"""The typed result of a call, and the one function that turns a 2xx body into it.

``Connection`` *is* the generated ``ModelProviderConnection`` (same fields, same
``to_dict``) plus what the generated model cannot do: validate types, expose
``model_params`` as a dict whatever form the server sent, and keep secrets out of ``repr``.
"""

from __future__ import annotations

import datetime as dt
import enum
import types
import typing
from collections.abc import Callable
from typing import Any

import attrs
import httpx

from ls_model_providers_api import models as generated_models
from ls_model_providers_api.models import ModelParamsObject, ModelProviderConnection
from ls_model_providers_api.types import Unset

from ._body import JSONRejected, loads
from ._errors import Answer, ResponseValidationError
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

    #: The scrubber of the client that fetched it: a server echoing the key into a field
    #: does not get it printed by ``repr``.
    __slots__ = ("_scrub",)
    _scrub: Callable[[str], str]

    @property
    def model_params_dict(self) -> dict[str, Any] | None:
        """``model_params`` as a dict, whether the server sent JSON text or an object.

        ``None`` when the server sent text that is not a JSON object.
        """
        if isinstance(self.model_params, ModelParamsObject):
            return dict(self.model_params.additional_properties)
        try:
            parsed = loads(self.model_params)
        except JSONRejected:
            return None
        return parsed if isinstance(parsed, dict) else None

    def __repr__(self) -> str:
        """The fields as the server sent them (``to_dict()``: JSON values, not the parsed
        types), secret fields and values ``<redacted>``, nesting bounded, and the credentials
        of the client that fetched it scrubbed out."""
        fields = ", ".join(f"{k}={v!r}" for k, v in redact(self.to_dict()).items())
        text = f"Connection({fields})"
        scrub: Callable[[str], str] | None = getattr(self, "_scrub", None)
        return scrub(text) if scrub is not None else text

    __str__ = __repr__


@attrs.frozen
class DetailedResponse:
    """A call's full answer: ``status_code``, ``headers``, the raw ``content``, and ``parsed``."""

    status_code: int
    #: As the server sent them (it may echo credentials): not in ``repr``, like ``content``.
    headers: httpx.Headers = attrs.field(repr=False)
    content: bytes = attrs.field(repr=False)
    parsed: Connection
    url: str
    #: How many attempts the call took (1 = no retry).
    attempts: int = 1


# -- parsing ------------------------------------------------------------------------------
# The generated from_dict trusts its input (a string where a number belongs passes through)
# and rebuilds 19 nested closures per call. So a body is checked and built in one pass, by a
# plan compiled once from the generated classes' annotations: the fragment stays the single
# source of truth, and a property test pins the result to the generated from_dict's.

_NoneType = type(None)
_JSON_NAMES: dict[type, str] = {
    str: "string", int: "integer", float: "number", bool: "boolean", dict: "object",
    list: "array", _NoneType: "null",
}  # fmt: skip


class _GeneratedModels(dict[str, Any]):
    """Names the generated annotations mention, imported on demand (models load lazily)."""

    def __missing__(self, name: str) -> Any:
        if name not in generated_models.__all__:
            raise KeyError(name)  # not a model: eval() falls back to the module's globals
        return getattr(generated_models, name)


class _Invalid(Exception):
    """Why a body is not a valid instance (never carries a value, only names and types)."""


def _identity(value: Any) -> Any:
    return value


class _Members(dict[str, enum.Enum]):
    """An enum's members by value, looked up in C (calling the enum class costs ten times as
    much); a value not listed goes to the class, which keeps it (custom template)."""

    __slots__ = ("enum",)

    def __init__(self, cls: type[enum.Enum]) -> None:
        super().__init__((member.value, member) for member in cls)
        self.enum = cls

    def __missing__(self, value: str) -> enum.Enum:
        return self.enum(value)


class _Field:
    __slots__ = ("converters", "name", "optional")

    def __init__(self, name: str, converters: dict[type, Any], optional: bool) -> None:
        self.name = name
        #: JSON type -> converter to the model's value; a JSON type absent here is an error.
        self.converters = converters
        self.optional = optional

    def expected(self) -> str:
        names = sorted((_JSON_NAMES[t] for t in self.converters), key=lambda name: name == "null")
        return " or ".join(names)


class _Plan:
    __slots__ = ("cls", "fields", "names")

    def __init__(self, cls: type, fields: tuple[_Field, ...]) -> None:
        self.cls, self.fields = cls, fields
        self.names = frozenset(f.name for f in fields)

    def build(self, data: dict[str, Any], prefix: str = "") -> Any:
        kwargs: dict[str, Any] = {}
        for field in self.fields:
            name = field.name  # (read once: this loop runs for every field of every answer)
            try:
                value = data[name]
            except KeyError:
                if field.optional:
                    continue
                raise _Invalid(f"missing required field '{prefix}{name}'") from None
            convert = field.converters.get(type(value))
            if convert is _identity:
                kwargs[name] = value
            elif convert is None:
                raise _Invalid(
                    f"field '{prefix}{name}': expected {field.expected()}, got {_type_name(value)}"
                )
            elif type(convert) is _Plan:
                kwargs[name] = convert.build(value, f"{prefix}{name}.")
            else:
                try:
                    kwargs[name] = convert(value)
                except ValueError:  # only datetime.fromisoformat raises (enums keep unknowns)
                    raise _Invalid(f"field '{prefix}{name}': not an ISO 8601 date-time") from None
        instance = self.cls(**kwargs)
        if len(kwargs) < len(data):  # fields this client does not know: kept, not dropped
            instance.additional_properties = {k: v for k, v in data.items() if k not in self.names}
        return instance


def _compile(cls: type) -> _Plan:
    """The plan for one generated attrs class (nested classes get plans of their own)."""
    # The generated modules import their nested models only under TYPE_CHECKING.
    hints = typing.get_type_hints(cls, localns=_GeneratedModels())
    fields = []
    for attribute in attrs.fields(cls):
        if attribute.name == "additional_properties":
            continue
        hint = hints[attribute.name]
        args = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
        converters: dict[type, Any] = {}
        optional = False
        for arg in args:
            if arg is Unset:
                optional = True
            elif arg is float:  # a JSON number: 1 and 1.0 both (bool is not a number)
                converters[int] = converters[float] = _identity
            elif arg is dt.datetime:
                converters[str] = dt.datetime.fromisoformat
            elif isinstance(arg, type) and issubclass(arg, enum.Enum):
                converters[str] = _Members(arg).__getitem__
            elif attrs.has(arg):
                converters[dict] = _compile(arg)
            elif arg in _JSON_NAMES:
                converters[arg] = _identity
            else:  # pragma: no cover - a type the generator did not emit when this was written
                raise TypeError(f"cannot parse {cls.__name__}.{attribute.name}: {arg!r}")
        fields.append(_Field(attribute.name, converters, optional))
    return _Plan(cls, tuple(fields))


def _type_name(value: object) -> str:
    return _JSON_NAMES.get(type(value), type(value).__name__)


_PLAN: _Plan | None = None


def build_connection(data: dict[str, Any]) -> Connection:
    """A validated ``Connection`` from a decoded JSON object; ``ValueError`` says why not."""
    global _PLAN  # compiled on first use, not at import
    if _PLAN is None:
        _PLAN = _compile(Connection)
    try:
        connection: Connection = _PLAN.build(data)
    except _Invalid as exc:
        raise ValueError(str(exc)) from None
    return connection


def parse_connection(answer: Answer) -> Connection:
    """Parse a 2xx answer into a ``Connection`` or raise ``ResponseValidationError``.

    ``Answer.of(response)`` adapts an ``httpx.Response`` whose body was read.
    """
    try:
        data = loads(answer.content)
    except JSONRejected as exc:
        kind = answer.headers.get("content-type", "no content type")
        why = f"body is not JSON ({kind})" if exc.malformed else f"body is not accepted JSON: {exc}"
        raise _invalid(answer, why, malformed=exc.malformed) from None
    if not isinstance(data, dict):
        raise _invalid(answer, f"body is a JSON {_type_name(data)}, not an object")
    try:
        return build_connection(data)
    except ValueError as exc:
        raise _invalid(answer, str(exc)) from None


def _invalid(answer: Answer, why: str, *, malformed: bool = False) -> ResponseValidationError:
    return ResponseValidationError(
        f"HTTP {answer.status_code} with an invalid body: {why}",
        malformed=malformed,
        **answer.common(),
    )
