"""A canary token and canary secret fields appear nowhere: logs, reprs, errors."""

from __future__ import annotations

import logging

import httpx
import pytest

import ls_model_providers
from ls_model_providers import Client, LabelStudioError, PersonalAccessTokenAuth
from ls_model_providers._secrets import redact

from .helpers import Script, jwt, ls_error, ok, url

H = "https://h.example"
CANARY = "canary0token0f00d0cafe0beef0123456789abc"
CANARY_FIELDS = {
    "api_key": "sk-canary-api-key",
    "auth_token": "canary-auth-token",
    "google_application_credentials": '{"private_key": "canary-pem"}',
}


def _scrub_check(*texts: str) -> None:
    for text in texts:
        assert CANARY not in text
        for secret in CANARY_FIELDS.values():
            assert secret not in text
        assert "canary-pem" not in text


def test_canary_appears_nowhere(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    script = Script(
        ("GET", url(1, H), ok(**CANARY_FIELDS)),
        ("GET", url(2, H), httpx.Response(503)),
        ("GET", url(2, H), ls_error(401, "Invalid token.")),
        ("GET", url(3, H), httpx.Response(200, json={"api_key": "sk-canary-api-key"})),
    )
    client = Client(
        base_url="https://h.example", api_key=CANARY, transport=httpx.MockTransport(script)
    )
    client._sleep = lambda _s: None
    conn = client.get_connection(1)
    texts = [repr(client), str(client), repr(conn), str(conn), repr(client._auth)]
    for bad_id in (2, 3):
        with pytest.raises(LabelStudioError) as info:
            client.get_connection(bad_id)
        texts += [repr(info.value), str(info.value)]
    texts += [r.getMessage() for r in caplog.records] + [caplog.text]
    assert any("attempt" in r.getMessage() for r in caplog.records), "debug lines are logged"
    _scrub_check(*texts)
    assert conn.additional_properties["api_key"] == "sk-canary-api-key", "kept for the caller"


def test_refresh_token_appears_nowhere(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    refresh = jwt({"exp": 4_000_000_000, "canary": CANARY})
    access = jwt({"exp": 4_000_000_000, "canary": "access-" + CANARY})
    script = Script(
        (
            "POST",
            "https://h.example/api/token/refresh/",
            httpx.Response(200, json={"access": access}),
        ),
        (
            "GET",
            url(1, "https://h.example"),
            ls_error(403, "You do not have permission to perform this action."),
        ),
    )
    auth = PersonalAccessTokenAuth(refresh, base_url="https://h.example")
    client = Client(base_url="https://h.example", auth=auth, transport=httpx.MockTransport(script))
    with pytest.raises(LabelStudioError) as info:
        client.get_connection(1)
    for text in [repr(auth), repr(client), str(info.value), repr(info.value), caplog.text]:
        assert refresh not in text
        assert access not in text


def test_redact() -> None:
    data = {
        "api_key": "x",
        "max_tokens": 5,
        "nested": [{"client_secret": "y", "jwt": jwt({"a": 1})}],
        "auth_token": None,
        "pem": "-----BEGIN RSA PRIVATE KEY-----abc",
    }
    assert redact(data) == {
        "api_key": "<redacted>",
        "max_tokens": 5,
        "nested": [{"client_secret": "<redacted>", "jwt": "<redacted>"}],
        "auth_token": None,
        "pem": "<redacted>",
    }


def test_public_names_are_exported_and_complete() -> None:
    exported = set(ls_model_providers.__all__)
    public = {
        name
        for name, value in vars(ls_model_providers).items()
        if not name.startswith("_")
        and getattr(value, "__module__", "").startswith("ls_model_providers")
    }
    assert public <= exported, public - exported
    for name in exported:
        assert hasattr(ls_model_providers, name), name
    assert sorted(exported) == sorted(set(ls_model_providers.__all__)), "no duplicates"
