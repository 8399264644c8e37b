"""Contains all the data models used in inputs/outputs (each imported on first use)"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .budget_reset_period_enum import BudgetResetPeriodEnum
    from .label_studio_error import LabelStudioError
    from .label_studio_error_display_context import LabelStudioErrorDisplayContext
    from .label_studio_error_validation_errors import LabelStudioErrorValidationErrors
    from .model_params_object import ModelParamsObject
    from .model_provider_connection import ModelProviderConnection
    from .provider_enum import ProviderEnum
    from .scope_enum import ScopeEnum
    from .user_simple import UserSimple

_MODULES = {
    "BudgetResetPeriodEnum": ".budget_reset_period_enum",
    "LabelStudioError": ".label_studio_error",
    "LabelStudioErrorDisplayContext": ".label_studio_error_display_context",
    "LabelStudioErrorValidationErrors": ".label_studio_error_validation_errors",
    "ModelParamsObject": ".model_params_object",
    "ModelProviderConnection": ".model_provider_connection",
    "ProviderEnum": ".provider_enum",
    "ScopeEnum": ".scope_enum",
    "UserSimple": ".user_simple",
}

__all__ = (
    "BudgetResetPeriodEnum",
    "LabelStudioError",
    "LabelStudioErrorDisplayContext",
    "LabelStudioErrorValidationErrors",
    "ModelParamsObject",
    "ModelProviderConnection",
    "ProviderEnum",
    "ScopeEnum",
    "UserSimple",
)


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
