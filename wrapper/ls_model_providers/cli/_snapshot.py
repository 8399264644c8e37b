"""The snapshot commands::

    ls-model-providers snapshot [--base-url URL] [--api-key KEY] (--ids 1,2,... | --all) -o FILE
                                [--rate R] [--max-requests N] [--timeout S] [--deadline S]
                                [--cacert FILE | --insecure]
    ls-model-providers snapshot-diff OLD NEW
    ls-model-providers mock --snapshot FILE ...            (``add_mock_option``)
    ls-model-providers conformance --baseline FILE ...     (``add_baseline_option``)

Exit codes are every command's (``toolkit.exits``): 0 ok (written; nothing breaking), 1 the
deployment answered wrongly, a limit was hit, or something breaking changed, 2 usage (a bad
option, a malformed snapshot file, an id that does not exist, ``--all`` without a list route),
3 the endpoint is not served, 4 the credentials were rejected, 5 unreachable. Messages are
scrubbed of the credentials where they are made (``_record.py``) and made terminal-safe here.

Only the standard library and the toolkit are imported until a command runs, so building the
parser costs nothing and needs no extra.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from ls_model_providers.toolkit.exits import (
    EXIT_OK,
    EXIT_USAGE,
    ConfigurationError,
    missing_extra,
)
from ls_model_providers.toolkit.options import resolve_target
from ls_model_providers.toolkit.text import printable, terminal

from ._shared import (
    HELP_FORMAT,
    add_limit_options,
    add_target_options,
    add_tls_options,
    connection_ids,
    epilog,
    error,
    given_file,
    progress,
    report_path,
    warn_insecure,
)

if TYPE_CHECKING:
    from ls_model_providers.snapshot import Snapshot


def add_snapshot_parsers(commands: Any) -> dict[str, argparse.ArgumentParser]:
    """Add ``snapshot`` and ``snapshot-diff`` to ``commands`` (``add_subparsers()``'s result);
    returns them by name, for their own usage messages."""
    help_text = "record a deployment's connections and error contract (read-only)"
    snap = commands.add_parser(
        "snapshot", help=help_text, description=help_text, formatter_class=HELP_FORMAT,
        epilog=epilog(
            (0, 1, 2, 3, 4, 5, 6, 130),
            ("LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY", "SSL_CERT_FILE, SSL_CERT_DIR", "HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY"),
            "ls-model-providers snapshot --all -o before.json --base-url https://ls.example.com",
        ),
    )  # fmt: skip
    add_target_options(snap)
    which = snap.add_mutually_exclusive_group(required=True)
    which.add_argument("--ids", type=connection_ids, help="the connections to record: 1,2,5")
    which.add_argument("--all", action="store_true", help="every connection the list route shows")
    snap.add_argument(
        "-o",
        "--output",
        required=True,
        type=report_path,
        help="the file to write (folders are created)",
    )
    add_limit_options(snap)
    add_tls_options(snap)

    help_text = "what changed between two snapshots (exit 1: something breaking)"
    sdiff = commands.add_parser(
        "snapshot-diff", help=help_text, description=help_text, formatter_class=HELP_FORMAT,
        epilog=epilog((0, 1, 2, 130), (), "ls-model-providers snapshot-diff before.json after.json"),
    )  # fmt: skip
    sdiff.add_argument("old", type=given_file, help="the snapshot you depend on (before)")
    sdiff.add_argument("new", type=given_file, help="the snapshot to compare with it (after)")
    return {"snapshot": snap, "snapshot-diff": sdiff}


def add_mock_option(mock: argparse.ArgumentParser) -> None:
    """``mock --snapshot FILE``: pass ``args.snapshot`` to ``create_app(snapshot=...)``."""
    mock.add_argument(
        "--snapshot",
        type=_snapshot_file,
        help="replay this snapshot: its connections and error contract, to the mock's users",
    )


def add_baseline_option(conformance: argparse.ArgumentParser) -> None:
    """``conformance --baseline FILE``: ``args.baseline`` is the loaded ``Snapshot``, for
    ``RunConfig(baseline=...)`` (the run records and compares within its own limits)."""
    conformance.add_argument(
        "--baseline",
        type=_snapshot_file,
        help="also record the deployment now and show what changed since this snapshot",
    )


# -- option values (a bad one is a usage error before any request) ---------------------------


def _snapshot_file(text: str) -> Snapshot:
    from ls_model_providers.snapshot import Snapshot, SnapshotError

    try:
        return Snapshot.load(given_file(text))
    except SnapshotError as exc:
        raise argparse.ArgumentTypeError(printable(str(exc))) from None


# -- the commands --------------------------------------------------------------------------------


def snapshot_command(args: argparse.Namespace) -> int:
    """``ls-model-providers snapshot``."""
    try:
        from ls_model_providers.snapshot import ALL, RecordError, record
    except ImportError as exc:
        error(missing_extra("conformance", exc))
        return EXIT_USAGE
    try:
        target = resolve_target(
            args.base_url, args.api_key, cacert=args.cacert, insecure=args.insecure
        )
    except ConfigurationError as exc:
        error(str(exc))
        return EXIT_USAGE
    if args.insecure:
        warn_insecure()
    limits = {k: getattr(args, k) for k in ("rate", "max_requests", "timeout", "deadline")}
    try:
        recording = record(
            target.base_url, target.api_key, ids=ALL if args.all else args.ids,
            verify=target.verify, progress=progress,
            **{k: v for k, v in limits.items() if v is not None},
        )  # fmt: skip
    except RecordError as exc:
        error(str(exc))
        return exc.exit_code
    for warning in recording.warnings:
        print(terminal(f"warning: {warning}"), file=sys.stderr)
    try:
        recording.snapshot.write(args.output)
    except OSError as exc:
        error(f"cannot write {args.output}: {exc.strerror or exc}")
        return EXIT_USAGE
    snapshot = recording.snapshot
    methods = ", ".join(f"{n} {m}" for m, n in sorted(recording.methods.items()))
    digest = snapshot.schema_sha256[:12] if snapshot.schema_sha256 else "none"
    print(
        terminal(
            f"wrote {args.output}: {len(snapshot.connections)} connection(s), "
            f"{len(snapshot.answers)} probe answers, server {snapshot.server_version or 'unknown'}, "
            f"schema sha256 {digest}; {recording.requests} requests ({methods}) "
            f"in {recording.duration:.2f} s"
        ),
        file=sys.stderr if str(args.output) == "-" else sys.stdout,  # stdout is the snapshot
    )
    return EXIT_OK


def snapshot_diff_command(args: argparse.Namespace) -> int:
    """``ls-model-providers snapshot-diff OLD NEW``."""
    try:
        # The diff reads the fragment's enums (YAML): without the extra it would fail mid-way.
        import yaml  # noqa: F401

        from ls_model_providers.snapshot import Snapshot, SnapshotError, diff
    except ImportError as exc:
        error(missing_extra("conformance", exc))
        return EXIT_USAGE
    try:
        result = diff(Snapshot.load(args.old), Snapshot.load(args.new))
    except SnapshotError as exc:
        error(str(exc))
        return EXIT_USAGE
    for line in result.lines(args.old, args.new):
        print(terminal(line))
    return result.exit_code


#: The handlers of the commands ``add_snapshot_parsers`` adds, by name.
HANDLERS = {"snapshot": snapshot_command, "snapshot-diff": snapshot_diff_command}
