from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.budget_reset_period_enum import BudgetResetPeriodEnum
from ..models.provider_enum import ProviderEnum
from ..models.scope_enum import ScopeEnum
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.model_params_object import ModelParamsObject
    from ..models.user_simple import UserSimple


T = TypeVar("T", bound="ModelProviderConnection")


@_attrs_define
class ModelProviderConnection:
    """A connection to an LLM provider, with its budget and provider settings."""

    budget_last_reset_date: datetime.datetime | None
    """ Date and time the budget was last reset """
    budget_limit: float | None
    """ Budget limit for the model provider connection (null if unlimited) """
    budget_reset_period: BudgetResetPeriodEnum | None
    """ Budget reset period for the model provider connection (null if not reset) """
    budget_total_spent: float | None
    """ Tracked total budget spent for the given provider connection within the current budget period """
    created_at: datetime.datetime
    created_by: None | UserSimple
    """ The user who created the connection (null once that user is deleted). """
    id: int
    model_params: ModelParamsObject | str
    """ JSON schema for the model parameters available for the provider """
    organization: int | None
    updated_at: datetime.datetime
    budget_alert_threshold: float | None | Unset = UNSET
    """ Budget alert threshold for the given provider connection """
    cached_available_models: None | str | Unset = UNSET
    """ List of available models from the provider """
    deployment_name: None | str | Unset = UNSET
    """ Azure OpenAI deployment name """
    endpoint: None | str | Unset = UNSET
    """ Azure OpenAI endpoint """
    google_location: None | str | Unset = UNSET
    """ Google project location """
    google_project_id: None | str | Unset = UNSET
    """ Google project ID """
    is_internal: bool | None | Unset = UNSET
    """ Whether the model provider connection is internal, not visible to the user """
    provider: ProviderEnum | Unset = UNSET
    scope: ScopeEnum | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.model_params_object import ModelParamsObject
        from ..models.user_simple import UserSimple

        budget_last_reset_date: None | str
        if isinstance(self.budget_last_reset_date, datetime.datetime):
            budget_last_reset_date = self.budget_last_reset_date.isoformat()
        else:
            budget_last_reset_date = self.budget_last_reset_date

        budget_limit: float | None
        budget_limit = self.budget_limit

        budget_reset_period: None | str
        if isinstance(self.budget_reset_period, BudgetResetPeriodEnum):
            budget_reset_period = self.budget_reset_period.value
        else:
            budget_reset_period = self.budget_reset_period

        budget_total_spent: float | None
        budget_total_spent = self.budget_total_spent

        created_at = self.created_at.isoformat()

        created_by: dict[str, Any] | None
        if isinstance(self.created_by, UserSimple):
            created_by = self.created_by.to_dict()
        else:
            created_by = self.created_by

        id = self.id

        model_params: dict[str, Any] | str
        if isinstance(self.model_params, ModelParamsObject):
            model_params = self.model_params.to_dict()
        else:
            model_params = self.model_params

        organization: int | None
        organization = self.organization

        updated_at = self.updated_at.isoformat()

        budget_alert_threshold: float | None | Unset
        if isinstance(self.budget_alert_threshold, Unset):
            budget_alert_threshold = UNSET
        else:
            budget_alert_threshold = self.budget_alert_threshold

        cached_available_models: None | str | Unset
        if isinstance(self.cached_available_models, Unset):
            cached_available_models = UNSET
        else:
            cached_available_models = self.cached_available_models

        deployment_name: None | str | Unset
        if isinstance(self.deployment_name, Unset):
            deployment_name = UNSET
        else:
            deployment_name = self.deployment_name

        endpoint: None | str | Unset
        if isinstance(self.endpoint, Unset):
            endpoint = UNSET
        else:
            endpoint = self.endpoint

        google_location: None | str | Unset
        if isinstance(self.google_location, Unset):
            google_location = UNSET
        else:
            google_location = self.google_location

        google_project_id: None | str | Unset
        if isinstance(self.google_project_id, Unset):
            google_project_id = UNSET
        else:
            google_project_id = self.google_project_id

        is_internal: bool | None | Unset
        if isinstance(self.is_internal, Unset):
            is_internal = UNSET
        else:
            is_internal = self.is_internal

        provider: str | Unset = UNSET
        if not isinstance(self.provider, Unset):
            provider = self.provider.value

        scope: str | Unset = UNSET
        if not isinstance(self.scope, Unset):
            scope = self.scope.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "budget_last_reset_date": budget_last_reset_date,
                "budget_limit": budget_limit,
                "budget_reset_period": budget_reset_period,
                "budget_total_spent": budget_total_spent,
                "created_at": created_at,
                "created_by": created_by,
                "id": id,
                "model_params": model_params,
                "organization": organization,
                "updated_at": updated_at,
            }
        )
        if budget_alert_threshold is not UNSET:
            field_dict["budget_alert_threshold"] = budget_alert_threshold
        if cached_available_models is not UNSET:
            field_dict["cached_available_models"] = cached_available_models
        if deployment_name is not UNSET:
            field_dict["deployment_name"] = deployment_name
        if endpoint is not UNSET:
            field_dict["endpoint"] = endpoint
        if google_location is not UNSET:
            field_dict["google_location"] = google_location
        if google_project_id is not UNSET:
            field_dict["google_project_id"] = google_project_id
        if is_internal is not UNSET:
            field_dict["is_internal"] = is_internal
        if provider is not UNSET:
            field_dict["provider"] = provider
        if scope is not UNSET:
            field_dict["scope"] = scope

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.model_params_object import ModelParamsObject
        from ..models.user_simple import UserSimple

        d = dict(src_dict)

        def _parse_budget_last_reset_date(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                budget_last_reset_date_type_0 = datetime.datetime.fromisoformat(data)

                return budget_last_reset_date_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        budget_last_reset_date = _parse_budget_last_reset_date(d.pop("budget_last_reset_date"))

        def _parse_budget_limit(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        budget_limit = _parse_budget_limit(d.pop("budget_limit"))

        def _parse_budget_reset_period(data: object) -> BudgetResetPeriodEnum | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                budget_reset_period_type_0 = BudgetResetPeriodEnum(data)

                return budget_reset_period_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(BudgetResetPeriodEnum | None, data)

        budget_reset_period = _parse_budget_reset_period(d.pop("budget_reset_period"))

        def _parse_budget_total_spent(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        budget_total_spent = _parse_budget_total_spent(d.pop("budget_total_spent"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        def _parse_created_by(data: object) -> None | UserSimple:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                created_by_type_0 = UserSimple.from_dict(data)

                return created_by_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UserSimple, data)

        created_by = _parse_created_by(d.pop("created_by"))

        id = d.pop("id")

        def _parse_model_params(data: object) -> ModelParamsObject | str:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                model_params_type_1 = ModelParamsObject.from_dict(data)

                return model_params_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ModelParamsObject | str, data)

        model_params = _parse_model_params(d.pop("model_params"))

        def _parse_organization(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        organization = _parse_organization(d.pop("organization"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        def _parse_budget_alert_threshold(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        budget_alert_threshold = _parse_budget_alert_threshold(
            d.pop("budget_alert_threshold", UNSET)
        )

        def _parse_cached_available_models(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        cached_available_models = _parse_cached_available_models(
            d.pop("cached_available_models", UNSET)
        )

        def _parse_deployment_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        deployment_name = _parse_deployment_name(d.pop("deployment_name", UNSET))

        def _parse_endpoint(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        endpoint = _parse_endpoint(d.pop("endpoint", UNSET))

        def _parse_google_location(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        google_location = _parse_google_location(d.pop("google_location", UNSET))

        def _parse_google_project_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        google_project_id = _parse_google_project_id(d.pop("google_project_id", UNSET))

        def _parse_is_internal(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        is_internal = _parse_is_internal(d.pop("is_internal", UNSET))

        _provider = d.pop("provider", UNSET)
        provider: ProviderEnum | Unset
        if isinstance(_provider, Unset):
            provider = UNSET
        else:
            provider = ProviderEnum(_provider)

        _scope = d.pop("scope", UNSET)
        scope: ScopeEnum | Unset
        if isinstance(_scope, Unset):
            scope = UNSET
        else:
            scope = ScopeEnum(_scope)

        model_provider_connection = cls(
            budget_last_reset_date=budget_last_reset_date,
            budget_limit=budget_limit,
            budget_reset_period=budget_reset_period,
            budget_total_spent=budget_total_spent,
            created_at=created_at,
            created_by=created_by,
            id=id,
            model_params=model_params,
            organization=organization,
            updated_at=updated_at,
            budget_alert_threshold=budget_alert_threshold,
            cached_available_models=cached_available_models,
            deployment_name=deployment_name,
            endpoint=endpoint,
            google_location=google_location,
            google_project_id=google_project_id,
            is_internal=is_internal,
            provider=provider,
            scope=scope,
        )

        model_provider_connection.additional_properties = d
        return model_provider_connection

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
