"""TLS trust, the same for every request a command sends (the client's, the suite's, spec-diff's)."""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping

from .exits import ConfigurationError

#: CA bundles the environment names, each trusted (one tool reads one, another the other:
#: honouring them all is how every request path trusts the same certificates).
CA_FILE_VARIABLES = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
CA_DIR_VARIABLES = ("SSL_CERT_DIR",)
INSECURE_WARNING = (
    "WARNING: TLS certificate verification is OFF (--insecure): anyone on the network path "
    "can read and change this traffic, credentials included"
)


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


def tls_hint(cacert_option: str = "--cacert", insecure_option: str = "--insecure") -> str:
    """What to do about a certificate that is not trusted."""
    return (
        f"pass the deployment's CA bundle with {cacert_option} FILE (or set SSL_CERT_FILE), "
        f"or {insecure_option} to skip verification"
    )
