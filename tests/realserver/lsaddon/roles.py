# mypy: allow-subclassing-any, allow-untyped-decorators, disable-error-code="import-not-found"
# (runs inside label-studio's own venv: Django, DRF and Label Studio are not installed where
# mypy runs, so their names are Any here)
"""Roles for Community users, plugged in through Label Studio's own ``USER_MIXIN`` setting.

``ModelProviderConnection.has_permission`` (the real model, called by Label Studio's
default ``HasObjectPermission``) reads ``is_administrator``, ``is_owner`` and
``is_manager``: attributes only Enterprise users have. Enterprise keeps the role on the
organisation membership; Community's ``OrganizationMember`` has no role field, so the role
is a Django group named after the role and the organisation (``role_group``), counted only
while the user is an active (not removed) member of their active organisation: a role in
one organisation is none in another. The owner is the organisation's creator, as
Community's own ``OrganizationMember.is_owner`` says.
"""

from __future__ import annotations

from typing import Any

from users.mixins import UserMixin

ROLES = ("Administrator", "Manager", "Reviewer", "Annotator")
#: The roles that may use model provider connections (the model's own comment: "Check if
#: user is Admin or Owner"; its has_permission adds managers).
MANAGING = ("Administrator", "Manager")


def role_group(role: str, organization_id: int) -> str:
    """The name of the group that holds ``role`` in one organisation (seed.py makes them)."""
    return f"{role} of organisation {organization_id}"


class UserRolesMixin(UserMixin):
    def _has_role(self: Any, role: str) -> bool:
        org_id = self.active_organization_id
        if not self.is_authenticated or org_id is None:
            return False
        member = self.om_through.filter(organization_id=org_id, deleted_at__isnull=True)
        return bool(member.exists() and self.groups.filter(name=role_group(role, org_id)).exists())

    @property
    def is_owner(self: Any) -> bool:
        org = self.active_organization
        return org is not None and org.created_by_id == self.id

    @property
    def is_administrator(self) -> bool:
        return self._has_role("Administrator")

    @property
    def is_manager(self) -> bool:
        return self._has_role("Manager")


def may_manage_connections(user: Any) -> bool:
    """The rule behind ``model_provider_connection.*`` (Community's is "authenticated")."""
    return bool(
        user.is_authenticated and (user.is_owner or user.is_administrator or user.is_manager)
    )
