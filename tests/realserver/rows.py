"""The users and connection rows the real stack is seeded with (written as JSON for ``seed.py``).

    python tests/realserver/rows.py ROWS.json ADMIN_TOKEN

Named shapes cover what the issue lists one by one (every provider, all nulls, maximum
lengths, float edges, each creator state, another organisation, no organisation);
hypothesis draws more rows from the same strategies, derandomized so every run seeds the
same database. Every row has all three secrets set.
"""

from __future__ import annotations

import hashlib
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import hypothesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

PROVIDERS = ("OpenAI", "AzureOpenAI", "AzureAIFoundry", "VertexAI", "Gemini", "Anthropic", "Custom")
SCOPES = ("Organization", "User", "Model")
#: The model's max_length per nullable string field.
STRINGS = {
    "deployment_name": 512,
    "endpoint": 512,
    "google_project_id": 255,
    "google_location": 255,
    "cached_available_models": 4096,
}
FLOATS = ("budget_limit", "budget_total_spent", "budget_alert_threshold")
SECRETS = ("api_key", "auth_token", "google_application_credentials")
CREATOR_STATES = ("active", "deactivated", "removed", "deleted")
#: JSON and storage edge cases. NUL is left out: PostgreSQL (Enterprise's database) cannot
#: store it in text, so no real row holds one.
SPECIALS = "\u2028\u2029\x01\x08\x1f\x7f\x85\t\n\r\"\\/<>&'é中😀\ufeff\u200b"
FLOAT_EDGES = (0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
               -1.7976931348623157e308, 1.0, 0.1, 1e16, 1e-7, 9007199254740993.0, 123456.789)  # fmt: skip
DATETIME_EDGES = ("0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59.999999+00:00",
                  "2026-03-29T01:30:00.000001+00:00", "1970-01-01T00:00:00+00:00")  # fmt: skip
HYPOTHESIS_ROWS = 24

chars = st.one_of(
    st.sampled_from(SPECIALS),
    st.characters(codec="utf-8", exclude_characters="\x00"),  # utf-8: no lone surrogates
)


def _exactly(length: int) -> st.SearchStrategy[str]:
    # Long strings built from a short drawn one: hypothesis's buffer cannot draw 4096
    # characters one by one, and repetition keeps every character class in play.
    return st.text(chars, min_size=1, max_size=24).map(
        lambda s: (s * (length // len(s) + 1))[:length]
    )


def _string(length: int) -> st.SearchStrategy[str | None]:
    return st.one_of(st.none(), st.text(chars, max_size=40), _exactly(length))


floats = st.one_of(
    st.none(), st.sampled_from(FLOAT_EDGES), st.floats(allow_nan=False, allow_infinity=False)
)
datetimes = st.one_of(
    st.sampled_from(DATETIME_EDGES),
    st.datetimes(
        min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC)
    ).map(datetime.isoformat),
)
secrets = st.builds(
    lambda key, token, seed: {
        "api_key": f"sk-{key}",
        "auth_token": f"tok-{token}",
        "google_application_credentials": _credentials(seed),
    },
    st.text("0123456789abcdef", min_size=32, max_size=32),
    st.text("0123456789abcdef", min_size=32, max_size=32),
    st.text("0123456789abcdef", min_size=8, max_size=8),
)


def _credentials(seed: str) -> str:
    return json.dumps({"type": "service_account", "private_key_id": seed,
                       "private_key": f"-----BEGIN PRIVATE KEY-----\nMII{seed}\n-----END PRIVATE KEY-----\n"})  # fmt: skip


row_strategy = st.fixed_dictionaries(
    {
        "org": st.sampled_from([1, 1, 1, 2, None]),
        "creator": st.sampled_from(CREATOR_STATES),
        "fields": st.fixed_dictionaries(
            {
                "provider": st.sampled_from(PROVIDERS),
                "scope": st.sampled_from(SCOPES),
                "is_internal": st.one_of(st.none(), st.booleans()),
                "budget_reset_period": st.sampled_from([None, "Monthly", "Yearly"]),
                "budget_last_reset_date": st.one_of(st.none(), datetimes),
                "created_at": datetimes,
                "updated_at": datetimes,
                **{name: _string(length) for name, length in STRINGS.items()},
                **dict.fromkeys(FLOATS, floats),
            }
        ),
        "secrets": secrets,
    }
)


def _secrets_for(name: str) -> dict[str, str]:
    digest = hashlib.sha256(name.encode()).hexdigest()
    return {"api_key": f"sk-{digest[:32]}", "auth_token": f"tok-{digest[32:]}",
            "google_application_credentials": _credentials(digest[:8])}  # fmt: skip


def _named(
    name: str, org: int | None = 1, creator: str = "active", **fields: Any
) -> dict[str, Any]:
    base: dict[str, Any] = {
        "provider": "OpenAI", "scope": "Organization", "is_internal": False,
        "budget_reset_period": None, "budget_last_reset_date": None,
        "created_at": "2026-01-05T09:30:00.123456+00:00", "updated_at": "2026-02-01T12:00:00+00:00",
        **dict.fromkeys(STRINGS), **dict.fromkeys(FLOATS),
    }  # fmt: skip
    base.update(fields)
    return {
        "shape": name,
        "org": org,
        "creator": creator,
        "fields": base,
        "secrets": _secrets_for(name),
    }


def _max(length: int, seed: str) -> str:
    pattern = seed + SPECIALS
    return (pattern * (length // len(pattern) + 1))[:length]


def named_shapes() -> list[dict[str, Any]]:
    """The shapes the issue lists, one row each (the conformance suite runs on each)."""
    per_provider: dict[str, dict[str, Any]] = {
        "AzureOpenAI": {"deployment_name": "gpt-4o-prod", "endpoint": "https://acme.openai.azure.com"},
        "AzureAIFoundry": {"deployment_name": "phi-4", "endpoint": "https://acme.services.ai.azure.com",
                           "scope": "User"},
        "VertexAI": {"google_project_id": "acme-ml", "google_location": "us-central1",
                     "budget_limit": 500.0, "budget_reset_period": "Yearly",
                     "budget_last_reset_date": "2026-01-01T00:00:00+00:00"},
        "Gemini": {"scope": "Model", "is_internal": None},
        "Anthropic": {"cached_available_models": "claude-sonnet-4-5,claude-opus-4-1"},
        "Custom": {"endpoint": "https://llm.acme.internal/v1", "is_internal": True},
        "OpenAI": {"budget_limit": 100.0, "budget_alert_threshold": 80.0, "budget_total_spent": 12.5,
                   "budget_reset_period": "Monthly"},
    }  # fmt: skip
    shapes = [_named(f"provider-{p}", provider=p, **extra) for p, extra in per_provider.items()]
    at_max: dict[str, Any] = {name: _max(length, name) for name, length in STRINGS.items()}
    all_null = dict.fromkeys(("is_internal", "budget_reset_period", "budget_last_reset_date"))
    shapes += [
        _named("all-null", creator="deleted", **all_null),
        _named("max-length", provider="AzureOpenAI", **at_max),
        _named("float-edges-large", budget_limit=1.7976931348623157e308, budget_total_spent=1e16,
               budget_alert_threshold=-1.7976931348623157e308),
        _named("float-edges-small", budget_limit=5e-324, budget_total_spent=-0.0,
               budget_alert_threshold=2.2250738585072014e-308),
        _named("datetime-edges", created_at=DATETIME_EDGES[0], updated_at=DATETIME_EDGES[1],
               budget_last_reset_date="2026-03-29T01:30:00.000001+00:00"),
        _named("creator-deactivated", creator="deactivated"),
        _named("creator-removed", creator="removed"),
        _named("creator-deleted", creator="deleted"),
        _named("other-org", org=2, provider="Anthropic"),
        _named("other-org-creator-removed", org=2, creator="removed"),
        _named("no-org", org=None),
    ]  # fmt: skip
    return shapes


def generated_rows(count: int = HYPOTHESIS_ROWS) -> list[dict[str, Any]]:
    """``count`` rows drawn by hypothesis; the same rows on every run (derandomized)."""
    rows: list[dict[str, Any]] = []

    @settings(max_examples=count, derandomize=True, database=None, deadline=None,
              phases=[hypothesis.Phase.generate], suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(row_strategy)
    def collect(row: dict[str, Any]) -> None:
        rows.append(row)

    collect()
    return [{**row, "shape": f"hypothesis-{i}"} for i, row in enumerate(rows[:count])]


def users(admin_token: str) -> list[dict[str, Any]]:
    """Viewers (one per organisation and role) and creators (one per state and organisation).

    Organisation 1 is the one Label Studio made for the admin at first start; 2 is another
    organisation; 3 has legacy tokens disabled.
    """
    long_first = _max(256, "Ada ")  # first_name/last_name are max_length 256
    people = [
        {"key": "admin", "email": "admin@example.com", "org": 1, "role": None, "existing": True},
        {"key": "manager", "email": "manager@acme.example", "org": 1, "role": "Manager"},
        {"key": "annotator", "email": "annotator@acme.example", "org": 1, "role": "Annotator"},
        {"key": "grace", "email": "grace@globex.example", "org": 2, "role": None, "owns": 2},
        {"key": "legacy-off", "email": "owner@initech.example", "org": 3, "role": None, "owns": 3},
    ]
    for org in (1, 2):
        for state in CREATOR_STATES:
            people.append({"key": f"{state}@{org}", "email": f"{state}.{org}@creators.example",
                           "org": org, "role": "Administrator", "state": state,
                           "first_name": long_first if state == "active" else state.title(),
                           "last_name": "Lovelace\u2028Byron" if state == "active" else f"Org {org}"})  # fmt: skip
    for person in people:
        person.setdefault("first_name", person["key"].title())
        person.setdefault("last_name", "Example")
        person["token"] = (
            admin_token
            if person["key"] == "admin"
            else hashlib.sha1(person["key"].encode(), usedforsecurity=False).hexdigest()
        )
    return people


def write(path: Path, admin_token: str, hypothesis_rows: int = HYPOTHESIS_ROWS) -> None:
    """Write the seed input: ``{"users": [...], "connections": [...]}``."""
    data = {
        "users": users(admin_token),
        "connections": named_shapes() + generated_rows(hypothesis_rows),
    }
    path.write_text(json.dumps(data, ensure_ascii=False))


if __name__ == "__main__":  # python rows.py OUT.json ADMIN_TOKEN (run by harness.py)
    write(Path(sys.argv[1]), sys.argv[2])
