"""What every command (and the pytest plugin) shares: exit codes, TLS trust, option values,
the one message for a missing extra. Imports nothing beyond the standard library, so the
core-only install can use it.

Exit codes, the same for ``get``, ``conformance`` and ``spec-diff``:

====  ======================================================================================
0     ok: the connection was fetched, the deployment conforms, nothing breaking
1     the deployment answered wrongly: a check failed, an API error, a breaking change
2     usage or configuration: a bad option value, a URL without a scheme, a missing extra,
      a malformed schema, no connection to test
3     the endpoint is not served (an HTML 404: Community Edition, or a wrong URL)
4     the credentials were rejected (401, or 403: they may not view connections)
5     the deployment is unreachable: DNS, refused, TLS, a timeout before any answer
====  ======================================================================================
"""

from __future__ import annotations

import argparse
import math
import os
import re
import ssl
from collections.abc import Mapping
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NOT_SERVED, EXIT_CREDENTIALS, EXIT_UNREACHABLE = range(6)

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


def missing_extra(extra: str, exc: ImportError) -> str:
    """The one message for a missing optional dependency, wherever it is found missing."""
    module = getattr(exc, "name", None) or str(exc)
    return (
        f"install the {extra} extra: pip install 'ls-model-providers[{extra}]' "
        f"(missing module: {module})"
    )


# -- text from a server, on a terminal --------------------------------------------------------

#: ANSI/VT escape sequences: CSI (colours, cursor moves), OSC (titles, hyperlinks) and
#: two-character escapes. Removed whole, so none of their parameters are left behind.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]|\x9b[0-?]*[ -/]*[@-~]"
)


def printable(text: str) -> str:
    """``text`` with control and invisible characters escaped (documents are not trusted)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def terminal(text: str) -> str:
    """Text a server controls, safe for a terminal: escape sequences removed, any other
    control character shown escaped, line breaks kept."""
    return "\n".join(printable(_ESCAPES.sub("", line)) for line in text.split("\n"))


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
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, got {text!r}")
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
    """A report file to write at the end: its folder is created now, and it must be writable."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder, not a file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a"):
            pass  # created (or kept) now, so a bad path fails before the run, not after it
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot write {text}: {exc.strerror or exc}") from None
    return path
