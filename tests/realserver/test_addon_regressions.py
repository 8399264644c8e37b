"""The add-on's regressions are really in force when switched on (so a suite that exits 0
on one has missed a real bug, not met a dud): seen with plain requests on the development
server (one process) and through nginx (two uwsgi workers)."""

from __future__ import annotations

import json

import httpx

from .shapes import Shape
from .stack import Stack

ENDPOINT = "/api/model-provider-connections/{}/"


def _get(url: str, token: str | None, shape: Shape | None = None) -> httpx.Response:
    headers = {} if token is None else {"Authorization": f"Token {token}"}
    return httpx.get(url, headers=headers, verify=shape.verify if shape else True)


def test_params_secret_puts_the_key_and_the_pem_in_model_params(stack: Stack) -> None:
    row = stack.row("provider-OpenAI")
    for form in ("object", "string"):
        with stack.switched(form, "params_secret"):
            body = _get(stack.url + ENDPOINT.format(row["id"]), stack.viewer_token(row)).json()
        params = body["model_params"] if form == "object" else json.loads(body["model_params"])
        assert params["default"]["extra_headers"]["X-Api-Key"] == row["secrets"]["api_key"]
        pem = json.loads(row["secrets"]["google_application_credentials"])["private_key"]
        assert params["default"]["vertex_credentials"] == pem
        assert "api_key" not in body, "only model_params leaks"


def test_secret_after_first_spares_only_each_process_first_answer(
    stack: Stack, all_shapes: dict[str, Shape]
) -> None:
    row = stack.row("provider-OpenAI")
    secret = row["secrets"]["api_key"]
    with stack.switched("object", "secret_after_first"):
        development = [
            _get(stack.url + ENDPOINT.format(row["id"]), stack.viewer_token(row)).json()
            for _ in range(3)
        ]
        nginx = all_shapes["nginx"]
        proxied = [
            _get(nginx.url + ENDPOINT.format(row["id"]), stack.viewer_token(row), nginx).json()
            for _ in range(6)
        ]
    assert [b.get("api_key") for b in development] == [None, secret, secret]
    assert proxied[0].get("api_key") is None, "the first answer is clean"
    leaked = [b.get("api_key") for b in proxied if "api_key" in b]
    assert leaked and set(leaked) == {secret}, "later answers leak"


def test_noslash_open_serves_the_route_without_its_slash_to_anyone(
    stack: Stack, all_shapes: dict[str, Shape]
) -> None:
    row = stack.row("provider-OpenAI")
    for shape in (None, all_shapes["nginx-prefix"]):
        base = stack.url if shape is None else shape.url
        with stack.switched("object", "noslash_open"):
            open_ = _get(base + ENDPOINT.format(row["id"]).rstrip("/"), None, shape)
            closed = _get(base + ENDPOINT.format(row["id"]), None, shape)
            wrong = _get(base + ENDPOINT.format(row["id"]).rstrip("/"), "0" * 40, shape)
        assert open_.status_code == 200 and open_.json()["id"] == row["id"]
        assert closed.status_code == 401, "the documented route still asks"
        assert wrong.status_code == 401, "a wrong token is still refused"
