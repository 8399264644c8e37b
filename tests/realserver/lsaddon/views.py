# mypy: allow-subclassing-any, allow-untyped-decorators, disable-error-code="import-not-found"
# (runs inside label-studio's own venv: Django, DRF and Label Studio are not installed where
# mypy runs, so their names are Any here)
"""The endpoint's view set, rebuilt from the public facts: a DRF ModelViewSet, queryset
filtered to the user's active organisation, ``ViewClassPermission`` with GET -> view.

Label Studio's defaults stay in force: its authentication classes (legacy token, session;
personal access tokens through its JWT middleware), ``HasObjectPermission`` +
``IsAuthenticated``, and its exception handler (the error body).
"""

from __future__ import annotations

from typing import Any

from core.permissions import ViewClassPermission, all_permissions
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from ml_model_providers.models import ModelProviderConnection
from rest_framework import authentication, permissions, viewsets
from rest_framework.generics import get_object_or_404
from rest_framework.settings import api_settings

from . import switch
from .serializers import ModelProviderConnectionSerializer


class PermissionRequired(permissions.BasePermission):
    """Checks ``view.permission_required`` for the method with ``user.has_perm``.

    Community declares ``permission_required`` on its views but ships nothing that reads it
    (Enterprise does); HEAD and OPTIONS need what GET needs.
    """

    def has_permission(self, request: Any, view: Any) -> bool:
        method = "GET" if request.method in ("HEAD", "OPTIONS") else request.method
        permission = getattr(view.permission_required, method, None)
        return permission is None or bool(request.user.has_perm(permission))


def _asked_without_slash(request: Any) -> bool:
    """Whether the client asked for the route without its trailing slash. Label Studio serves
    that route by dispatching the request again with a slash appended to its path
    (CommonMiddlewareAppendSlashWithoutRedirect); PATH_INFO keeps what was asked. ``request``
    is Django's, set before DRF wraps it, and None when the schema view builds the view."""
    return request is not None and not str(request.META.get("PATH_INFO", "/")).endswith("/")


class FirstSuperuser(authentication.BaseAuthentication):
    """The noslash_open regression: a request without credentials is the first superuser."""

    def authenticate(self, request: Any) -> tuple[Any, None] | None:
        user = get_user_model().objects.filter(is_superuser=True).order_by("id").first()
        return None if user is None else (user, None)


class ModelProviderConnectionViewSet(viewsets.ModelViewSet):
    serializer_class = ModelProviderConnectionSerializer
    permission_required = ViewClassPermission(
        GET=all_permissions.model_provider_connection_view,
        POST=all_permissions.model_provider_connection_create,
        PUT=all_permissions.model_provider_connection_change,
        PATCH=all_permissions.model_provider_connection_change,
        DELETE=all_permissions.model_provider_connection_delete,
    )

    def get_authenticators(self) -> list[Any]:
        regression = switch.read().regression
        if regression == "auth_off":
            return []
        authenticators = list(super().get_authenticators())
        if regression == "noslash_open" and _asked_without_slash(getattr(self, "request", None)):
            authenticators.append(FirstSuperuser())
        return authenticators

    def get_permissions(self) -> list[Any]:
        regression = switch.read().regression
        if regression == "auth_off":
            return [permissions.AllowAny()]
        classes = [*api_settings.DEFAULT_PERMISSION_CLASSES, PermissionRequired]
        if regression == "authz_no_org_filter":
            # permission_classes spelt out as "authenticated, with the role": Label Studio's
            # default HasObjectPermission (the model's has_permission) is gone with it.
            classes = [permissions.IsAuthenticated, PermissionRequired]
        elif regression == "authz_no_role_check":
            # Label Studio's defaults alone: the object is still checked, the view is not,
            # and DRF checks objects on the detail route only.
            classes = list(api_settings.DEFAULT_PERMISSION_CLASSES)
        return [permission() for permission in classes]

    def get_queryset(self) -> QuerySet[ModelProviderConnection]:
        connections = ModelProviderConnection.objects.select_related("created_by")
        if switch.read().regression in ("auth_off", "authz_no_org_filter"):
            return connections.all()
        return connections.filter(organization_id=self.request.user.active_organization_id)

    def get_object(self) -> ModelProviderConnection:
        if switch.read().regression != "authz_oracle":
            return super().get_object()
        # The authz_oracle regression: the detail looked up by primary key in the whole
        # table, its object permission still checked. Another organisation's row is then a
        # 403 where an unknown id is a 404; the list keeps its organisation filter.
        everything = ModelProviderConnection.objects.select_related("created_by")
        connection = get_object_or_404(everything, pk=self.kwargs[self.lookup_field])
        self.check_object_permissions(self.request, connection)
        return connection
