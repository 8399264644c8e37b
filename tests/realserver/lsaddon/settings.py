# mypy: allow-subclassing-any, allow-untyped-decorators, disable-error-code="import-not-found"
# (runs inside label-studio's own venv: Django, DRF and Label Studio are not installed where
# mypy runs, so their names are Any here)
"""Label Studio's own settings plus the add-on: ``DJANGO_SETTINGS_MODULE=lsaddon.settings``.

``label_studio/server.py`` only setdefault()s DJANGO_SETTINGS_MODULE, so the real
``label-studio start`` runs with this module when the harness sets it.
"""

# Label Studio's settings read django.conf.settings while they are imported (its Sentry
# set-up), which then sees this module half-imported: the base names must already be here,
# or start-up fails with "AttributeError: SENTRY_DSN".
from core.settings.base import *  # noqa: F403  # isort: skip
from label_studio.core.settings.label_studio import *  # noqa: F403  # isort: skip

INSTALLED_APPS = [*INSTALLED_APPS, "lsaddon.apps.LsAddonConfig"]  # type: ignore[has-type]  # noqa: F405
ROOT_URLCONF = "lsaddon.urls"
# Label Studio's extension point for user behaviour (Enterprise supplies roles through it).
USER_MIXIN = "lsaddon.roles.UserRolesMixin"
