"""The ``ls-model-providers`` command.

    ls-model-providers get ID [--base-url URL] [--api-key KEY] [--timeout S] [--deadline S]
                           [--cacert FILE | --insecure]
    ls-model-providers mock [--host H] [--port N] [--certfile PEM [--keyfile PEM]] [--api-key KEY]
                            [--data FILE] [--faults SPEC] [--model-params string|object] [--defect NAME]
                            [--snapshot FILE]
    ls-model-providers conformance [--base-url URL] [--api-key KEY] [--id N] [--max-examples K]
                            [--max-requests N] [--rate R] [--timeout S] [--deadline S] [--seed S]
                            [--junit-xml PATH] [--json-report PATH] [--cacert FILE | --insecure]
                            [--baseline FILE]
    ls-model-providers spec-diff (--base-url URL | --against FILE_OR_URL) [--cacert FILE | --insecure]
    ls-model-providers snapshot [--base-url URL] [--api-key KEY] (--ids 1,2,... | --all) -o FILE ...
    ls-model-providers snapshot-diff OLD NEW
    ls-model-providers --version

Every command exits with the same codes (``_shared.py``): 0 ok, 1 the deployment answered
wrongly, 2 usage or configuration, 3 the endpoint is not served, 4 the credentials were
rejected, 5 the deployment is unreachable. Every option is checked before any output; a bad
one shows the command's usage. URL and key default to ``LABEL_STUDIO_URL`` and
``LABEL_STUDIO_API_KEY``. Output never holds the key; text a server sent is made safe for
the terminal.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import socket
import ssl
import sys
from collections.abc import Sequence
from typing import Any

from ls_model_providers import _constants as C
from ls_model_providers._body import loads
from ls_model_providers._checks import check_connection_id
from ls_model_providers._client import Client
from ls_model_providers._errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    CertificateError,
    EndpointNotAvailableError,
    LabelStudioError,
    PermissionDeniedError,
)
from ls_model_providers._retry import RetryPolicy
from ls_model_providers._secrets import redact
from ls_model_providers.snapshot import _cli as snapshots

from . import _shared as S

__all__ = ["build_parser", "main"]


def _connection_id(text: str) -> int:
    try:
        return check_connection_id(int(text, 10))
    except ValueError as exc:  # int() or the range check: argparse says it and exits 2
        raise argparse.ArgumentTypeError(f"not a connection id: {text!r} ({exc})") from None


def _error(message: str) -> None:
    print(S.terminal(f"error: {message}"), file=sys.stderr)


def _add_target(parser: argparse.ArgumentParser, url_help: str) -> None:
    parser.add_argument("--base-url", help=url_help)
    parser.add_argument(
        "--api-key", help=f"legacy token or personal access token (default: ${C.ENV_API_KEY})"
    )


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The parser, and each command's own (to show its usage for a flag it does not know)."""
    from ls_model_providers import __version__

    parser = argparse.ArgumentParser(
        prog="ls-model-providers",
        description="Label Studio Enterprise model provider connections: client, mock, conformance.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    get = commands.add_parser(
        "get", help="fetch one connection and print it as JSON (secrets redacted)"
    )
    get.add_argument("id", type=_connection_id, help="connection id")
    _add_target(get, f"deployment URL (default: ${C.ENV_URL})")
    get.add_argument("--timeout", type=S.seconds, help="seconds per attempt (default 5 connect / 30 read)")  # fmt: skip
    get.add_argument("--deadline", type=S.seconds, default=C.DEFAULT_DEADLINE,
                     help="seconds the whole call may take, retries and a slow body included (default 120)")  # fmt: skip
    S.add_tls_options(get)

    mock = commands.add_parser("mock", help="serve the mock Enterprise endpoint on loopback")
    mock.add_argument("--host", default="127.0.0.1", help="bind address (default: loopback only)")
    mock.add_argument("--port", type=S.port, default=8080, help="port (0: any free port; default 8080)")  # fmt: skip
    mock.add_argument("--certfile", help="serve HTTPS with this PEM certificate (chain)")
    mock.add_argument("--keyfile", help="its private key (PEM), if not in --certfile")
    mock.add_argument("--api-key", help="legacy token of the admin user (default: a fixed one)")
    mock.add_argument("--data", help="JSON data file (users and connections) instead of the default set")  # fmt: skip
    mock.add_argument("--faults", default="", help="fault plan, e.g. rate=0.2,seed=1,kinds=429+503+drop")  # fmt: skip
    mock.add_argument("--model-params", choices=["object", "string"], default="object",
                      help="how model_params is sent: object (newer servers) or string (the docs)")  # fmt: skip
    mock.add_argument("--defect", action="append", default=[], help="switch on a contract violation (testing)")  # fmt: skip
    mock.add_argument("--no-legacy-tokens", action="store_true", help="refuse Token auth like a new organisation")  # fmt: skip
    snapshots.add_mock_option(mock)

    conf = commands.add_parser(
        "conformance", help="check a deployment (or the embedded mock) against the contract"
    )
    _add_target(conf, f"deployment URL (default: ${C.ENV_URL}; none: the embedded mock)")
    conf.add_argument("--id", type=_connection_id, dest="connection_id", help="an existing connection id")  # fmt: skip
    conf.add_argument("--max-examples", type=S.count, default=50, help="generated cases per mode (default 50)")  # fmt: skip
    conf.add_argument("--max-requests", type=S.count, default=300, help="request budget (default 300)")  # fmt: skip
    conf.add_argument("--rate", type=S.rate, help="at most this many requests per second")
    conf.add_argument("--timeout", type=S.seconds, default=30.0, help="seconds one request may take, whole (default 30)")  # fmt: skip
    conf.add_argument("--deadline", type=S.seconds, default=300.0, help="seconds the whole run may take (default 300)")  # fmt: skip
    conf.add_argument("--seed", type=int, help="seed for generated cases (reproducible runs)")
    conf.add_argument("--junit-xml", type=S.report_path, help="write a JUnit XML report here (folders are created)")  # fmt: skip
    conf.add_argument("--json-report", type=S.report_path, help="write a JSON report here (folders are created)")  # fmt: skip
    S.add_tls_options(conf)
    snapshots.add_baseline_option(conf)

    sdiff = commands.add_parser(
        "spec-diff", help="can a deployment's OpenAPI schema send what the fragment rejects?"
    )
    source = sdiff.add_mutually_exclusive_group(required=True)
    source.add_argument("--base-url", help="deployment URL; its schema is read from /docs/api/schema/json/")  # fmt: skip
    source.add_argument("--against", help="an OpenAPI document (JSON or YAML): a file or http(s) URL")  # fmt: skip
    S.add_tls_options(sdiff)
    return parser, {
        "get": get, "mock": mock, "conformance": conf, "spec-diff": sdiff,
        **snapshots.add_snapshot_parsers(commands),
    }  # fmt: skip


# -- get ---------------------------------------------------------------------------------------


def _get(args: argparse.Namespace) -> int:
    try:
        verify = S.trust(args.cacert, insecure=args.insecure)
        options: dict[str, Any] = {"retry": RetryPolicy(deadline=args.deadline)}
        if args.timeout is not None:
            options["timeout"] = args.timeout
        client = Client.from_env(base_url=args.base_url, api_key=args.api_key, verify=verify, **options)  # fmt: skip
    except (ValueError, TypeError, S.ConfigurationError) as exc:
        _error(str(exc))
        return S.EXIT_USAGE
    if args.insecure:
        print(S.INSECURE_WARNING, file=sys.stderr)
    with client:
        try:
            detailed = client.get_connection_detailed(args.id)
        except LabelStudioError as exc:
            code = _get_exit_code(exc)
            _error(str(exc))
            if isinstance(exc, CertificateError):
                print(f"  fix: {S.tls_hint()}", file=sys.stderr)
            return code
    # What the server sent (validated), not a re-serialisation; secrets redacted.
    print(json.dumps(redact(loads(detailed.content)), indent=2, sort_keys=True))
    return S.EXIT_OK


def _get_exit_code(exc: LabelStudioError) -> int:
    if isinstance(exc, EndpointNotAvailableError):
        return S.EXIT_NOT_SERVED
    if isinstance(exc, AuthenticationError | PermissionDeniedError):
        return S.EXIT_CREDENTIALS
    # No answer at all (the engine chains the transport error); a refused redirect is an answer.
    if isinstance(exc, APITimeoutError) or (
        isinstance(exc, APIConnectionError) and exc.__cause__ is not None
    ):
        return S.EXIT_UNREACHABLE
    return S.EXIT_FAILED


# -- conformance -------------------------------------------------------------------------------


def _conformance(args: argparse.Namespace) -> int:
    try:
        from ls_model_providers.conformance import (
            RunConfig,
            UsageError,
            _fuzz,  # noqa: F401 - schemathesis and hypothesis, now
            run,
            validate,
        )
        from ls_model_providers.conformance._model import Report
        from ls_model_providers.conformance._report import console, write_json, write_junit
    except ImportError as exc:
        _error(S.missing_extra("conformance", exc))
        return S.EXIT_USAGE
    config = RunConfig.from_env(
        base_url=args.base_url, api_key=args.api_key, connection_id=args.connection_id,
        max_examples=args.max_examples, seed=args.seed, rate=args.rate,
        max_requests=args.max_requests, deadline=args.deadline, timeout=args.timeout,
        cacert=args.cacert, insecure=args.insecure,
    )  # fmt: skip
    try:
        validate(config)
        report = run(config, progress=lambda line: print(line, file=sys.stderr, flush=True))
    except UsageError as exc:
        _error(str(exc))
        from ls_model_providers.conformance._model import CheckResult

        failure = CheckResult("run.configuration", "fail", str(exc))
        report = Report(target=config.base_url or "(embedded mock)", embedded=not config.base_url,
                        exit_code=S.EXIT_USAGE, verdict=f"usage: {exc}", results=[failure])  # fmt: skip
    else:
        print(console(report))
    if args.junit_xml:
        write_junit(report, args.junit_xml)
    if args.json_report:
        write_json(report, args.json_report)
    if args.baseline is not None and report.exit_code in (S.EXIT_OK, S.EXIT_FAILED):
        return snapshots.baseline(args, report.exit_code)  # the deployment answered: compare it
    return report.exit_code


# -- spec-diff ---------------------------------------------------------------------------------


def _spec_diff(args: argparse.Namespace) -> int:
    try:
        from ls_model_providers._spec import load_spec, spec_path
        from ls_model_providers.conformance import _specdiff as sd
    except ImportError as exc:
        _error(S.missing_extra("conformance", exc))
        return S.EXIT_USAGE
    try:
        verify = S.trust(args.cacert, insecure=args.insecure)
    except S.ConfigurationError as exc:
        _error(str(exc))
        return S.EXIT_USAGE
    if args.insecure:
        print(S.INSECURE_WARNING, file=sys.stderr)
    source: str = args.against or args.base_url.rstrip("/") + sd.SCHEMA_PATH
    try:
        if args.base_url or source.lower().startswith(("http://", "https://")):
            data = sd.fetch(source, verify=verify)
        else:
            with open(source, "rb") as handle:
                data = handle.read()
        changes = sd.compare(load_spec(), sd.load_document(data))
    except sd.Unreachable as exc:
        _error(str(exc))
        if "CERTIFICATE_VERIFY_FAILED" in str(exc):
            print(f"  fix: {S.tls_hint()}", file=sys.stderr)
        return S.EXIT_UNREACHABLE
    except sd.SchemaError as exc:
        name = source if exc.side == "theirs" else spec_path()
        _error(f"malformed schema in {name} at {exc}")
        return S.EXIT_USAGE
    except (OSError, sd.SpecDiffError) as exc:
        _error(f"cannot read {source}: {exc}")
        return S.EXIT_USAGE
    if changes is None:
        hint = "a Community Edition server, or an Enterprise release without it"
        print(S.printable(f"{sd.NOT_IN_SCHEMA} ({source}): {hint}"))
        return S.EXIT_NOT_SERVED
    for change in changes:
        print(change)
    breaking = sum(c.breaking for c in changes)
    print(S.printable(f"{len(changes)} difference(s), {breaking} breaking, against {source}"))
    if breaking:
        print("BREAKING: the deployment may send what the fragment rejects; update openapi/ first")
    return S.EXIT_FAILED if breaking else S.EXIT_OK


# -- mock --------------------------------------------------------------------------------------


def _listen(host: str, port: int) -> socket.socket:
    """A socket bound to host:port now, so a bad address fails before anything is printed."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except (OSError, UnicodeError) as exc:
        raise S.ConfigurationError(f"cannot listen on {host!r}: {exc}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise S.ConfigurationError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}"
        ) from None
    return sock


def _check_certificate(certfile: str | None, keyfile: str | None) -> None:
    if keyfile and not certfile:
        raise S.ConfigurationError("--keyfile needs --certfile")
    if certfile:
        try:
            ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(certfile, keyfile)
        except (OSError, ssl.SSLError) as exc:
            raise S.ConfigurationError(f"cannot use --certfile/--keyfile: {exc}") from None


def _mock(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from ls_model_providers.mock import FaultPlan, MockData, create_app, default_data
        from ls_model_providers.mock._server import config
    except ImportError as exc:
        _error(S.missing_extra("mock", exc))
        return S.EXIT_USAGE
    try:
        data = MockData.from_json(args.data) if args.data else default_data(args.api_key)
        if args.data and args.api_key:
            data.users[0].token = args.api_key
        app = create_app(
            data=data, faults=FaultPlan.parse(args.faults), defects=args.defect,
            model_params=args.model_params, legacy_tokens=not args.no_legacy_tokens,
            snapshot=args.snapshot,
        )  # fmt: skip
        _check_certificate(args.certfile, args.keyfile)
        sock = _listen(args.host, args.port)
    except (OSError, ValueError, KeyError, TypeError, S.ConfigurationError) as exc:
        _error(str(exc))
        return S.EXIT_USAGE
    host, port = sock.getsockname()[:2]
    scheme = "https" if args.certfile else "http"
    base_url = f"{scheme}://{f'[{host}]' if ':' in host else host}:{port}"
    replay = app.state.mock.replay
    ids = (
        sorted(replay.connections) if replay else [c["id"] for c in app.state.mock.data.connections]
    )
    sample = ids[0] if ids else 1
    print(f"Label Studio Enterprise mock on {base_url}  (Ctrl-C to stop)")
    if replay:
        print(
            S.terminal(
                f"  replaying {args.snapshot.source}: {len(ids)} connection(s), "
                f"server {replay.version or 'unknown'}"
            )
        )
    print(f"  export LABEL_STUDIO_URL={base_url}")
    print(f"  export LABEL_STUDIO_API_KEY={data.users[0].token}")
    tls = "--cacert CA.pem " if args.certfile else ""
    print(
        f'  curl {tls}-H "Authorization: Token $LABEL_STUDIO_API_KEY" {base_url}/api/model-provider-connections/{sample}/'
    )
    if args.certfile:
        print("  (CA.pem: the CA that signed --certfile; or set SSL_CERT_FILE for every command)")
    sys.stdout.flush()
    ssl_options = (
        {"ssl_certfile": args.certfile, "ssl_keyfile": args.keyfile} if args.certfile else {}
    )
    server = uvicorn.Server(config(app, host, port, **ssl_options))
    # uvicorn re-raises SIGINT/SIGTERM after its graceful shutdown (exit status -15); a
    # stop asked for is a success here, so the signals just ask uvicorn to finish.
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]

    def stop(signum: int, frame: object) -> None:
        server.should_exit = True

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop)
    server.run(sockets=[sock])
    print("mock stopped")
    return S.EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    parser, commands = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # shown with the command's own usage, not the top-level one
        commands[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
    handlers = {"get": _get, "mock": _mock, "conformance": _conformance, "spec-diff": _spec_diff,
                **snapshots.HANDLERS}  # fmt: skip
    return handlers[args.command](args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
