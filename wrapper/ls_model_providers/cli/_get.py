"""``ls-model-providers get ID``: fetch one connection and print it as JSON, secrets redacted."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import httpx

from ls_model_providers._auth import auth_from_api_key
from ls_model_providers._body import loads
from ls_model_providers._client import Client
from ls_model_providers._constants import DEFAULT_DEADLINE, ENDPOINT_PATH
from ls_model_providers._errors import (
    Answer,
    APIResponseError,
    AuthenticationError,
    CertificateError,
    EndpointNotAvailableError,
    LabelStudioError,
    PermissionDeniedError,
)
from ls_model_providers._retry import RetryPolicy
from ls_model_providers._secrets import redact
from ls_model_providers.toolkit.answers import (
    not_label_studio,
    not_served,
    release,
    scheme_hint,
    unreachable_hint,
)
from ls_model_providers.toolkit.exits import (
    EXIT_NOT_SERVED,
    EXIT_OK,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    ConfigurationError,
    exit_code_for,
)
from ls_model_providers.toolkit.guard import BadAnswer, Guard, NoAnswer, Stop
from ls_model_providers.toolkit.options import Limits, Target, resolve_target
from ls_model_providers.toolkit.tls import tls_hint

from ._shared import (
    HELP_FORMAT,
    add_target_options,
    add_tls_options,
    connection_id,
    epilog,
    error,
    seconds,
    warn_insecure,
)


def add_parser(commands: Any) -> argparse.ArgumentParser:
    help_text = "fetch one connection and print it as JSON (secrets redacted)"
    get: argparse.ArgumentParser = commands.add_parser(
        "get", help=help_text, description=help_text, formatter_class=HELP_FORMAT,
        epilog=epilog(
            (0, 1, 2, 3, 4, 5, 130),
            ("LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY", "SSL_CERT_FILE, SSL_CERT_DIR", "HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY"),
            "ls-model-providers get 3 --base-url https://ls.example.com",
        ),
    )  # fmt: skip
    get.add_argument("id", type=connection_id, help="connection id")
    add_target_options(get)
    get.add_argument(
        "--timeout", type=seconds, help="seconds per attempt (default 5 connect / 30 read)"
    )
    get.add_argument(
        "--deadline", type=seconds, default=DEFAULT_DEADLINE,
        help="seconds the whole call may take, retries and a slow body included (default 120)",
    )  # fmt: skip
    add_tls_options(get)
    return get


def run(args: argparse.Namespace) -> int:
    try:
        target = resolve_target(
            args.base_url, args.api_key, cacert=args.cacert, insecure=args.insecure
        )
        options: dict[str, Any] = {"retry": RetryPolicy(deadline=args.deadline)}
        if args.timeout is not None:
            options["timeout"] = args.timeout
        # Built here, so its scrubber (the key, and every access token a refresh brings)
        # can clean what is printed.
        auth = auth_from_api_key(target.api_key, base_url=target.base_url)
        client = Client(base_url=target.base_url, auth=auth, verify=target.verify, **options)
    except (ValueError, TypeError, ConfigurationError) as exc:
        error(str(exc))
        return EXIT_USAGE
    if args.insecure:
        warn_insecure()
    with client:
        try:
            detailed = client.get_connection_detailed(args.id)
        except CertificateError as exc:  # the reason, and the fix in this command's terms
            error(f"TLS certificate not trusted ({exc.reason}) ({exc.method} {exc.url})")
            print(f"  fix: {tls_hint()}", file=sys.stderr)
            return EXIT_UNREACHABLE
        except LabelStudioError as exc:
            return _failed(exc, target)
    # What the server sent (validated), not a re-serialisation; secret fields redacted, and
    # our own credentials scrubbed should the server echo them into a field.
    shown = json.dumps(redact(loads(detailed.content)), indent=2, sort_keys=True)
    print(auth.scrub(shown))
    return EXIT_OK


def _failed(exc: LabelStudioError, target: Target) -> int:
    """Say what went wrong and what to do, with the command's exit code: a URL whose server
    is not Label Studio is the user's to fix (2), Label Studio without the endpoint is 3, the
    wrong scheme is named (5)."""
    answer = (
        Answer(exc.status_code, exc.headers, exc.body, exc.method, exc.url or "")
        if isinstance(exc, APIResponseError)
        else None
    )
    failure = exc.__cause__ or exc
    hint = scheme_hint(target.base_url, answer=answer, failure=failure)
    hint = hint or unreachable_hint(target.base_url, failure)
    if hint is not None:
        error(hint)
        return EXIT_UNREACHABLE
    moved = _moved(exc, target.base_url)
    if moved is not None:  # the key was kept from another origin: no reason to blame it
        error(
            f"the base URL redirects to {moved}, which was not sent the key: use that "
            f"(--base-url {moved}) ({exc})"
        )
        return EXIT_USAGE
    if isinstance(exc, EndpointNotAvailableError):
        guard = Guard.open(target.base_url, verify=target.verify, limits=Limits(max_requests=1))
        try:
            with guard.client() as http:
                version = release(http, target.base_url)
        except (Stop, NoAnswer, BadAnswer, httpx.HTTPError):
            version = None
        finally:
            guard.close()
        if version is None:
            error(f"{not_label_studio(target.base_url)} ({exc.method} {exc.url})")
            return EXIT_USAGE
        error(f"endpoint not available on this deployment: {not_served(version)}")
        return EXIT_NOT_SERVED
    error(str(exc))
    return exit_code_for(exc)


def _moved(exc: LabelStudioError, base_url: str) -> str | None:
    """The base URL a deployment redirected to, when the credentials were refused there: the
    client never sends them to another origin (scheme, host and port), so a 401 or 403 from it
    says nothing of the key."""
    if not (isinstance(exc, AuthenticationError | PermissionDeniedError) and exc.url):
        return None
    final, base = httpx.URL(exc.url), httpx.URL(base_url)
    if (final.scheme, final.host, final.port) == (base.scheme, base.host, base.port):
        return None
    at = final.path.find("/" + ENDPOINT_PATH)  # what comes before it is the new base's path
    prefix = final.path[:at] if at >= 0 else ""
    return str(final.copy_with(path=prefix + "/", query=None, fragment=None))
