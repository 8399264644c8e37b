"""OpenAPI documents: read from a file or fetched from a deployment, bounded before parsing.

A document over :data:`MAX_SCHEMA_BYTES` or with more structural tokens than
:data:`MAX_SCHEMA_TOKENS` is refused before it is parsed (what it takes once parsed grows with
its values, not its bytes: 63 MB of ``[{},{},...]`` took 1.6 GB). ``fetch`` reads the body
raw and decodes it with the client's bounded decoder, every socket operation ending by its
deadline. ``schema_sha256`` hashes a served schema without what depends on the host serving it.
"""

from __future__ import annotations

import gc
import hashlib
import json
import re
import ssl
import time
from collections.abc import Callable
from typing import Any, Final

import httpx
import yaml

from ls_model_providers._body import structural_tokens

from .drift import SpecDiffError
from .exits import ConfigurationError
from .guard import BODY_LIMIT, BadAnswer, DeadlineExceeded, Guard, NoAnswer, Stop, redirect_of
from .options import Limits
from .tls import trust

NOT_IN_SCHEMA: Final = "endpoint not in the served schema"
SCHEMA_PATH: Final = "/docs/api/schema/json/"  # where Label Studio serves its OpenAPI
#: Label Studio's full served schema (~46,000 lines as YAML) is about 1.2 MB of JSON: this
#: is seven times that, and what a document may take in memory once parsed stays bounded.
MAX_SCHEMA_BYTES: Final = 8 * 1024 * 1024
#: Each value a parsed document holds costs 50 to 500 bytes (a YAML node the most), whatever
#: its text: so the '{', '[' and ',' of JSON and YAML's flow style, and the lines and '- '
#: items of YAML's block style, are counted before parsing. A schema shaped like Label
#: Studio's (benchmarks/specdiff.py, 46,000 lines) has 51,000 of them as JSON, 54,000 as
#: YAML, 123,000 as indented JSON; the real one, 1.2 MB, about 65,000. 500,000 is 4 to 8
#: times that, and the worst document under it takes about 270 MB parsed (YAML; 94 MB JSON).
MAX_SCHEMA_TOKENS: Final = 500_000
FETCH_TIMEOUT: Final = 30.0  # seconds per connect/read
FETCH_DEADLINE: Final = 120.0  # seconds for the whole fetch: headers dripping in end here too
# libyaml when PyYAML was built with it: 6x faster than the Python loader on big schemas.
_LOADER: Final = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Unreachable(SpecDiffError):
    """The schema URL could not be reached: DNS, refused, TLS, timeouts (exit 5)."""


def check_size(data: bytes) -> None:
    """Refuse, before it is parsed, a document larger than a schema could be
    (:data:`MAX_SCHEMA_BYTES`, :data:`MAX_SCHEMA_TOKENS`): :class:`SpecDiffError`."""
    if len(data) > MAX_SCHEMA_BYTES:
        raise SpecDiffError(f"larger than {MAX_SCHEMA_BYTES} bytes: not a schema")
    tokens = structural_tokens(data, yaml=True)
    if tokens > MAX_SCHEMA_TOKENS:
        raise SpecDiffError(
            f"{tokens} values or more, over the {MAX_SCHEMA_TOKENS} a schema may have "
            "(a schema the size of Label Studio's has about 65,000): refused before parsing"
        )


def load_document(data: bytes) -> Any:
    """Parse JSON (with ``json``: fast) or YAML (with libyaml when available), after
    :func:`check_size`."""
    check_size(data)
    # Loading builds a million small objects and none is garbage yet; the cyclic collector
    # would rescan them all again and again (5x the time for a 46,000-line YAML schema).
    collecting = gc.isenabled()
    gc.disable()
    try:
        text = data.decode("utf-8-sig")
        if text.lstrip()[:1] in ("{", "["):
            try:
                return json.loads(text)
            except json.JSONDecodeError:
                pass  # YAML flow style starts the same way
        # _LOADER is CSafeLoader or SafeLoader: safe either way.
        return yaml.load(text, Loader=_LOADER)  # noqa: S506
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SpecDiffError(f"not JSON or YAML{where}: {exc.problem}") from None
    except (ValueError, yaml.YAMLError, RecursionError) as exc:
        raise SpecDiffError(f"not JSON or YAML: {type(exc).__name__}: {exc}") from None
    finally:
        if collecting:
            gc.enable()


def fetch(
    url: str,
    *,
    verify: ssl.SSLContext | str | bool = True,
    timeout: float = FETCH_TIMEOUT,
    deadline: float = FETCH_DEADLINE,
    max_bytes: int = MAX_SCHEMA_BYTES,
    clock: Callable[[], float] = time.monotonic,
) -> bytes:
    """GET ``url`` through the tools' guard and return its body, bounded in time and size.

    Every connect, read and write waits at most ``timeout`` seconds and the whole fetch ends
    by ``deadline`` (headers dripping in included). The body is read raw and decoded by the
    client's ``BodyReader`` (gzip and deflate, at most two stacked, never inflated past
    ``max_bytes``). A redirect is not followed: the message says where it leads.

    ``verify``: TLS trust (``toolkit.tls.trust`` builds what the command passes), or a CA
    bundle's path. ``clock``: a test hook (a monotonic clock in seconds).
    Raises :class:`Unreachable` for DNS, refused, TLS and timeouts (its message names
    ``url``), :class:`SpecDiffError` for anything else (a redirect, a non-200 answer, a body
    over ``max_bytes`` or undecodable; the caller names the URL, as the command does).
    """
    if isinstance(verify, str):
        try:
            verify = trust(verify)
        except ConfigurationError as exc:
            raise SpecDiffError(f"cannot use CA bundle {verify}: {exc}") from None
    try:
        guard = Guard.open(
            url, verify=verify, read_timeout=timeout, clock=clock,
            limits=Limits(max_requests=1, timeout=deadline, deadline=deadline),
        )  # fmt: skip
    except ValueError as exc:  # a proxy variable that cannot be used
        raise SpecDiffError(str(exc)) from None
    headers = {"Accept": "application/json"}
    try:
        with guard.client() as client:
            response = client.get(url, headers=headers, extensions={BODY_LIMIT: max_bytes})
    except DeadlineExceeded:
        raise Unreachable(f"{url}: the schema took longer than {deadline:g} s") from None
    except NoAnswer as exc:
        if exc.tls_problem is not None:  # the reason, not OpenSSL's whole line
            raise Unreachable(f"{url}: TLS certificate not trusted ({exc.tls_problem})") from None
        raise Unreachable(f"{url} is unreachable: {exc}") from None
    except BadAnswer as exc:
        raise SpecDiffError(str(exc)) from None
    except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, Stop) as exc:
        raise SpecDiffError(f"{type(exc).__name__}: {exc}") from None
    finally:
        guard.close()
    moved = redirect_of(response, url)
    if moved is not None:
        raise SpecDiffError(f"redirects to {moved[:200]}: use that URL")
    if response.status_code != 200:
        raise SpecDiffError(f"answered HTTP {response.status_code}, not a schema")
    return response.content


#: Paths every Label Studio serves (Community and Enterprise): a schema without any of them
#: is not Label Studio's.
LABEL_STUDIO_PATHS: Final = ("/api/projects/", "/api/tasks/", "/api/current-user/whoami")


def is_label_studio(document: Any) -> bool:
    """Whether an OpenAPI document is Label Studio's (it serves its usual routes)."""
    paths = document.get("paths") if isinstance(document, dict) else None
    return isinstance(paths, dict) and any(p in paths for p in LABEL_STUDIO_PATHS)


#: An absolute http(s) URL's origin, as a served schema's texts quote it (cURL examples).
_ORIGIN: Final = re.compile(r"https?://[^\s/\"'<>`]+", re.IGNORECASE)


def schema_sha256(schema: Any, base_url: str | None = None) -> str:
    """sha256 of a served OpenAPI schema as canonical JSON (sorted keys, no spaces, UTF-8),
    without what depends on the host that served it: every ``servers`` list is left out, and
    in every text the deployment's base URL (``base_url``, path prefix included) and any other
    http(s) origin are replaced by a placeholder. So identical code on two hosts, or behind a
    proxy under another name, hashes the same; the same schema with other spacing or key order
    too."""
    base = base_url.rstrip("/") if base_url else None

    def text(value: str) -> str:
        if base and base in value:
            value = value.replace(base, "<base-url>")
        return _ORIGIN.sub("<origin>", value) if "://" in value else value

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items() if k != "servers"}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return text(value) if isinstance(value, str) else value

    canonical = json.dumps(walk(schema), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()
