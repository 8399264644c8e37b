# mypy: allow-subclassing-any, allow-untyped-decorators, disable-error-code="import-not-found"
# (runs inside label-studio's own venv: Django, DRF and Label Studio are not installed where
# mypy runs, so their names are Any here)
"""Store the users and rows of ``rows.py`` through Label Studio's real ORM, before the server starts.

    DJANGO_SETTINGS_MODULE=lsaddon.settings PYTHONPATH=tests/realserver \\
        <label-studio venv>/bin/python tests/realserver/seed.py ROWS.json SEEDED.json

Runs with the label-studio venv's python (one SQLite writer: the server is not up yet).
After storing, every row is read back and rendered field by field with DRF's own field
classes and the real ``UserSimpleSerializer`` - not with the add-on's serializer - so the
tests compare the endpoint with an independent rendering of what is stored.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import label_studio

# Label Studio's modules import each other as top-level packages (core, users, ...).
sys.path.insert(0, os.path.dirname(label_studio.__file__))

import django

django.setup()

from django.contrib.auth.models import Group  # noqa: E402
from django.db import models, transaction  # noqa: E402
from lsaddon.roles import role_group  # noqa: E402
from ml_model_providers.models import ModelProviderConnection  # noqa: E402
from organizations.models import Organization, OrganizationMember  # noqa: E402
from rest_framework import serializers  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402
from rest_framework.renderers import JSONRenderer  # noqa: E402
from users.models import User  # noqa: E402
from users.serializers import UserSimpleSerializer  # noqa: E402

SECRETS = ("api_key", "auth_token", "google_application_credentials")
#: DRF's field for each model field class, as ModelSerializer maps them (first match wins).
DRF_FIELDS: list[tuple[type[models.Field[Any, Any]], serializers.Field]] = [  # type: ignore[type-arg]
    (models.DateTimeField, serializers.DateTimeField()),
    (models.FloatField, serializers.FloatField()),
    (models.BooleanField, serializers.BooleanField()),
    (models.CharField, serializers.CharField()),
    (models.TextField, serializers.CharField()),
    (models.AutoField, serializers.IntegerField()),
]


def _users(people: list[dict[str, Any]]) -> tuple[dict[str, User], dict[int, Organization]]:
    admin = User.objects.get(email="admin@example.com")
    orgs = {1: admin.active_organization}
    made: dict[str, User] = {"admin": admin}
    for person in people:
        if person.get("existing"):
            user = made[person["key"]]
        else:
            user = User.objects.create_user(
                email=person["email"], password=None, username=person["key"],
                first_name=person["first_name"], last_name=person["last_name"],
            )  # fmt: skip
            made[person["key"]] = user
        if "owns" in person:
            org = Organization.create_organization(created_by=user, title=f"Org {person['owns']}")
            orgs[person["owns"]] = org
        org = orgs[person["org"]]
        org.add_user(user)
        user.active_organization = org
        user.save(update_fields=["active_organization"])
        # Deterministic legacy tokens (the post_save signal made a random one).
        Token.objects.filter(user=user).delete()
        Token.objects.create(user=user, key=person["token"])
        if person["role"]:
            group = Group.objects.get_or_create(name=role_group(person["role"], org.pk))[0]
            user.groups.add(group)
    orgs[3].jwt.legacy_api_tokens_enabled = False
    orgs[3].jwt.save()
    return made, orgs


def _render(conn: ModelProviderConnection, viewer: User) -> dict[str, Any]:
    """What DRF sends for ``conn`` (model_params aside), field by field."""
    out: dict[str, Any] = {}
    for field in ModelProviderConnection._meta.concrete_fields:
        value = getattr(conn, field.attname)
        if field.name in SECRETS:
            continue
        if field.name == "created_by":
            creator = conn.created_by
            out[field.name] = (
                None
                if creator is None
                else UserSimpleSerializer(creator, context={"user": viewer}).data
            )
        elif value is None or field.is_relation:
            out[field.name] = value
        else:
            drf = next(f for cls, f in DRF_FIELDS if isinstance(field, cls))
            out[field.name] = drf.to_representation(value)
    rendered: dict[str, Any] = json.loads(JSONRenderer().render(out))
    return rendered


def main(rows_path: str, seeded_path: str) -> None:
    data = json.loads(Path(rows_path).read_text())
    people = {p["key"]: p for p in data["users"]}
    with transaction.atomic():
        users, orgs = _users(data["users"])
        stored = []
        for row in data["connections"]:
            creator = users[f"{row['creator']}@{row['org'] or 1}"]
            fields = dict(row["fields"])
            stamps = {
                k: datetime.fromisoformat(fields.pop(k)) for k in ("created_at", "updated_at")
            }
            if fields["budget_last_reset_date"] is not None:
                fields["budget_last_reset_date"] = datetime.fromisoformat(
                    fields["budget_last_reset_date"]
                )
            conn = ModelProviderConnection.objects.create(
                organization=orgs[row["org"]] if row["org"] else None, created_by=creator,
                **fields, **row["secrets"],
            )  # fmt: skip
            # auto_now_add/auto_now ignore given values on save(); update() stores them.
            ModelProviderConnection.objects.filter(pk=conn.pk).update(**stamps)
            stored.append((row, conn.pk))
        # Creator states, after the rows exist (as in a real organisation's history).
        for key, user in list(users.items()):
            state = people[key].get("state")
            if state == "deactivated":
                user.is_active = False
                user.save(update_fields=["is_active"])
            elif state == "removed":
                org = orgs[people[key]["org"]]
                OrganizationMember.objects.get(user=user, organization=org).soft_delete()
            elif state == "deleted":
                user.delete()  # created_by is SET_NULL
                del users[key]
    viewers = {1: users["admin"], 2: users["grace"]}
    connections = []
    for row, pk in stored:
        conn = ModelProviderConnection.objects.select_related("created_by").get(pk=pk)
        viewer = viewers.get(row["org"])
        connections.append(
            {**row, "id": pk, "viewer": None if viewer is None else viewer.email,
             "expected": None if viewer is None else _render(conn, viewer)}
        )  # fmt: skip
    seeded = {
        "users": [
            {**p, "id": users[p["key"]].id if p["key"] in users else None} for p in data["users"]
        ],
        "orgs": {str(n): org.id for n, org in orgs.items()},
        "connections": connections,
    }
    Path(seeded_path).write_text(json.dumps(seeded, ensure_ascii=False))
    print(f"seeded {len(connections)} connections and {len(data['users'])} users", file=sys.stderr)


if __name__ == "__main__":
    main(*sys.argv[1:3])
