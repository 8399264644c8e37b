"""Typed client for Label Studio Enterprise's ``GET /api/model-provider-connections/{id}/``.

Example::

    from ls_model_providers import Client

    with Client(base_url="https://ls.example.com", api_key="...") as client:
        conn = client.get_connection(1)
        print(conn.provider, conn.budget_limit, conn.model_params_dict)
"""

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
