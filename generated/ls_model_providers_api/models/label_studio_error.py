from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.label_studio_error_display_context import LabelStudioErrorDisplayContext
    from ..models.label_studio_error_validation_errors import LabelStudioErrorValidationErrors


T = TypeVar("T", bound="LabelStudioError")


@_attrs_define
class LabelStudioError:
    """The error body of every Label Studio API error (its custom DRF exception handler)."""

    id: UUID
    """ Unique id of this error occurrence (quote it to support) """
    status_code: int
    version: str
    """ The server's Label Studio version """
    detail: str
    """ Human-readable reason """
    exc_info: None | str
    """ Traceback, only when the server runs in debug mode """
    validation_errors: LabelStudioErrorValidationErrors | Unset = UNSET
    display_context: LabelStudioErrorDisplayContext | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        status_code = self.status_code

        version = self.version

        detail = self.detail

        exc_info: None | str
        exc_info = self.exc_info

        validation_errors: dict[str, Any] | Unset = UNSET
        if not isinstance(self.validation_errors, Unset):
            validation_errors = self.validation_errors.to_dict()

        display_context: dict[str, Any] | Unset = UNSET
        if not isinstance(self.display_context, Unset):
            display_context = self.display_context.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "status_code": status_code,
                "version": version,
                "detail": detail,
                "exc_info": exc_info,
            }
        )
        if validation_errors is not UNSET:
            field_dict["validation_errors"] = validation_errors
        if display_context is not UNSET:
            field_dict["display_context"] = display_context

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.label_studio_error_display_context import LabelStudioErrorDisplayContext
        from ..models.label_studio_error_validation_errors import LabelStudioErrorValidationErrors

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        status_code = d.pop("status_code")

        version = d.pop("version")

        detail = d.pop("detail")

        def _parse_exc_info(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        exc_info = _parse_exc_info(d.pop("exc_info"))

        _validation_errors = d.pop("validation_errors", UNSET)
        validation_errors: LabelStudioErrorValidationErrors | Unset
        if isinstance(_validation_errors, Unset):
            validation_errors = UNSET
        else:
            validation_errors = LabelStudioErrorValidationErrors.from_dict(_validation_errors)

        _display_context = d.pop("display_context", UNSET)
        display_context: LabelStudioErrorDisplayContext | Unset
        if isinstance(_display_context, Unset):
            display_context = UNSET
        else:
            display_context = LabelStudioErrorDisplayContext.from_dict(_display_context)

        label_studio_error = cls(
            id=id,
            status_code=status_code,
            version=version,
            detail=detail,
            exc_info=exc_info,
            validation_errors=validation_errors,
            display_context=display_context,
        )

        label_studio_error.additional_properties = d
        return label_studio_error

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
