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
    ls-model-providers [COMMAND] --version

Every command exits with the same codes (``_shared.py``): 0 ok, 1 the deployment answered
wrongly, 2 usage or configuration, 3 the endpoint is not served, 4 the credentials were
rejected, 5 the deployment is unreachable; 130 when interrupted (Ctrl-C: one line, never a
traceback). Every option is checked before any output; a bad one shows the command's usage.
URL and key default to ``LABEL_STUDIO_URL`` and ``LABEL_STUDIO_API_KEY``. Output never holds
the key; text a server sent is made safe for the terminal and never starts a line of its own.
A reader that goes away (``| head``) ends the output, not the command: its exit code stands.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import shlex
import signal
import socket
import ssl
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ls_model_providers import _constants as C
from ls_model_providers._body import loads
from ls_model_providers._checks import check_api_key, check_base_url, check_connection_id
from ls_model_providers._client import Client
from ls_model_providers._errors import CertificateError, LabelStudioError
from ls_model_providers._retry import RetryPolicy
from ls_model_providers._secrets import redact
from ls_model_providers.snapshot import _cli as snapshots

from . import _shared as S

if TYPE_CHECKING:
    from ls_model_providers.conformance._model import Report

__all__ = ["build_parser", "main"]


def _connection_id(text: str) -> int:
    try:
        return check_connection_id(int(text, 10))
    except ValueError as exc:  # int() or the range check: argparse says it and exits 2
        raise argparse.ArgumentTypeError(f"not a connection id: {text!r} ({exc})") from None


#: The admin's personal access token, in the mock's banner (the README's examples read it).
PAT_VARIABLE = "LABEL_STUDIO_PERSONAL_ACCESS_TOKEN"
#: How the options of ``get`` are called in the library's messages (which name arguments).
_OPTIONS = {"base_url": "--base-url", "api_key": "--api-key"}


def _error(message: str) -> None:
    """One line on stderr: whatever ``message`` holds (a server's text too) stays on it."""
    print(S.terminal(f"error: {S.one_line(message)}"), file=sys.stderr)


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
    version = f"ls-model-providers {__version__}"  # not %(prog)s: "get" is not its name
    parser.add_argument("--version", action="version", version=version)
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
    mock.add_argument("--defect", action="append", default=[], metavar="NAME",
                      help="switch on a contract violation, for testing a checker; repeat it for "
                      f"several ({', '.join(_defects())})")  # fmt: skip
    mock.add_argument("--no-legacy-tokens", action="store_true", help="refuse Token auth like a new organisation")  # fmt: skip
    snapshots.add_mock_option(mock)

    conf = commands.add_parser(
        "conformance", help="check a deployment (or the embedded mock) against the contract"
    )
    _add_target(conf, f"deployment URL (default: ${C.ENV_URL}; none: the embedded mock)")
    conf.add_argument("--id", type=_connection_id, dest="connection_id", help="an existing connection id")  # fmt: skip
    conf.add_argument("--max-examples", type=S.count, default=50, help="generated cases per mode (default 50, at most 1,000)")  # fmt: skip
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
    by_name = {
        "get": get, "mock": mock, "conformance": conf, "spec-diff": sdiff,
        **snapshots.add_snapshot_parsers(commands),
    }  # fmt: skip
    for command in by_name.values():  # `get --version` too, whatever else is missing
        command.add_argument("--version", action="version", version=version)
    return parser, by_name


def _defects() -> list[str]:
    """The mock's defect names, for --help (the list lives with the mock, which may be absent)."""
    try:
        from ls_model_providers.mock._faults import DEFECTS
    except ImportError:
        return ["see the README"]
    return list(DEFECTS)


# -- get ---------------------------------------------------------------------------------------


def _get(args: argparse.Namespace) -> int:
    base_url = args.base_url or os.environ.get(C.ENV_URL)
    api_key = args.api_key or os.environ.get(C.ENV_API_KEY)
    if not base_url:
        _error(f"no deployment: pass --base-url URL or set {C.ENV_URL}")
        return S.EXIT_USAGE
    if not api_key:
        _error(f"no credentials: pass --api-key KEY or set {C.ENV_API_KEY}")
        return S.EXIT_USAGE
    try:
        verify = S.trust(args.cacert, insecure=args.insecure)
        options: dict[str, Any] = {"retry": RetryPolicy(deadline=args.deadline)}
        if args.timeout is not None:
            options["timeout"] = args.timeout
        client = Client(
            base_url=check_base_url(base_url, "--base-url"), api_key=check_api_key(api_key, "--api-key"),
            verify=verify, **options,
        )  # fmt: skip
    except (ValueError, TypeError, S.ConfigurationError) as exc:
        _error(S.option_names(str(exc), _OPTIONS))
        return S.EXIT_USAGE
    if args.insecure:
        print(S.INSECURE_WARNING, file=sys.stderr)
    with client:
        try:
            detailed = client.get_connection_detailed(args.id)
        except CertificateError as exc:  # the reason, and the fix in this command's terms
            _error(f"TLS certificate not trusted ({exc.reason}) ({exc.method} {exc.url})")
            print(f"  fix: {S.tls_hint()}", file=sys.stderr)
            return S.EXIT_UNREACHABLE
        except LabelStudioError as exc:
            _error(str(exc))
            return S.exit_code_for(exc)
    # What the server sent (validated), not a re-serialisation; secret fields redacted, and
    # our own credentials scrubbed should the server echo them into a field.
    shown = json.dumps(redact(loads(detailed.content)), indent=2, sort_keys=True)
    print(client._config.scrub(shown))
    return S.EXIT_OK


# -- conformance -------------------------------------------------------------------------------


def _conformance(args: argparse.Namespace) -> int:
    """Run the suite (and the comparison with ``--baseline``), print the table, write both
    reports once, with the exit code the command returns.

    Once the options are parsed, however the command ends, the reports asked for are written:
    Ctrl-C at any point (while schemathesis is still being imported too) is a failing
    ``run.interrupted`` (exit 130); anything else that ends it early, a failing
    ``run.internal``. Only a missing extra leaves no report (nothing to write it with).
    """
    started = time.monotonic()
    interrupted = False
    try:
        report = _conformance_report(args, started)
    except KeyboardInterrupt as stop:  # the run's own report (Interrupted), or one made here
        interrupted = True
        report = getattr(stop, "report", None) or _early_report(
            args, started, "run.interrupted", "interrupted (Ctrl-C) before the run started",
            S.EXIT_INTERRUPTED, "INTERRUPTED (Ctrl-C) before the run started",
        )  # fmt: skip
        if report is not None:
            from ls_model_providers.conformance._report import console

            print(console(report))  # what was found until then
    except Exception as exc:  # noqa: BLE001 - a report and one line, never a traceback
        summary = S.one_line(f"the run could not complete: {type(exc).__name__}: {exc}")
        _error(summary)
        report = _early_report(args, started, "run.internal", summary, S.EXIT_FAILED, summary)
    if report is None:  # the conformance extra is missing: said, and nothing to write with
        if interrupted:
            raise KeyboardInterrupt
        return S.EXIT_USAGE
    from ls_model_providers.conformance._report import write_json, write_junit

    code = report.exit_code
    for path, write in ((args.junit_xml, write_junit), (args.json_report, write_json)):
        if path:
            try:
                write(report, path)
            except OSError as exc:
                _error(f"cannot write {path}: {exc.strerror or exc}")
                code = code or S.EXIT_USAGE
    if interrupted:
        raise KeyboardInterrupt  # the entry point says "interrupted" and exits 130
    return code


def _conformance_report(args: argparse.Namespace, started: float) -> Report | None:
    """The run's ``Report``, its table printed (a usage error's report: no run, no table), or
    ``None`` without the conformance extra."""
    try:
        from ls_model_providers.conformance import (
            RunConfig,
            UsageError,
            _fuzz,  # noqa: F401 - schemathesis and hypothesis, now
            run,
            validate,
        )
        from ls_model_providers.conformance._report import console
    except ImportError as exc:
        _error(S.missing_extra("conformance", exc))
        return None
    config = RunConfig.from_env(
        base_url=args.base_url, api_key=args.api_key, connection_id=args.connection_id,
        max_examples=args.max_examples, seed=args.seed, rate=args.rate,
        max_requests=args.max_requests, deadline=args.deadline, timeout=args.timeout,
        cacert=args.cacert, insecure=args.insecure, baseline=args.baseline,
    )  # fmt: skip
    try:
        validate(config)
        report = run(config, progress=lambda line: print(line, file=sys.stderr, flush=True))
    except UsageError as exc:
        _error(str(exc))
        summary = S.one_line(str(exc))
        return _early_report(
            args, started, "run.configuration", summary, S.EXIT_USAGE, f"usage: {summary}"
        )
    print(console(report))
    return report


def _early_report(
    args: argparse.Namespace, started: float, name: str, summary: str, code: int, verdict: str
) -> Report | None:
    """The report of a run that ended before it began: one failing result ``name``. Its
    target is the URL only once it is known to be one (it could hold a password)."""
    try:
        from ls_model_providers.conformance._model import CheckResult, Report
    except ImportError:
        return None
    url = args.base_url or os.environ.get(C.ENV_URL)
    try:
        target = check_base_url(url, "--base-url") if url else "(embedded mock)"
    except ValueError:
        target = "(an unusable --base-url)"
    return Report(
        target=target, embedded=not url, exit_code=code, verdict=verdict,
        results=[CheckResult(name, "fail", summary)], duration=time.monotonic() - started,
        seed=args.seed, warnings=[S.INSECURE_WARNING] if args.insecure else [],
    )  # fmt: skip


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
            with open(source, "rb") as handle:  # no more than the limit, even of a huge file
                data = handle.read(sd.MAX_SCHEMA_BYTES + 1)
        changes = sd.compare(load_spec(), sd.load_document(data))
    except sd.Unreachable as exc:
        _error(str(exc))
        if "TLS certificate not trusted" in str(exc):
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
    breaking = sum(c.breaking for c in changes)
    for change in changes:
        print(S.printable(str(change)))  # a field name from their schema is one line too
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
        hint = " (another --port, or --port 0 for any free one)" if exc.errno == errno.EADDRINUSE else ""  # fmt: skip
        raise S.ConfigurationError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}{hint}"
        ) from None
    return sock


def _check_certificate(certfile: str | None, keyfile: str | None) -> None:
    if keyfile and not certfile:
        raise S.ConfigurationError("--keyfile needs --certfile")
    if not certfile:
        return
    for option, path in (("--certfile", certfile), ("--keyfile", keyfile)):
        if path is None:
            continue
        try:
            with open(path, "rb"):
                pass
        except OSError as exc:
            raise S.ConfigurationError(f"{option} {path}: {exc.strerror or exc}") from None
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(certfile, keyfile)
    except (OSError, ssl.SSLError) as exc:
        files = f"--certfile {certfile}" + (f" --keyfile {keyfile}" if keyfile else "")
        raise S.ConfigurationError(
            f"cannot use {files}: not a PEM certificate with its private key ({exc})"
        ) from None


def _mock(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from ls_model_providers.mock import FaultPlan, MockData, create_app, default_data
        from ls_model_providers.mock._server import config
    except ImportError as exc:
        _error(S.missing_extra("mock", exc))
        return S.EXIT_USAGE
    try:
        api_key = check_api_key(args.api_key, "--api-key") if args.api_key is not None else None
        data = MockData.from_json(args.data) if args.data else default_data(api_key)
        if args.data and api_key:
            data.users[0].token = api_key
        app = create_app(
            data=data, faults=FaultPlan.parse(args.faults), defects=args.defect,
            model_params=args.model_params, legacy_tokens=not args.no_legacy_tokens,
            snapshot=args.snapshot,
        )  # fmt: skip
        _check_certificate(args.certfile, args.keyfile)
        sock = _listen(args.host, args.port)
    except (OSError, ValueError, TypeError, S.ConfigurationError) as exc:
        _error(str(exc))
        return S.EXIT_USAGE
    host, port = sock.getsockname()[:2]
    scheme = "https" if args.certfile else "http"
    base_url = f"{scheme}://{f'[{host}]' if ':' in host else host}:{port}"
    state = app.state.mock
    replay = state.replay
    ids = sorted(replay.connections) if replay else [c["id"] for c in state.data.connections]
    sample = ids[0] if ids else 1
    admin = data.users[0]
    # Every value a line below carries is shell-quoted: the lines are there to be pasted.
    q = shlex.quote
    print(f"Label Studio Enterprise mock on {base_url}  (Ctrl-C to stop)")
    if replay:
        print(
            S.terminal(
                f"  replaying {args.snapshot.source}: {len(ids)} connection(s), "
                f"server {replay.version or 'unknown'}"
            )
        )
    print(f"  export {C.ENV_URL}={q(base_url)}")
    print(f"  export {C.ENV_API_KEY}={q(admin.token)}")
    print(f"  export {PAT_VARIABLE}={q(state.issue_refresh_token(admin.id))}")
    tls = "--cacert CA.pem " if args.certfile else ""
    endpoint = f"{base_url}/{C.ENDPOINT_PATH}{sample}/"
    print(f'  curl {tls}-H "Authorization: Token ${C.ENV_API_KEY}" {q(endpoint)}')
    if args.certfile:
        print("  (CA.pem: the CA that signed --certfile; or set SSL_CERT_FILE for every command)")
    if args.defect:
        print(f"  defects on (a deliberately broken server): {', '.join(args.defect)}")
    if args.faults:
        print(S.terminal(f"  faults injected: {args.faults}"))
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

    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.run(sockets=[sock])
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        sock.close()
    print("mock stopped")
    return S.EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code.

    Ctrl-C ends any command with one line, "interrupted", and exit 130 (a shell's code for
    it); ``conformance`` writes both reports first. Output to a pipe that closes early
    (``| head``) is dropped from then on, and the command still exits with its own code.
    """
    with S.pipe_guard() as lost:
        try:
            with S.interrupts_kept():  # a Ctrl-C landing in a finalizer is not lost, any command
                code = _dispatch(argv)
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            code = S.EXIT_INTERRUPTED
    if lost and code == S.EXIT_OK:  # the answer never reached its reader (a full disk)
        with contextlib.suppress(OSError, AttributeError):
            print(f"error: the output could not be written ({lost[0].strerror})", file=sys.stderr)
        return S.EXIT_USAGE
    return code


def _dispatch(argv: Sequence[str] | None) -> int:
    parser, commands = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # shown with the command's own usage, not the top-level one
        commands[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
    handlers = {"get": _get, "mock": _mock, "conformance": _conformance, "spec-diff": _spec_diff,
                **snapshots.HANDLERS}  # fmt: skip
    return handlers[args.command](args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
