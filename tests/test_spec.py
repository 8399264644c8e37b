"""The fragment says what the docs and the facts file say, and is a valid OpenAPI document."""

from __future__ import annotations

from typing import Any

from openapi_spec_validator import validate

from .conftest import SPEC_PATH

ENDPOINT = "/api/model-provider-connections/{id}/"
REQUIRED = [
    "budget_last_reset_date", "budget_limit", "budget_reset_period", "budget_total_spent",
    "created_at", "created_by", "id", "model_params", "organization", "updated_at",
]  # fmt: skip
OPTIONAL_MAX_LENGTH = {
    "cached_available_models": 4096,
    "deployment_name": 512,
    "endpoint": 512,
    "google_location": 255,
    "google_project_id": 255,
}


def _schemas(spec: dict[str, Any]) -> dict[str, Any]:
    schemas: dict[str, Any] = spec["components"]["schemas"]
    return schemas


def test_fragment_is_a_valid_openapi_document(spec: dict[str, Any]) -> None:
    validate(spec)
    assert spec["openapi"] == "3.0.3"
    assert SPEC_PATH.name.endswith(".yaml")


def test_operation_keeps_the_docs_identity(spec: dict[str, Any]) -> None:
    operation = spec["paths"][ENDPOINT]["get"]
    assert operation["operationId"] == "api_model_provider_connections_retrieve"
    assert operation["summary"] == "Retrieve a specific model provider connection"
    assert operation["tags"] == ["Model Providers"]
    assert set(operation["responses"]) == {"200", "401", "403", "404"}
    assert {next(iter(s)) for s in operation["security"]} == {"Token", "Bearer"}
    assert set(spec["paths"][ENDPOINT]) == {"parameters", "get"}, "read-only: GET only"


def test_path_id_is_a_positive_integer_with_example(spec: dict[str, Any]) -> None:
    param = spec["components"]["parameters"]["ConnectionId"]
    assert param["in"] == "path" and param["required"] is True
    assert param["schema"]["type"] == "integer"
    assert param["schema"]["minimum"] == 1
    assert param["schema"]["maximum"] == 2**63 - 1
    assert param["example"] >= 1


def test_all_nineteen_fields_with_the_documented_shape(spec: dict[str, Any]) -> None:
    schema = _schemas(spec)["ModelProviderConnection"]
    props = schema["properties"]
    assert len(props) == 19
    assert schema["required"] == REQUIRED
    assert schema["additionalProperties"] is True
    for name in REQUIRED:
        assert props[name].get("readOnly") is True, name
    for name, limit in OPTIONAL_MAX_LENGTH.items():
        assert props[name] == {
            **props[name],
            "type": "string",
            "nullable": True,
            "maxLength": limit,
        }
    for name in ["created_at", "updated_at", "budget_last_reset_date"]:
        assert props[name]["format"] == "date-time"
    for name in ["budget_limit", "budget_total_spent", "budget_alert_threshold"]:
        assert props[name]["type"] == "number" and props[name]["nullable"] is True
    assert props["id"]["type"] == "integer" and "nullable" not in props["id"]
    assert props["organization"] == {**props["organization"], "type": "integer", "nullable": True}
    assert props["is_internal"]["type"] == "boolean"
    assert "nullable" not in props["provider"] and "nullable" not in props["scope"]
    assert props["created_by"]["nullable"] is True


def test_enums(spec: dict[str, Any]) -> None:
    schemas = _schemas(spec)
    assert schemas["ProviderEnum"]["enum"] == [
        "OpenAI", "AzureOpenAI", "AzureAIFoundry", "VertexAI", "Gemini", "Anthropic", "Custom",
    ]  # fmt: skip
    assert schemas["ScopeEnum"]["enum"] == ["Organization", "User", "Model"]
    assert schemas["BudgetResetPeriodEnum"]["enum"] == ["Monthly", "Yearly"]


def test_model_params_accepts_string_and_object(spec: dict[str, Any]) -> None:
    variants = _schemas(spec)["ModelProviderConnection"]["properties"]["model_params"]["oneOf"]
    assert [v["type"] for v in variants] == ["string", "object"]


def test_error_responses_use_the_label_studio_error_body(spec: dict[str, Any]) -> None:
    error = _schemas(spec)["LabelStudioError"]
    assert error["required"] == ["id", "status_code", "version", "detail", "exc_info"]
    assert {"validation_errors", "display_context"} <= set(error["properties"])
    responses = spec["components"]["responses"]
    assert responses["Unauthorized"]["headers"]["WWW-Authenticate"]
    for response in responses.values():
        ref = response["content"]["application/json"]["schema"]["$ref"]
        assert ref.endswith("/LabelStudioError")


def test_example_response_is_complete(spec: dict[str, Any]) -> None:
    example = spec["components"]["examples"]["AzureConnection"]["value"]
    assert set(example) == set(_schemas(spec)["ModelProviderConnection"]["properties"])
