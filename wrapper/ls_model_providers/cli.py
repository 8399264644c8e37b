"""The ``ls-model-providers`` command.

    ls-model-providers get ID [--base-url URL] [--api-key KEY]

Exit codes: 0 ok, 1 the API answered with an error, 2 usage or configuration error,
3 the endpoint is not available on this deployment (Community Edition or a wrong URL).
URL and key default to ``LABEL_STUDIO_URL`` and ``LABEL_STUDIO_API_KEY``. Output is JSON
on stdout with secrets redacted; errors go to stderr, never with the key.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from . import _constants as C
from ._client import Client
from ._errors import EndpointNotAvailableError, LabelStudioError
from ._secrets import redact

EXIT_OK, EXIT_API_ERROR, EXIT_USAGE, EXIT_NOT_AVAILABLE = 0, 1, 2, 3


def _positive_id(text: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer id: {text!r}") from None
    if not 1 <= value <= C.MAX_ID:
        raise argparse.ArgumentTypeError(f"id must be between 1 and 2**63-1, got {value}")
    return value


def _add_target(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base-url", help=f"deployment URL (default: ${C.ENV_URL})")
    parser.add_argument(
        "--api-key", help=f"legacy token or personal access token (default: ${C.ENV_API_KEY})"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds per attempt (default 5 connect / 30 read)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ls-model-providers",
        description="Label Studio Enterprise model provider connections: client, mock, conformance.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    get = commands.add_parser(
        "get", help="fetch one connection and print it as JSON (secrets redacted)"
    )
    get.add_argument("id", type=_positive_id, help="connection id")
    _add_target(get)
    return parser


def _get(args: argparse.Namespace) -> int:
    try:
        kwargs = {} if args.timeout is None else {"timeout": args.timeout}
        client = Client.from_env(base_url=args.base_url, api_key=args.api_key, **kwargs)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    with client:
        try:
            conn = client.get_connection(args.id)
        except EndpointNotAvailableError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_NOT_AVAILABLE
        except LabelStudioError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_API_ERROR
    print(json.dumps(redact(conn.to_dict()), indent=2, sort_keys=True))
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    handlers = {"get": _get}
    return handlers[args.command](args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
