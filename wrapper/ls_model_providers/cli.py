"""The ``ls-model-providers`` command.

    ls-model-providers get ID [--base-url URL] [--api-key KEY]
    ls-model-providers mock [--host H] [--port N] [--api-key KEY] [--data FILE] [--faults SPEC]
                            [--model-params string|object] [--defect NAME ...]
    ls-model-providers conformance [--base-url URL] [--api-key KEY] [--id N] [--max-examples K]
                            [--junit-xml PATH] [--json-report PATH] [--seed S] [--rate REQ_PER_S]
    ls-model-providers spec-diff (--base-url URL | --against FILE_OR_URL)

Exit codes of ``get``: 0 ok, 1 the API answered with an error, 2 usage or configuration
error, 3 the endpoint is not available on this deployment (Community Edition or a wrong URL).
``conformance``: 0 conformant, 1 a check failed, 2 usage, 3 endpoint not served, 4
credentials rejected. ``spec-diff``: 0 no breaking change, 1 breaking, 2 usage or a
malformed schema, 3 endpoint not in the served schema, 5 schema unreachable.
URL and key default to ``LABEL_STUDIO_URL`` and ``LABEL_STUDIO_API_KEY``. Output is JSON
on stdout with secrets redacted; errors go to stderr, never with the key.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
from collections.abc import Sequence

from . import _constants as C
from ._checks import check_connection_id
from ._client import Client
from ._errors import EndpointNotAvailableError, LabelStudioError
from ._secrets import redact

EXIT_OK, EXIT_API_ERROR, EXIT_USAGE, EXIT_NOT_AVAILABLE = 0, 1, 2, 3


def _positive_id(text: str) -> int:
    try:
        return check_connection_id(int(text, 10))
    except ValueError as exc:  # int() or the range check: argparse says it and exits 2
        raise argparse.ArgumentTypeError(f"not a connection id: {text!r} ({exc})") from None


def _missing_extra(extra: str, exc: ImportError) -> int:
    print(
        f"error: needs the '{extra}' extra: pip install 'ls-model-providers[{extra}]' ({exc})",
        file=sys.stderr,
    )
    return EXIT_USAGE


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

    conf = commands.add_parser(
        "conformance", help="check a deployment (or the embedded mock) against the contract"
    )
    conf.add_argument(
        "--base-url", help=f"deployment URL (default: ${C.ENV_URL}; none: the embedded mock)"
    )
    conf.add_argument(
        "--api-key", help=f"legacy token or personal access token (default: ${C.ENV_API_KEY})"
    )
    conf.add_argument(
        "--id", type=_positive_id, dest="connection_id", help="an existing connection id"
    )
    conf.add_argument(
        "--max-examples", type=int, default=50, help="generated cases per mode (default 50)"
    )
    conf.add_argument("--max-requests", type=int, default=300, help="request budget (default 300)")
    conf.add_argument("--junit-xml", help="write a JUnit XML report here")
    conf.add_argument("--json-report", help="write a JSON report here")
    conf.add_argument("--seed", type=int, help="seed for generated cases (reproducible runs)")
    conf.add_argument("--rate", type=float, help="at most this many requests per second")

    sdiff = commands.add_parser(
        "spec-diff", help="can a deployment's OpenAPI schema send what the fragment rejects?"
    )
    source = sdiff.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--base-url", help="deployment URL; its schema is read from /docs/api/schema/json/"
    )
    source.add_argument(
        "--against", help="an OpenAPI document (JSON or YAML): a file or http(s) URL"
    )
    return parser


def _conformance(args: argparse.Namespace) -> int:
    try:
        from .conformance import RunConfig, UsageError, run
        from .conformance._report import console, write_json, write_junit
    except ImportError as exc:
        return _missing_extra("conformance", exc)
    if args.max_examples < 1 or args.max_requests < 1 or (args.rate is not None and args.rate <= 0):
        print("error: --max-examples, --max-requests and --rate must be positive", file=sys.stderr)
        return EXIT_USAGE
    base_url = args.base_url or os.environ.get(C.ENV_URL)
    config = RunConfig(
        base_url=base_url, api_key=args.api_key or os.environ.get(C.ENV_API_KEY),
        connection_id=args.connection_id, max_examples=args.max_examples, seed=args.seed,
        rate=args.rate, max_requests=args.max_requests,
    )  # fmt: skip
    try:
        report = run(config, progress=lambda line: print(line, file=sys.stderr, flush=True))
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(console(report))
    if args.junit_xml:
        write_junit(report, args.junit_xml)
    if args.json_report:
        write_json(report, args.json_report)
    return report.exit_code


def _spec_diff(args: argparse.Namespace) -> int:
    try:
        from ._spec import load_spec, spec_path
        from .conformance import _specdiff as sd
    except ImportError as exc:
        return _missing_extra("conformance", exc)
    source: str = args.against or args.base_url.rstrip("/") + sd.SCHEMA_PATH
    try:
        if args.base_url or source.lower().startswith(("http://", "https://")):
            data = sd.fetch(source)
        else:
            with open(source, "rb") as handle:
                data = handle.read()
        changes = sd.compare(load_spec(), sd.load_document(data))
    except sd.Unreachable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return sd.EXIT_UNREACHABLE
    except sd.SchemaError as exc:
        name = source if exc.side == "theirs" else spec_path()
        print(sd.printable(f"error: malformed schema in {name} at {exc}"), file=sys.stderr)
        return sd.EXIT_MALFORMED
    except (OSError, sd.SpecDiffError) as exc:
        print(sd.printable(f"error: cannot read {source}: {exc}"), file=sys.stderr)
        return sd.EXIT_MALFORMED
    if changes is None:
        hint = "a Community Edition server, or an Enterprise release without it"
        print(sd.printable(f"{sd.NOT_IN_SCHEMA} ({source}): {hint}"))
        return sd.EXIT_NOT_IN_SCHEMA
    for change in changes:
        print(change)
    breaking = sum(c.breaking for c in changes)
    print(sd.printable(f"{len(changes)} difference(s), {breaking} breaking, against {source}"))
    if breaking:
        print("BREAKING: the deployment may send what the fragment rejects; update openapi/ first")
    return sd.EXIT_BREAKING if breaking else sd.EXIT_OK


def _mock(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from .mock import FaultPlan, MockData, create_app, default_data, free_port
        from .mock._server import config
    except ImportError as exc:
        return _missing_extra("mock", exc)
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
    handlers = {"get": _get, "mock": _mock, "conformance": _conformance, "spec-diff": _spec_diff}
    return handlers[args.command](args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
