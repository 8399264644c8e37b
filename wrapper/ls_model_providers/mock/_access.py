"""Who may read a connection: Label Studio's three checks, and the defects that drop them.

1. **The view's role check** (Enterprise's RBAC behind ``ViewClassPermission``, GET -> view):
   a member without the role (Owner, Administrator or Manager) is refused with 403 on every
   route of the view set, for every method and id, before any lookup (``role_allows``,
   called by ``_Views.gate``).
2. **The queryset**, filtered by the user's active organisation: another organisation's row
   does not exist for them, a 404 exactly like an unknown id, and is never listed
   (``visible``).
3. **The object permission**, ``ModelProviderConnection.has_permission(user)`` called by
   ``HasObjectPermission``: the role and the same organisation, else 403. DRF checks it on
   the detail route only, never on a list (``object_allows``).

The ``authz_*`` defects (``_faults.DEFECTS``) are the regressions that drop them:
``authz_no_org_filter`` drops 2 and 3 (every organisation's rows to anyone with the role),
``authz_oracle`` drops 2 (3 then answers 403 for another organisation's row and 404 for an
unknown id: an existence oracle), ``authz_no_role_check`` drops 1 and the role half of 3 (any
member of the organisation reads and lists its rows).

Decisions only, no I/O: ``_app.py`` answers with them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._data import User

__all__ = ["object_allows", "role_allows", "visible"]

Row = dict[str, Any]


def role_allows(user: User, defects: frozenset[str]) -> bool:
    """Check 1: whether the user's role may view connections."""
    return user.can_view or "authz_no_role_check" in defects


def visible(rows: Iterable[Row], user: User, defects: frozenset[str]) -> list[Row]:
    """Check 2: the rows the view's queryset holds for this user."""
    if "authz_no_org_filter" in defects or "authz_oracle" in defects:
        return list(rows)
    return [row for row in rows if row["organization"] == user.organization]


def object_allows(user: User, row: Row, defects: frozenset[str]) -> bool:
    """Check 3: ``has_permission(user)`` on a row the queryset held (detail route only)."""
    if "authz_no_org_filter" in defects:
        return True
    return role_allows(user, defects) and row["organization"] == user.organization
