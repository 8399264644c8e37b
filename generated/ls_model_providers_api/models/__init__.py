"""Contains all the data models used in inputs/outputs"""

from .budget_reset_period_enum import BudgetResetPeriodEnum
from .label_studio_error import LabelStudioError
from .label_studio_error_display_context import LabelStudioErrorDisplayContext
from .label_studio_error_validation_errors import LabelStudioErrorValidationErrors
from .model_params_object import ModelParamsObject
from .model_provider_connection import ModelProviderConnection
from .provider_enum import ProviderEnum
from .scope_enum import ScopeEnum
from .user_simple import UserSimple

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
