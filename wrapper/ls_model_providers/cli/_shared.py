"""What every command (and the pytest plugin) shares: exit codes, TLS trust, option values,
the one message for a missing extra. Imports nothing beyond the core package (httpx and
attrs), so the core-only install can use it.

Exit codes, the same for ``get``, ``conformance`` and ``spec-diff``:

====  ======================================================================================
0     ok: the connection was fetched, the deployment conforms, nothing breaking
1     the deployment answered wrongly: a check failed, an API error, a breaking change
2     usage or configuration: a bad option value, a URL without a scheme, a missing extra,
      a malformed schema, no connection to test
3     the endpoint is not served (an HTML 404: Community Edition, or a wrong URL)
4     the credentials were rejected (401, or 403: they may not view connections)
5     the deployment is unreachable: DNS, refused, TLS, a timeout before any answer
130   interrupted (Ctrl-C): the shell's convention, 128 + SIGINT
====  ======================================================================================

Output survives a reader that goes away: with stdout closed early (``| head``), the rest of
the output is dropped and the command still ends with its own exit code (``pipe_guard``).
"""

from __future__ import annotations

import _thread
import argparse
import contextlib
import math
import os
import re
import ssl
import stat
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from ls_model_providers import _errors
from ls_model_providers._constants import MAX_SECONDS
from ls_model_providers._secrets import ESCAPES

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NOT_SERVED, EXIT_CREDENTIALS, EXIT_UNREACHABLE = range(6)
#: Ctrl-C: 128 + SIGINT, what a shell reports for a command the signal ended.
EXIT_INTERRUPTED = 130


def exit_code_for(error: _errors.LabelStudioError) -> int:
    """The exit code a client error means: 3 the endpoint is not served, 4 the credentials
    were rejected, 5 no answer at all (a timeout or a transport failure before any status),
    else 1 (the deployment answered, wrongly: a body cut off or a refused redirect included)."""
    if isinstance(error, _errors.EndpointNotAvailableError):
        return EXIT_NOT_SERVED
    if isinstance(error, _errors.AuthenticationError | _errors.PermissionDeniedError):
        return EXIT_CREDENTIALS
    no_answer = isinstance(error, _errors.APIConnectionError) and error.status_code is None
    if no_answer and (isinstance(error, _errors.APITimeoutError) or error.__cause__ is not None):
        return EXIT_UNREACHABLE
    return EXIT_FAILED


#: CA bundles the environment names, each trusted (one tool reads one, another the other:
#: honouring them all is how every request path trusts the same certificates).
CA_FILE_VARIABLES = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
CA_DIR_VARIABLES = ("SSL_CERT_DIR",)
INSECURE_WARNING = (
    "WARNING: TLS certificate verification is OFF (--insecure): anyone on the network path "
    "can read and change this traffic, credentials included"
)


class ConfigurationError(Exception):
    """An option or environment value that cannot be used (exit 2); safe to print."""


def missing_extra(extra: str, exc: ImportError | str) -> str:
    """The one message for a missing optional dependency, wherever it is found missing:
    ``exc`` is the ImportError, or the name of the module that is missing."""
    module = exc if isinstance(exc, str) else getattr(exc, "name", None) or str(exc)
    return (
        f"install the {extra} extra: pip install 'ls-model-providers[{extra}]' "
        f"(missing module: {module})"
    )


def require_extra(extra: str, exc: ImportError) -> ImportError:
    """The ImportError to raise for ``exc`` in a package that needs ``extra``: the one message,
    the missing module's ``name`` kept (so callers can still tell which one), or ``exc`` itself
    when what failed to import is this package's own code (a bug, not a missing extra)."""
    name = getattr(exc, "name", None) or ""
    if not name or name.split(".")[0] in ("ls_model_providers", "ls_model_providers_api"):
        return exc
    return ModuleNotFoundError(missing_extra(extra, name), name=name)


# -- text from a server, on a terminal --------------------------------------------------------

#: ANSI/VT escape sequences: CSI (colours, cursor moves), OSC (titles, hyperlinks) and
#: two-character escapes. Removed whole, so none of their parameters are left behind.
_ESCAPES = ESCAPES  # the scrubber looks through the same sequences


def printable(text: str) -> str:
    """``text`` with control and invisible characters escaped (documents are not trusted)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def terminal(text: str) -> str:
    """Text a server controls, safe for a terminal: escape sequences removed, any other
    control character shown escaped, line breaks kept (our own layout is made of them:
    server text inside it goes through ``one_line`` first)."""
    return "\n".join(printable(_ESCAPES.sub("", line)) for line in text.split("\n"))


#: Every character that ends a line somewhere: a terminal (LF, CR, VT, FF), ``str.splitlines``
#: (FS, GS, RS, NEL, LS, PS), and a CI's report viewer.
_LINE_BREAKS = re.compile("[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def one_line(text: str) -> str:
    """Text a server controls, made to stay inside the one line it is embedded in: each line
    break shown escaped (``\\n``, ``\\r``), so a server cannot start a line of its own (a fake
    verdict, a fake error) in our output or in a report."""
    return _LINE_BREAKS.sub(lambda m: m.group().encode("unicode_escape").decode(), text)


def option_names(message: str, names: Mapping[str, str]) -> str:
    """A library message with the Python argument names in ``names`` replaced by the option
    that sets them (``base_url`` -> ``--base-url``): people typed options, not arguments."""
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b")
    return pattern.sub(lambda m: names[m.group()], message)


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

    def hook(unraisable: Any) -> None:
        if unraisable.exc_type is not None and issubclass(unraisable.exc_type, KeyboardInterrupt):
            timer = threading.Timer(0.05, _thread.interrupt_main)
            timer.daemon = True
            timer.start()
        else:
            previous(unraisable)

    sys.unraisablehook = hook
    try:
        yield
    finally:
        sys.unraisablehook = previous


# -- TLS -------------------------------------------------------------------------------------


def trust(
    cacert: str | None = None,
    *,
    insecure: bool = False,
    environ: Mapping[str, str] | None = None,
    cacert_option: str = "--cacert",
) -> ssl.SSLContext | bool:
    """How to verify a deployment's certificate, for every request a command sends.

    ``insecure``: no verification (``False``). ``cacert``: that bundle (a file or a folder)
    and nothing else. Otherwise every bundle the environment names (``SSL_CERT_FILE``,
    ``SSL_CERT_DIR``, ``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``), or, with none set,
    certifi's, which is httpx's default. ``ConfigurationError`` names an unusable bundle.
    """
    if insecure and cacert:
        raise ConfigurationError(f"{cacert_option} and --insecure contradict each other")
    if insecure:
        return False
    environ = os.environ if environ is None else environ
    if cacert:
        return _context([(cacert, cacert_option)])
    named = [(environ[v], v) for v in (*CA_FILE_VARIABLES, *CA_DIR_VARIABLES) if environ.get(v)]
    if not named:
        import certifi  # httpx's own default, and a dependency of httpx

        return _context([(certifi.where(), "certifi")])
    return _context(named)


def _context(bundles: list[tuple[str, str]]) -> ssl.SSLContext:
    context: ssl.SSLContext | None = None
    seen: set[str] = set()
    for path, source in bundles:
        if path in seen:
            continue
        seen.add(path)
        cafile, capath = (None, path) if os.path.isdir(path) else (path, None)
        try:
            # Given a bundle, create_default_context() trusts it alone (not the system store).
            if context is None:
                context = ssl.create_default_context(cafile=cafile, capath=capath)
            else:
                context.load_verify_locations(cafile=cafile, capath=capath)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigurationError(
                f"{source} names {path}, which is not a readable CA bundle "
                f"({type(exc).__name__}: {exc})"
            ) from None
    assert context is not None  # bundles is never empty
    return context


def add_tls_options(parser: argparse.ArgumentParser) -> None:
    """``--cacert`` and ``--insecure``, for every command that reaches a deployment."""
    tls = parser.add_mutually_exclusive_group()
    tls.add_argument(
        "--cacert",
        metavar="FILE",
        help="trust this CA bundle (PEM file or folder) instead of the environment's "
        "(SSL_CERT_FILE, SSL_CERT_DIR, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE) or certifi's",
    )
    tls.add_argument(
        "--insecure",
        action="store_true",
        help="do not verify the deployment's TLS certificate (loudly warned about)",
    )


def tls_hint(cacert_option: str = "--cacert", insecure_option: str = "--insecure") -> str:
    """What to do about a certificate that is not trusted."""
    return (
        f"pass the deployment's CA bundle with {cacert_option} FILE (or set SSL_CERT_FILE), "
        f"or {insecure_option} to skip verification"
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


def count(text: str) -> int:
    """A positive integer."""
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text!r}")
    return value


def port(text: str) -> int:
    """A TCP port, 0 meaning any free one."""
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0..65535, got {text!r}")
    return value


def report_path(text: str) -> Path:
    """A report or snapshot file to write at the end, checked now (a bad path fails before the
    run, not after it): a FIFO, a terminal or ``/dev/stdout`` must be writable; otherwise its
    folder is created and must take a new file. The file itself is not touched until it is
    written whole (``write_atomic``)."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder, not a file")
    if _written_through(path):
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


def _written_through(path: Path) -> bool:
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
    replaced by a file.
    """
    path = Path(path)
    data = text.encode("utf-8")
    if _written_through(path):
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
