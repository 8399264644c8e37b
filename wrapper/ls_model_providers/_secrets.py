"""What counts as a secret, and how it is hidden. Used by every repr, log line and output."""

from __future__ import annotations

import re
from typing import Any

REDACTED = "<redacted>"

# A field is secret when its name ends in one of these words (api_key, auth_token,
# google_application_credentials, client_secret, ...). Whole words only: `max_tokens` in a
# model_params schema is not a secret.
_SECRET_NAME = re.compile(
    r"(?:^|[_\-])(?:api_?key|apikey|key|token|secret|password|passwd|credentials?|authorization|"
    r"cookie)$",
    re.IGNORECASE,
)
# Values that are secrets whatever their field is called: JWTs and PEM private keys.
_SECRET_VALUE = re.compile(r"^eyJ[\w-]*\.[\w-]+\.[\w-]*$|-----BEGIN [A-Z ]*PRIVATE KEY-----")


def is_secret_name(name: str) -> bool:
    """True for field names that hold credentials (``api_key``, ``auth_token``, ...)."""
    return bool(_SECRET_NAME.search(name))


def is_secret_value(value: object) -> bool:
    """True for values that are credentials whatever they are called (JWTs, private keys)."""
    return isinstance(value, str) and bool(_SECRET_VALUE.search(value))


def redact(value: Any) -> Any:
    """A copy of a JSON-like value with every secret replaced by ``<redacted>``."""
    if isinstance(value, dict):
        return {
            k: REDACTED if (isinstance(k, str) and is_secret_name(k)) and v else redact(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v) for v in value]
    return REDACTED if is_secret_value(value) else value


def mask(secret: str) -> str:
    """How a credential is shown to people: never its characters."""
    return f"<{len(secret)} chars>" if secret else "<empty>"
