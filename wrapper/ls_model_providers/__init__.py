"""Typed client for Label Studio Enterprise's ``GET /api/model-provider-connections/{id}/``.

Example::

    from ls_model_providers import Client

    with Client(base_url="https://ls.example.com", api_key="...") as client:
        conn = client.get_connection(1)
        print(conn.provider, conn.budget_limit, conn.model_params_dict)
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ls_model_providers_api.types import UNSET, Unset

    from ._auth import PersonalAccessTokenAuth, TokenAuth
    from ._client import AsyncClient, Client
    from ._constants import DEFAULT_DEADLINE, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, MAX_BODY_SIZE
    from ._errors import (
        APIConnectionError,
        APIResponseError,
        APIStatusError,
        APITimeoutError,
        AuthenticationError,
        CertificateError,
        EndpointNotAvailableError,
        LabelStudioError,
        NotFoundError,
        PermissionDeniedError,
        RateLimitError,
        ResponseTooLargeError,
        ResponseValidationError,
        ServerError,
    )
    from ._models import Connection, DetailedResponse
    from ._retry import RetryPolicy

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_DEADLINE",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "MAX_BODY_SIZE",
    "UNSET",
    "APIConnectionError",
    "APIResponseError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncClient",
    "AuthenticationError",
    "CertificateError",
    "Client",
    "Connection",
    "DetailedResponse",
    "EndpointNotAvailableError",
    "LabelStudioError",
    "NotFoundError",
    "PermissionDeniedError",
    "PersonalAccessTokenAuth",
    "RateLimitError",
    "ResponseTooLargeError",
    "ResponseValidationError",
    "RetryPolicy",
    "ServerError",
    "TokenAuth",
    "Unset",
    "__version__",
]


#: Where each public name lives: imported when first used, so ``import ls_model_providers``
#: (and the command line's entry point) costs nothing until a name is needed.
_HOMES = {
    "UNSET": "ls_model_providers_api.types",
    "Unset": "ls_model_providers_api.types",
    "PersonalAccessTokenAuth": "._auth",
    "TokenAuth": "._auth",
    "AsyncClient": "._client",
    "Client": "._client",
    "DEFAULT_DEADLINE": "._constants",
    "DEFAULT_MAX_RETRIES": "._constants",
    "DEFAULT_TIMEOUT": "._constants",
    "MAX_BODY_SIZE": "._constants",
    "Connection": "._models",
    "DetailedResponse": "._models",
    "RetryPolicy": "._retry",
    "APIConnectionError": "._errors",
    "APIResponseError": "._errors",
    "APIStatusError": "._errors",
    "APITimeoutError": "._errors",
    "AuthenticationError": "._errors",
    "CertificateError": "._errors",
    "EndpointNotAvailableError": "._errors",
    "LabelStudioError": "._errors",
    "NotFoundError": "._errors",
    "PermissionDeniedError": "._errors",
    "RateLimitError": "._errors",
    "ResponseTooLargeError": "._errors",
    "ResponseValidationError": "._errors",
    "ServerError": "._errors",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(home, __name__), name)
    globals()[name] = value  # the next lookup is a plain global
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
