"""Who may read a connection, on the real stack (issue 18): the admin's key with two denied
users seeded through Label Studio's own organisation and membership models, the annotator (a
member of the admin's organisation without a role that may view connections) and grace (the
owner of organisation 2, which has connections of its own). On the development server and
behind nginx (TLS, two uwsgi workers): conformant, each kind told apart; each authz
regression of the add-on exits 1 naming the check that must catch it, and nothing unrelated;
no key of any identity (nor an access token a refresh brought) in the console, either
report, or a usage error."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from ls_model_providers.cli import main

from .lsaddon.switch import REGRESSIONS
from .shapes import Shape, Tokens
from .stack import Stack
from .test_addon_conformance import SEED, SHAPE_EXAMPLES

#: The development server, as a shape: personal access tokens are made once per database.
DEVELOPMENT = "development"
TARGETS = (DEVELOPMENT, "nginx")
MEMBER = (
    "denied key #1 ($LABEL_STUDIO_DENIED_KEY_1 in reproductions): a member of the organisation "
    "without a role that may view connections"
)
OTHER = (
    "denied key #2 ($LABEL_STUDIO_DENIED_KEY_2 in reproductions): a user of another organisation"
)
#: What each authz regression must fail (first), and what else it may fail. Without the
#: organisation filter and the object permission, grace reads (200) and lists every row:
#: a read is also an answer unlike an unknown id's 404.
AUTHZ_CATCHES: dict[str, tuple[str, set[str]]] = {
    "authz_no_org_filter": (
        "authz.detail_refused",
        {"authz.no_existence_oracle", "authz.list_refused", "authz.both_directions"},
    ),
    "authz_oracle": ("authz.no_existence_oracle", set()),
    "authz_no_role_check": ("authz.list_refused", set()),
}
#: What each regression's failure must say (the identity, and what it was answered); {org1}:
#: how many rows organisation 1 holds.
SAYS = {
    "authz_no_org_filter": "denied key #2 (a user of another organisation): read connection",
    "authz_oracle": 'answers 403 "You do not have permission to perform this action.", an '
    'unknown id 404 "No ModelProviderConnection matches the given query."',
    "authz_no_role_check": "denied key #1 (a member of the organisation without a role that may "
    "view connections) lists {org1} connection(s)",
}
ENDPOINT = "/api/model-provider-connections/"
REFUSED = "You do not have permission to perform this action."
NOT_FOUND = "No ModelProviderConnection matches the given query."
#: A JWT (a personal access token, or an access token its refresh brought), in any text.
JWT = re.compile(r"eyJ[\w-]{8,}\.[\w-]{8,}")


@pytest.fixture(scope="module", params=TARGETS)
def target(request: pytest.FixtureRequest, stack: Stack, all_shapes: dict[str, Shape]) -> Shape:
    if request.param == DEVELOPMENT:
        return Shape(DEVELOPMENT, stack.url, None, DEVELOPMENT, stack)
    return all_shapes[request.param]


def _keys(target: Shape, tokens: Tokens, member: str) -> dict[str, str]:
    """The admin's legacy token, the annotator's (``member``: legacy or personal), grace's."""
    return {
        "admin": target.stack.token("admin"),
        "annotator": tokens.of(target, "annotator", member),
        "grace": target.stack.token("grace"),
    }


def _conformance(
    target: Shape, keys: dict[str, str], reports: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, Any], str]:
    """Run the CLI with both denied keys; (exit code, the JSON report, all it showed)."""
    junit, report = reports / "conformance.xml", reports / "conformance.json"
    code = main([
        "conformance", "--base-url", target.url, "--api-key", keys["admin"],
        "--denied-key", keys["annotator"], "--denied-key", keys["grace"],
        "--id", str(target.stack.row("provider-OpenAI")["id"]),
        "--max-examples", str(SHAPE_EXAMPLES), "--seed", str(SEED),
        "--junit-xml", str(junit), "--json-report", str(report), *target.tls_options,
    ])  # fmt: skip
    captured = capsys.readouterr()
    shown = captured.out + captured.err + junit.read_text() + report.read_text()
    _assert_no_key_shown(shown, keys)
    return code, json.loads(report.read_text()), shown


def _assert_no_key_shown(shown: str, keys: dict[str, str]) -> None:
    for who, key in keys.items():
        assert key not in shown, f"{who}'s key is shown"
    assert not JWT.search(shown), "a JWT is shown"


def _results(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in report["results"]}


def _get(target: Shape, who: str, path: str) -> tuple[int, Any]:
    headers = {"Authorization": f"Token {target.stack.token(who)}"}
    answer = httpx.get(target.url + path, headers=headers, verify=target.verify)
    body = answer.json()
    return answer.status_code, body.get("detail", body) if isinstance(body, dict) else body


def test_label_studios_rules_for_each_identity(target: Shape) -> None:
    """With plain requests: the seeded identities are what the suite is told they are, and
    the add-on answers them as Label Studio's rules say."""
    stack = target.stack
    ours, theirs = stack.row("provider-OpenAI")["id"], stack.row("other-org")["id"]
    org = {key: stack.seeded["orgs"][str(stack.user(key)["org"])] for key in ("admin", "grace")}
    with stack.switched():
        answers = {
            (who, what): _get(target, who, path)
            for who in ("admin", "annotator", "grace")
            for what, path in [
                ("whoami", "/api/current-user/whoami"), ("ours", f"{ENDPOINT}{ours}/"),
                ("theirs", f"{ENDPOINT}{theirs}/"), ("unknown", f"{ENDPOINT}999999/"),
                ("list", ENDPOINT),
            ]
        }  # fmt: skip
    organisation = {who: answers[who, "whoami"][1]["active_organization"] for who in
                    ("admin", "annotator", "grace")}  # fmt: skip
    assert organisation == {"admin": org["admin"], "annotator": org["admin"], "grace": org["grace"]}
    # A member without the role: refused by the view's role check, whatever the id.
    for what in ("ours", "theirs", "unknown", "list"):
        assert answers["annotator", what] == (403, REFUSED), what
    # Another organisation's user: the admin's row answers exactly like an unknown id; her
    # own organisation's rows are hers to read and list, and not the admin's.
    assert answers["grace", "ours"] == answers["grace", "unknown"] == (404, NOT_FOUND)
    assert answers["grace", "theirs"][0] == 200
    assert answers["admin", "theirs"] == (404, NOT_FOUND)
    status, body = answers["grace", "list"]
    assert status == 200 and {c["id"] for c in body} == {
        r["id"] for r in stack.rows if r["org"] == 2
    }
    status, body = answers["admin", "list"]
    assert status == 200 and {c["id"] for c in body} == {
        r["id"] for r in stack.rows if r["org"] == 1
    }


def test_a_removed_administrator_has_no_role_left(target: Shape) -> None:
    # An Administrator whose membership was removed has no active organisation left, and so
    # no role (Enterprise keeps it on the membership): not even the rows of no organisation,
    # which a queryset filtered by "no organisation" matches, are hers to read or list.
    no_org = f"{ENDPOINT}{target.stack.row('no-org')['id']}/"
    with target.stack.switched():
        whoami = _get(target, "removed@1", "/api/current-user/whoami")[1]
        answers = {path: _get(target, "removed@1", path) for path in (no_org, ENDPOINT)}
    assert whoami["active_organization"] is None
    statuses = {path: status for path, (status, _) in answers.items()}
    assert statuses == {no_org: 403, ENDPOINT: 403}, "a removed administrator reads rows"
    assert {detail for _, detail in answers.values()} == {REFUSED}


@pytest.mark.parametrize("member", ["legacy", "personal"])
def test_conformant_with_both_kinds_of_denied_user(
    target: Shape, member: str, tokens: Tokens, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with target.stack.switched():
        code, report, shown = _conformance(target, _keys(target, tokens, member), tmp_path, capsys)
    results = _results(report)
    failed = {name for name, r in results.items() if r["outcome"] == "fail"}
    assert code == 0, f"{failed}: {shown[-2000:]}"
    told = results["authz.identities"]["summary"]
    assert f"{MEMBER} (told by its active organisation" in told
    assert f"{OTHER} (told by its active organisation" in told
    for name in ("detail_refused", "no_existence_oracle", "list_refused", "both_directions"):
        assert results[f"authz.{name}"]["outcome"] == "pass", results[f"authz.{name}"]
    # grace's own connections (organisation 2's rows) are what the main key was refused.
    mine = sum(1 for r in target.stack.rows if r["org"] == 2)
    assert f"refused the {mine} connection(s)" in results["authz.both_directions"]["summary"]
    assert "denied key #1" in shown and "denied key #2" in shown


def test_every_authz_regression_has_a_catch() -> None:
    assert set(AUTHZ_CATCHES) == {r for r in REGRESSIONS if r.startswith("authz_")}


@pytest.mark.parametrize("regression", sorted(AUTHZ_CATCHES))
def test_authz_regression_exits_1_naming_the_check(
    target: Shape,
    regression: str,
    tokens: Tokens,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    must, may = AUTHZ_CATCHES[regression]
    # The annotator's personal access token: a failing request of that user is reproduced
    # without its access token in clear.
    keys = _keys(target, tokens, "personal")
    with target.stack.switched("object", regression):
        code, report, shown = _conformance(target, keys, tmp_path, capsys)
    results = _results(report)
    failed = {name for name, r in results.items() if r["outcome"] == "fail"}
    assert code == 1, shown[-2000:]
    assert must in failed, shown[-2000:]
    assert failed <= {must, *may}, f"unrelated checks failed: {failed - {must, *may}}"
    assert must in report["verdict"]
    if regression == "authz_no_org_filter":  # the admin reads organisation 2's rows as well
        assert "authz.both_directions" in failed, shown[-2000:]
    details = " ".join([results[must]["summary"], *results[must]["details"]])
    org1 = sum(1 for r in target.stack.rows if r["org"] == 1)
    assert SAYS[regression].format(org1=org1) in details, details


def test_a_denied_key_whose_organisation_refuses_legacy_tokens_is_a_usage_error(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    # The owner of organisation 3, where legacy tokens are off: a 401 for that user's key.
    keys = {k: stack.token(k) for k in ("admin", "grace", "legacy-off")}
    code = main(["conformance", "--base-url", stack.url, "--api-key", keys["admin"],
                 "--denied-key", keys["grace"], "--denied-key", keys["legacy-off"]])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 2, captured.out
    assert (
        "--denied-key: denied key #2 was rejected as credentials (401: Authentication token no "
        "longer valid: legacy token authentication has been disabled for this organization)"
    ) in captured.out
    _assert_no_key_shown(captured.out + captured.err, keys)
