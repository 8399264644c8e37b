"""What the commands share: option values (argparse types: a bad value is a usage error before
any output), the TLS options, and a process that survives its reader going away or a Ctrl-C
landing in a finalizer.

Output survives a reader that goes away: with stdout closed early (``| head``), the rest of
the output is dropped and the command still ends with its own exit code (``pipe_guard``).
"""

from __future__ import annotations

import _thread
import argparse
import contextlib
import math
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ls_model_providers._args import check_connection_id
from ls_model_providers._constants import ENDPOINT_PATH, ENV_API_KEY, ENV_URL, MAX_SECONDS
from ls_model_providers.toolkit.files import written_through
from ls_model_providers.toolkit.options import (
    DEFAULT_DEADLINE,
    DEFAULT_MAX_REQUESTS,
    DEFAULT_TIMEOUT,
)
from ls_model_providers.toolkit.text import one_line, terminal
from ls_model_providers.toolkit.tls import INSECURE_WARNING

# -- output to a reader that may go away ------------------------------------------------------


class _PipeSafe:
    """A text stream that survives its reader going away (``| head``) or never having been
    there (``>&-``, a full disk): on the first failed write the file descriptor is pointed
    at /dev/null (the standard recipe, so the interpreter's last flush cannot fail either)
    and what follows is dropped. The command goes on and ends with its own exit code (its
    reports written); a failure other than a closed pipe is kept in ``lost`` for ``main``."""

    def __init__(self, stream: IO[str] | None) -> None:
        self._stream = stream
        self.broken = stream is None  # started with the descriptor closed
        #: Why output was lost, when not because its reader went away.
        self.lost: OSError | None = None

    def write(self, text: str) -> int:
        if not self.broken:
            try:
                self._stream.write(text)  # type: ignore[union-attr]
            except OSError as exc:
                self._drop(exc)
        return len(text)

    def flush(self) -> None:
        if not self.broken:
            try:
                self._stream.flush()  # type: ignore[union-attr]
            except OSError as exc:
                self._drop(exc)

    def _drop(self, exc: OSError) -> None:
        self.broken = True
        if not isinstance(exc, BrokenPipeError):
            self.lost = exc
        with contextlib.suppress(OSError, ValueError, AttributeError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, self._stream.fileno())  # type: ignore[union-attr]
            finally:
                os.close(devnull)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextlib.contextmanager
def pipe_guard() -> Iterator[list[OSError]]:
    """Run a command with stdout and stderr that a closed pipe, a closed descriptor or a full
    disk cannot break (see ``_PipeSafe``); everything is flushed before the block ends, so a
    failure is found here, not at exit. Yields a list that then holds why output was lost."""
    saved = sys.stdout, sys.stderr
    guarded = _PipeSafe(sys.stdout), _PipeSafe(sys.stderr)
    sys.stdout, sys.stderr = guarded
    lost: list[OSError] = []
    try:
        yield lost
    finally:
        for stream in guarded:
            stream.flush()
        lost.extend(stream.lost for stream in guarded if stream.lost is not None)
        sys.stdout, sys.stderr = saved


@contextlib.contextmanager
def interrupts_kept() -> Iterator[None]:
    """Ctrl-C is never lost in a finalizer. The garbage collector runs ``__del__`` methods in
    the main thread wherever it happens to be, and Python prints a ``KeyboardInterrupt``
    raised in one as "Exception ignored" and drops it: the command would go on as if no one
    had asked it to stop. Here it is raised again, in the main thread, once the finalizer
    has returned: ``_thread.interrupt_main`` delivers the signal anew, from a timer thread
    50 ms later (sooner, it could be raised inside this hook and dropped the same way; one
    landing in another finalizer comes back here)."""
    previous = sys.unraisablehook
    pending: list[threading.Timer] = []

    def hook(unraisable: Any) -> None:
        if unraisable.exc_type is not None and issubclass(unraisable.exc_type, KeyboardInterrupt):
            timer = threading.Timer(0.05, _thread.interrupt_main)
            timer.daemon = True
            pending.append(timer)
            timer.start()
        else:
            previous(unraisable)

    sys.unraisablehook = hook
    ended_by_interrupt = False
    try:
        yield
    except KeyboardInterrupt:
        ended_by_interrupt = True
        raise
    finally:
        sys.unraisablehook = previous
        # A timer still to fire would interrupt the interpreter after the command ended (it
        # then dies of SIGINT, exit -2): stop it, and end as interrupted if nothing else did.
        unfired = [t for t in pending if t.is_alive()]
        for timer in unfired:
            timer.cancel()
        if unfired and not ended_by_interrupt:
            raise KeyboardInterrupt


def add_target_options(parser: argparse.ArgumentParser, url_help: str | None = None) -> None:
    """``--base-url`` and ``--api-key``, for every command that reaches a deployment."""
    parser.add_argument("--base-url", help=url_help or f"deployment URL (default: ${ENV_URL})")
    parser.add_argument(
        "--api-key", help=f"legacy token or personal access token (default: ${ENV_API_KEY})"
    )


def add_limit_options(parser: argparse.ArgumentParser) -> None:
    """How far a run may go: ``--max-requests``, ``--rate``, ``--timeout``, ``--deadline``."""
    parser.add_argument(
        "--max-requests", type=count, default=DEFAULT_MAX_REQUESTS,
        help=f"request budget (default {DEFAULT_MAX_REQUESTS})",
    )  # fmt: skip
    parser.add_argument("--rate", type=rate, help="at most this many requests per second")
    parser.add_argument(
        "--timeout", type=seconds, default=DEFAULT_TIMEOUT,
        help=f"seconds one request may take, whole (default {DEFAULT_TIMEOUT:g})",
    )  # fmt: skip
    parser.add_argument(
        "--deadline", type=seconds, default=DEFAULT_DEADLINE,
        help=f"seconds the whole run may take (default {DEFAULT_DEADLINE:g})",
    )  # fmt: skip


def add_tls_options(parser: argparse.ArgumentParser) -> None:
    """``--cacert`` and ``--insecure``, for every command that reaches a deployment."""
    tls = parser.add_mutually_exclusive_group()
    tls.add_argument(
        "--cacert",
        metavar="FILE",
        type=given_file,
        help="trust this CA bundle (PEM file or folder) instead of the environment's "
        "(SSL_CERT_FILE, SSL_CERT_DIR, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE) or certifi's",
    )
    tls.add_argument(
        "--insecure",
        action="store_true",
        help="do not verify the deployment's TLS certificate (loudly warned about)",
    )


# -- option values (argparse types: a bad value is a usage error before any output) ---------


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
    return value


def seconds(text: str) -> float:
    """A positive, finite number of seconds."""
    value = _number(text)
    if not 0 < value <= MAX_SECONDS:
        raise argparse.ArgumentTypeError(
            f"must be more than 0 and at most {MAX_SECONDS:,.0f} seconds, got {text!r}"
        )
    return value


def rate(text: str) -> float:
    """A positive, finite number of requests per second."""
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 requests per second, got {text!r}")
    return value


def count(text: str, maximum: int | None = None) -> int:
    """A positive integer (at most ``maximum``)."""
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text!r}")
    if maximum is not None and value > maximum:
        raise argparse.ArgumentTypeError(f"must be at most {maximum:,}, got {text!r}")
    return value


def connection_id(text: str) -> int:
    """A connection id: an integer from 1 to 2**63-1."""
    try:  # argparse says what is raised here and exits 2
        if not (text.isascii() and text.isdigit()):  # int() takes "1_000", " 1", "+1", "٣"
            raise ValueError(text)
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a connection id: {text!r} (a whole number from 1, as in /{ENDPOINT_PATH}1/)"
        ) from None
    try:
        return check_connection_id(value, "an id")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a connection id: {text!r} ({exc})") from None


def connection_ids(text: str) -> list[int]:
    """Connection ids separated by commas: ``1,2,5``."""
    return [connection_id(part.strip()) for part in text.split(",")]


def port(text: str) -> int:
    """A TCP port, 0 meaning any free one."""
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0..65535, got {text!r}")
    return value


#: What an empty path option or argument is told: a blank value is never "no file" (the
#: option's default, or plain HTTP for the mock), nor the current folder.
EMPTY_PATH = "empty (was it given an unset variable?): give it a file's path"


def given_file(text: str) -> str:
    """A path to read, refused when empty (argparse names the option or argument)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(EMPTY_PATH)
    return text


def report_path(text: str) -> Path:
    """A report or snapshot file to write at the end, checked now (a bad path fails before the
    run, not after it): a FIFO, a terminal or ``/dev/stdout`` must be writable; otherwise its
    folder is created and must take a new file. The file itself is not touched until it is
    written whole (``write_atomic``). ``-`` is standard output."""
    path = Path(given_file(text))
    if text == "-":
        return path
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder, not a file")
    if written_through(path):
        if not os.access(path, os.W_OK):
            raise argparse.ArgumentTypeError(f"cannot write {text}")
        return path
    for parent in path.parents:  # mkdir would say "File exists" for a file on the way
        if parent.exists():
            if not parent.is_dir():
                raise argparse.ArgumentTypeError(f"cannot write {text}: {parent} is not a folder")
            break
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path.parent):
            pass  # the folder takes a new file: the report will be written there and renamed
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot write {text}: {exc.strerror or exc}") from None
    return path


# -- help --------------------------------------------------------------------------------------

#: What each exit code means, for every command's --help (``toolkit/exits.py``).
EXIT_CODES = {
    0: "ok: fetched, conformant, written, nothing breaking",
    1: "the deployment answered wrongly (a failed check, an API error, a breaking change)",
    2: "usage or configuration (an option, a URL that is not Label Studio, a missing extra)",
    3: "Label Studio does not serve the endpoint (Community Edition)",
    4: "the credentials were rejected (401, or 403: may not view connections)",
    5: "unreachable: DNS, refused, TLS, a timeout, the wrong scheme, a proxy refusing",
    6: "inconclusive: rate limits or a limit kept the run from finishing its checks",
    130: "interrupted (Ctrl-C)",
}
#: ``mock`` serves until asked to stop: a stop asked for is its success.
MOCK_EXIT_CODES = {
    **EXIT_CODES,
    0: "stopped by Ctrl-C or SIGTERM once serving",
    130: "interrupted (Ctrl-C) before it serves",
}
#: The environment variables the commands read, and what for.
VARIABLES = {
    "LABEL_STUDIO_URL": "the deployment's URL (--base-url)",
    "LABEL_STUDIO_API_KEY": "its legacy token or personal access token (--api-key)",
    "LABEL_STUDIO_DENIED_KEYS": "keys of users who must not read connections (--denied-key)",
    "SSL_CERT_FILE, SSL_CERT_DIR": "CA bundles to trust (also REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE)",
    "HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY": "a proxy to go through (never for loopback)",
}


def epilog(
    codes: tuple[int, ...],
    variables: tuple[str, ...],
    *examples: str,
    meanings: dict[int, str] = EXIT_CODES,
) -> str:
    """The end of a command's --help: its exit codes, the variables it reads, examples."""
    lines = ["exit codes:"]
    lines += [f"  {code:<4} {meanings[code]}" for code in codes]
    if variables:
        lines += ["", "environment:"]
        width = max(len(v) for v in variables)
        lines += [f"  {name:<{width}}  {VARIABLES[name]}" for name in variables]
    lines += ["", "example:" if len(examples) == 1 else "examples:"]
    lines += [f"  {example}" for example in examples]
    return "\n".join(lines)


#: Every command's help keeps its epilog's lines as written.
HELP_FORMAT = argparse.RawDescriptionHelpFormatter


# -- messages ----------------------------------------------------------------------------------


def error(message: str) -> None:
    """One line on stderr: whatever ``message`` holds (a server's text too) stays on it."""
    print(terminal(f"error: {one_line(message)}"), file=sys.stderr)


def warn_insecure() -> None:
    """The ``--insecure`` warning: once, on stderr, whatever the command."""
    print(INSECURE_WARNING, file=sys.stderr)


def progress(line: str) -> None:
    """A line of progress on stderr (the answer itself goes to stdout)."""
    print(terminal(line), file=sys.stderr, flush=True)
