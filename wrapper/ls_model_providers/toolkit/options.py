"""What a tool is pointed at and how far it may go: one resolver, one set of defaults.

Every command and the pytest plugin resolve their target here (``resolve_target``: the URL
and key from the options or the environment, checked, and the TLS trust), and check their
limits here (``Limits``), so each says the same thing about the same mistake, naming the
option the user typed (``OptionNames``: the CLI's ``--base-url``, the plugin's
``--ls-base-url``).
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from typing import Final

import attrs

from ls_model_providers._args import check_api_key, check_base_url, check_seconds
from ls_model_providers._constants import ENV_API_KEY, ENV_URL

from .exits import ConfigurationError
from .tls import trust

#: Seconds a whole run (conformance, a snapshot) may take, and one request (connect, send,
#: the complete answer); requests a run may send; generated cases per schemathesis mode.
DEFAULT_DEADLINE: Final = 300.0
DEFAULT_TIMEOUT: Final = 30.0
DEFAULT_MAX_REQUESTS: Final = 300
DEFAULT_MAX_EXAMPLES: Final = 50
#: Generated cases per mode a run may ask for. The operation has one path parameter and one
#: header: schemathesis covers their edges within a few dozen cases, and 1,000 (20 times the
#: default) already needs 2,001 requests or more. Drawing them all takes about 4 s and 30 MB
#: before the first one is sent; 100,000 took 1.2 GB and over 400 s.
MAX_EXAMPLES: Final = 1000
#: The list route answers every connection at once (a JSON array, as Label Studio's view set
#: serves it): about 1.1 KB a connection, so 10,000 connections are 11 MB. Three times that;
#: every other answer keeps the client's 1 MiB limit (a connection is about a kilobyte).
MAX_LIST_BYTES: Final = 32 * 1024 * 1024

#: How the command line names each setting; the pytest plugin passes its own names, so
#: every message tells people the option they can actually use.
CLI_OPTIONS: Final[Mapping[str, str]] = {
    "base_url": "--base-url",
    "api_key": "--api-key",
    "denied_keys": "--denied-key",
    "connection_id": "--id",
    "max_examples": "--max-examples",
    "max_requests": "--max-requests",
    "rate": "--rate",
    "deadline": "--deadline",
    "timeout": "--timeout",
    "cacert": "--cacert",
    "insecure": "--insecure",
}


@attrs.frozen
class OptionNames:
    """How the user names each setting (``--api-key`` or ``--ls-api-key``)."""

    names: Mapping[str, str] = CLI_OPTIONS

    def __call__(self, setting: str) -> str:
        return self.names.get(setting, CLI_OPTIONS.get(setting, setting))


CLI = OptionNames()


@attrs.frozen
class Target:
    """A deployment to send requests to: its URL (ending in "/"), the key, the TLS trust."""

    base_url: str
    api_key: str
    verify: ssl.SSLContext | bool


def resolve_url(value: str | None, names: OptionNames = CLI, environ: Mapping[str, str] | None = None) -> str | None:  # fmt: skip
    """The base URL given, or ``LABEL_STUDIO_URL``'s, checked; ``None`` when neither is set.
    ``ConfigurationError`` names the option for a URL that cannot be used, or the variable of
    a proxy the environment names for it that cannot be used (never its password)."""
    environ = os.environ if environ is None else environ
    url = value if value is not None else environ.get(ENV_URL)
    if url is None:
        return None
    source = names("base_url") if value is not None else ENV_URL
    if not url.strip():  # never a fallback: an unset CI secret must not check something else
        raise ConfigurationError(empty_value(source, "the deployment's URL"))
    try:  # a message names where the value came from: the option, or the variable
        checked = check_base_url(url, source)
        from ls_model_providers._transport import environment_proxy  # imports httpcore

        environment_proxy(checked)  # a proxy the environment names for it must be usable
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(str(exc)) from None
    return checked


def resolve_key(value: str | None, names: OptionNames = CLI, environ: Mapping[str, str] | None = None, setting: str = "api_key") -> str:  # fmt: skip
    """The key given, or ``LABEL_STUDIO_API_KEY``'s (for the main key only), checked."""
    environ = os.environ if environ is None else environ
    key = value if value is not None else (environ.get(ENV_API_KEY) if setting == "api_key" else None)  # fmt: skip
    if key is None:
        raise ConfigurationError(f"no credentials: pass {names(setting)} KEY or set {ENV_API_KEY}")
    source = names(setting) if value is not None else ENV_API_KEY
    if not key.strip():
        raise ConfigurationError(empty_value(source, "a key"))
    try:
        return check_api_key(key, source)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(str(exc)) from None


def empty_value(source: str, what: str) -> str:
    """What to say of an option (``--base-url``) or a variable given an empty value: never
    replaced by a default, since an unset CI secret must not check something else."""
    if source.startswith("-"):
        return f"{source} is empty (was it given an unset variable?): give it {what}"
    return f"{source} is set but empty: set it to {what}, or unset it"


def resolve_target(
    base_url: str | None,
    api_key: str | None,
    *,
    cacert: str | None = None,
    insecure: bool = False,
    names: OptionNames = CLI,
    environ: Mapping[str, str] | None = None,
) -> Target:
    """URL, key and TLS trust from the options and the environment, checked before any
    request; ``ConfigurationError`` (exit 2) says what is missing or wrong, naming the option,
    never a password or a key."""
    url = resolve_url(base_url, names, environ)
    if url is None:
        raise ConfigurationError(f"no deployment: pass {names('base_url')} URL or set {ENV_URL}")
    key = resolve_key(api_key, names, environ)
    verify = trust(cacert, insecure=insecure, environ=environ, cacert_option=names("cacert"))
    return Target(url, key, verify)


@attrs.frozen
class Limits:
    """How far a run (conformance, a snapshot) may go: at most ``max_requests`` requests,
    ``rate`` per second (``None``: unlimited), ``timeout`` seconds each, ``deadline`` seconds
    in all. ``checked`` refuses what cannot be used, naming the option."""

    max_requests: int = DEFAULT_MAX_REQUESTS
    rate: float | None = None
    timeout: float = DEFAULT_TIMEOUT
    deadline: float = DEFAULT_DEADLINE

    def checked(self, names: OptionNames = CLI) -> Limits:
        if type(self.max_requests) is not int or self.max_requests < 1:
            raise ConfigurationError(
                f"{names('max_requests')} must be a positive integer, got {self.max_requests!r}"
            )
        try:
            check_seconds(self.rate, names("rate"))
            check_seconds(self.deadline, names("deadline"), allow_none=False)
            check_seconds(self.timeout, names("timeout"), allow_none=False)
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None
        return self


#: What to raise when a run stops at a limit (``guard.Stop.check`` names it).
_LIMIT_HINTS: Final = {
    "run.budget": ("max_requests", "raise {} or lower {}", "max_examples"),
    "run.deadline": ("deadline", "raise {}, or lower {}", "max_examples"),
}


def limit_hint(check: str, names: OptionNames = CLI, *, generated: bool = True) -> str:
    """How to move the limit a run stopped at (``""`` for any other stop). ``generated``:
    whether the run draws schemathesis cases (whose count is the other lever)."""
    if check not in _LIMIT_HINTS:
        return ""
    setting, both, other = _LIMIT_HINTS[check]
    return both.format(names(setting), names(other)) if generated else f"raise {names(setting)}"
