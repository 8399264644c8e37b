"""The mock server: an ASGI app that answers like Label Studio Enterprise.

Routes (everything else is Label Studio's HTML 404 page):

* ``/api/model-provider-connections/`` - the list: the caller's organisation's connections
  by id, a JSON array (a DRF ModelViewSet without pagination, as Label Studio serves it), or
  DRF's page object (``count``, ``next``, ``previous``, ``results``) with ``list_page_size``.
* ``/api/model-provider-connections/{id}/`` - GET/HEAD/OPTIONS; other methods 405.
* ``POST /api/token/refresh/`` - personal access token refresh -> ``{"access": ...}``.
* ``GET|POST /api/token/`` - list / create the caller's personal access token.
* ``GET /api/current-user/whoami`` - the authenticated user, as Label Studio 1.23.2 shows it.
* ``GET /docs/api/schema/json/`` - the served OpenAPI schema (our fragment; with the
  ``community`` defect, without the model provider connection paths, as Community serves it).
* ``GET /_mock/stats`` - request, status and injected-fault counters (mock only).

Order of checks, as Django REST framework does it: authentication (401), the role check
(403), method (405), then the object lookup (404, or 403 from the object permission: who may
read what is ``_access.py``). Every error body has Label Studio's keys: ``id``,
``status_code``, ``version``, ``detail``, ``exc_info``.

Client input is read as Label Studio reads it, and nothing a client sends is a 500: a request
body through ``_Views.json_body`` (at most ``MOCK_MAX_REQUEST_BODY`` bytes, as Django's
``DATA_UPLOAD_MAX_MEMORY_SIZE``; then RFC 8259 JSON, depth-limited), the ``Authorization``
header in ``_Views.authenticate`` (split as DRF and simplejwt split it), integers in ids,
pages and token claims with ``django_int``.

With ``snapshot=`` the recorded answers replace the mock's own (``_replay.py``).
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import attrs
import jwt
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route, request_response
from starlette.types import Receive, Scope, Send

from ls_model_providers._body import JSONRejected, loads
from ls_model_providers._constants import MAX_ID, MOCK_MAX_REQUEST_BODY, MOCK_REQUEST_BODY_SECONDS
from ls_model_providers._spec import load_spec

from . import _access as access
from ._data import MockData, User, default_data
from ._faults import DEFECTS, FaultPlan

if TYPE_CHECKING:
    from ls_model_providers.snapshot import Snapshot

    from ._replay import Replay

__all__ = ["MockState", "create_app"]

MOCK_VERSION = "2.30.0+ls-model-providers-mock"
ALLOW = "GET, HEAD, OPTIONS"
#: RFC 9110's methods and PATCH: the ones ``/_mock/stats`` counts by name.
_HTTP_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE", "TRACE", "CONNECT"})  # fmt: skip
NOT_PROVIDED = "Authentication credentials were not provided."
LEGACY_DISABLED = "Authentication token no longer valid: legacy token authentication has been disabled for this organization"
NOT_FOUND = "No ModelProviderConnection matches the given query."
NO_PERMISSION = "You do not have permission to perform this action."
UNKNOWN_TOKEN = "Invalid token."  # noqa: S105 - DRF's message, not a token
#: Django's RequestDataTooBig, past DATA_UPLOAD_MAX_MEMORY_SIZE.
TOO_BIG = "Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE."
#: DRF's parsers, as a ModelViewSet's OPTIONS lists them on Label Studio.
PARSES = ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"]
#: ``core.permissions.all_permissions`` of Label Studio 1.23.2, in its order: what its whoami
#: lists as ``permissions`` for every user.
PERMISSIONS = (
    "organizations.create", "organizations.view", "organizations.change", "organizations.delete",
    "organizations.invite", "projects.create", "projects.view", "projects.change",
    "projects.delete", "projects.reset_cache", "tasks.create", "tasks.view", "tasks.change",
    "tasks.delete", "views.reset", "annotations.create", "annotations.view",
    "annotations.change", "annotations.delete", "actions.perform", "predictions.any",
    "avatar.any", "labels.create", "labels.view", "labels.change", "labels.delete",
    "models.create", "models.view", "models.change", "models.delete",
    "model_provider_connection.create", "model_provider_connection.view",
    "model_provider_connection.change", "model_provider_connection.delete", "webhooks.view",
    "webhooks.change", "users.token.any", "storages.view", "storages.change", "storages.sync",
    "views.view", "views.create", "views.change", "views.delete",
)  # fmt: skip
#: The schema paths a Community server does not have (model provider connections).
_ENTERPRISE = re.compile(r"/api/model-provider-connections(/|$)")
#: A DefaultRouter detail route: the lookup, then an optional format suffix.
_LOOKUP = re.compile(r"(?P<pk>[^/.]+)(?:\.(?P<format>[a-z0-9]+))?")
#: What a Community schema has that the fragment does not: Label Studio's projects route.
_PROJECTS = {"get": {"operationId": "api_projects_list", "responses": {"200": {"description": "Projects"}}}}  # fmt: skip
PAGE_404 = (
    "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>404 | Label Studio</title></head>"
    "<body><h1>404</h1><p>Page not found</p></body></html>"
)


def django_int(value: object) -> int | None:
    """``value`` as Django reads an integer (``int()``: an id lookup, a page number, a token's
    ``user_id``; PyJWT reads ``exp`` the same way), or None where ``int()`` raises: "²" is a
    digit to ``str.isdigit`` but no int, 5,000 digits are over Python's limit, ``inf``
    overflows, ``None`` and lists are no numbers."""
    try:
        return int(value)  # type: ignore[call-overload,no-any-return]
    except (TypeError, ValueError, OverflowError):
        return None


def person(user: User, *, masked: bool) -> dict[str, Any]:
    """A user as Label Studio's user serializers show one. ``masked``: no longer a member
    of the viewer's organisation, shown as "Deleted User" (BaseUserSerializer's
    ``to_representation``)."""
    if masked:
        return {"id": user.id, "first_name": "Deleted", "last_name": "User", "email": "Deleted",
                "avatar": user.avatar, "username": "Deleted"}  # fmt: skip
    return {"id": user.id, "first_name": user.first_name, "last_name": user.last_name,
            "email": user.email, "avatar": user.avatar, "username": user.username}  # fmt: skip


def _initials(user: User) -> str:
    """``User.get_initials`` of Label Studio 1.23.2."""
    if user.first_name and user.last_name:
        return user.first_name[:1] + user.last_name[:1]
    return user.first_name[:1] or user.last_name[:1] or user.email[:2]


def unknown_provider() -> str:
    """A provider the fragment does not list, whatever providers it gains (the defect's value)."""
    listed: list[str] = load_spec()["components"]["schemas"]["ProviderEnum"]["enum"]
    return "Provider-" + "-".join(listed)


@attrs.define
class MockState:
    """Everything the app knows; ``app.state.mock`` in-process, for tests to inspect or change."""

    data: MockData
    faults: FaultPlan
    defects: frozenset[str]
    model_params: Literal["object", "string"]
    created_by_username: bool
    legacy_tokens: bool
    version: str
    jwt_secret: str
    access_ttl: float
    clock: Callable[[], float]
    list_page_size: int | None = None
    replay: Replay | None = None
    #: Bytes and seconds a request body may take (``MOCK_MAX_REQUEST_BODY``, ...SECONDS).
    max_body: int = MOCK_MAX_REQUEST_BODY
    body_seconds: float = MOCK_REQUEST_BODY_SECONDS
    stats: Counter[str] = attrs.field(factory=Counter)
    methods: Counter[str] = attrs.field(factory=Counter)
    refresh_tokens: dict[int, str] = attrs.field(factory=dict)
    _lock: threading.Lock = attrs.field(factory=threading.Lock)

    def count(self, key: str, method: str | None = None) -> None:
        with self._lock:
            self.stats[key] += 1
            if method:
                # Any token is a method to HTTP: counted by name, a client could grow this
                # counter by one key per request. HTTP's own methods by name, others as one.
                self.methods[method if method in _HTTP_METHODS else "other"] += 1

    def issue_refresh_token(self, user_id: int) -> str:
        """A personal access token (refresh JWT) for a user, as ``POST /api/token/`` makes."""
        now = self.clock()
        token = jwt.encode(
            {"token_type": "refresh", "user_id": str(user_id), "iat": int(now), "exp": int(now) + 10 * 365 * 86400,
             "jti": uuid.uuid4().hex},
            self.jwt_secret, algorithm="HS256",
        )  # fmt: skip
        self.refresh_tokens[user_id] = token
        return token

    def _issue_access_token(self, user_id: int) -> str:
        now = self.clock()
        claims = {"token_type": "access", "user_id": str(user_id), "iat": int(now), "exp": now + self.access_ttl,
                  "jti": uuid.uuid4().hex}  # fmt: skip
        return jwt.encode(claims, self.jwt_secret, algorithm="HS256")

    def _decode(self, token: str, token_type: str) -> User | None:
        """The user of a valid, unexpired token of this type, or None. The mock's secret is
        public, so anyone can sign claims: every claim is read as something to refuse."""
        try:
            claims = jwt.decode(
                token,
                self.jwt_secret,
                algorithms=["HS256"],
                # exp is checked below against the injectable clock, not the wall clock.
                options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
            )
        except (jwt.PyJWTError, RecursionError):  # RecursionError: deep JSON, if PyJWT lets it by
            return None
        # A finite number as it is (the mock's own access tokens expire at a fraction of a
        # second), anything else as PyJWT reads it: int(exp), refused where int() raises.
        raw = claims.get("exp")
        exp = raw if isinstance(raw, int | float) and math.isfinite(raw) else django_int(raw)
        if claims.get("token_type") != token_type or exp is None or exp <= self.clock():
            return None
        # A string, as Label Studio writes it, looked up as Django reads a primary key.
        user_id = django_int(claims.get("user_id"))
        return self.data.user(user_id) if user_id is not None else None


def create_app(
    *,
    data: MockData | None = None,
    faults: FaultPlan | None = None,
    defects: Iterable[str] = (),
    model_params: Literal["object", "string"] = "object",
    created_by_username: bool = True,
    legacy_tokens: bool = True,
    version: str = MOCK_VERSION,
    jwt_secret: str = "ls-model-providers-mock-secret-key-0123456789",  # noqa: S107 - a mock's
    access_ttl: float = 300.0,
    clock: Callable[[], float] = time.time,
    list_page_size: int | None = None,
    snapshot: Snapshot | str | Path | None = None,
) -> Starlette:
    """Build the mock app.

    Example::

        app = create_app()
        token = app.state.mock.data.users[0].token
        with httpx.Client(transport=httpx.ASGITransport(app), base_url="http://mock") as c:
            c.get("/api/model-provider-connections/1/", headers={"Authorization": f"Token {token}"})

    Args:
        data: users, tokens and connections (default: ``default_data()``).
        faults: transient faults to inject (default: none).
        defects: contract violations to switch on (see ``DEFECTS``), for testing checkers.
        model_params: ``"object"`` (newer servers) or ``"string"`` (the docs, older servers).
        created_by_username: whether ``created_by`` includes ``username`` (newer servers).
        legacy_tokens: ``False`` refuses ``Token`` auth as a server with legacy tokens disabled.
        version: the ``version`` sent in error bodies.
        access_ttl: lifetime of access tokens minted by the refresh endpoint, in seconds.
        clock: seconds since the epoch (tests inject one to expire tokens).
        list_page_size: paginate the list route, this many connections a page (default: a
            plain JSON array).
        snapshot: replay a snapshot (a ``Snapshot`` or its file): the recorded bodies and
            error contract, served to the mock's users (see ``_replay.py``). Its server
            version wins over ``version``; ``model_params`` and ``created_by_username`` do
            not apply; ``defects`` cannot be combined with it.
    """
    unknown = set(defects) - set(DEFECTS)
    if unknown:
        raise ValueError(f"unknown defect(s) {sorted(unknown)}; known: {', '.join(DEFECTS)}")
    if model_params not in ("object", "string"):
        raise ValueError("model_params must be 'object' or 'string'")
    if list_page_size is not None and (type(list_page_size) is not int or list_page_size < 1):
        raise ValueError(f"list_page_size must be a positive integer, got {list_page_size!r}")
    replay = None
    if snapshot is not None:
        if frozenset(defects):
            raise ValueError("defects apply to the mock's own data, not to a snapshot's replay")
        from ls_model_providers.snapshot import Snapshot

        from ._replay import Replay

        loaded = snapshot if isinstance(snapshot, Snapshot) else Snapshot.load(snapshot)
        replay = Replay(loaded, PAGE_404)
        version = replay.version or version
    state = MockState(
        data=data or default_data(), faults=faults or FaultPlan(), defects=frozenset(defects),
        model_params=model_params, created_by_username=created_by_username,
        legacy_tokens=legacy_tokens, version=version, jwt_secret=jwt_secret,
        access_ttl=access_ttl, clock=clock, list_page_size=list_page_size, replay=replay,
    )  # fmt: skip
    views = _Views(state)
    app = Starlette(
        routes=[
            Route("/api/model-provider-connections/", _AnyMethod(views.connections)),
            Route("/api/model-provider-connections", _AnyMethod(views.connections)),
            Route("/api/model-provider-connections/{id}/", _AnyMethod(views.connection)),
            # Label Studio serves a path without its trailing slash as if it had one
            # (its CommonMiddlewareAppendSlashWithoutRedirect: no redirect).
            Route("/api/model-provider-connections/{id}", _AnyMethod(views.connection)),
            Route("/api/token/refresh/", _AnyMethod(views.token_refresh)),
            Route("/api/token/", _AnyMethod(views.token)),
            Route("/api/current-user/whoami", _AnyMethod(views.whoami)),
            Route("/docs/api/schema/json/", views.schema),
            Route("/api/version", views.version),
            Route("/_mock/stats", views.stats),
            Route("/{path:path}", _AnyMethod(views.not_found)),
        ]
    )
    app.state.mock = state
    return app


class _Views:
    def __init__(self, state: MockState) -> None:
        self.s = state

    # -- helpers --------------------------------------------------------------------------
    def error(
        self, status: int, detail: str, headers: dict[str, str] | None = None, **extra: Any
    ) -> Response:
        self.s.count(f"status_{status}")
        if "non_json_errors" in self.s.defects:
            return Response(detail, status, headers=headers, media_type="text/plain")
        body = {"id": str(uuid.uuid4()), "status_code": status, "version": self.s.version, "detail": detail,
                "exc_info": None, **extra}  # fmt: skip
        if self.s.replay is not None:
            shaped = self.s.replay.shaped(status, body, headers or {})
            if shaped is not None:
                return shaped
        return JSONResponse(body, status, headers=headers)

    def authenticate(self, request: Request) -> tuple[User | None, Response | None]:
        """(user, None) or (None, 401 response), like LS's authentication classes.

        The header is split as DRF's TokenAuthentication and simplejwt split it: its raw
        (latin-1) bytes at ASCII white space. ``Token`` in any case, then exactly one key of
        UTF-8; ``Bearer`` exactly so (simplejwt compares bytes), then exactly one token."""
        words = request.headers.get("authorization", "").encode("latin-1").split()
        scheme = words[0] if words else b""
        failure: str | None = None
        user: User | None = None
        if scheme.lower() == b"token":
            if len(words) == 1:
                failure = "Invalid token header. No credentials provided."
            elif len(words) > 2:
                failure = "Invalid token header. Token string should not contain spaces."
            else:
                user, failure = self.legacy_token_user(words[1])
        elif scheme == b"Bearer" and len(words) == 2:
            token = words[1].decode("latin-1")
            if "any_bearer" in self.s.defects:
                user = self.s.data.users[0]
            else:
                # Label Studio 1.23 answers every unusable Bearer (not a JWT, forged,
                # expired) as if no credentials were sent.
                user = self.s._decode(token, "access") if token.count(".") == 2 else None
                failure = None if user else NOT_PROVIDED
        else:
            failure = NOT_PROVIDED
        if user is None and "no_auth" in self.s.defects:
            return self.s.data.users[0], None
        if user is None:
            if self.s.replay is not None and failure in (NOT_PROVIDED, UNKNOWN_TOKEN):
                self.s.count("status_401")
                name = "no_header" if failure == NOT_PROVIDED else "bad_token"
                return None, self.s.replay.answer(name)
            headers = {"WWW-Authenticate": "Token", "Allow": ALLOW, "Vary": "Accept, Cookie"}
            return None, self.error(401, failure or NOT_PROVIDED, headers)
        return user, None

    async def json_body(
        self, request: Request, headers: dict[str, str]
    ) -> tuple[Any, Response | None]:
        """The request body as DRF's JSONParser gives it (``{}`` when there is none), or the
        400 refusing it. Read as Django reads it (``read_body``): past the limit, Django's
        ``RequestDataTooBig`` message and the connection closed, the rest never read."""
        try:
            content = await read_body(request, self.s.max_body, self.s.body_seconds)
        except BodyRefused as refused:
            return None, self.error(400, str(refused), {**headers, "Connection": "close"})
        except ClientDisconnect:  # nobody is left to answer
            self.s.count("client_gone")
            return None, Response(status_code=400)
        if not content:
            return {}, None
        try:
            return loads(content), None
        except JSONRejected as exc:
            # DRF's ParseError, which quotes the decoder; the limits are the client's own
            # (RFC 8259, 64 levels), where Label Studio's JSONParser lets a RecursionError
            # through as a 500.
            reason = exc.__context__ if isinstance(exc.__context__, ValueError) else exc
            return None, self.error(400, f"JSON parse error - {reason}", headers)

    def legacy_token_user(self, key: bytes) -> tuple[User | None, str | None]:
        """DRF's TokenAuthentication, then Label Studio's legacy-token check: (user, None)
        or (None, why)."""
        try:
            user = self.s.data.user_by_token(key.decode())
        except UnicodeDecodeError:
            return None, "Invalid token header. Token string should not contain invalid characters."
        if user is None:
            return None, UNKNOWN_TOKEN
        if not user.is_active:
            return None, "User inactive or deleted."
        if not self.s.legacy_tokens:
            return None, LEGACY_DISABLED
        return user, None

    def render(self, conn: dict[str, Any], viewer: User) -> dict[str, Any]:
        body = dict(conn)
        creator = self.s.data.user(conn["created_by"]) if conn["created_by"] is not None else None
        if creator is None:
            body["created_by"] = None
        else:
            # Label Studio's user serializer masks a creator who is no longer a member of the
            # viewer's organisation, and adds `username` while doing so (seen on the real
            # serializer: even where `username` is not otherwise sent, as on 1.23.2).
            masked = creator.removed or creator.organization != viewer.organization
            body["created_by"] = person(creator, masked=masked)
            if not self.s.created_by_username and not masked:
                del body["created_by"]["username"]
        if self.s.model_params == "string" and "model_params" in conn:
            body["model_params"] = json.dumps(conn["model_params"])
        defects = self.s.defects
        if "wrong_type" in defects:
            body["budget_limit"] = "100.0"
        if "missing_required" in defects:
            del body["created_at"]
        if "null_non_nullable" in defects:
            body["id"] = None
        if "unknown_enum" in defects:
            body["provider"] = unknown_provider()
        if "over_max_length" in defects:
            body["deployment_name"] = "d" * 513
        if "secret_field" in defects:
            body["api_key"] = "sk-mock-LEAKED-provider-key-0123456789"
        return body

    # -- views ----------------------------------------------------------------------------
    async def connection(self, request: Request) -> Response:
        self.s.count("requests", request.method)
        if "community" in self.s.defects:
            return self.not_found_page()
        fault = self.s.faults.next_fault()
        if fault == "latency":
            await asyncio.sleep(self.s.faults.latency)
        elif fault in ("429", "502", "503", "504", "html"):
            return self.fault_response(fault)
        response = self.connection_response(request)
        if fault == "truncate":
            return _Truncated(response, keep_headers_length=False)
        if fault == "drop":
            return _Truncated(response, keep_headers_length=True)
        return response

    def gate(self, request: Request) -> tuple[User | None, dict[str, str], Response | None]:
        """DRF's order on the view set's routes: authentication (401), then the view's role
        check (403, ``_access.role_allows``), for every method. The user, the headers every
        answer carries, or the refusal. The organisation filter and the object permission
        come later, with the rows (``rows``, ``_access.object_allows``)."""
        headers = {"Allow": ALLOW, "Vary": "Accept, Authorization, Cookie"}
        user, failure = self.authenticate(request)
        if failure:
            return None, headers, failure
        assert user is not None
        if not access.role_allows(user, self.s.defects):
            return user, headers, self.error(403, NO_PERMISSION, headers)
        return user, headers, None

    def rows(self, user: User) -> list[dict[str, Any]]:
        """The view set's queryset for this user, by id (``_access.visible``)."""
        return sorted(access.visible(self.s.data.connections, user, self.s.defects), key=lambda c: c["id"])  # fmt: skip

    def connection_response(self, request: Request) -> Response:
        lookup = _LOOKUP.fullmatch(request.path_params["id"])
        if lookup is None:
            # DRF's router matches [^/.]+ and an optional .format suffix: anything else
            # never reaches the view (no auth, no JSON), Django answers with its HTML 404.
            return self.not_found_page()
        if (lookup["format"] or request.query_params.get("format") or "json") != "json":
            # DRF picks the renderer before it authenticates: an unknown format (/1.xml,
            # ?format=api) is a JSON 404 to anyone.
            return self.error(404, "Not found.", {"Allow": ALLOW, "Vary": "Accept, Cookie"})
        user, headers, refused = self.gate(request)
        if refused is not None:
            return refused
        assert user is not None
        if self.s.replay is not None:
            return self.replayed(self.s.replay, request, lookup["pk"])
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            return self.error(405, f'Method "{request.method}" not allowed.', headers)
        if request.method == "OPTIONS":
            self.s.count("status_200")
            meta = {"name": "Model Provider Connection Instance", "description": "",
                    "renders": ["application/json"], "parses": PARSES}  # fmt: skip
            return JSONResponse(meta, headers=headers)
        connection_id = django_int(lookup["pk"])
        if connection_id is None:
            if "500_non_integer_id" in self.s.defects:
                self.s.count("status_500")
                return HTMLResponse("<h1>Server Error (500)</h1>", 500)
            return self.error(404, "Not found.", headers)
        conn = next((c for c in self.rows(user) if c["id"] == connection_id), None)
        if conn is None:  # DRF's get_object: the queryset's 404, then the object permission
            return self.error(404, NOT_FOUND, headers)
        if not access.object_allows(user, conn, self.s.defects):
            return self.error(403, NO_PERMISSION, headers)
        self.s.count("status_200")
        content = json.dumps(self.render(conn, user), separators=(",", ":")).encode()
        media_type = "text/plain" if "wrong_content_type" in self.s.defects else "application/json"
        response = Response(content, 200, headers=headers, media_type=media_type)
        if request.method == "HEAD":
            response.body = b""  # the headers (Content-Length included) are the GET's
        return response

    def replayed(self, replay: Replay, request: Request, raw_id: str) -> Response:
        """The recorded answer to an authenticated request on the detail route."""
        method = request.method
        if method not in ("GET", "HEAD", "OPTIONS"):
            if replay.answers["method_not_allowed"]["status"] != 405:  # it never showed one
                return self.error(405, f'Method "{method}" not allowed.', {"Allow": ALLOW})
            response = replay.answer("method_not_allowed", method=method, allow=replay.allow)
        elif method == "OPTIONS":
            response = replay.answer("options")
        elif method == "HEAD" and replay.answers["head"]["status"] != 200:
            response = replay.answer("head")
        else:
            connection_id = django_int(raw_id) if raw_id.isascii() else None
            if connection_id is None:
                response = replay.answer("non_integer_id")
            else:
                found = replay.connection(connection_id) if 0 < connection_id <= MAX_ID else None
                response = found if found is not None else replay.answer("missing_id")
        if method == "HEAD":
            response.body = b""  # the headers (Content-Length included) are the GET's
        self.s.count(f"status_{response.status_code}")
        return response

    async def connections(self, request: Request) -> Response:
        """The list route: a JSON array, or DRF's pages with ``list_page_size``."""
        self.s.count("requests", request.method)
        replay = self.s.replay
        recorded = replay.answers["list"] if replay is not None else None
        if "community" in self.s.defects or (
            recorded is not None and recorded["status"] == 404 and "body" not in recorded
        ):
            return self.not_found_page()  # no such route: Django answers before any auth
        user, headers, refused = self.gate(request)
        if refused is not None:
            return refused
        assert user is not None
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            return self.error(405, f'Method "{request.method}" not allowed.', headers)
        if replay is not None and recorded is not None and "form" not in recorded:
            return replay.answer("list")  # an error answer, recorded
        if request.method == "OPTIONS":
            meta = {"name": "Model Provider Connection List", "description": "",
                    "renders": ["application/json"], "parses": PARSES}  # fmt: skip
            return JSONResponse(meta, headers=headers)
        if replay is not None and recorded is not None:
            bodies = [replay.connections[i] for i in sorted(replay.connections)]
            size = recorded.get("page_size") or max(len(bodies), 1)
            page_size = size if recorded["form"] == "paginated" else None
            headers = dict(recorded["headers"])
        else:
            # No object permission on a list: DRF checks objects on the detail route only.
            bodies = [self.render(c, user) for c in self.rows(user)]
            page_size = self.s.list_page_size
        content: Any = bodies if page_size is None else self.page(request, bodies, page_size)
        if isinstance(content, Response):
            return content
        self.s.count("status_200")
        response = Response(
            json.dumps(content, separators=(",", ":")).encode(),
            200,
            headers=headers,
            media_type="application/json",
        )
        if request.method == "HEAD":
            response.body = b""
        return response

    def page(
        self, request: Request, bodies: list[dict[str, Any]], size: int
    ) -> dict[str, Any] | Response:
        """DRF's PageNumberPagination: ``?page=N`` (from 1; ``last``), read as Django's
        ``int()`` reads it; an "Invalid page." 404 for what ``int()`` refuses ("²" is a digit
        to ``isdigit`` but no int, 5,000 digits are too long) or a page past the end."""
        pages = max(1, -(-len(bodies) // size))
        text = request.query_params.get("page") or "1"
        number = pages if text == "last" else django_int(text)
        if number is None or not 1 <= number <= pages:
            return self.error(404, "Invalid page.", {"Allow": ALLOW})
        url = request.url
        previous = (
            url.remove_query_params("page")
            if number == 2
            else url.include_query_params(page=number - 1)
        )
        return {
            "count": len(bodies),
            "next": str(url.include_query_params(page=number + 1)) if number < pages else None,
            "previous": str(previous) if number > 1 else None,
            "results": bodies[(number - 1) * size : number * size],
        }

    def fault_response(self, fault: str) -> Response:
        if fault == "429":
            seconds = self.s.faults.retry_after
            return self.error(
                429, f"Request was throttled. Expected available in {seconds:g} seconds.",
                {"Retry-After": f"{seconds:g}"},
            )  # fmt: skip
        if fault == "html":
            return HTMLResponse("<html><body><h1>Maintenance</h1></body></html>", 200)
        names = {"502": "Bad Gateway", "503": "Service Unavailable", "504": "Gateway Timeout"}
        return HTMLResponse(
            f"<html><body><h1>{fault} {names[fault]}</h1></body></html>", int(fault)
        )

    def not_found_page(self) -> Response:
        self.s.count("status_404_html")
        return HTMLResponse(PAGE_404, 404)

    async def not_found(self, request: Request) -> Response:
        self.s.count("other_path", request.method)
        return self.not_found_page()

    async def token_refresh(self, request: Request) -> Response:
        self.s.count("token_refresh", request.method)
        allow = {"Allow": "POST, OPTIONS"}
        if request.method != "POST":
            replay = self.s.replay
            if replay is not None and replay.answers["method_not_allowed"]["status"] == 405:
                return replay.answer("method_not_allowed", method=request.method)
            return self.error(405, f'Method "{request.method}" not allowed.', allow)
        payload, refused = await self.json_body(request, allow)
        if refused is not None:
            return refused
        refresh = payload.get("refresh") if isinstance(payload, dict) else None
        if not isinstance(refresh, str):
            return self.error(
                400,
                "Validation error",
                allow,
                validation_errors={"refresh": ["This field is required."]},
            )
        user = self.s._decode(refresh, "refresh")
        if user is None or self.s.refresh_tokens.get(user.id) != refresh:
            return self.error(
                401, "Token is invalid", {**allow, "WWW-Authenticate": 'Bearer realm="api"'}
            )
        return JSONResponse({"access": self.s._issue_access_token(user.id)}, headers=allow)

    async def token(self, request: Request) -> Response:
        self.s.count("token", request.method)
        user, failure = self.authenticate(request)
        if failure:
            return failure
        assert user is not None
        allow = {"Allow": "GET, POST, HEAD, OPTIONS"}
        if request.method == "GET":
            existing = self.s.refresh_tokens.get(user.id)
            return JSONResponse([{"token": existing}] if existing else [], headers=allow)
        if request.method == "POST":
            if user.id in self.s.refresh_tokens:
                detail = (
                    "You already have a valid token. Please revoke it before creating a new one."
                )
                return self.error(409, detail, allow)
            return JSONResponse({"token": self.s.issue_refresh_token(user.id)}, 201, headers=allow)
        return self.error(405, f'Method "{request.method}" not allowed.', allow)

    async def whoami(self, request: Request) -> Response:
        """Label Studio 1.23.2's ``UserWhoAmIAPI``, a RetrieveAPIView of the caller, rendered
        by ``BaseWhoAmIUserSerializer`` (users/serializers.py): its fields in its order.
        ``active_organization`` is how a client tells a member of its own organisation from
        a user of another; ``permissions`` lists every permission whatever the role (1.23.2
        returns ``all_permissions`` as it is), so it says nothing about the role."""
        user, failure = self.authenticate(request)
        if failure:
            return failure
        assert user is not None
        allow = {"Allow": ALLOW, "Vary": "Accept, Authorization, Cookie"}
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            return self.error(405, f'Method "{request.method}" not allowed.', allow)
        if request.method == "OPTIONS":  # DRF's name for the class UserWhoAmIAPI
            meta = {"name": "User Who Am Iapi", "description": "",
                    "renders": ["application/json"], "parses": PARSES}  # fmt: skip
            return JSONResponse(meta, headers=allow)
        shown = person(user, masked=user.removed)  # removed: masked as in a connection
        owner = self.s.data.owner(user.organization)
        body = {
            **{key: shown[key] for key in ("id", "first_name", "last_name", "username", "email")},
            "last_activity": "2026-03-02T10:15:30.123456Z",
            "custom_hotkeys": {},
            "avatar": shown["avatar"],
            "initials": "DU" if user.removed else _initials(user),
            "phone": "",
            "active_organization": user.organization,
            "active_organization_meta": {"title": f"Organization {user.organization}",
                                         "email": owner.email if owner else ""},
            "allow_newsletters": None,
            "date_joined": "2026-01-05T08:00:00.654321Z",
            "permissions": list(PERMISSIONS),
        }  # fmt: skip
        response = JSONResponse(body, headers=allow)
        if request.method == "HEAD":
            response.body = b""  # the headers (Content-Length included) are the GET's
        return response

    async def version(self, request: Request) -> Response:
        # Label Studio answers /api/version without auth (Community and Enterprise).
        if self.s.replay is not None:
            return self.s.replay.answer("version")
        edition = "Community" if "community" in self.s.defects else "Enterprise"
        return JSONResponse({"release": self.s.version, "edition": edition, "mock": True})

    async def schema(self, request: Request) -> Response:
        if self.s.replay is not None and not self.s.replay.serves_fragment():
            return self.not_found_page()  # a snapshot holds the schema's hash, not the schema
        schema = load_spec()
        if "community" in self.s.defects:
            # Community serves its schema, without the Enterprise-only paths, with its own
            # (here the one route every Label Studio serves that tells it apart: projects).
            paths = schema.get("paths", {})
            kept = {p: v for p, v in paths.items() if not _ENTERPRISE.match(p)}
            schema = {**schema, "paths": {**kept, "/api/projects/": _PROJECTS}}
        return JSONResponse(schema, media_type="application/vnd.oai.openapi+json")

    async def stats(self, request: Request) -> Response:
        return JSONResponse(
            {
                "stats": dict(self.s.stats),
                "methods": dict(self.s.methods),
                "faults": dict(self.s.faults.stats),
            }
        )


class BodyRefused(Exception):
    """A request body the mock will not read further (its message is the answer's detail)."""


async def read_body(request: Request, limit: int, seconds: float) -> bytes:
    """The request body, at most ``limit`` bytes read in ``seconds``, as Django bounds it
    with ``DATA_UPLOAD_MAX_MEMORY_SIZE``: a declared ``Content-Length`` over the limit is
    refused before a byte is read; a body without one (chunked) is read chunk by chunk and
    refused at the first chunk past the limit. Never more than the limit plus one chunk is
    held. Raises ``BodyRefused``, or Starlette's ``ClientDisconnect``."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
        raise BodyRefused(TOO_BIG)
    body = bytearray()
    try:
        async with asyncio.timeout(seconds):
            async for chunk in request.stream():
                body += chunk
                if len(body) > limit:
                    raise BodyRefused(TOO_BIG)
    except TimeoutError:
        raise BodyRefused(f"Request body not received within {seconds:g} seconds.") from None
    return bytes(body)


class _AnyMethod:
    """A view Starlette routes every method to. Starlette answers its own plain-text 405
    to a method a function endpoint does not list (``PROPFIND``); Label Studio's views take
    every method and answer after authentication, with a JSON 405."""

    def __init__(self, view: Callable[[Request], Awaitable[Response]]) -> None:
        self.app = request_response(view)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


class _Truncated(Response):
    """A response cut in half: a truncated body (``truncate``) or a dropped connection
    (``drop``: the headers promise the full length, then the connection closes early)."""

    def __init__(self, original: Response, *, keep_headers_length: bool) -> None:
        full = bytes(original.body)
        self.part = full[: len(full) // 2]
        super().__init__(self.part, original.status_code, media_type=original.media_type)
        self.raw_headers = [(k, v) for k, v in original.raw_headers if k != b"content-length"]
        length = len(full) if keep_headers_length and full else len(self.part)
        self.raw_headers.append((b"content-length", str(length).encode()))
        self.drop = keep_headers_length

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        try:
            await send({"type": "http.response.body", "body": self.part, "more_body": False})
        except Exception as exc:
            # The server refused the short body: raising now makes uvicorn close the
            # connection mid-response, which is the drop we want. In-process
            # (httpx.ASGITransport) nothing is raised and the client gets the short body.
            raise ConnectionDropped from exc


class ConnectionDropped(Exception):
    """Raised to make the ASGI server abort the connection (filtered from its log)."""
