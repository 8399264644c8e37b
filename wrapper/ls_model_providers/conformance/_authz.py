"""Who may read a connection: the ``authz.*`` checks, with the users of ``--denied-key``.

Label Studio guards a connection twice: the queryset is filtered by the user's active
organisation (another organisation's id is a 404 exactly like an unknown one), and only an
Owner, Administrator or Manager of that organisation may read it (a member without such a
role gets 403). DRF applies object permissions to the detail route only, so the list route
must be guarded by the view's role check on its own. OWASP API1 (broken object level
authorization) is what these checks prove absent, with real identities:

- ``authz.identities`` (a note): what kind of user each denied key belongs to, told from what
  the server says (its current-user route, else its list route), never from a flag;
- ``authz.detail_refused``: each denied user is refused every connection the main
  credentials read (403 or 404 with Label Studio's JSON error body, no connection field);
- ``authz.no_existence_oracle``: to a user of another organisation, an existing id answers
  exactly like an unknown one (same status, same detail);
- ``authz.list_refused``: the list route refuses a member without the role (or shows it
  nothing), and shows a user of another organisation none of the main credentials' ids;
- ``authz.both_directions``: the main credentials cannot read what another organisation's
  user lists.

Read-only, inside the run's budget and deadline: per denied user at most ``MAX_IDS`` ids.
A denied key the server rejects as credentials ends the run as a usage error (exit 2).
"""

from __future__ import annotations

from typing import Any, Final

import httpx

from ls_model_providers._constants import ENDPOINT_PATH
from ls_model_providers._errors import LabelStudioError
from ls_model_providers.toolkit.answers import detail, json_of, ls_error_problems
from ls_model_providers.toolkit.guard import BODY_LIMIT
from ls_model_providers.toolkit.options import MAX_LIST_BYTES
from ls_model_providers.toolkit.text import printable

from ._checks import UNKNOWN_ID, Finding, check, note, ok
from ._context import MEMBER, OTHER_ORGANISATION, Context, Identity

#: Connections each denied user is tried on: the one under test and the first others the
#: main credentials list (about 2 requests each per user, within the run's budget).
MAX_IDS: Final = 10
WHOAMI: Final = "api/current-user/whoami"
REFUSALS: Final = frozenset({403, 404})
IDENTITIES: Final = "authz.identities"


def _listed(response: httpx.Response) -> dict[int, Any] | None:
    """The rows of a list answer (a JSON array, or DRF's page), each id with the organisation
    it names, or None when it is no list."""
    body = json_of(response)
    items = body.get("results") if isinstance(body, dict) else body
    if response.status_code != 200 or not isinstance(items, list):
        return None
    return {
        i["id"]: i.get("organization")
        for i in items
        if isinstance(i, dict) and type(i.get("id")) is int
    }


def _get_list(ctx: Context, identity: Identity | None = None) -> httpx.Response:
    http = ctx.http if identity is None else identity.http
    request = http.build_request(
        "GET", ctx.base_url + ENDPOINT_PATH, extensions={BODY_LIMIT: MAX_LIST_BYTES}
    )
    return http.send(request)


def _organization(response: httpx.Response) -> Any:
    body = json_of(response)
    return body.get("active_organization") if isinstance(body, dict) else None


def identify(ctx: Context) -> str | None:
    """Tell each denied user's kind from what the server says; a message (a usage error) when
    a denied key is rejected as credentials, else ``None``."""
    if not ctx.identities:
        return None
    mine = ctx.organization = _organization(ctx.send("GET", ctx.base_url + WHOAMI))
    for identity in ctx.identities:
        try:
            answer = identity.send("GET", ctx.base_url + WHOAMI)
            if answer.status_code == 401:
                return (
                    f"{identity.label} was rejected as credentials (401: {detail(answer)}): "
                    "a denied key must be a valid user's"
                )
            theirs = _organization(answer)
            if mine is not None and theirs is not None:
                same = theirs == mine
                identity.told_by = "its active organisation, from the current-user route"
            else:  # no current-user route: a member without the role is refused the list
                listed = _get_list(ctx, identity)
                if listed.status_code == 401:
                    return f"{identity.label} was rejected as credentials (401: {detail(listed)})"
                same = listed.status_code == 403
                identity.told_by = f"the list route's answer ({listed.status_code})"
        except LabelStudioError as exc:  # a personal access token's refresh was refused
            return f"{identity.label} was rejected as credentials: {exc}"
        identity.kind = MEMBER if same else OTHER_ORGANISATION
    return None


def _main_ids(ctx: Context) -> list[int]:
    """The connection under test and the others the main credentials list (cached), rows
    naming another organisation aside (``authz.both_directions`` judges those)."""
    if ctx.readable is None:
        listed = _listed(_get_list(ctx)) or {}
        own = [
            connection_id
            for connection_id, owner in listed.items()
            if owner is None or ctx.organization is None or owner == ctx.organization
        ]
        ctx.readable = [ctx.connection_id, *(i for i in own if i != ctx.connection_id)]
    return ctx.readable


def _shape(response: httpx.Response) -> tuple[str, tuple[str, ...], str]:
    """What of an error answer must not depend on whether the id exists: its content type,
    its body's keys, and its ``exc_info`` (``id`` is a fresh uuid each time, so not compared)."""
    body = json_of(response)
    keys = tuple(sorted(body)) if isinstance(body, dict) else ()
    info = body.get("exc_info") if isinstance(body, dict) else None
    media = response.headers.get("content-type", "").split(";")[0].strip()
    return media, keys, printable(str(info))[:80]


def _fields(ctx: Context, response: httpx.Response) -> list[str]:
    """Connection fields an answer carries (an error body's own ``id`` aside)."""
    body = json_of(response)
    if not isinstance(body, dict):
        return []
    return sorted((set(body) & set(ctx.properties)) - {"id"})


def _judged(
    ctx: Context, problems: list[str], first: httpx.Response | None, failed: str, passed: str
) -> Finding:
    """A check's finding: a failure with its problems and the first one's reproduction, else
    a pass."""
    if problems:
        return Finding("fail", failed, tuple(problems), ctx.repro(first) if first else None)
    return ok(passed)


@check(IDENTITIES)
def identities(ctx: Context) -> Finding | None:
    if not ctx.identities:
        return None
    said = [
        f"{i.label} (${i.variable} in reproductions): {i.kind} (told by {i.told_by})"
        for i in ctx.identities
    ]
    return note("; ".join(said))


@check("authz.detail_refused")
def detail_refused(ctx: Context) -> Finding | None:
    if not ctx.identities:
        return None
    ids = _main_ids(ctx)[:MAX_IDS]
    problems: list[str] = []
    first: httpx.Response | None = None
    for identity in ctx.identities:
        for connection_id in ids:
            response = identity.send("GET", ctx.endpoint(connection_id))
            found = []
            if 200 <= response.status_code < 300:
                found.append(f"read connection {connection_id} ({response.status_code})")
            elif response.status_code not in REFUSALS:
                found.append(f"connection {connection_id}: {response.status_code}, not a refusal")
            else:
                found += [f"connection {connection_id}: {p}" for p in ls_error_problems(response)]
            carried = _fields(ctx, response)
            if carried and not 200 <= response.status_code < 300:
                found.append(
                    f"connection {connection_id}: its refusal carries {', '.join(carried)}"
                )
            if found:
                first = first or response
                problems += [f"{identity.label} ({identity.kind}): {p}" for p in found]
    return _judged(
        ctx, problems, first,
        f"a denied user is not refused a connection the main credentials read ({len(problems)} problem(s))",
        f"{len(ctx.identities)} denied user(s) refused each of {len(ids)} connection(s) the "
        "main credentials read (403/404 with Label Studio's error body, no connection field)",
    )  # fmt: skip


@check("authz.no_existence_oracle")
def no_existence_oracle(ctx: Context) -> Finding | None:
    others = [i for i in ctx.identities if i.kind == OTHER_ORGANISATION]
    if not others:
        return None
    problems, first = [], None
    for identity in others:
        existing = identity.send("GET", ctx.endpoint(ctx.connection_id))
        unknown = identity.send("GET", ctx.endpoint(UNKNOWN_ID))
        seen = (existing.status_code, detail(existing)), (unknown.status_code, detail(unknown))
        if 200 <= existing.status_code < 300:  # authz.detail_refused names the read itself
            first = first or existing
            problems.append(
                f"{identity.label}: an existing connection of another organisation is read "
                f"({existing.status_code}), an unknown id answers {seen[1][0]}: whether an id "
                "exists there can be told"
            )
        elif seen[0] != seen[1]:
            first = first or existing
            problems.append(
                f"{identity.label}: an existing connection of another organisation answers "
                f'{seen[0][0]} "{seen[0][1]}", an unknown id {seen[1][0]} "{seen[1][1]}": '
                "whether an id exists there can be told"
            )
        elif _shape(existing) != _shape(unknown):  # same status and detail, another body
            first = first or existing
            problems.append(
                f"{identity.label}: an existing connection of another organisation and an "
                f"unknown id answer {seen[0][0]} with different bodies (content type, keys or "
                f"exc_info: {_shape(existing)} vs {_shape(unknown)}): whether an id exists "
                "there can be told"
            )
    return _judged(
        ctx, problems, first,
        "existence oracle: another organisation's ids answer unlike unknown ones",
        f"to {len(others)} user(s) of another organisation an existing id answers exactly like "
        "an unknown one",
    )  # fmt: skip


@check("authz.list_refused")
def list_refused(ctx: Context) -> Finding | None:
    if not ctx.identities:
        return None
    mine = set(_main_ids(ctx))
    problems, first = [], None
    for identity in ctx.identities:
        response = _get_list(ctx, identity)
        rows = _listed(response)
        identity.owners = rows or {}
        identity.listed = listed = list(identity.owners)
        if identity.kind == MEMBER and listed:
            problems.append(
                f"{identity.label} ({MEMBER}) lists {len(listed)} connection(s) "
                f"({', '.join(map(str, listed[:5]))}{'...' if len(listed) > 5 else ''})"
            )
        elif listed and mine & set(listed):
            shared = sorted(mine & set(listed))
            problems.append(
                f"{identity.label} ({identity.kind}) lists connection(s) of the main "
                f"credentials' organisation: {', '.join(map(str, shared[:5]))}"
            )
        else:
            continue
        first = first or response
    return _judged(
        ctx, problems, first,
        "the list route shows connections to a user who may not read them",
        "the list route shows no denied user a connection of the main credentials",
    )  # fmt: skip


def _not_mine(ctx: Context, identity: Identity) -> list[int]:
    """The rows another organisation's user lists that are not the main credentials' own:
    told by the organisation a row names when both it and the main one are known (so a list
    route that shows the main credentials every organisation's rows hides none of them),
    else by the main credentials' own list."""
    mine = set(_main_ids(ctx))
    return [
        connection_id
        for connection_id, owner in identity.owners.items()
        if (
            owner != ctx.organization
            if owner is not None and ctx.organization is not None
            else connection_id not in mine
        )
    ][:MAX_IDS]


@check("authz.both_directions")
def both_directions(ctx: Context) -> Finding | None:
    theirs = [
        (identity, connection_id)
        for identity in ctx.identities
        if identity.kind == OTHER_ORGANISATION
        for connection_id in _not_mine(ctx, identity)
    ]
    if not theirs:
        return None
    problems, first = [], None
    for identity, connection_id in theirs:
        response = ctx.send("GET", ctx.endpoint(connection_id))
        if 200 <= response.status_code < 300:
            first = first or response
            problems.append(
                f"the main credentials read connection {connection_id}, which "
                f"{identity.label} ({OTHER_ORGANISATION}) lists"
            )
    return _judged(
        ctx, problems, first,
        "the main credentials read another organisation's connection",
        f"the main credentials are refused the {len(theirs)} connection(s) another "
        "organisation's user lists",
    )  # fmt: skip
