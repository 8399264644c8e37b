from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.label_studio_error import LabelStudioError
from ...models.model_provider_connection import ModelProviderConnection
from ...types import Response


def _get_kwargs(
    id: int,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/model-provider-connections/{id}/".format(
            id=quote(str(id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> LabelStudioError | ModelProviderConnection | None:
    if response.status_code == 200:
        response_200 = ModelProviderConnection.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = LabelStudioError.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = LabelStudioError.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = LabelStudioError.from_dict(response.json())

        return response_404

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[LabelStudioError | ModelProviderConnection]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    id: int,
    *,
    client: AuthenticatedClient,
) -> Response[LabelStudioError | ModelProviderConnection]:
    """Retrieve a specific model provider connection

     Retrieve a specific model provider connection.

    The token (or API key) must be passed as a request header. You can find your user token on the User
    Account page in Label Studio. Example: `curl https://label-studio-host/api/projects -H
    "Authorization: Token [your-token]"`

    This endpoint is not available in Label Studio Community Edition.

    Args:
        id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[LabelStudioError | ModelProviderConnection]
    """

    kwargs = _get_kwargs(
        id=id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: int,
    *,
    client: AuthenticatedClient,
) -> LabelStudioError | ModelProviderConnection | None:
    """Retrieve a specific model provider connection

     Retrieve a specific model provider connection.

    The token (or API key) must be passed as a request header. You can find your user token on the User
    Account page in Label Studio. Example: `curl https://label-studio-host/api/projects -H
    "Authorization: Token [your-token]"`

    This endpoint is not available in Label Studio Community Edition.

    Args:
        id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        LabelStudioError | ModelProviderConnection
    """

    return sync_detailed(
        id=id,
        client=client,
    ).parsed


async def asyncio_detailed(
    id: int,
    *,
    client: AuthenticatedClient,
) -> Response[LabelStudioError | ModelProviderConnection]:
    """Retrieve a specific model provider connection

     Retrieve a specific model provider connection.

    The token (or API key) must be passed as a request header. You can find your user token on the User
    Account page in Label Studio. Example: `curl https://label-studio-host/api/projects -H
    "Authorization: Token [your-token]"`

    This endpoint is not available in Label Studio Community Edition.

    Args:
        id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[LabelStudioError | ModelProviderConnection]
    """

    kwargs = _get_kwargs(
        id=id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: int,
    *,
    client: AuthenticatedClient,
) -> LabelStudioError | ModelProviderConnection | None:
    """Retrieve a specific model provider connection

     Retrieve a specific model provider connection.

    The token (or API key) must be passed as a request header. You can find your user token on the User
    Account page in Label Studio. Example: `curl https://label-studio-host/api/projects -H
    "Authorization: Token [your-token]"`

    This endpoint is not available in Label Studio Community Edition.

    Args:
        id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        LabelStudioError | ModelProviderConnection
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
        )
    ).parsed
