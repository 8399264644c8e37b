# mypy: allow-subclassing-any, allow-untyped-decorators, disable-error-code="import-not-found"
# (runs inside label-studio's own venv: Django, DRF and Label Studio are not installed where
# mypy runs, so their names are Any here)
from __future__ import annotations

from django.apps import AppConfig


class LsAddonConfig(AppConfig):
    name = "lsaddon"
    verbose_name = "Model provider connections API (rebuilt Enterprise endpoint)"

    def ready(self) -> None:
        import rules
        from core.permissions import all_permissions, make_perm

        from .roles import may_manage_connections

        # Community registers every permission as "is authenticated"; Enterprise's are
        # role rules. Only this endpoint's four are replaced.
        for name in ("view", "create", "change", "delete"):
            make_perm(
                getattr(all_permissions, f"model_provider_connection_{name}"),
                rules.predicate(may_manage_connections),
                overwrite=True,
            )
