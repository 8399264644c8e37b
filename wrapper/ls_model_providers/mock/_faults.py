"""Deterministic fault injection and deliberate defects.

*Faults* are transient, like a real network and load balancer: chosen per request by a
seeded random generator (``rate``) or by a scripted sequence (``script``), counted in
``FaultPlan.stats``. *Defects* are permanent contract violations, for proving that the
conformance suite catches each one.

A plan from text (the ``--faults`` option)::

    rate=0.3,seed=7,kinds=429+503+drop+truncate+latency,latency=0.02,retry_after=0
    script=503+ok+drop     # the first three requests, then no faults
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterable

import attrs

FAULT_KINDS = ("429", "502", "503", "504", "drop", "truncate", "html", "latency")
#: Permanent contract violations the mock can be switched into (see ``_app.py``).
DEFECTS = (
    "wrong_type",  # budget_limit sent as a string
    "missing_required",  # created_at left out
    "null_non_nullable",  # id sent as null
    "unknown_enum",  # a provider the fragment does not list
    "over_max_length",  # deployment_name of 513 characters
    "no_auth",  # 200 without credentials
    "any_bearer",  # every Bearer token accepted
    "500_non_integer_id",  # a non-integer id crashes the server
    "secret_field",  # the provider API key leaks into the body
    "non_json_errors",  # error bodies as text/plain
    "wrong_content_type",  # 200 bodies as text/plain
    "community",  # the endpoint is absent: HTML 404 (Community Edition)
    # Authorization regressions (see _access.py: Label Studio's three checks):
    "authz_no_org_filter",  # no organisation filter, no object permission: anyone with the role reads and lists every organisation's rows
    "authz_oracle",  # organisation filter dropped, object permission kept: another organisation's row is a 403, an unknown id a 404 (an existence oracle); the list holds every organisation's rows
    "authz_no_role_check",  # the view's role check and the role half of has_permission dropped: any member of the organisation reads and lists its rows
)


def _as_tuple(kinds: Iterable[str]) -> tuple[str, ...]:
    return tuple(kinds)


def _as_list(script: Iterable[str]) -> list[str]:
    return list(script)


@attrs.define
class FaultPlan:
    """Which requests get which fault. Thread-safe; ``stats`` counts every injected fault."""

    rate: float = attrs.field(
        default=0.0, validator=[attrs.validators.ge(0), attrs.validators.le(1)]
    )
    kinds: tuple[str, ...] = attrs.field(default=FAULT_KINDS, converter=_as_tuple)
    script: list[str] = attrs.field(factory=list, converter=_as_list)
    seed: int = 0
    #: Seconds added by the "latency" fault.
    latency: float = 0.05
    #: Seconds sent in Retry-After with a 429.
    retry_after: float = 1.0
    stats: Counter[str] = attrs.field(factory=Counter, init=False)
    _random: random.Random = attrs.field(init=False)
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False)

    def __attrs_post_init__(self) -> None:
        unknown = set(self.kinds) - set(FAULT_KINDS) | set(self.script) - {*FAULT_KINDS, "ok"}
        if unknown:
            raise ValueError(
                f"unknown fault kind(s) {sorted(unknown)}; known: {', '.join(FAULT_KINDS)}"
            )
        self._random = random.Random(self.seed)  # noqa: S311 - reproducible, not secret

    def next_fault(self) -> str | None:
        """The fault for the next request (``None``: answer normally)."""
        with self._lock:
            self.stats["requests"] += 1
            if self.script:
                kind: str | None = self.script.pop(0)
                kind = None if kind == "ok" else kind
            elif self.rate and self._random.random() < self.rate:
                kind = self._random.choice(self.kinds)
            else:
                kind = None
            if kind:
                self.stats[kind] += 1
                self.stats["faults"] += 1
            return kind

    def describe(self) -> str:
        """The plan as ``--faults`` takes it."""
        if self.script:
            return f"script={'+'.join(self.script)}"
        return (
            f"rate={self.rate:g},kinds={'+'.join(self.kinds)},seed={self.seed},"
            f"latency={self.latency:g},retry_after={self.retry_after:g}"
        )

    @classmethod
    def parse(cls, text: str) -> FaultPlan:
        """Build a plan from ``key=value`` pairs separated by commas (see the module doc)."""
        kwargs: dict[str, object] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            key, sep, value = part.partition("=")
            if not sep:
                raise ValueError(f"expected key=value in fault spec, got {part!r}")
            if key in ("rate", "latency", "retry_after"):
                kwargs[key] = float(value)
            elif key == "seed":
                kwargs[key] = int(value)
            elif key in ("kinds", "script"):
                kwargs[key] = [k for k in value.split("+") if k]
            else:
                raise ValueError(f"unknown fault option {key!r}")
        return cls(**kwargs)  # type: ignore[arg-type]
