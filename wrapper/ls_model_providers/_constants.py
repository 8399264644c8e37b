"""Named defaults and limits, in one place. Every number here is documented in the README."""

from __future__ import annotations

import httpx

#: Per attempt: 5 s to connect, 30 s for each read/write/pool wait.
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
#: Retries after the first attempt (so at most 3 requests per call).
DEFAULT_MAX_RETRIES = 2
#: Whole call, every attempt, wait, token refresh and body read included.
DEFAULT_DEADLINE = 120.0
#: Full-jitter exponential backoff: attempt n waits uniform(0, min(CAP, BASE * 2**n)).
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0
#: A server's Retry-After / retry-after-ms is honoured up to this many seconds.
RETRY_AFTER_CAP = 60.0
#: Statuses worth retrying for an idempotent GET (500 only when asked: it is usually a bug).
RETRY_STATUSES = frozenset({408, 429, 502, 503, 504})
#: At most this many redirects per attempt.
MAX_REDIRECTS = 5
#: Default parallelism of get_connections().
DEFAULT_CONCURRENCY = 8

#: Largest response body read, counted both as received and after decompression. A
#: connection is about 1 KB; Label Studio's HTML 404 page (which must be read to say
#: "endpoint not available") is about 170 KB. Anything past this is refused unread.
MAX_BODY_SIZE = 1024 * 1024
#: Deepest JSON nesting accepted anywhere (bodies, error bodies, refresh answers, JWT
#: claims). A connection nests 3 deep; model_params, a JSON Schema, rarely past 10.
MAX_JSON_DEPTH = 64
#: At most this many stacked Content-Encodings ("gzip, gzip" is 2) are decoded.
MAX_CONTENT_ENCODINGS = 2
#: What the client can decode while bounding the decoded size itself.
ACCEPT_ENCODING = "gzip, deflate"
#: Headers every request carries, unless an http_client you pass in sets them already.
DEFAULT_HEADERS = {"Accept": "application/json", "Accept-Encoding": ACCEPT_ENCODING}

#: The longest timeout, deadline or wait accepted (about 11.5 days): past it, socket timeouts
#: and deadlines overflow the platform's time_t. ``None`` is how to say "no limit".
MAX_SECONDS = 1_000_000.0

#: The mock reads at most this much of a request body: Django's DATA_UPLOAD_MAX_MEMORY_SIZE
#: default (2.5 MB; Label Studio 1.23.2 raises its own to 250 MiB, which a mock has no use
#: for). A token refresh body is about 300 bytes. Past it: a 400, and the connection closed.
MOCK_MAX_REQUEST_BODY = 2_621_440
#: ...and waits at most this long for the whole body (a client's default read timeout).
MOCK_REQUEST_BODY_SECONDS = 30.0

MAX_ID = 2**63 - 1
ENDPOINT_PATH = "api/model-provider-connections/"
TOKEN_REFRESH_PATH = "api/token/refresh/"  # noqa: S105 - a path, not a password
#: A request extension: this POST (the token refresh) may be sent again on a fresh connection
#: when a reused one turns out closed before any answer, as a GET is. It only trades the
#: refresh token for an access token; uwsgi closes a keep-alive connection after each answer.
RESENDABLE = "ls_model_providers.resendable"
#: An access token is refreshed this many seconds before its `exp`.
REFRESH_MARGIN = 30.0

ENV_URL = "LABEL_STUDIO_URL"
ENV_API_KEY = "LABEL_STUDIO_API_KEY"
#: The conformance suite's denied keys (``--denied-key``), separated by spaces or commas.
ENV_DENIED_KEYS = "LABEL_STUDIO_DENIED_KEYS"
LOGGER_NAME = "ls_model_providers"
