# mypy: allow-subclassing-any, allow-untyped-decorators, disable-error-code="import-not-found"
# (runs inside label-studio's own venv: Django, DRF and Label Studio are not installed where
# mypy runs, so their names are Any here)
"""The endpoint's serializer, rebuilt from the public facts: a ModelSerializer with fields
``__all__``, ``created_by`` a nested ``UserSimpleSerializer``, secrets removed in
``to_representation``, ``model_params`` computed. Regressions come from ``switch``."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from ml_model_providers.models import ModelProviderConnection
from rest_framework import serializers
from users.serializers import UserSimpleSerializer

from . import model_params, switch

SECRETS = ("api_key", "auth_token", "google_application_credentials")


class ModelProviderConnectionSerializer(serializers.ModelSerializer):
    created_by = UserSimpleSerializer(read_only=True)
    model_params = serializers.SerializerMethodField()

    class Meta:
        model = ModelProviderConnection
        fields = "__all__"
        # The published docs mark these read-only (and so required in the response).
        read_only_fields = ("organization", "budget_limit", "budget_last_reset_date",
                            "budget_reset_period", "budget_total_spent")  # fmt: skip

    # The docs type it as a string (JSON text), whichever form the body carries.
    @extend_schema_field(OpenApiTypes.STR)
    def get_model_params(self, obj: ModelProviderConnection) -> Any:
        state = switch.read()
        if state.regression == "params_secret":
            # The provider client's settings echoed as the parameters' defaults.
            defaults = {"extra_headers": {"X-Api-Key": obj.api_key},
                        "vertex_credentials": _private_key(obj.google_application_credentials)}  # fmt: skip
            return model_params.render(obj.provider, state.model_params, defaults)
        return model_params.render(obj.provider, state.model_params)

    def to_representation(self, instance: ModelProviderConnection) -> dict[str, Any]:
        data: dict[str, Any] = super().to_representation(instance)
        regression = switch.read().regression
        kept = set(SECRETS) if regression == "secret_kept" else set()
        if regression == "secret_after_first" and _later_detail_answer(self.context):
            kept.add("api_key")
        for name in set(SECRETS) - kept:
            data.pop(name, None)
        if regression == "field_renamed":
            data["budget_cap"] = data.pop("budget_limit")
        elif regression == "field_retyped" and data["budget_limit"] is not None:
            # What a FloatField -> DecimalField change would send (coerce_to_string).
            data["budget_limit"] = f"{Decimal(repr(data['budget_limit'])):.2f}"
        elif regression == "created_by_flat":
            data["created_by"] = instance.created_by_id
        return data


def _private_key(credentials: str | None) -> str | None:
    try:
        return str(json.loads(credentials or "")["private_key"])
    except (ValueError, KeyError, TypeError):
        return None


#: Detail answers this process has served since the switch it last saw (secret_after_first).
_served: dict[str, Any] = {"stamp": None, "count": 0}


def _later_detail_answer(context: dict[str, Any]) -> bool:
    """Whether this detail answer is not the first this process serves (since switched)."""
    view = context.get("view")
    if view is None or getattr(view, "action", None) != "retrieve":
        return False
    stamp = switch.stamp()
    if stamp != _served["stamp"]:
        _served.update(stamp=stamp, count=0)
    _served["count"] += 1
    return bool(_served["count"] > 1)
