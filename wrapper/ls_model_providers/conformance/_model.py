"""What a run is given (``RunConfig``) and what it gives back (``Report`` of ``CheckResult``s)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import attrs
import httpx

from ls_model_providers._constants import ENV_API_KEY, ENV_DENIED_KEYS, ENV_URL
from ls_model_providers.toolkit.options import (
    CLI_OPTIONS,
    DEFAULT_DEADLINE,
    DEFAULT_MAX_EXAMPLES,
    DEFAULT_MAX_REQUESTS,
    DEFAULT_TIMEOUT,
    OptionNames,
    empty_value,
)

if TYPE_CHECKING:
    from ls_model_providers.snapshot import Snapshot

Outcome = Literal["pass", "fail", "note"]


@attrs.define
class CheckResult:
    """One check's outcome: ``pass``, ``fail`` or ``note`` (drift worth knowing, never a failure)."""

    name: str
    outcome: Outcome
    summary: str
    details: list[str] = attrs.field(factory=list)
    repro: str | None = None


@attrs.define
class RunConfig:
    """What to test. ``base_url=None`` starts the embedded mock and tests that.

    ``from_env`` fills ``base_url`` and ``api_key`` from ``LABEL_STUDIO_URL`` and
    ``LABEL_STUDIO_API_KEY``; the constructor reads no environment (TLS trust aside: see
    ``cacert``). Limits: at most ``max_requests`` requests, ``rate`` per second, ``timeout``
    seconds each, ``deadline`` seconds in all. ``cacert``: the CA bundle to trust instead of
    the environment's; ``insecure``: no TLS verification. ``baseline``: a snapshot to compare
    the deployment with once the checks have run (recorded within the same limits and counted
    in the same report, as a ``baseline.changes`` result). ``denied_keys``: credentials of
    users who must not read the connections ``api_key`` reads (a member of the organisation
    without a role that may view connections, or a user of another organisation): the
    ``authz.*`` checks run with them (``from_env`` reads ``LABEL_STUDIO_DENIED_KEYS``,
    separated by spaces or commas). ``transport``: tests only.
    """

    base_url: str | None = None
    api_key: str | None = None
    connection_id: int | None = None
    denied_keys: Sequence[str] = ()
    max_examples: int = DEFAULT_MAX_EXAMPLES
    seed: int | None = None
    rate: float | None = None
    max_requests: int = DEFAULT_MAX_REQUESTS
    deadline: float = DEFAULT_DEADLINE
    timeout: float = DEFAULT_TIMEOUT
    cacert: str | None = None
    insecure: bool = False
    baseline: Snapshot | None = None
    transport: httpx.BaseTransport | None = None
    options: Mapping[str, str] = CLI_OPTIONS

    @classmethod
    def from_env(cls, **kwargs: Any) -> RunConfig:
        """``RunConfig(**kwargs)``, the URL and key read from the environment when not given
        (``None``: an option given empty stays empty, and is refused as such). A variable set
        but empty is refused too (``UsageError``), never taken as unset: with an unset CI
        secret the run would check the embedded mock instead of the deployment."""
        for setting, variable, what in (
            ("base_url", ENV_URL, "the deployment's URL"),
            ("api_key", ENV_API_KEY, "a key"),
        ):
            if kwargs.get(setting) is None:
                value = os.environ.get(variable)
                if value is not None and not value.strip():
                    if setting == "base_url" or kwargs.get("base_url") is not None:
                        raise UsageError(empty_value(variable, what))
                    value = None  # no deployment: an empty key variable is no key
                kwargs[setting] = value
        if not kwargs.get("denied_keys"):
            listed = os.environ.get(ENV_DENIED_KEYS)
            keys = (listed or "").replace(",", " ").split()
            if listed is not None and not keys:  # a missing secret must not skip authz.*
                raise UsageError(empty_value(ENV_DENIED_KEYS, "the denied users' keys"))
            kwargs["denied_keys"] = keys
        return cls(**kwargs)

    @property
    def names(self) -> OptionNames:
        """How the user names each setting (``--api-key`` or ``--ls-api-key``)."""
        return OptionNames(self.options)

    def option(self, name: str) -> str:
        """How the user names setting ``name``."""
        return self.names(name)


@attrs.define
class Report:
    """A run's outcome: ``exit_code`` (see ``cli._shared``), a one-line ``verdict``, every result."""

    target: str
    embedded: bool
    exit_code: int
    verdict: str
    results: list[CheckResult] = attrs.field(factory=list)
    connection_id: int | None = None
    server_version: str | None = None
    requests: int = 0
    methods: dict[str, int] = attrs.field(factory=dict)
    duration: float = 0.0
    seed: int | None = None
    warnings: list[str] = attrs.field(factory=list)

    @property
    def failed(self) -> list[CheckResult]:
        return [r for r in self.results if r.outcome == "fail"]


class UsageError(Exception):
    """A configuration problem found before any request (exit 2); safe to print."""
