# mypy: allow-subclassing-any, allow-untyped-decorators, disable-error-code="import-not-found"
# (runs inside label-studio's own venv: Django, DRF and Label Studio are not installed where
# mypy runs, so their names are Any here)
"""The router first, then every Label Studio route (its catch-all pages come last there)."""

from __future__ import annotations

from core.urls import urlpatterns as label_studio_urlpatterns
from django.urls import include, path
from rest_framework.routers import DefaultRouter

from .views import ModelProviderConnectionViewSet

router = DefaultRouter()
router.register(
    "model-provider-connections",
    ModelProviderConnectionViewSet,
    basename="model-provider-connection",
)

urlpatterns = [path("api/", include(router.urls)), *label_studio_urlpatterns]
