"""The retry policy: small pure functions, so each decision is unit- and property-tested.

GET is idempotent, so a call is retried after a connection error, a read timeout, a
408/429/502/503/504 (500 only with ``retry_on_500=True``) or a 2xx whose body is not JSON at
all (truncated on the way), never after another 4xx or a well-formed body of the wrong shape. The wait
is the server's ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date) when it sent
one, capped at ``retry_after_cap``; otherwise exponential backoff with full jitter. No retry
starts when its wait would end past the call's deadline.

A library (stamina, tenacity) would not make this smaller: the core client depends on httpx
and attrs only, and neither library reads Retry-After headers for us.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import math
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ._constants import (
    BACKOFF_BASE,
    BACKOFF_CAP,
    DEFAULT_DEADLINE,
    DEFAULT_MAX_RETRIES,
    MAX_SECONDS,
    RETRY_AFTER_CAP,
    RETRY_STATUSES,
)

__all__ = ["RetryPolicy"]


def _non_negative_int(instance: object, attribute: attrs.Attribute[int], value: object) -> None:
    if type(value) is not int or value < 0:
        raise ValueError(f"RetryPolicy.{attribute.name} must be an int >= 0, got {value!r}")


def _seconds(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if type(value) is bool or not isinstance(value, int | float) or not 0 <= value <= MAX_SECONDS:
        raise ValueError(
            f"RetryPolicy.{attribute.name} must be a number of seconds from 0 to "
            f"{MAX_SECONDS:,.0f}, got {value!r}"
        )


def _deadline(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if type(value) is bool or not isinstance(value, int | float) or not 0 < value <= MAX_SECONDS:
        raise ValueError(
            f"RetryPolicy.deadline must be > 0 and at most {MAX_SECONDS:,.0f} seconds, or None, "
            f"got {value!r}"
        )


def _flag(instance: object, attribute: attrs.Attribute[bool], value: object) -> None:
    if type(value) is not bool:
        raise ValueError(f"RetryPolicy.{attribute.name} must be True or False, got {value!r}")


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How a call is retried and how long it may take. ``RetryPolicy(max_retries=0)`` turns
    retries off. Every field is checked when the policy is built (``ValueError``).

    Example::

        Client(base_url=..., api_key=..., retry=RetryPolicy(max_retries=5, retry_on_500=True))

    Args:
        max_retries: retries after the first attempt.
        backoff_base: first backoff ceiling, in seconds; doubles per attempt.
        backoff_cap: the largest backoff ceiling, in seconds.
        retry_after_cap: a server-requested wait is honoured up to this many seconds.
        deadline: seconds for the whole call: every attempt, wait, token refresh and body
            read (``None``: no deadline; then only the per-attempt timeouts bound a call).
        retry_on_500: also retry 500 Internal Server Error.
        retry_on_malformed_body: retry a 2xx whose body is not JSON at all (cut short or
            garbled on the way); a JSON body of the wrong shape is never retried.
    """

    max_retries: int = attrs.field(default=DEFAULT_MAX_RETRIES, validator=_non_negative_int)
    backoff_base: float = attrs.field(default=BACKOFF_BASE, validator=_seconds)
    backoff_cap: float = attrs.field(default=BACKOFF_CAP, validator=_seconds)
    retry_after_cap: float = attrs.field(default=RETRY_AFTER_CAP, validator=_seconds)
    deadline: float | None = attrs.field(default=DEFAULT_DEADLINE, validator=_deadline)
    retry_on_500: bool = attrs.field(default=False, validator=_flag)
    retry_on_malformed_body: bool = attrs.field(default=True, validator=_flag)


def is_retryable_status(status: int, policy: RetryPolicy) -> bool:
    """True for statuses a GET may be retried on."""
    return status in RETRY_STATUSES or (status == 500 and policy.retry_on_500)


def parse_retry_after(headers: Mapping[str, str], now: dt.datetime | None = None) -> float | None:
    """Seconds the server asked us to wait, or ``None`` when it did not say (or said nonsense).

    ``retry-after-ms`` (milliseconds) wins over ``Retry-After`` (seconds or an HTTP date).
    """
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        raw = headers.get(name)
        if raw is None:
            continue
        seconds: float | None
        try:
            seconds = float(raw) * scale
        except ValueError:
            seconds = _seconds_until_http_date(raw, now) if scale == 1.0 else None
        if seconds is not None and math.isfinite(seconds):
            return max(0.0, seconds)
    return None


def _seconds_until_http_date(raw: str, now: dt.datetime | None) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return (when - (now or dt.datetime.now(dt.UTC))).total_seconds()


def backoff(attempt: int, policy: RetryPolicy, random: Callable[[], float]) -> float:
    """Full-jitter backoff before retry number ``attempt`` (0-based); ``random()`` in [0, 1)."""
    ceiling = min(policy.backoff_cap, policy.backoff_base * 2.0 ** min(attempt, 62))
    return ceiling * random()


def retry_delay(
    attempt: int,
    policy: RetryPolicy,
    *,
    retry_after: float | None,
    random: Callable[[], float],
) -> float:
    """Seconds to wait before retry number ``attempt``: the server's wish (capped) or backoff."""
    if retry_after is not None:
        return min(retry_after, policy.retry_after_cap)
    return backoff(attempt, policy, random)


def may_retry(attempt: int, delay: float, elapsed: float, policy: RetryPolicy) -> bool:
    """Whether retry number ``attempt`` may start after waiting ``delay`` seconds."""
    if attempt >= policy.max_retries:
        return False
    return policy.deadline is None or elapsed + delay < policy.deadline
