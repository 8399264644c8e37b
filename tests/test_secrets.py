"""Secrets appear nowhere: reprs, errors, logs, output. Canary tokens and secret fields."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import httpx
import pytest

import ls_model_providers
from ls_model_providers import (
    AsyncClient,
    Client,
    LabelStudioError,
    PersonalAccessTokenAuth,
    TokenAuth,
)
from ls_model_providers._secrets import (
    Scrubber,
    find_secrets,
    is_secret_name,
    is_secret_value,
    mask,
    redact,
    secret_values,
)

from . import hostile
from .helpers import Harness, Script, body, jwt, ls_error, ok, url

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


def test_canary_appears_nowhere(kind: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    script = Script(
        ("GET", url(1, H), ok(**CANARY_FIELDS)),
        ("GET", url(2, H), httpx.Response(503)),
        ("GET", url(2, H), ls_error(401, "Invalid token.")),
        ("GET", url(3, H), httpx.Response(200, json={"api_key": "sk-canary-api-key"})),
    )
    client = Harness(kind, script, base_url=H, api_key=CANARY)
    conn = client.get(1)
    texts = [
        repr(client.client),
        str(client.client),
        repr(conn),
        str(conn),
        repr(client.client._auth),
    ]
    for bad_id in (2, 3):
        with pytest.raises(LabelStudioError) as info:
            client.get(bad_id)
        texts += [repr(info.value), str(info.value)]
    texts += [r.getMessage() for r in caplog.records] + [caplog.text]
    assert any(" -> 503 " in r.getMessage() for r in caplog.records), "debug lines are logged"
    _scrub_check(*texts)
    assert conn.additional_properties["api_key"] == "sk-canary-api-key", "kept for the caller"


def test_refresh_token_appears_nowhere(kind: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    refresh = jwt({"exp": 4_000_000_000, "canary": CANARY})
    access = jwt({"exp": 4_000_000_000, "canary": "access-" + CANARY})
    script = Script(
        ("POST", f"{H}/api/token/refresh/", httpx.Response(200, json={"access": access})),
        ("GET", url(1, H), ls_error(403, "You do not have permission to perform this action.")),
    )
    auth = PersonalAccessTokenAuth(refresh, base_url=H)
    client = Harness(kind, script, base_url=H, auth=auth)
    with pytest.raises(LabelStudioError) as info:
        client.get(1)
    for text in [repr(auth), repr(client.client), str(info.value), repr(info.value), caplog.text]:
        assert refresh not in text
        assert access not in text


@pytest.mark.parametrize("where", ["detail", "id", "version"])
def test_credentials_echoed_by_the_server_are_scrubbed(
    kind: str, where: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    echo = f"Invalid header: 'Token {CANARY}'"
    payload = {"id": "x", "version": "1", "detail": "d", "status_code": 503, where: echo}
    script = Script(*[("GET", url(1, H), httpx.Response(503, json=payload))] * 3)
    client = Harness(kind, script, base_url=H, api_key=CANARY)
    with pytest.raises(LabelStudioError) as info:
        client.get(1)
    error = info.value
    shown = [
        str(error),
        repr(error),
        caplog.text,
        str(getattr(error, where if where != "id" else "error_id")),
    ]
    _scrub_check(*shown)
    assert "<redacted>" in str(getattr(error, where if where != "id" else "error_id"))
    assert CANARY.encode() in error.body, "the raw body is kept as it came"


def test_access_token_echoed_by_the_server_is_scrubbed(kind: str) -> None:
    access = jwt({"exp": 4_000_000_000, "canary": "echo"})
    refresh = jwt({"exp": 4_000_000_000, "kind": "refresh"})
    echo = ls_error(400, f"bad header Bearer {access} (refresh {refresh})")
    script = Script(
        ("POST", f"{H}/api/token/refresh/", httpx.Response(200, json={"access": access})),
        ("GET", url(1, H), echo),
    )
    with pytest.raises(LabelStudioError) as info:
        Harness(kind, script, base_url=H, api_key=refresh).get(1)
    for text in (str(info.value), repr(info.value), str(info.value.detail)):
        assert access not in text
        assert refresh not in text


@pytest.mark.parametrize("key", [CANARY + "\n", f"  {CANARY}\r\n", f"\t{CANARY} "])
def test_keys_read_from_files_are_stripped(kind: str, key: str) -> None:
    script = Script(("GET", url(1, H), ok()))
    Harness(kind, script, base_url=H, api_key=key).get(1)
    assert script.requests[0].headers["Authorization"] == f"Token {CANARY}"


@pytest.mark.parametrize(
    "bad",
    [f"{CANARY[:20]}\n{CANARY[20:]}", f"{CANARY}\x00", f"{CANARY[:5]} {CANARY[5:]}", f"{CANARY}é"],
)
def test_keys_that_cannot_be_sent_are_refused_without_echo(bad: str) -> None:
    for build in (
        lambda: Client(base_url=H, api_key=bad),
        lambda: TokenAuth(bad),
        lambda: PersonalAccessTokenAuth(bad, base_url=H),
    ):
        with pytest.raises(ValueError, match="position") as info:
            build()
        assert CANARY[:10] not in str(info.value)
        assert CANARY[-10:] not in str(info.value)
    with pytest.raises(ValueError, match="empty"):
        Client(base_url=H, api_key=" \n")


@pytest.mark.parametrize(
    ("base_url", "why"),
    [
        ("http://admin:hunter2canary@h.example/", "must not contain credentials"),
        ("https://user@h.example", "must not contain credentials"),
        ("https://h.example/?tenant=a", "query"),
        ("https://h.example/ls?", "query"),
        ("https://h.example/#frag", "fragment"),
        ("h.example", "without a scheme"),
        ("admin:hunter2canary@h.example:8080", "without a scheme"),
        ("ftp://h.example", "http(s) URL"),
        ("http://", "http(s) URL"),
    ],
)
def test_bad_base_urls_are_refused_without_the_password(base_url: str, why: str) -> None:
    with pytest.raises(ValueError, match=why.replace("(", r"\(").replace(")", r"\)")) as info:
        Client(base_url=base_url, api_key=CANARY)
    assert "hunter2canary" not in str(info.value)


@pytest.mark.parametrize(
    "name",
    [
        "api_key", "auth_token", "google_application_credentials", "client_secret", "clientSecret",
        "secretAccessKey", "secret-access-key", "openaiApiKey", "OPENAI_API_KEY", "x-api-key",
        "accessToken", "refresh_token", "privateKey", "private_key", "private-key", "passphrase",
        "password", "db_password", "credentials_json", "credentials", "apikey", "Authorization",
        "session_cookie", "token", "key",
        # each word alone makes the name a secret (none of the others is in it):
        "aws_secret_arn", "secrets", "password_hash", "db_passwd", "passphrase_hint",
        "credential", "credentials_path", "apikey_header", "privatekey_pem", "pwd",
        "x_key", "basic_auth", "proxy_authorization",
        "request_signature",
    ],
)  # fmt: skip
def test_secret_names_in_every_spelling(name: str) -> None:
    assert is_secret_name(name)
    assert redact({name: "s3cr3t-value", "nested": [{name: "s3cr3t"}]}) == {
        name: "<redacted>",
        "nested": [{name: "<redacted>"}],
    }


@pytest.mark.parametrize(
    "name",
    [
        "max_tokens",
        "token_type",
        "key_id",
        "monkey",
        "tokens_used",
        "provider",
        "keyboard",
        "budget_limit",
    ],
)
def test_ordinary_names_are_not_secrets(name: str) -> None:
    assert not is_secret_name(name)


@pytest.mark.parametrize(
    "value",
    [
        jwt({"a": 1}),
        "-----BEGIN RSA PRIVATE KEY-----\nabc",
        "-----BEGIN PRIVATE KEY-----",
        "-----BEGIN OPENSSH PRIVATE KEY-----",
        "sk-proj-" + "a1B2" * 10,
        "sk-ant-api03-" + "x" * 40,
        "AIza" + "b" * 35,
    ],
)
def test_secret_values_whatever_their_name(value: str) -> None:
    assert is_secret_value(value)
    assert redact({"note": value}) == {"note": "<redacted>"}


def test_secret_fields_in_other_spellings_stay_out_of_reprs(kind: str) -> None:
    extra = {"clientSecret": "canary-1", "secretAccessKey": "canary-2", "openaiApiKey": "canary-3",
             "accessToken": "canary-4", "privateKey": "canary-5", "passphrase": "canary-6",
             "credentials_json": "canary-7"}  # fmt: skip
    conn = Harness(kind, Script(("GET", url(1, H), ok(**extra))), base_url=H).get(1)
    for text in (repr(conn), str(conn)):
        assert "canary-" not in text


def test_redact_is_bounded_in_depth() -> None:
    deep: Any = "leaf"
    for _ in range(5000):
        deep = {"a": [deep]}
    shown = repr(redact(deep))
    assert "<nested too deeply>" in shown


def test_scrubber() -> None:
    scrub = Scrubber("abcdefgh", "abcdefghij")
    assert scrub("x abcdefghij y abcdefgh") == "x <redacted> y <redacted>"
    scrub.discard("abcdefghij")
    assert scrub("abcdefghij") == "<redacted>ij"
    assert "abcd" not in repr(scrub)
    assert Scrubber("e", "short")("Unauthorized: Token e") == "Unauthorized: Token e", (
        "a string that short is no credential: hiding it would garble every message"
    )


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
    assert len(ls_model_providers.__all__) == len(exported), "no name listed twice"


def test_a_reason_phrase_echoing_the_token_is_scrubbed(kind: str) -> None:
    echo = httpx.Response(403, extensions={"reason_phrase": f"No {CANARY}".encode()})
    with pytest.raises(LabelStudioError) as info:
        Harness(kind, Script(("GET", url(1, H), echo)), base_url=H, api_key=CANARY).get(1)
    _scrub_check(str(info.value), repr(info.value))
    assert "No <redacted>" in str(info.value)


def test_a_redirect_carrying_the_token_keeps_it_out_of_errors_and_logs(
    kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    def echo(request: httpx.Request) -> httpx.Response:
        token = request.headers["Authorization"].split()[1]
        if request.url.path.startswith("/r/"):
            return httpx.Response(503)
        return httpx.Response(302, headers={"Location": f"/r/{token}/"})

    with pytest.raises(LabelStudioError) as info:
        Harness(kind, echo, base_url=H, api_key=CANARY).get(1)
    _scrub_check(str(info.value), repr(info.value), str(info.value.url), caplog.text)
    assert "/r/<redacted>/" in str(info.value)


def test_a_content_encoding_echoing_the_token_is_scrubbed(kind: str) -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        token = request.headers["Authorization"].split()[1]
        return httpx.Response(
            200, headers={"Content-Encoding": token}, stream=httpx.ByteStream(b"{}")
        )

    with pytest.raises(LabelStudioError, match="unsupported Content-Encoding") as info:
        Harness(kind, echo, base_url=H, api_key=CANARY, max_retries=0).get(1)
    _scrub_check(str(info.value), repr(info.value))


def test_a_body_echoing_the_token_is_scrubbed_from_the_repr(kind: str) -> None:
    conn = Harness(
        kind,
        Script(("GET", url(1, H), ok(deployment_name=f"d-{CANARY}", note=CANARY))),
        base_url=H,
        api_key=CANARY,
    ).get(1)
    _scrub_check(repr(conn), str(conn))
    assert conn.deployment_name == f"d-{CANARY}", "the value itself is kept as sent"


def test_httpx_log_records_are_scrubbed(kind: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    echo = httpx.Response(401, extensions={"reason_phrase": f"bad {CANARY}".encode()})
    with pytest.raises(LabelStudioError):
        Harness(kind, Script(("GET", url(1, H), echo)), base_url=H, api_key=CANARY).get(1)
    assert any(r.name == "httpx" for r in caplog.records), "httpx logged the response"
    _scrub_check(caplog.text, *(r.getMessage() for r in caplog.records))


@pytest.mark.parametrize(
    "planted",
    ["\x1b[0m", "\x1b]0;x\x07", "\x01", "\u200b", "\n"],
    ids=["CSI", "OSC", "C0", "ZWSP", "LF"],
)
def test_a_secret_split_by_invisible_characters_is_still_found(planted: str) -> None:
    split = f"key {CANARY[:20]}{planted}{CANARY[20:]} end"
    shown = Scrubber(CANARY)(split)
    assert "<redacted>" in shown
    assert CANARY[:10] not in shown and CANARY[-10:] not in shown


def test_a_secret_is_found_in_any_case_and_escaped_form() -> None:
    key = "ab\"cd\\ef'GHij"
    scrub = Scrubber(key, CANARY)
    assert scrub(CANARY.upper()) == "<redacted>"
    assert scrub(repr({"x": key})) == "{'x': '<redacted>'}"
    assert scrub(json.dumps({"x": key})) == '{"x": "<redacted>"}'
    assert scrub("nothing to hide\x1b[0m") == "nothing to hide\x1b[0m", (
        "text without secrets is kept as is"
    )


def test_a_detailed_response_repr_leaves_out_what_the_server_echoed(kind: str) -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json=body(), headers={"X-Echo": request.headers["Authorization"]}
        )

    detailed = Harness(kind, echo, base_url=H, api_key=CANARY).detailed(1)
    _scrub_check(repr(detailed), str(detailed))
    assert detailed.headers["x-echo"] == f"Token {CANARY}", "the headers are kept as sent"


def test_get_does_not_print_a_token_split_by_an_escape_sequence(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from ls_model_providers.cli import main

    detail = f"your key {CANARY[:20]}\x1b[0m{CANARY[20:]}"
    with hostile.serve(
        hostile.answer(
            "404 Not Found",
            json.dumps({"detail": detail}).encode(),
            content_type="application/json",
        )
    ) as server:
        code = main(["get", "1", "--base-url", server.base_url, "--api-key", CANARY])
    out, err = capsys.readouterr()
    assert code == 1
    _scrub_check(out, err)
    assert "<redacted>" in err


@pytest.mark.parametrize(
    ("data", "paths"),
    [
        ({"keys": [{"api_key": "sk-canary"}]}, ["keys.0.api_key"]),
        ({"extra": ["note", "sk-proj-" + "a1B2" * 10]}, ["extra.1"]),
        ([{"token": "t0k3n-canary"}], ["0.token"]),
        (
            {"model_params": '{"default": "sk-ant-api03-' + "x" * 40 + '"}'},
            ["model_params.default"],
        ),
        ({"api_key": "********"}, ["api_key"]),
        ({"api_key": "", "token_type": "Bearer", "max_tokens": 10}, []),
    ],
    ids=["object in array", "value in array", "top-level array", "JSON text", "mask", "none"],
)
def test_find_secrets_looks_into_arrays_and_json_text(data: Any, paths: list[str]) -> None:
    found = list(find_secrets(data))
    assert [f.path for f in found] == paths
    assert all(f.masked == (f.value == "********") for f in found)


LIBRARY_LOGGERS = [
    "httpx", "httpcore.connection", "httpcore.connection_pool", "httpcore.http11",
    "httpcore.http2", "httpcore.proxy", "httpcore.socks",
]  # fmt: skip


def test_library_log_records_are_scrubbed_during_a_call_only(
    kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Whatever httpx or httpcore logs while a call runs (each of their loggers: filters are
    not inherited) has the call's key hidden; the same text logged outside a call, by anyone,
    is left as it is."""
    caplog.set_level(logging.DEBUG)
    for name in LIBRARY_LOGGERS:  # as in a fresh process: the first call installs the filter
        for installed in list(logging.getLogger(name).filters):
            if type(installed).__name__ == "_LogScrubber":
                logging.getLogger(name).removeFilter(installed)

    def handler(request: httpx.Request) -> httpx.Response:
        for name in LIBRARY_LOGGERS:
            logging.getLogger(name).debug("sent %s", request.headers["Authorization"])
        return ok()

    Harness(kind, handler, base_url=H, api_key=CANARY).get(1)
    during = [r for r in caplog.records if r.name in LIBRARY_LOGGERS and r.msg.startswith("sent")]
    assert sorted(r.name for r in during) == sorted(LIBRARY_LOGGERS)
    assert all(r.getMessage() == "sent Token <redacted>" for r in during), during
    caplog.clear()
    logging.getLogger("httpx").debug("after %s", CANARY)
    assert [r.getMessage() for r in caplog.records] == [f"after {CANARY}"], "outside any call"


def test_httpcore_records_of_a_real_exchange_are_scrubbed(
    kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    """On a socket, httpcore logs the response headers at DEBUG: a server echoing the key in
    one must not put it into the application's log."""
    caplog.set_level(logging.DEBUG)
    answer = hostile.answer(
        "200 OK", json.dumps(body()).encode(), content_type="application/json",
        x_echo=f"Token {CANARY}",
    )  # fmt: skip
    with hostile.serve(answer) as server:
        if kind == "sync":
            with Client(base_url=server.base_url, api_key=CANARY) as client:
                assert client.get_connection(1).id == 1
        else:

            async def main() -> None:
                async with AsyncClient(base_url=server.base_url, api_key=CANARY) as client:
                    assert (await client.get_connection(1)).id == 1

            asyncio.run(main())
    names = {r.name for r in caplog.records}
    assert "httpcore.http11" in names, names
    _scrub_check(caplog.text, *(r.getMessage() for r in caplog.records))


def test_mask_shows_the_length_only() -> None:
    assert mask(CANARY) == "<40 chars>"
    assert mask("") == "<empty>"


@pytest.mark.parametrize("count", [3, 40], ids=["few secrets", "indexed"])
def test_a_discarded_secret_is_shown_again_and_the_others_stay_hidden(count: int) -> None:
    """A replaced access token is discarded: text quoting it is left alone, every other secret
    (one sharing its first characters too, one equal to it in another case) stays hidden."""
    secrets = [f"secret-{i:02d}-{'x' * 10}" for i in range(count)]
    scrub = Scrubber(*secrets, "CASE-blind-secret", "case-BLIND-secret")
    scrub.discard(secrets[0])
    scrub.discard("never-added-secret")
    scrub.discard("CASE-blind-secret")
    assert scrub(f"a {secrets[0]} b") == f"a {secrets[0]} b"
    assert scrub(f"{secrets[1]} {secrets[-1]}") == "<redacted> <redacted>"
    assert scrub("case-blind-secret") == "<redacted>", "its twin in another case is still held"
    for secret in secrets[1:]:
        scrub.discard(secret)
    assert scrub(" ".join(secrets)) == " ".join(secrets)
    assert scrub("case-blind-secret!") == "<redacted>!"


@pytest.mark.parametrize("count", [1, 40], ids=["few secrets", "indexed"])
def test_a_text_scrubbed_again_sees_the_secrets_added_and_discarded_since(count: int) -> None:
    """The last short text is remembered with its result (a call's URL, scrubbed on every
    call): a secret added or discarded since changes the answer for the same text."""
    secrets = [f"secret-{i:02d}-{'x' * 10}" for i in range(count)]
    scrub = Scrubber(*secrets[1:])
    late = secrets[0]
    for text in (f"https://ls.example/?t={late}", f"{late} " + "y" * 3000):  # short, long
        shown = text.replace(late, "<redacted>")
        assert scrub(text) == text
        assert scrub(text) == text, "the same text twice: the same answer"
        scrub.add(late)
        assert scrub(text) == shown
        assert scrub(text) == shown
        assert scrub("another text") == "another text", "a new text is scrubbed, not recalled"
        scrub.discard(late)
        assert scrub(text) == text


def _objects(levels: int, leaf: Any) -> Any:
    for _ in range(levels):
        leaf = {"a": leaf}
    return leaf


def _arrays(levels: int, leaf: Any) -> Any:
    for _ in range(levels):
        leaf = [leaf]
    return leaf


def _innermost(value: Any) -> Any:
    while isinstance(value, dict) and "a" in value:
        value = value["a"]
    while isinstance(value, list) and value and isinstance(value[0], list):
        value = value[0]
    return value


SK = "sk-proj-" + "a1B2" * 10


def test_secrets_are_found_and_redacted_64_containers_deep_and_no_deeper() -> None:
    """The same bound as the JSON the client accepts (64 levels): a secret within it is found
    and hidden; past it the container itself is replaced, so nothing recurses without end."""
    assert [f.path for f in find_secrets(_objects(63, {"api_key": "k" * 10}))] == [
        "a." * 63 + "api_key"
    ]
    assert list(find_secrets(_objects(64, {"api_key": "k" * 10}))) == []
    assert len(list(find_secrets(_arrays(63, [SK])))) == 1
    assert list(find_secrets(_arrays(64, [SK]))) == []
    assert _innermost(redact(_objects(63, {"b": 1}))) == {"b": 1}
    assert _innermost(redact(_objects(64, {"b": 1}))) == "<nested too deeply>"
    assert _innermost(redact(_arrays(63, ["x"]))) == ["x"]
    assert _innermost(redact(_arrays(64, ["x"]))) == ["<nested too deeply>"]
    assert redact(["x", ["y"]], depth=1) == ["x", "<nested too deeply>"]


def test_json_text_is_redacted_inside_and_left_alone_without_secrets() -> None:
    """model_params sent as text: a key inside is hidden, the rest kept (non-ASCII as is);
    text holding no secret comes back exactly as it was."""
    data = {
        "model_params": '{"api_key": "' + "k" * 12 + '", "note": "é"}',
        "list_text": '["' + SK + '", "ok"]',
        "plain": '{"n":1}',
        "not_json": "{ not json }",
    }
    assert redact(data) == {
        "model_params": '{"api_key": "<redacted>", "note": "é"}',
        "list_text": '["<redacted>", "ok"]',
        "plain": '{"n":1}',
        "not_json": "{ not json }",
    }
    assert [f.path for f in find_secrets(data)] == ["model_params.api_key", "list_text.0"]


def test_secret_values_are_the_strings_to_scrub() -> None:
    data = {"api_key": "k" * 12, "masked_key": "********", "list": [SK], "empty_token": ""}
    assert list(secret_values(data)) == ["k" * 12, SK]


@pytest.mark.parametrize("count", [1, 24, 25, 40], ids=["one", "24 forms", "25 forms", "indexed"])
def test_the_scrubber_finds_every_occurrence_with_few_or_many_secrets(count: int) -> None:
    """The same answers below and above the point where the scrubber indexes its forms."""
    others = [f"other{i:03d}-secret" for i in range(count - 1)]
    key = "abcdefgh"  # exactly the shortest secret
    scrub = Scrubber(key, *others)
    assert scrub(key) == "<redacted>"
    assert scrub(f"{key}{key}.{key}") == "<redacted><redacted>.<redacted>"
    assert scrub(f"at the end {key}") == "at the end <redacted>"
    assert scrub("abcdefg") == "abcdefg"
    assert scrub("ABCDEFGH and \u0130 \u017f") == "<redacted> and \u0130 \u017f"


def test_case_folding_matches_what_a_case_blind_reader_sees() -> None:
    """A secret spelled with the long s (U+017F) or a dotted capital I (U+0130), which lower
    to s and i, is still the secret."""
    scrub = Scrubber("session-secret-key", "api-key-identity")
    assert scrub("SESSION-\u017fECRET-KEY") == "<redacted>"
    assert scrub("api-key-\u0130dentity") == "<redacted>"


@pytest.mark.parametrize("count", [2, 40], ids=["few secrets", "indexed"])
def test_a_secret_containing_another_is_replaced_whole(count: int) -> None:
    others = [f"other{i:03d}-secret" for i in range(count - 2)]
    scrub = Scrubber("prefix00", *others)
    scrub.add("prefix00-and-more", "<long>")
    assert scrub("x prefix00-and-more y prefix00 z") == "x <long> y <redacted> z"


@pytest.mark.parametrize("masked", ["********", "\u2022\u2022\u2022\u2022", "xxxxxxxx", "XXXXXXXX"])
def test_a_masked_value_is_not_a_leak(masked: str) -> None:
    assert [(f.path, f.masked) for f in find_secrets({"api_key": masked})] == [("api_key", True)]


PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA"
UNSIGNED_JWT = "eyJhbGciOiJub25lIn0.e30."  # alg "none", claims {}: no signature
AIZA = "AIza" + "b" * 35


@pytest.mark.parametrize(
    "key",
    [SK, "sk-ant-api03-" + "x" * 40, AIZA, jwt({"sub": "svc"})],
    ids=["openai", "anthropic", "google", "jwt"],
)
def test_a_provider_key_quoted_inside_a_text_is_found_and_hidden(key: str) -> None:
    """An error detail quoting a provider key (or a JWT) in the middle of a sentence, under a
    name that says nothing: the key alone is reported and replaced, the sentence kept."""
    detail = f"upstream said: invalid key {key}, check it"
    assert list(find_secrets({"detail": detail, "n": [1]})) == [("detail", key, False)]
    assert list(find_secrets([f"({key}) and again ({key})"])) == [
        ("0", key, False),
        ("0", key, False),
    ]
    assert redact({"detail": detail}) == {
        "detail": "upstream said: invalid key <redacted>, check it"
    }
    assert list(secret_values({"detail": detail})) == [key]


@pytest.mark.parametrize(
    "text",
    ["task-sk-" + "a" * 30, "ask-" + "a" * 30, "sk-short", "xAIza" + "b" * 35, "nothing here"],
)
def test_text_that_only_resembles_a_key_is_left_alone(text: str) -> None:
    """``sk-`` inside a word, a key too short to be one: no secret, the text unchanged."""
    assert list(find_secrets({"detail": f"see {text}."})) == []
    assert redact({"detail": f"see {text}."}) == {"detail": f"see {text}."}


@pytest.mark.parametrize("value", [PEM, UNSIGNED_JWT], ids=["PEM", "unsigned JWT"])
def test_a_whole_value_shaped_like_a_credential_is_found_under_any_name(value: str) -> None:
    """A PEM private key or an unsigned JWT is a credential even in a field called ``note``
    (and even where no key format could be found inside the text)."""
    assert list(find_secrets({"note": value})) == [("note", value, False)]
    assert list(find_secrets([[value]])) == [("0.0", value, False)]


def test_each_element_of_a_secret_named_array_is_one_credential() -> None:
    """``"api_key": [...]``: every non-empty string is reported at its index (masks marked),
    an empty one is not a credential, and containers are looked into with the path kept."""
    data = {
        "api_key": [
            "k" * 12,
            "********",
            "",
            {"token": "t0k3n-canary", "note": "plain"},
            ["plain", SK],
            5,
            None,
        ],
        "other": 1,
    }
    assert list(find_secrets(data)) == [
        ("api_key.0", "k" * 12, False),
        ("api_key.1", "********", True),
        ("api_key.3.token", "t0k3n-canary", False),
        ("api_key.4.1", SK, False),
    ]
    assert list(secret_values(data)) == ["k" * 12, "t0k3n-canary", SK]
    assert redact(data) == {"api_key": "<redacted>", "other": 1}


def test_a_secret_named_field_holding_json_text_is_one_credential() -> None:
    """``credentials_json`` sent as a string: the whole text is the credential, whatever its
    fields are called inside; under an ordinary name only what is inside is looked at."""
    text = '{"type": "service_account", "client_email": "a@b.example"}'
    assert list(find_secrets({"credentials_json": text})) == [("credentials_json", text, False)]
    assert list(find_secrets({"service_account": text})) == []
    assert redact({"credentials_json": text}) == {"credentials_json": "<redacted>"}


def test_secrets_in_a_secret_named_array_are_found_64_containers_deep_and_no_deeper() -> None:
    """The depth bound counts the array of a secret-named field and what it holds like any
    other container."""
    data = {"api_key": [{"token": "t0k3n-canary"}]}
    assert [f.path for f in find_secrets(_objects(62, data))] == ["a." * 62 + "api_key.0.token"]
    assert list(find_secrets(_objects(63, data))) == []
    strings = {"api_key": ["k" * 12]}
    assert [f.path for f in find_secrets(_objects(63, strings))] == ["a." * 63 + "api_key.0"]


def test_json_text_counts_as_a_level_for_find_secrets() -> None:
    """JSON text in a string is a container too: a secret inside it is found within the 64
    levels, and not past them."""
    data = {"p": '{"api_key": "' + "k" * 12 + '"}'}
    assert [f.path for f in find_secrets(_objects(62, data))] == ["a." * 62 + "p.api_key"]
    assert list(find_secrets(_objects(63, data))) == []


def test_json_text_near_the_depth_bound_is_redacted_inside_and_cut_below_the_bound() -> None:
    """JSON text close to the bound: its secret is still hidden and its other fields kept, and
    what lies past the bound inside it is not written back."""
    text = '{"password": "hunter2hunter2", "n": 1, "deep": {"b": {"c": 1}}}'
    assert redact({"model_params": text}) == {
        "model_params": '{"password": "<redacted>", "n": 1, "deep": {"b": {"c": 1}}}'
    }
    shown = _innermost(redact(_objects(61, {"model_params": text})))["model_params"]
    assert "hunter2" not in shown
    inner = json.loads(shown)
    assert (inner["password"], inner["n"]) == ("<redacted>", 1)
    assert '"c"' not in shown and "<nested too deeply>" in shown


@pytest.mark.parametrize("levels", range(58, 66))
def test_json_text_at_any_depth_never_comes_back_with_its_secret(levels: int) -> None:
    """``redact`` reads JSON text at the level ``find_secrets`` does: what one finds the other
    hides, and JSON text past the bound is cut like any container (it came back verbatim,
    password and all, one level before the bound)."""
    data = _objects(levels, {"model_params": '{"password": "hunter2hunter2", "n": 1}'})
    shown = json.dumps(redact(data))
    assert "hunter2" not in shown
    if any(f.value == "hunter2hunter2" for f in find_secrets(data)):
        assert "<redacted>" in shown
    else:
        assert "<nested too deeply>" in shown


@pytest.mark.parametrize("levels", [1, 30, 55, 60])
def test_json_text_nested_past_the_bound_is_cut_not_written_back(levels: int) -> None:
    """JSON text whose own nesting reaches past the bound: what lies beyond is cut, never
    written back with the password it holds (find_secrets, bounded, does not see it)."""
    deep = json.dumps(_objects(70 - levels, {"password": "hunter2hunter2"}))
    shown = json.dumps(redact(_objects(levels, {"model_params": deep})))
    assert "hunter2" not in shown
    assert "<nested too deeply>" in shown


def test_a_scrubber_changed_after_a_discard_sees_its_current_secrets() -> None:
    """Secrets added and discarded after a discard: a text scrubbed before those changes is
    scrubbed again with the secrets held now, not recalled."""
    scrub = Scrubber("first-secret-1", "other-secret-2")
    scrub.discard("first-secret-1")
    text = "late-secret-3 here"
    assert scrub(text) == text
    scrub.add("temp-secret-4")
    scrub.add("late-secret-3")
    scrub.discard("temp-secret-4")
    assert scrub(text) == "<redacted> here"
    assert scrub("temp-secret-4 other-secret-2") == "temp-secret-4 <redacted>"


def test_a_text_equal_to_the_last_result_is_scrubbed_on_its_own() -> None:
    """A text that reads like what the last one became (its placeholder now spells another
    secret) is scrubbed afresh: scrubbing a result again hides what it shows."""
    scrub = Scrubber()
    scrub.add("first-secret-1", "second-secret-2")
    scrub.add("second-secret-2", "<second>")
    shown = scrub("x first-secret-1")
    assert shown == "x second-secret-2"
    assert scrub(shown) == "x <second>"


@pytest.mark.parametrize("count", [6, 20], ids=["few secrets", "indexed"])
def test_a_secret_spelled_like_another_secrets_escaped_form_keeps_its_own_forms(
    count: int,
) -> None:
    """``a\\tb`` written out (backslash, t) is how repr/JSON show the secret ``a<TAB>b``: a
    secret spelled that way is still hidden in its own repr and JSON forms."""
    tabbed = [f"key{i:02d}\tsecret-part" for i in range(count)]
    spelled = [secret.replace("\t", "\\t") for secret in tabbed]
    scrub = Scrubber(*tabbed)
    for secret in spelled:
        scrub.add(secret)
    for secret in spelled:
        assert scrub(repr(secret)) == "'<redacted>'"
        assert scrub(json.dumps([secret])) == '["<redacted>"]'
        assert scrub(secret) == "<redacted>"


def test_library_log_scrubbing_comes_back_when_httpx_lost_its_filter(
    kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A logging configuration that dropped the filter from httpx's logger (the others keep
    theirs): the next call puts it back, and httpx's records of it are scrubbed."""
    caplog.set_level(logging.DEBUG)

    def handler(request: httpx.Request) -> httpx.Response:
        logging.getLogger("httpx").debug("sent %s", request.headers["Authorization"])
        return ok()

    Harness(kind, handler, base_url=H, api_key=CANARY).get(1)  # installs the filters
    httpx_logger = logging.getLogger("httpx")
    for installed in list(httpx_logger.filters):
        if type(installed).__name__ == "_LogScrubber":
            httpx_logger.removeFilter(installed)
    caplog.clear()
    Harness(kind, handler, base_url=H, api_key=CANARY).get(1)
    sent = [r.getMessage() for r in caplog.records if r.getMessage().startswith("sent ")]
    assert sent == ["sent Token <redacted>"]
