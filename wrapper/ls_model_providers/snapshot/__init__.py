"""Snapshots: record what a deployment answers, replay it in the mock, diff it after an upgrade.

A snapshot is one JSON file (format ``ls-model-providers-snapshot``, version 1, defined by
``snapshot.schema.json`` in this package): each connection's 200 body with secret values
replaced by ``<redacted>``, the error contract (401, 404 and 405 bodies, their ``detail``
texts, ``WWW-Authenticate``, ``Allow``, content types), the server version and the served
schema's sha256. It never holds a token. Recording needs the ``conformance`` extra, replaying
the ``mock`` extra.

From Python::

    from ls_model_providers.snapshot import ALL, Snapshot, diff, record

    recording = record("https://ls.example.com", api_key, ids=ALL)
    recording.snapshot.write("after.json")
    result = diff(Snapshot.load("before.json"), recording.snapshot)
    print("\\n".join(result.lines()))  # result.exit_code: 0 nothing breaking, 1 breaking

Replay: ``create_app(snapshot="after.json")``. From a shell: ``ls-model-providers snapshot``,
``snapshot-diff``, ``mock --snapshot``, ``conformance --baseline``.

Modules: ``_record`` (the requests, through the conformance suite's guard), ``_format`` (the
file), ``_validate`` (its schema, interpreted), ``_diff`` (the comparison, by the drift
engine's rules). Names are imported when first used, so the CLI can build its parser on an
install without the extras.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._diff import ConnectionChange, Diff, diff
    from ._format import FORMAT, PER_REQUEST_ID, VERSION, Snapshot, SnapshotError
    from ._record import (
        ALL,
        RecordError,
        Recording,
        baseline_ids,
        diff_live,
        record,
        record_through,
    )

_HOMES = {
    "ConnectionChange": "_diff", "Diff": "_diff", "diff": "_diff",
    "FORMAT": "_format", "VERSION": "_format", "Snapshot": "_format", "SnapshotError": "_format",
    "PER_REQUEST_ID": "_format",
    "ALL": "_record", "RecordError": "_record", "Recording": "_record", "diff_live": "_record",
    "record": "_record", "record_through": "_record", "baseline_ids": "_record",
}  # fmt: skip

__all__ = [
    "ALL",
    "FORMAT",
    "PER_REQUEST_ID",
    "VERSION",
    "ConnectionChange",
    "Diff",
    "RecordError",
    "Recording",
    "Snapshot",
    "SnapshotError",
    "baseline_ids",
    "diff",
    "diff_live",
    "record",
    "record_through",
]


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
