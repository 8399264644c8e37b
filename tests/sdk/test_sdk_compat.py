"""The official label-studio-sdk works against our served mock (run by ``nox -s sdk``)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from ls_model_providers import Client
from ls_model_providers.mock import ServedMock, create_app, serve_in_thread

sdk = pytest.importorskip(
    "label_studio_sdk", reason="installed only by `nox -s sdk` and `nox -s bench`"
)


@pytest.fixture(scope="module", params=["object", "string"])
def served(request: pytest.FixtureRequest) -> Iterator[ServedMock]:
    with serve_in_thread(create_app(model_params=request.param)) as mock:
        yield mock


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    # The SDK has no close(): hand it a client we close.
    with httpx.Client() as client:
        yield client


def test_sdk_get_works_against_the_mock(served: ServedMock, http: httpx.Client) -> None:
    client = sdk.LabelStudio(base_url=served.base_url, api_key=served.token, httpx_client=http)
    ours_client = Client(base_url=served.base_url, api_key=served.token)
    for connection_id in (1, 2, 4, 6):
        theirs = client.model_providers.get(connection_id)
        ours = ours_client.get_connection(connection_id)
        assert theirs.id == ours.id == connection_id
        assert theirs.provider == ours.provider
        assert theirs.deployment_name == ours.deployment_name
        assert theirs.budget_limit == ours.budget_limit
        assert (theirs.created_by is None) == (ours.created_by is None)
    ours_client.close()


def test_sdk_sees_the_mock_errors(served: ServedMock, http: httpx.Client) -> None:
    from label_studio_sdk.core.api_error import ApiError

    client = sdk.LabelStudio(base_url=served.base_url, api_key=served.token, httpx_client=http)
    with pytest.raises(ApiError) as info:
        client.model_providers.get(999)
    assert info.value.status_code == 404
    bad = sdk.LabelStudio(base_url=served.base_url, api_key="0" * 40, httpx_client=http)
    with pytest.raises(ApiError) as info:
        bad.model_providers.get(1)
    assert info.value.status_code == 401
