"""Properties of the generated models: lossless, tolerant of what servers add."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given

from ls_model_providers_api.models import (
    BudgetResetPeriodEnum,
    ModelParamsObject,
    ModelProviderConnection,
    ProviderEnum,
    ScopeEnum,
)
from ls_model_providers_api.types import UNSET

from .payloads import CONNECTION, UNKNOWN_PROVIDER, connections

UNKNOWN = UNKNOWN_PROVIDER

FULL: dict[str, Any] = {
    "id": 7,
    "provider": "AzureOpenAI",
    "scope": "Organization",
    "organization": 1,
    "created_by": {
        "id": 1,
        "email": "a@example.com",
        "avatar": None,
        "username": "ada",
        "is_active": True,
    },
    "created_at": "2026-01-05T09:30:00.000000Z",
    "updated_at": "2026-02-01T12:00:00Z",
    "model_params": '{"type": "object"}',
    "budget_limit": 1.0,
    "budget_total_spent": 0.5,
    "budget_reset_period": "Monthly",
    "budget_last_reset_date": "2026-02-01T00:00:00Z",
}


def _same_json(original: Any, dumped: Any) -> bool:
    """Equal as JSON, with datetimes compared as instants (``Z`` may come back ``+00:00``)."""
    if isinstance(original, dict):
        return (
            isinstance(dumped, dict)
            and original.keys() == dumped.keys()
            and all(_same_json(original[k], dumped[k]) for k in original)
        )
    if isinstance(original, str) and isinstance(dumped, str) and original != dumped:
        try:
            return dt.datetime.fromisoformat(original) == dt.datetime.fromisoformat(dumped)
        except ValueError:
            return False
    return bool(original == dumped)


@given(connections)
def test_round_trip_is_lossless(payload: dict[str, Any]) -> None:
    model = ModelProviderConnection.from_dict(payload)
    dumped = model.to_dict()
    assert ModelProviderConnection.from_dict(dumped) == model
    assert _same_json(payload, dumped), "a field was lost or changed"


@given(connections)
def test_extra_fields_are_kept_apart(payload: dict[str, Any]) -> None:
    model = ModelProviderConnection.from_dict(payload)
    extra = set(payload) - set(CONNECTION["properties"])
    assert set(model.additional_properties) == extra
    assert not payload or "id" not in model.additional_properties


def test_unknown_provider_is_kept_and_round_trips() -> None:
    model = ModelProviderConnection.from_dict({**FULL, "provider": UNKNOWN, "scope": "Team"})
    assert model.provider == UNKNOWN
    assert isinstance(model.provider, ProviderEnum)
    assert model.provider.value == UNKNOWN
    assert model.to_dict()["provider"] == UNKNOWN
    assert model.to_dict()["scope"] == "Team"
    assert ProviderEnum("AzureOpenAI") is ProviderEnum.AZUREOPENAI, "known values stay members"


def test_every_nullable_field_null_parses() -> None:
    nullable = [n for n, s in CONNECTION["properties"].items() if s.get("nullable")]
    payload = {**FULL, **dict.fromkeys(nullable)}
    model = ModelProviderConnection.from_dict(payload)
    for name in nullable:
        assert getattr(model, name) is None, name
    assert model.to_dict() == {**model.to_dict(), **dict.fromkeys(nullable)}


def test_typed_fields() -> None:
    model = ModelProviderConnection.from_dict({**FULL, "secret_thing": 1})
    assert model.created_at == dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.UTC)
    assert model.budget_reset_period is BudgetResetPeriodEnum.MONTHLY
    assert model.scope is ScopeEnum.ORGANIZATION
    assert model.deployment_name is UNSET
    assert model.additional_properties == {"secret_thing": 1}
    assert model.created_by is not None
    assert model.created_by.username == "ada"
    assert model.created_by.additional_properties == {"is_active": True}
    with_object = ModelProviderConnection.from_dict({**FULL, "model_params": {"type": "object"}})
    assert isinstance(with_object.model_params, ModelParamsObject)
    assert with_object.to_dict()["model_params"] == {"type": "object"}
