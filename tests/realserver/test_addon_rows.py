"""Property tests against the real stack: every seeded row (named shapes and hypothesis-drawn
ones, see ``rows.py``), fetched raw and with our client, the generated library and the
official SDK, in both ``model_params`` forms.

Each answer must parse, validate against the fragment, hold no secret, and equal the stored
row as DRF renders it (the seed's independent rendering, see ``seed.py``).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from ls_model_providers import Client, NotFoundError
from ls_model_providers_api import AuthenticatedClient
from ls_model_providers_api.api.model_providers import api_model_provider_connections_retrieve
from ls_model_providers_api.models import LabelStudioError, ModelProviderConnection

from .stack import DATETIMES, SECRETS, Stack, comparable, fragment

ENDPOINT = "/api/model-provider-connections/{}/"
FORMS = ("object", "string")


@pytest.fixture(scope="module", params=FORMS)
def form(request: pytest.FixtureRequest, stack: Stack) -> Iterator[str]:
    with stack.switched(request.param):
        yield request.param


@pytest.fixture(scope="module")
def operation() -> Any:
    import schemathesis

    schema = schemathesis.openapi.from_dict(fragment())
    return next(iter(schema.get_all_operations())).ok()  # type: ignore[union-attr]  # valid: tests/test_spec.py


ABSENT = "<absent>"


def _plain(value: Any, like: Any) -> Any:
    """A client's value as JSON-like data shaped like ``like`` (the expected value); a field
    the client lost shows as ``<absent>``."""
    if isinstance(like, dict) and value is not None:
        if hasattr(value, "to_dict"):  # generated attrs models (ours and the library's)
            value = value.to_dict()
        if not isinstance(value, dict):  # the SDK's pydantic models (model_dump warns
            # about the string form of model_params, which it types as a dict)
            return {k: _plain(getattr(value, k, ABSENT), v) for k, v in like.items()}
        return {k: _plain(value.get(k, ABSENT), v) for k, v in like.items()}
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _assert_equal(got: Any, expected: dict[str, Any], who: str) -> None:
    assert comparable(_plain(got, expected)) == comparable(expected), who


def _assert_secret_free(raw: bytes, row: dict[str, Any]) -> None:
    text = raw.decode()
    for name, secret in row["secrets"].items():
        escaped = json.dumps(secret)[1:-1]
        assert secret not in text and escaped not in text, f"{name}'s value is in the body"
    assert not set(SECRETS) & set(json.loads(raw)), "a secret field is in the body"


def test_raw_answer_is_the_stored_row(
    row: dict[str, Any], form: str, stack: Stack, operation: Any
) -> None:
    from schemathesis.specs.openapi.checks import response_schema_conformance

    response = httpx.get(
        stack.url + ENDPOINT.format(row["id"]),
        headers={"Authorization": f"Token {stack.viewer_token(row)}"},
    )
    expected = stack.expected(row, form)
    if expected is None:
        assert response.status_code == 404, "a row of no organisation is nobody's"
        return
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == "application/json"
    case = operation.Case(path_parameters={"id": row["id"]})
    case.validate_response(response, checks=[response_schema_conformance])
    _assert_secret_free(response.content, row)
    body = response.json()
    assert body == expected, "the body is not the stored row as DRF renders it"
    assert set(body) == set(expected)


def test_our_client_parses_it(row: dict[str, Any], form: str, stack: Stack) -> None:
    with Client(base_url=stack.url, api_key=stack.viewer_token(row)) as client:
        expected = stack.expected(row, form)
        if expected is None:
            with pytest.raises(NotFoundError):
                client.get_connection(row["id"])
            return
        detailed = client.get_connection_detailed(row["id"])
    conn = detailed.parsed
    _assert_secret_free(detailed.content, row)
    _assert_equal(conn, expected, "ls_model_providers.Client")
    params = expected["model_params"]
    assert conn.model_params_dict == (json.loads(params) if form == "string" else params)
    assert set(conn.to_dict()) == set(expected), "a field was lost or invented"
    assert not any(secret in repr(conn) for secret in row["secrets"].values())


def test_generated_library_parses_it(row: dict[str, Any], form: str, stack: Stack) -> None:
    client = AuthenticatedClient(base_url=stack.url, token=stack.viewer_token(row), prefix="Token")
    with client:
        answer = api_model_provider_connections_retrieve.sync_detailed(id=row["id"], client=client)
    expected = stack.expected(row, form)
    if expected is None:
        assert answer.status_code == 404
        assert isinstance(answer.parsed, LabelStudioError)
        return
    assert isinstance(answer.parsed, ModelProviderConnection)
    _assert_equal(answer.parsed, expected, "ls_model_providers_api")
    assert set(answer.parsed.to_dict()) == set(expected)


def test_official_sdk_reads_it(row: dict[str, Any], form: str, stack: Stack) -> None:
    # Installed by the realserver session (the `bench` extra).
    import label_studio_sdk as sdk
    from label_studio_sdk.core.api_error import ApiError

    with httpx.Client() as http:  # the SDK cannot close its own
        client = sdk.LabelStudio(
            base_url=stack.url, api_key=stack.viewer_token(row), httpx_client=http
        )
        expected = stack.expected(row, form)
        if expected is None:
            with pytest.raises(ApiError) as info:
                client.model_providers.get(row["id"])
            assert info.value.status_code == 404
            return
        conn = client.model_providers.get(row["id"])
    _assert_equal(conn, expected, "label-studio-sdk")


def test_another_organisations_row_is_a_404_like_a_missing_one(stack: Stack) -> None:
    admin = {"Authorization": f"Token {stack.token('admin')}"}
    theirs = [r for r in stack.rows if r["org"] == 2]
    assert theirs, "the seed has rows of another organisation"
    missing = httpx.get(stack.url + ENDPOINT.format(2**31), headers=admin)
    for row in theirs:
        other = httpx.get(stack.url + ENDPOINT.format(row["id"]), headers=admin)
        assert (other.status_code, other.json()["detail"]) == (404, missing.json()["detail"])


def test_the_seed_stored_what_was_generated(row: dict[str, Any]) -> None:
    # The oracle above is what the ORM read back; this checks it is what hypothesis drew
    # (strings exact, floats exact, instants equal), so a lossy store cannot hide there.
    if row["expected"] is None:
        return
    stored = comparable(row["expected"])
    for name, drawn in row["fields"].items():
        if name in DATETIMES and drawn is not None:
            drawn = datetime.fromisoformat(drawn)
        if drawn == 0.0 and isinstance(drawn, float):
            # SQLite stores -0.0 as the integer 0 (PostgreSQL, Enterprise's database,
            # keeps the sign): the one loss allowed, and only of the sign of zero.
            assert stored[name] == 0.0, name
        else:  # repr: exact, down to the last bit of a float
            assert repr(stored[name]) == repr(drawn), name


def test_creators_in_every_state_are_rendered_as_label_studio_does(stack: Stack) -> None:
    active = stack.row("provider-OpenAI")["expected"]["created_by"]
    assert set(active) == {"id", "first_name", "last_name", "email", "avatar"}, (
        "no username in 1.23.2"
    )
    assert len(active["first_name"]) == 256 and "\u2028" in active["first_name"]
    assert stack.row("creator-deactivated")["expected"]["created_by"]["first_name"] == "Deactivated"
    removed = stack.row("creator-removed")["expected"]["created_by"]
    assert removed | {"id": 0} == {"id": 0, "first_name": "Deleted", "last_name": "User",
                                   "email": "Deleted", "username": "Deleted", "avatar": None}  # fmt: skip
    assert stack.row("creator-deleted")["expected"]["created_by"] is None
