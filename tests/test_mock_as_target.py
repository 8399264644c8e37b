"""The mock as a target (issue 17, item 8): what a hostile client sends gets Label Studio's 4xx
with its JSON error body, never a 500 or a traceback in the mock's log, and no request body
holds more than Django's DATA_UPLOAD_MAX_MEMORY_SIZE. Real sockets: the mock served by
uvicorn, the client a raw socket that streams its body (``tests/hostile_clients.py``)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx
import pytest

from ls_model_providers._constants import MOCK_MAX_REQUEST_BODY
from ls_model_providers.mock import create_app, serve_in_thread

from . import hostile_clients as hc

MiB = 1024 * 1024


def _ls_error(answer: hc.Answer) -> dict[str, Any]:
    assert answer.headers["content-type"] == "application/json", answer
    body: dict[str, Any] = json.loads(answer.body)
    assert set(body) == {"id", "status_code", "version", "detail", "exc_info"}
    uuid.UUID(body["id"])
    assert (body["status_code"], body["exc_info"]) == (answer.status, None)
    return body


@pytest.mark.parametrize("case", hc.CASES, ids=[c.name for c in hc.CASES])
def test_a_hostile_request_gets_label_studios_4xx(case: hc.Case) -> None:
    result = hc.run(case)
    assert result.answer.status == case.status, result.answer
    detail = _ls_error(result.answer)["detail"]
    assert detail.startswith(case.detail), detail
    assert result.logged == [], [r.getMessage() for r in result.logged]
    assert result.after == 200, "the mock still serves"
    # Bounded: the mock held at most the 2.5 MB limit (plus a chunk, and its own overhead),
    # and answered without reading the rest of an endless body.
    assert result.peak < 4 * MOCK_MAX_REQUEST_BODY, f"{result.peak / MiB:.1f} MiB"
    assert result.seconds < 5 + case.mock.get("body_seconds", 0)
    assert result.answer.sent < 64 * MiB, "the server stopped reading early"


def test_past_the_limit_the_connection_is_closed_unread() -> None:
    result = hc.run(hc.CASES[6])  # 400 MiB declared
    assert result.answer.headers["connection"] == "close"
    assert result.answer.headers["allow"] == "POST, OPTIONS"


@pytest.mark.parametrize("declare", [True, False], ids=["content-length", "chunked"])
def test_a_body_of_exactly_the_limit_is_read(declare: bool) -> None:
    content = b'{"refresh": "x"}'.ljust(MOCK_MAX_REQUEST_BODY)
    with serve_in_thread(create_app()) as served:
        if declare:
            head, body = hc.refresh_body(content)
        else:
            head = b"POST /api/token/refresh/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            framed = [b"%x\r\n%s\r\n" % (len(content) - 1, content[:-1]), b"1\r\n \r\n0\r\n\r\n"]
            body = lambda: iter(framed)  # noqa: E731
        answer = hc.send(served.base_url, head, body)
        assert (answer.status, _ls_error(answer)["detail"]) == (401, "Token is invalid")
        if not declare:  # one byte more, in the last chunk: read up to it, then refused
            framed[1] = b"2\r\n  \r\n0\r\n\r\n"
            over = hc.send(served.base_url, head, body)
            assert (over.status, _ls_error(over)["detail"]) == (400, hc.TOO_BIG)


def test_a_client_that_leaves_mid_body_leaves_no_traceback() -> None:
    app = create_app()
    with serve_in_thread(app) as served, hc._errors_logged() as logged:
        head, _ = hc.stalled(100, b"")
        with hc.socket.create_connection(
            ("127.0.0.1", int(served.base_url.rsplit(":", 1)[1]))
        ) as s:
            s.sendall(head + b'{"refresh"')
            time.sleep(0.2)
        deadline = time.monotonic() + 5
        while not app.state.mock.stats["client_gone"] and time.monotonic() < deadline:
            time.sleep(0.02)
        assert app.state.mock.stats["client_gone"] == 1
        ok = httpx.get(
            f"{served.base_url}{hc.DETAIL}", headers={"Authorization": f"Token {served.token}"}
        )
    assert ok.status_code == 200
    assert logged == [], [r.getMessage() for r in logged]


@pytest.mark.parametrize(
    ("claims", "status"),
    [
        ({}, 200),
        ({"user_id": 1}, 200),  # Django reads a primary key with int(): 1 and "1" alike
        ({"user_id": "²"}, 401),
        ({"user_id": "1" * 5000}, 401),
        ({"user_id": ["1"]}, 401),
        ({"user_id": None}, 401),
        ({"user_id": "999"}, 401),
        ({"exp": "NaN"}, 401),
        ({"exp": 1.5}, 401),
        ({"exp": True}, 401),
        ({"exp": [1]}, 401),
        ({"token_type": "refresh"}, 401),
    ],
)
def test_bearer_claims_are_read_as_label_studio_reads_them(
    claims: dict[str, Any], status: int
) -> None:
    with serve_in_thread(create_app()) as served:
        answer = hc.send(served.base_url, *hc.bearer(hc.forged(served, "access", **claims)))
    assert answer.status == status
    if status == 401:
        assert _ls_error(answer)["detail"] == hc.NOT_PROVIDED


@pytest.mark.parametrize(("exp", "status"), [(1000.9, 200), (1000.5, 401), ("1001", 200)])
def test_exp_is_compared_as_sent_not_truncated(exp: Any, status: int) -> None:
    # The mock mints access tokens that expire at a fraction of a second; a string is read
    # as PyJWT reads it, int(exp).
    with serve_in_thread(create_app(clock=lambda: 1000.5)) as served:
        answer = hc.send(served.base_url, *hc.bearer(hc.forged(served, "access", exp=exp)))
    assert answer.status == status


@pytest.mark.parametrize(
    ("header", "status", "detail"),
    [
        # DRF splits the raw header at any ASCII white space, and compares "Token" in any case.
        (b"Token\t{key}", 200, None),
        (b"token  {key}", 200, None),
        (
            b"Token {key}\xa0",
            401,
            "Invalid token header. Token string should not contain invalid characters.",
        ),
        (b"Token {key} x", 401, "Invalid token header. Token string should not contain spaces."),
        # simplejwt compares the scheme as bytes: "bearer" is not its scheme.
        (b"bearer {access}", 401, hc.NOT_PROVIDED),
        (b"Bearer\t{access}", 200, None),
        (b"Bearer {access} x", 401, hc.NOT_PROVIDED),
    ],
)
def test_the_authorization_header_is_split_as_drf_splits_it(
    header: bytes, status: int, detail: str | None
) -> None:
    with serve_in_thread(create_app()) as served:
        access = hc.forged(served, "access")
        value = header.replace(b"{key}", served.token.encode()).replace(
            b"{access}", access.encode()
        )
        answer = hc.send(served.base_url, *hc.request("GET", hc.DETAIL, {"Authorization": value}))
    assert answer.status == status
    if detail is not None:
        assert _ls_error(answer)["detail"] == detail


@pytest.mark.parametrize("path", [hc.DETAIL, "/api/model-provider-connections/", "/api/token/"])
def test_a_method_no_route_lists_is_label_studios_json_405_after_authentication(path: str) -> None:
    with serve_in_thread(create_app()) as served:
        anonymous = hc.send(served.base_url, *hc.request("PROPFIND", path))
        keyed = hc.send(
            served.base_url,
            *hc.request("PROPFIND", path, {"Authorization": f"Token {served.token}"}),
        )
    assert (anonymous.status, _ls_error(anonymous)["detail"]) == (401, hc.NOT_PROVIDED)
    assert (keyed.status, _ls_error(keyed)["detail"]) == (405, 'Method "PROPFIND" not allowed.')


@pytest.mark.parametrize("raw", ["²", "1" * 5000, "\u0661"])
def test_ids_and_pages_are_read_as_djangos_int_reads_them(raw: str) -> None:
    # U+0661 ARABIC-INDIC DIGIT ONE is 1 to int(), and to Django's lookup.
    found = raw == "\u0661"
    with serve_in_thread(create_app(list_page_size=3)) as served:
        auth = {"Authorization": f"Token {served.token}"}
        detail = httpx.get(f"{served.base_url}/api/model-provider-connections/{raw}/", headers=auth)
        page = httpx.get(
            f"{served.base_url}/api/model-provider-connections/", params={"page": raw}, headers=auth
        )
    assert detail.status_code == (200 if found else 404)
    assert page.status_code == (200 if found else 404)
    if not found:
        assert detail.json()["detail"] == "Not found."
        assert page.json()["detail"] == "Invalid page."


def test_methods_of_any_name_do_not_grow_the_stats() -> None:
    app = create_app()
    with serve_in_thread(app) as served:
        for name in ("PROPFIND", "X" * 8000, "Y" * 8000):
            answer = hc.send(served.base_url, *hc.request(name, hc.DETAIL))
            assert answer.status == 401
        hc.send(served.base_url, *hc.request("GET", hc.DETAIL))
    assert dict(app.state.mock.methods) == {"other": 3, "GET": 1}
