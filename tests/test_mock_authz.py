"""Who may read a connection on the mock (issue 18, item 3): Label Studio's three checks
(``mock/_access.py``) on both routes and every method, the identities the conformance suite
uses as denied keys, and exactly what each ``authz_*`` defect changes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ls_model_providers.mock import SyncASGITransport, create_app

LIST = "/api/model-provider-connections/"
NOT_FOUND = "No ModelProviderConnection matches the given query."
NO_PERMISSION = "You do not have permission to perform this action."
#: The default data's identities: the admin and the two kinds of denied user.
WHO = {"admin": 0, "member": 1, "other": 2}
#: A row of organisation 1 (the admin's and the member's), one of organisation 2 (the other
#: user's), and an id no row has.
TARGETS = {"row_1": "1", "row_8": "8", "unknown": "999999"}
METHODS = ("GET", "HEAD", "OPTIONS", "POST", "DELETE")
ORG_1, ALL = list(range(1, 8)), list(range(1, 10))

Key = tuple[str, str, str]  # (who, method, a TARGETS name or "list")
Seen = dict[Key, tuple[int, Any]]


def observe(app: Any) -> Seen:
    """Every identity x method x route: (status, the error's detail or the id or ids read)."""
    seen: Seen = {}
    users = app.state.mock.data.users
    routes = [*((t, f"{LIST}{i}/") for t, i in TARGETS.items()), ("list", LIST)]
    transport = SyncASGITransport(app)
    with httpx.Client(transport=transport, base_url="http://mock") as http:
        for who, index in WHO.items():
            auth = {"Authorization": f"Token {users[index].token}"}
            for method in METHODS:
                for target, path in routes:
                    answer = http.request(method, path, headers=auth)
                    seen[who, method, target] = (answer.status_code, _what(answer, method))
    transport.close()
    return seen


def _what(answer: httpx.Response, method: str) -> Any:
    if method == "HEAD" or (method == "OPTIONS" and answer.status_code == 200):
        return None
    body = answer.json()
    if answer.status_code != 200:
        return body["detail"]
    return [c["id"] for c in body] if isinstance(body, list) else body["id"]


def label_studio() -> Seen:
    """What Label Studio's rules give, written out (facts: "Who may read a connection")."""
    expected: Seen = {}
    for method in METHODS:
        for target in (*TARGETS, "list"):
            # The member without the role: the view's role check, first, everywhere.
            expected["member", method, target] = (403, NO_PERMISSION)
            for who in ("admin", "other"):
                if method == "OPTIONS":
                    expected[who, method, target] = (200, None)
                elif method in ("POST", "DELETE"):
                    expected[who, method, target] = (405, f'Method "{method}" not allowed.')
    reads = {"admin": ("row_1", 1, ORG_1), "other": ("row_8", 8, [8, 9])}
    for who, (own, row, listed) in reads.items():
        for target in TARGETS:
            # Another organisation's row is a 404, exactly like an unknown id.
            expected[who, "GET", target] = (200, row) if target == own else (404, NOT_FOUND)
        expected[who, "GET", "list"] = (200, listed)
    for who in WHO:
        for target in (*TARGETS, "list"):  # HEAD: the GET's status, no body
            expected[who, "HEAD", target] = (expected[who, "GET", target][0], None)
    return expected


@pytest.fixture(scope="module")
def baseline() -> Seen:
    return observe(create_app())


def test_the_mock_follows_label_studios_rules_on_both_routes_and_every_method(
    baseline: Seen,
) -> None:
    assert baseline == label_studio()


def _as_admin_sees(baseline: Seen) -> Seen:
    return {("member", m, t): seen for (who, m, t), seen in baseline.items() if who == "admin"}


#: Exactly what each defect changes, against Label Studio's rules.
CHANGES: dict[str, Any] = {
    "authz_no_org_filter": lambda baseline: {
        ("admin", "GET", "row_8"): (200, 8), ("admin", "HEAD", "row_8"): (200, None),
        ("other", "GET", "row_1"): (200, 1), ("other", "HEAD", "row_1"): (200, None),
        ("admin", "GET", "list"): (200, ALL), ("other", "GET", "list"): (200, ALL),
    },
    "authz_oracle": lambda baseline: {
        # Another organisation's row refused for what it is: it exists (unknown ids stay 404).
        ("admin", "GET", "row_8"): (403, NO_PERMISSION), ("admin", "HEAD", "row_8"): (403, None),
        ("other", "GET", "row_1"): (403, NO_PERMISSION), ("other", "HEAD", "row_1"): (403, None),
        ("admin", "GET", "list"): (200, ALL), ("other", "GET", "list"): (200, ALL),
    },
    # The member reads and lists what the admin does: its organisation's rows, no more.
    "authz_no_role_check": _as_admin_sees,
}  # fmt: skip


@pytest.mark.parametrize("defect", CHANGES)
def test_each_authz_defect_changes_exactly_what_it_names(baseline: Seen, defect: str) -> None:
    seen = observe(create_app(defects=[defect]))
    changed = {key: value for key, value in seen.items() if baseline[key] != value}
    assert changed == CHANGES[defect](baseline)
