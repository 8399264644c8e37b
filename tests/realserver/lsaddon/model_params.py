"""``model_params``: not a model field but computed per provider (no Django import: the tests
compare with it).

Enterprise documents it as the JSON schema of the parameters a provider's models take;
this is a plausible such schema, the same for every row of a provider.
"""

from __future__ import annotations

import json
from typing import Any

_COMMON: dict[str, Any] = {
    "temperature": {"type": "number", "minimum": 0, "maximum": 2, "default": 1.0},
    "max_tokens": {"type": "integer", "minimum": 1},
}
_EXTRA: dict[str, dict[str, Any]] = {
    "AzureOpenAI": {"api_version": {"type": "string"}},
    "AzureAIFoundry": {"api_version": {"type": "string"}},
    "VertexAI": {"safety_settings": {"type": "array", "items": {"type": "object"}}},
    "Custom": {"extra_headers": {"type": "object"}},
}


def schema(provider: str) -> dict[str, Any]:
    return {"type": "object", "properties": {**_COMMON, **_EXTRA.get(provider, {})}}


def render(provider: str, form: str, defaults: dict[str, Any] | None = None) -> Any:
    """The value sent: an object (newer servers) or JSON text (the docs). ``defaults``: the
    parameters' default values (only a regression sends any)."""
    value = schema(provider)
    if defaults is not None:
        value["default"] = defaults
    return value if form == "object" else json.dumps(value)
