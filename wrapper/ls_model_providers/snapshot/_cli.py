"""The snapshot commands, for ``ls_model_providers.cli`` to mount::

    ls-model-providers snapshot [--base-url URL] [--api-key KEY] (--ids 1,2,... | --all) -o FILE
                                [--rate R] [--max-requests N] [--timeout S] [--deadline S]
                                [--cacert FILE | --insecure]
    ls-model-providers snapshot-diff OLD NEW
    ls-model-providers mock --snapshot FILE ...            (``add_mock_option``)
    ls-model-providers conformance --baseline FILE ...     (``add_baseline_option``)

Exit codes are every command's (``cli._shared``): 0 ok (written; nothing breaking), 1 the
deployment answered wrongly, a limit was hit, or something breaking changed, 2 usage (a bad
option, a malformed snapshot file, an id that does not exist, ``--all`` without a list route),
3 the endpoint is not served, 4 the credentials were rejected, 5 unreachable. Messages are
scrubbed of the credentials where they are made (``_record.py``) and made terminal-safe here.

Only the standard library and ``cli._shared`` are imported until a command runs, so building
the parser costs nothing and needs no extra.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ls_model_providers import _constants as C
from ls_model_providers.cli import _shared as S

if TYPE_CHECKING:
    from ._format import Snapshot


def add_snapshot_parsers(commands: Any) -> dict[str, argparse.ArgumentParser]:
    """Add ``snapshot`` and ``snapshot-diff`` to ``commands`` (``add_subparsers()``'s result);
    returns them by name, for their own usage messages."""
    snap = commands.add_parser(
        "snapshot", help="record a deployment's connections and error contract (read-only)"
    )
    snap.add_argument("--base-url", help=f"deployment URL (default: ${C.ENV_URL})")
    snap.add_argument(
        "--api-key", help=f"legacy token or personal access token (default: ${C.ENV_API_KEY})"
    )
    which = snap.add_mutually_exclusive_group(required=True)
    which.add_argument("--ids", type=_ids, help="the connections to record: 1,2,5")
    which.add_argument("--all", action="store_true", help="every connection the list route shows")
    snap.add_argument(
        "-o",
        "--output",
        required=True,
        type=_output,
        help="the file to write (folders are created)",
    )
    snap.add_argument("--rate", type=S.rate, help="at most this many requests per second")
    snap.add_argument("--max-requests", type=S.count, help="request budget (default 300)")
    snap.add_argument(
        "--timeout", type=S.seconds, help="seconds one request may take, whole (default 30)"
    )
    snap.add_argument(
        "--deadline", type=S.seconds, help="seconds the whole recording may take (default 300)"
    )
    S.add_tls_options(snap)

    sdiff = commands.add_parser(
        "snapshot-diff", help="what changed between two snapshots (exit 1: something breaking)"
    )
    sdiff.add_argument("old", help="the snapshot you depend on (before)")
    sdiff.add_argument("new", help="the snapshot to compare with it (after)")
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


def _ids(text: str) -> list[int]:
    from ls_model_providers._checks import check_connection_id

    ids = []
    for part in text.split(","):
        try:
            ids.append(check_connection_id(int(part.strip(), 10)))
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"not a connection id: {part!r} ({exc})") from None
    return ids


def _output(text: str) -> Path:
    """Where the snapshot goes, checked as a report's path is (``report_path``): its folder is
    created now; the file is written only whole (or through, for a FIFO or /dev/stdout)."""
    return S.report_path(text)


def _snapshot_file(text: str) -> Snapshot:
    try:
        from ._format import Snapshot, SnapshotError
    except ImportError as exc:  # pragma: no cover - the package needs nothing beyond attrs
        raise argparse.ArgumentTypeError(S.missing_extra("mock", exc)) from None
    try:
        return Snapshot.load(text)
    except SnapshotError as exc:
        raise argparse.ArgumentTypeError(S.printable(str(exc))) from None


# -- the commands --------------------------------------------------------------------------------


def _error(message: str) -> None:
    print(S.terminal(f"error: {message}"), file=sys.stderr)


def _progress(line: str) -> None:
    print(S.terminal(line), file=sys.stderr, flush=True)


def snapshot_command(args: argparse.Namespace) -> int:
    """``ls-model-providers snapshot``."""
    try:
        from ._record import ALL, RecordError, record
    except ImportError as exc:
        _error(S.missing_extra("conformance", exc))
        return S.EXIT_USAGE
    target = _target(args.base_url, args.api_key, args.cacert, args.insecure)
    if isinstance(target, int):
        return target
    base_url, api_key, verify = target
    limits = {k: getattr(args, k) for k in ("rate", "max_requests", "timeout", "deadline")}
    try:
        recording = record(
            base_url, api_key, ids=ALL if args.all else args.ids, verify=verify,
            progress=_progress, **{k: v for k, v in limits.items() if v is not None},
        )  # fmt: skip
    except RecordError as exc:
        _error(str(exc))
        return exc.exit_code
    for warning in recording.warnings:
        print(S.terminal(f"warning: {warning}"), file=sys.stderr)
    try:
        recording.snapshot.write(args.output)
    except OSError as exc:
        _error(f"cannot write {args.output}: {exc.strerror or exc}")
        return S.EXIT_USAGE
    snapshot = recording.snapshot
    methods = ", ".join(f"{n} {m}" for m, n in sorted(recording.methods.items()))
    digest = snapshot.schema_sha256[:12] if snapshot.schema_sha256 else "none"
    print(
        S.terminal(
            f"wrote {args.output}: {len(snapshot.connections)} connection(s), "
            f"{len(snapshot.answers)} probe answers, server {snapshot.server_version or 'unknown'}, "
            f"schema sha256 {digest}; {recording.requests} requests ({methods}) "
            f"in {recording.duration:.2f} s"
        )
    )
    return S.EXIT_OK


def snapshot_diff_command(args: argparse.Namespace) -> int:
    """``ls-model-providers snapshot-diff OLD NEW``."""
    try:
        from ._diff import diff
        from ._format import Snapshot, SnapshotError
    except ImportError as exc:
        _error(S.missing_extra("conformance", exc))
        return S.EXIT_USAGE
    try:
        result = diff(Snapshot.load(args.old), Snapshot.load(args.new))
    except SnapshotError as exc:
        _error(str(exc))
        return S.EXIT_USAGE
    for line in result.lines(args.old, args.new):
        print(S.terminal(line))
    return result.exit_code


#: The handlers of the commands ``add_snapshot_parsers`` adds, by name.
HANDLERS = {"snapshot": snapshot_command, "snapshot-diff": snapshot_diff_command}


def _target(
    base_url: str | None,
    api_key: str | None,
    cacert: str | None,
    insecure: bool,
) -> tuple[str, str, Any] | int:
    """URL, key and TLS trust from the options and the environment, or an exit code."""
    base_url = base_url or os.environ.get(C.ENV_URL)
    api_key = api_key or os.environ.get(C.ENV_API_KEY)
    if not base_url:
        _error(f"no deployment: pass --base-url or set {C.ENV_URL}")
        return S.EXIT_USAGE
    if not api_key:
        _error(f"credentials are required: pass --api-key or set {C.ENV_API_KEY}")
        return S.EXIT_USAGE
    from ls_model_providers._checks import check_api_key, check_base_url

    try:
        base_url = check_base_url(base_url)
    except ValueError as exc:
        _error(f"--base-url: {exc}")
        return S.EXIT_USAGE
    try:
        api_key = check_api_key(api_key, "--api-key")
        verify = S.trust(cacert, insecure=insecure)
    except (ValueError, S.ConfigurationError) as exc:
        _error(str(exc))
        return S.EXIT_USAGE
    if insecure:
        print(S.INSECURE_WARNING, file=sys.stderr)
    return base_url, api_key, verify
