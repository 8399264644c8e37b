"""Replaying a snapshot: the recorded bodies and error contract, as the mock's answers.

``create_app(snapshot=...)`` keeps the mock's users, tokens and checks (so a token the mock
issues works), and answers with what the deployment answered:

* a recorded connection: its body (secrets stay ``<redacted>``) with the recorded headers,
  to any user who may view connections (the snapshot is what one user saw);
* no header, a token no server issued, a missing id, a non-integer id, HEAD, OPTIONS,
  ``api/version`` and a GET of the token refresh route: the recorded answer, an error
  body's per-request ``id`` a fresh uuid each time;
* a write method: the recorded 405 body (its method named as sent) and the endpoint's
  recorded ``Allow``: nothing is ever written, as on the mock;
* the list route: the recorded connections in the recorded form (a JSON array, or pages
  of the recorded size), or the HTML 404 page when the deployment had no list route;
* the served schema: our fragment only when the snapshot's sha256 says the deployment served
  exactly it; otherwise the HTML 404 page (a snapshot keeps the hash, not the document).

What the snapshot cannot say (a malformed header, a deactivated user, another format
suffix) the mock answers as it always does, with the recorded server version.

Every file that loads can be served (``Snapshot`` refuses what an HTTP server could not
send: lone surrogates, NaN, unsendable header values, statuses outside 200..599), and a
204 or 304 is answered without the body HTTP forbids it, whatever the file holds.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from starlette.responses import HTMLResponse, Response

from ls_model_providers._spec import load_spec
from ls_model_providers.snapshot import PER_REQUEST_ID, Snapshot
from ls_model_providers.toolkit.schemas import schema_sha256

#: Statuses a mock's own answer takes from the snapshot's answer of the same kind.
_SHAPED_BY = {401: "bad_token", 404: "missing_id", 405: "method_not_allowed"}
#: Statuses HTTP sends without a body (the server drops the connection if one is written).
_NO_BODY = frozenset({204, 304})


class Replay:
    """The answers of one snapshot, ready to serve."""

    def __init__(self, snapshot: Snapshot, page_404: str) -> None:
        self.snapshot, self.page_404 = snapshot, page_404
        self.connections = snapshot.connections
        self.answers = snapshot.answers
        #: The endpoint's Allow, as its GET (or HEAD, or OPTIONS) answer sent it.
        self.allow: str | None = None
        for name in ("options", "head", "get"):
            self.allow = self.answers.get(name, {}).get("headers", {}).get("allow", self.allow)

    @property
    def version(self) -> str | None:
        return self.snapshot.server_version

    def serves_fragment(self) -> bool:
        """Whether the deployment served exactly our fragment at its schema route."""
        return self.snapshot.schema_sha256 == schema_sha256(load_spec())

    def answer(self, name: str, *, method: str | None = None, allow: str | None = None) -> Response:
        """The recorded answer ``name``. For a 405 learnt from a GET: ``method`` is named in
        its detail instead, and ``allow`` (the route's methods) replaces its ``Allow``."""
        recorded = self.answers[name]
        headers = dict(recorded["headers"])
        body = recorded.get("body")
        if method is not None and isinstance(body, dict) and isinstance(body.get("detail"), str):
            body = {**body, "detail": body["detail"].replace('"GET"', f'"{method}"')}
        if allow is not None:
            headers["allow"] = allow
        if recorded["status"] in _NO_BODY:
            return Response(b"", recorded["status"], headers=headers)
        if body is not None:
            return self.json(body, recorded["status"], headers)
        if recorded["status"] == 404 and "html" in headers.get("content-type", ""):
            return HTMLResponse(self.page_404, 404)
        return Response(b"", recorded["status"], headers=headers)

    def shaped(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> Response | None:
        """A mock error the snapshot has no answer for, in the recorded error's shape (its
        keys, headers and content type), or ``None`` when it recorded none."""
        recorded = self.answers.get(_SHAPED_BY.get(status, ""))
        template = recorded.get("body") if recorded else None
        if not isinstance(template, dict) or recorded is None:
            return None
        shaped = {**template, "status_code": status, "detail": body["detail"]}
        kept = {**recorded["headers"], **{k.lower(): v for k, v in headers.items()}}
        return self.json(shaped, status, kept)

    def connection(self, connection_id: int) -> Response | None:
        body = self.connections.get(connection_id)
        if body is None:
            return None
        get = self.answers.get("get", {"headers": {"content-type": "application/json"}})
        return self.json(body, 200, dict(get["headers"]))

    def json(self, body: Any, status: int, headers: dict[str, str]) -> Response:
        if isinstance(body, dict) and body.get("id") == PER_REQUEST_ID:
            body = {**body, "id": str(uuid.uuid4())}
        content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        headers.setdefault("content-type", "application/json")
        return Response(content, status, headers=headers)
