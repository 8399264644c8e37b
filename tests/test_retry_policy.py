"""The retry policy's pure functions, with examples and properties."""

from __future__ import annotations

import datetime as dt
import email.utils

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ls_model_providers import RetryPolicy
from ls_model_providers._retry import (
    backoff,
    is_retryable_status,
    may_retry,
    parse_retry_after,
    retry_delay,
)

policies = st.builds(
    RetryPolicy,
    max_retries=st.integers(0, 10),
    backoff_base=st.floats(0, 10),
    backoff_cap=st.floats(0, 100),
    retry_after_cap=st.floats(0, 600),
    deadline=st.none() | st.floats(0.1, 1000),
    retry_on_500=st.booleans(),
)
unit = st.floats(0, 1, exclude_max=True)


@given(st.integers(0, 10_000), policies, unit)
def test_backoff_is_within_bounds(attempt: int, policy: RetryPolicy, r: float) -> None:
    delay = backoff(attempt, policy, lambda: r)
    assert 0 <= delay <= policy.backoff_cap
    assert delay <= policy.backoff_base * 2.0 ** min(attempt, 62)


@given(st.integers(0, 50), policies, st.floats(0, 1e6), unit)
def test_retry_after_respected_up_to_the_cap(
    attempt: int, policy: RetryPolicy, wait: float, r: float
) -> None:
    delay = retry_delay(attempt, policy, retry_after=wait, random=lambda: r)
    assert delay == min(wait, policy.retry_after_cap)


@given(st.integers(100, 599), policies)
def test_only_the_documented_statuses_are_retryable(status: int, policy: RetryPolicy) -> None:
    expected = status in {408, 429, 502, 503, 504} or (status == 500 and policy.retry_on_500)
    assert is_retryable_status(status, policy) is expected


@given(st.integers(0, 20), st.floats(0, 100), st.floats(0, 1000), policies)
def test_may_retry_respects_count_and_deadline(
    attempt: int, delay: float, elapsed: float, policy: RetryPolicy
) -> None:
    allowed = may_retry(attempt, delay, elapsed, policy)
    if allowed:
        assert attempt < policy.max_retries
        assert policy.deadline is None or elapsed + delay < policy.deadline


@given(st.integers(0, 10**6))
def test_retry_after_seconds(seconds: int) -> None:
    assert parse_retry_after({"retry-after": str(seconds)}) == float(seconds)


@given(st.floats(0, 1e7, allow_nan=False))
def test_retry_after_ms(ms: float) -> None:
    assert parse_retry_after({"retry-after-ms": repr(ms)}) == pytest.approx(ms / 1000)


@given(st.text())
def test_retry_after_never_raises(raw: str) -> None:
    for name in ("retry-after", "retry-after-ms"):
        value = parse_retry_after({name: raw})
        assert value is None or value >= 0


def test_retry_after_http_date() -> None:
    now = dt.datetime(2026, 11, 27, 12, 0, 0, tzinfo=dt.UTC)
    later = email.utils.format_datetime(now + dt.timedelta(seconds=42), usegmt=True)
    assert parse_retry_after({"retry-after": later}, now=now) == 42.0
    earlier = email.utils.format_datetime(now - dt.timedelta(seconds=42), usegmt=True)
    assert parse_retry_after({"retry-after": earlier}, now=now) == 0.0


@pytest.mark.parametrize("raw", ["", "soon", "nan", "inf", "-inf"])
def test_retry_after_nonsense_is_ignored(raw: str) -> None:
    assert parse_retry_after({"retry-after": raw}) is None


def test_negative_retry_after_means_now() -> None:
    assert parse_retry_after({"retry-after": "-5"}) == 0.0


def test_policy_rejects_negative_values() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        RetryPolicy(max_retries=-1)


def test_defaults() -> None:
    policy = RetryPolicy()
    assert policy.max_retries == 2
    assert policy.retry_after_cap == 60.0
    assert policy.retry_on_500 is False
