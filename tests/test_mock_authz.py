"""Who may read a connection on the mock (issue 18, item 3): Label Studio's three checks
(``mock/_access.py``) on both routes and every method, the identities the conformance suite
uses as denied keys, and exactly what each ``authz_*`` defect changes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ls_model_providers.mock import SyncASGITransport, create_app, serve_in_thread

LIST = "/api/model-provider-connections/"
NOT_FOUND = "No ModelProviderConnection matches the given query."
NO_PERMISSION = "You do not have permission to perform this action."
NOT_PROVIDED = "Authentication credentials were not provided."
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


def test_the_denied_identities_on_a_real_socket() -> None:
    with serve_in_thread(create_app()) as served, httpx.Client(base_url=served.base_url) as http:
        users = served.state.data.users
        assert (served.member_token, served.other_org_token) == (users[1].token, users[2].token)

        def who(token: str) -> dict[str, Any]:
            answer = http.get(
                "/api/current-user/whoami", headers={"Authorization": f"Token {token}"}
            )
            assert answer.status_code == 200
            body: dict[str, Any] = answer.json()
            return body

        admin, member, other = (
            who(served.token),
            who(served.member_token),
            who(served.other_org_token),
        )
        # What the server says tells the two kinds of denied user apart.
        assert member["active_organization"] == admin["active_organization"] == 1
        assert other["active_organization"] == 2
        member_list = http.get(LIST, headers={"Authorization": f"Token {served.member_token}"})
        other_list = http.get(LIST, headers={"Authorization": f"Token {served.other_org_token}"})
        other_row = http.get(
            f"{LIST}1/", headers={"Authorization": f"Token {served.other_org_token}"}
        )
        unknown = http.get(
            f"{LIST}999999/", headers={"Authorization": f"Token {served.other_org_token}"}
        )
    assert (member_list.status_code, member_list.json()["detail"]) == (403, NO_PERMISSION)
    assert [c["id"] for c in other_list.json()] == [8, 9]
    assert other_row.status_code == unknown.status_code == 404
    assert {k: v for k, v in other_row.json().items() if k != "id"} == {
        k: v for k, v in unknown.json().items() if k != "id"
    }, "another organisation's id answers exactly like an unknown one"


def test_data_without_denied_identities_says_so() -> None:
    app = create_app()
    app.state.mock.data.users = app.state.mock.data.users[:1]
    with serve_in_thread(app) as served:
        with pytest.raises(LookupError, match="no member of the admin's organisation without"):
            _ = served.member_token
        with pytest.raises(LookupError, match="no user of another organisation"):
            _ = served.other_org_token


#: BaseWhoAmIUserSerializer's fields in Label Studio 1.23.2 (users/serializers.py), in order.
WHOAMI_FIELDS = [
    "id", "first_name", "last_name", "username", "email", "last_activity", "custom_hotkeys",
    "avatar", "initials", "phone", "active_organization", "active_organization_meta",
    "allow_newsletters", "date_joined", "permissions",
]  # fmt: skip


@pytest.fixture
def whoami() -> Iterator[Any]:
    app = create_app()
    transport = SyncASGITransport(app)
    with httpx.Client(transport=transport, base_url="http://mock") as http:

        def ask(index: int | None, method: str = "GET") -> httpx.Response:
            users = app.state.mock.data.users
            auth = {} if index is None else {"Authorization": f"Token {users[index].token}"}
            return http.request(method, "/api/current-user/whoami", headers=auth)

        ask.state = app.state.mock  # type: ignore[attr-defined]
        yield ask
    transport.close()


def test_whoami_answers_as_label_studio_1_23_2(whoami: Any) -> None:
    answer = whoami(0)
    assert answer.status_code == 200
    body = answer.json()
    assert list(body) == WHOAMI_FIELDS
    assert body["id"] == 1
    assert (body["username"], body["email"], body["initials"]) == ("ada", "ada@acme.example", "AL")
    assert body["active_organization"] == 1
    assert body["active_organization_meta"] == {
        "title": "Organization 1",
        "email": "ada@acme.example",
    }
    assert (body["custom_hotkeys"], body["phone"], body["avatar"], body["allow_newsletters"]) == (
        {},
        "",
        None,
        None,
    )
    assert body["last_activity"].endswith("Z") and body["date_joined"].endswith("Z")
    # 1.23.2 lists every permission whatever the role: it cannot tell who may view.
    assert len(body["permissions"]) == 44
    assert whoami(1).json()["permissions"] == body["permissions"]
    assert "model_provider_connection.view" in body["permissions"]


def test_whoami_names_each_users_organisation(whoami: Any) -> None:
    assert [whoami(i).json()["active_organization"] for i in range(3)] == [1, 1, 2]
    assert whoami(2).json()["active_organization_meta"] == {
        "title": "Organization 2",
        "email": "grace@globex.example",
    }


def test_whoami_of_a_removed_member_is_the_deleted_user(whoami: Any) -> None:
    whoami.state.data.users[1].removed = True
    body = whoami(1).json()
    assert (body["first_name"], body["last_name"], body["email"], body["username"]) == (
        "Deleted", "User", "Deleted", "Deleted",
    )  # fmt: skip
    assert body["initials"] == "DU"


def test_whoami_methods_and_auth(whoami: Any) -> None:
    anonymous = whoami(None)
    assert (anonymous.status_code, anonymous.json()["detail"]) == (401, NOT_PROVIDED)
    posted = whoami(0, "POST")
    assert (posted.status_code, posted.json()["detail"]) == (405, 'Method "POST" not allowed.')
    assert posted.headers["allow"] == "GET, HEAD, OPTIONS"
    head = whoami(0, "HEAD")
    assert (head.status_code, head.content) == (200, b"")
    assert int(head.headers["content-length"]) == len(whoami(0).content)
    assert whoami(0, "OPTIONS").json()["name"] == "User Who Am Iapi"
