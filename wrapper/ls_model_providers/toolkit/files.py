"""The one writer of reports and snapshots: whole or not at all, or through a FIFO/``/dev/stdout``."""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from pathlib import Path


def written_through(path: Path) -> bool:
    """Whether ``path`` is written in place: a symlink (``/dev/stdout``, which points at a pipe
    or a terminal) or something that exists and is not a regular file (a FIFO, a character
    device). Renaming a file over one of them would replace it instead of writing to it."""
    if path.is_symlink():
        return True
    try:
        return not stat.S_ISREG(path.stat().st_mode)
    except OSError:  # nothing there yet
        return False


def write_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path``: the one writer of reports and snapshots.

    A regular file (or a new one) is written whole or not at all, so a CI never reads an empty
    or cut report: the text goes to a temporary file in the same folder, created by
    ``mkstemp`` (``O_EXCL``, a name nobody can predict, so a symlink planted there is never
    followed), fsync'd, then renamed over ``path``; on any failure (a full disk, Ctrl-C) the
    temporary file is removed and ``path`` is left as it was. A symlink, a FIFO or a device
    (``--json-report /dev/stdout``) is written through, as a shell's ``>`` would, never
    replaced by a file; ``-`` is standard output.
    """
    if str(path) == "-":  # standard output (the command then writes nothing else there)
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    path = Path(path)
    data = text.encode("utf-8")
    if written_through(path):
        for stream in (sys.stdout, sys.stderr):  # the target may be one: output so far first
            with contextlib.suppress(OSError, ValueError, AttributeError):
                stream.flush()
        with open(path, "wb") as file:
            file.write(data)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())  # the data is on disk before the name points at it
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp's 0600 would hide the report from CI users
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    with contextlib.suppress(OSError):  # and the rename is too
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
