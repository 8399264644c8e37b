"""spec-diff of the schema Label Studio serves for the add-on (drf-spectacular, from the
rebuilt serializer and view) against our fragment. Every line is explained in the README
("The fragment: where docs and servers disagree"); a new or vanished line fails here."""

from __future__ import annotations

import httpx
import pytest

from ls_model_providers.cli import main

from .stack import Stack

PATH = "/api/model-provider-connections/{id}/"
#: The README's spec-diff output, line by line (the summary lines aside).
EXPECTED = {
    "compatible  body.api_key: field added",
    "compatible  body.auth_token: field added",
    "compatible  body.google_application_credentials: field added",
    "compatible  body.created_by: no longer nullable",
    "BREAKING    body.created_by.username: field removed",
    "compatible  body.created_by.avatar: now required",
    "compatible  body.created_by.avatar: no longer nullable",
    'compatible  body.created_by.email: format "email" added',
    "compatible  body.model_params: type object/string -> string",
    "compatible  path.id: type integer -> string",
    'compatible  path.id: format "int64" removed',
}


def test_the_served_schema_lists_the_endpoint(stack: Stack) -> None:
    schema = httpx.get(stack.url + "/docs/api/schema/json/").json()
    operation = schema["paths"][PATH]["get"]
    assert operation["operationId"] == "api_model_provider_connections_retrieve"
    fields = set(schema["components"]["schemas"]["ModelProviderConnection"]["properties"])
    assert {"id", "provider", "model_params", "created_by", "budget_limit"} <= fields


def test_spec_diff_against_the_served_schema(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["spec-diff", "--base-url", stack.url])
    out = capsys.readouterr().out
    print(out)  # shown with -s, for the README
    lines = {line for line in out.splitlines() if line.startswith(("BREAKING  ", "compatible  "))}
    assert lines == EXPECTED, f"new: {lines - EXPECTED}; gone: {EXPECTED - lines}"
    assert code == 1, "one breaking line: username, which 1.23.2's serializer does not declare"
