"""The ``ls-model-providers`` command.

    ls-model-providers get ID [--base-url URL] [--api-key KEY]
    ls-model-providers mock [--host H] [--port N] [--api-key KEY] [--data FILE] [--faults SPEC]
                            [--model-params string|object] [--defect NAME ...]

Exit codes: 0 ok, 1 the API answered with an error, 2 usage or configuration error,
3 the endpoint is not available on this deployment (Community Edition or a wrong URL).
URL and key default to ``LABEL_STUDIO_URL`` and ``LABEL_STUDIO_API_KEY``. Output is JSON
on stdout with secrets redacted; errors go to stderr, never with the key.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
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

    mock = commands.add_parser("mock", help="serve the mock Enterprise endpoint on loopback")
    mock.add_argument("--host", default="127.0.0.1", help="bind address (default: loopback only)")
    mock.add_argument(
        "--port", type=int, default=8080, help="port (0: any free port; default 8080)"
    )
    mock.add_argument("--api-key", help="legacy token of the admin user (default: a fixed one)")
    mock.add_argument(
        "--data", help="JSON data file (users and connections) instead of the default set"
    )
    mock.add_argument(
        "--faults", default="", help="fault plan, e.g. rate=0.2,seed=1,kinds=429+503+drop"
    )
    mock.add_argument("--model-params", choices=["object", "string"], default="object",
                      help="how model_params is sent: object (newer servers) or string (the docs)")  # fmt: skip
    mock.add_argument(
        "--defect", action="append", default=[], help="switch on a contract violation (testing)"
    )
    mock.add_argument(
        "--no-legacy-tokens", action="store_true", help="refuse Token auth like a new organisation"
    )
    return parser


def _mock(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from .mock import FaultPlan, MockData, create_app, default_data, free_port
        from .mock._server import config
    except ImportError as exc:
        print(
            f"error: the mock needs the 'mock' extra: pip install 'ls-model-providers[mock]' ({exc})",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        data = MockData.from_json(args.data) if args.data else default_data(args.api_key)
        if args.data and args.api_key:
            data.users[0].token = args.api_key
        app = create_app(
            data=data, faults=FaultPlan.parse(args.faults), defects=args.defect,
            model_params=args.model_params, legacy_tokens=not args.no_legacy_tokens,
        )  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    port = args.port or free_port(args.host)
    base_url = f"http://{args.host}:{port}"
    sample = app.state.mock.data.connections[0]["id"] if app.state.mock.data.connections else 1
    print(f"Label Studio Enterprise mock on {base_url}  (Ctrl-C to stop)")
    print(f"  export LABEL_STUDIO_URL={base_url}")
    print(f"  export LABEL_STUDIO_API_KEY={data.users[0].token}")
    print(
        f'  curl -H "Authorization: Token $LABEL_STUDIO_API_KEY" {base_url}/api/model-provider-connections/{sample}/'
    )
    sys.stdout.flush()
    server = uvicorn.Server(config(app, args.host, port))
    # uvicorn re-raises SIGINT/SIGTERM after its graceful shutdown (exit status -15); a
    # stop asked for is a success here, so the signals just ask uvicorn to finish.
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]

    def stop(signum: int, frame: object) -> None:
        server.should_exit = True

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop)
    server.run()
    print("mock stopped")
    return EXIT_OK


def _get(args: argparse.Namespace) -> int:
    try:
        kwargs = {} if args.timeout is None else {"timeout": args.timeout}
        client = Client.from_env(base_url=args.base_url, api_key=args.api_key, **kwargs)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    with client:
        try:
            detailed = client.get_connection_detailed(args.id)
        except EndpointNotAvailableError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_NOT_AVAILABLE
        except LabelStudioError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_API_ERROR
    # What the server sent (validated), not a re-serialisation; secrets redacted.
    print(json.dumps(redact(json.loads(detailed.content)), indent=2, sort_keys=True))
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    handlers = {"get": _get, "mock": _mock}
    return handlers[args.command](args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
