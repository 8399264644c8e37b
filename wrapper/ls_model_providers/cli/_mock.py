"""``ls-model-providers mock``: serve the mock Enterprise endpoint (loopback by default)."""

from __future__ import annotations

import argparse
import contextlib
import errno
import shlex
import signal
import socket
import ssl
import sys
import textwrap
from typing import Any

from ls_model_providers._args import check_api_key
from ls_model_providers._constants import ENDPOINT_PATH, ENV_API_KEY, ENV_DENIED_KEYS, ENV_URL
from ls_model_providers.toolkit.exits import EXIT_OK, EXIT_USAGE, ConfigurationError, missing_extra
from ls_model_providers.toolkit.text import terminal

from ._shared import HELP_FORMAT, MOCK_EXIT_CODES, epilog, error, given_file, port
from ._snapshot import add_mock_option

#: The admin's personal access token, in the mock's banner (the README's examples read it).
PAT_VARIABLE = "LABEL_STUDIO_PERSONAL_ACCESS_TOKEN"
#: Denied keys, in the mock's banner: legacy tokens of users who must not read the admin's
#: connections (conformance --denied-key): a member of the admin's organisation without the
#: role, and a user of another organisation, numbered as conformance's reproductions name
#: them (``$LABEL_STUDIO_DENIED_KEY_n``, n in the order of ``$LABEL_STUDIO_DENIED_KEYS``).
DENIED_KEY_VARIABLE = "LABEL_STUDIO_DENIED_KEY"
#: What separates keys in $LABEL_STUDIO_DENIED_KEYS (a key holding one is not listed there).
_SEPARATORS = frozenset(" \t\n\r\x0b\x0c,")


def add_parser(commands: Any) -> argparse.ArgumentParser:
    help_text = "serve the mock Enterprise endpoint on loopback"
    kinds, defects = _mock_names()
    mock: argparse.ArgumentParser = commands.add_parser(
        "mock", help=help_text, formatter_class=HELP_FORMAT,
        description="\n\n".join(textwrap.fill(paragraph, 88) for paragraph in (
            f"{help_text}; it prints export lines to paste (URL, keys) when it starts.",
            "--faults: transient faults, chosen per request: rate=R (0..1), kinds=K+K+... "
            f"({', '.join(kinds)}), seed=N, latency=S, retry_after=S; or script=K+ok+K (the "
            "first requests get these, in order, then none).",
            "--defect: a permanent contract violation, for testing a checker: "
            f"{', '.join(defects)}.",
        )),
        epilog=epilog(
            (0, 2, 130), (),
            "ls-model-providers mock --port 8080",
            "ls-model-providers mock --faults rate=0.2,kinds=429+503+drop,seed=1",
            "ls-model-providers mock --defect secret_field --defect no_auth",
            meanings=MOCK_EXIT_CODES,
        ),
    )  # fmt: skip
    mock.add_argument("--host", default="127.0.0.1", help="bind address (default: loopback only)")
    mock.add_argument(
        "--port", type=port, default=8080, help="port (0: any free port; default 8080)"
    )
    mock.add_argument(
        "--certfile", type=given_file, help="serve HTTPS with this PEM certificate (chain)"
    )
    mock.add_argument(
        "--keyfile", type=given_file, help="its private key (PEM), if not in --certfile"
    )
    mock.add_argument("--api-key", help="legacy token of the admin user (default: a fixed one)")
    mock.add_argument(
        "--data",
        type=given_file,
        help="JSON data file (users and connections) instead of the default set",
    )
    mock.add_argument(
        "--faults",
        type=_fault_plan,
        default=None,
        help="transient faults (see above), e.g. rate=0.2,kinds=429+503",
    )
    mock.add_argument(
        "--model-params", choices=["object", "string"], default="object",
        help="how model_params is sent: object (newer servers) or string (the docs)",
    )  # fmt: skip
    mock.add_argument(
        "--defect", action="append", default=[], metavar="NAME",
        help="switch on a contract violation (see above); repeat it for several",
    )  # fmt: skip
    mock.add_argument(
        "--no-legacy-tokens", action="store_true", help="refuse Token auth like a new organisation"
    )
    add_mock_option(mock)
    return mock


def _fault_plan(text: str) -> Any:
    """``--faults``'s plan, parsed now: a bad one is a usage error naming the option."""
    try:
        from ls_model_providers.mock import FaultPlan
    except ImportError as exc:
        raise argparse.ArgumentTypeError(missing_extra("mock", exc)) from None
    try:
        return FaultPlan.parse(text)
    except (TypeError, ValueError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _mock_names() -> tuple[list[str], list[str]]:
    """The mock's fault kinds and defect names, for --help (they live with the mock, which may
    be absent: then the README says)."""
    try:
        from ls_model_providers.mock import DEFECTS, FAULT_KINDS
    except ImportError:
        return ["see the README"], ["see the README"]
    return list(FAULT_KINDS), list(DEFECTS)


def _listen(host: str, port: int) -> socket.socket:
    """A socket bound to host:port now, so a bad address fails before anything is printed."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except (OSError, UnicodeError) as exc:
        raise ConfigurationError(f"cannot listen on {host!r}: {exc}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        hint = " (another --port, or --port 0 for any free one)" if exc.errno == errno.EADDRINUSE else ""  # fmt: skip
        raise ConfigurationError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}{hint}"
        ) from None
    return sock


def _check_certificate(certfile: str | None, keyfile: str | None) -> None:
    if keyfile and not certfile:
        raise ConfigurationError("--keyfile needs --certfile")
    if not certfile:
        return
    for option, path in (("--certfile", certfile), ("--keyfile", keyfile)):
        if path is None:
            continue
        try:
            with open(path, "rb"):
                pass
        except OSError as exc:
            raise ConfigurationError(f"{option} {path}: {exc.strerror or exc}") from None
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(certfile, keyfile)
    except (OSError, ssl.SSLError) as exc:
        files = f"--certfile {certfile}" + (f" --keyfile {keyfile}" if keyfile else "")
        raise ConfigurationError(
            f"cannot use {files}: not a PEM certificate with its private key ({exc})"
        ) from None


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from ls_model_providers.mock import (
            MockData,
            create_app,
            default_data,
            uvicorn_config,
        )
    except ImportError as exc:
        error(missing_extra("mock", exc))
        return EXIT_USAGE
    try:
        api_key = check_api_key(args.api_key, "--api-key") if args.api_key is not None else None
        data = MockData.from_json(args.data) if args.data else default_data(api_key)
        if args.data and api_key:
            data.users[0].token = api_key
        app = create_app(
            data=data, faults=args.faults, defects=args.defect,
            model_params=args.model_params, legacy_tokens=not args.no_legacy_tokens,
            snapshot=args.snapshot,
        )  # fmt: skip
        _check_certificate(args.certfile, args.keyfile)
        sock = _listen(args.host, args.port)
    except (OSError, ValueError, TypeError, ConfigurationError) as exc:
        error(str(exc))
        return EXIT_USAGE
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
            terminal(
                f"  replaying {args.snapshot.source}: {len(ids)} connection(s), "
                f"server {replay.version or 'unknown'}"
            )
        )
    print(f"  export {ENV_URL}={q(base_url)}")
    print(f"  export {ENV_API_KEY}={q(admin.token)}")
    print(f"  export {PAT_VARIABLE}={q(state.issue_refresh_token(admin.id))}")
    denied = [
        ("a member without the role", data.member_without_role()),
        ("a user of another organisation", data.other_organisation_user()),
    ]
    present = [(who, user.token) for who, user in denied if user is not None]
    keys = [(f"{DENIED_KEY_VARIABLE}_{n}", key) for n, (_, key) in enumerate(present, 1)]
    for (variable, key), (who, _) in zip(
        keys, present, strict=True
    ):  # a --data file may hold neither
        print(f"  export {variable}={q(key)}  # {who}")
    if keys and not any(set(key) & _SEPARATORS for _, key in keys):
        # What conformance reads for --denied-key: the same keys, member first (#1).
        print(f"  export {ENV_DENIED_KEYS}={q(' '.join(key for _, key in keys))}")
    tls = "--cacert CA.pem " if args.certfile else ""
    endpoint = f"{base_url}/{ENDPOINT_PATH}{sample}/"
    print(f'  curl {tls}-H "Authorization: Token ${ENV_API_KEY}" {q(endpoint)}')
    if args.certfile:
        print("  (CA.pem: the CA that signed --certfile; or set SSL_CERT_FILE for every command)")
    if args.defect:
        print(f"  defects on (a deliberately broken server): {', '.join(args.defect)}")
    if args.faults is not None:
        print(terminal(f"  faults injected: {args.faults.describe()}"))
    sys.stdout.flush()
    ssl_options = (
        {"ssl_certfile": args.certfile, "ssl_keyfile": args.keyfile} if args.certfile else {}
    )
    server = uvicorn.Server(uvicorn_config(app, host, port, **ssl_options))
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
    return EXIT_OK
