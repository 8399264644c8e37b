"""The retry policy's pure functions, with examples and properties."""

from __future__ import annotations

import datetime as dt
import email.utils

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ls_model_providers import RetryPolicy, ServerError
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


@pytest.mark.parametrize(
    ("attempt", "ceiling"),
    [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 8.0), (10_000, 8.0)],
)
def test_backoff_doubles_from_half_a_second_up_to_eight(attempt: int, ceiling: float) -> None:
    policy = RetryPolicy()
    assert backoff(attempt, policy, lambda: 0.999) == pytest.approx(ceiling * 0.999)
    assert backoff(attempt, policy, lambda: 0.5) == ceiling / 2
    assert backoff(attempt, policy, lambda: 0.0) == 0.0


@given(st.integers(0, 10_000), policies, unit, unit)
def test_backoff_is_full_jitter_within_the_cap(
    attempt: int, policy: RetryPolicy, r: float, s: float
) -> None:
    delay = backoff(attempt, policy, lambda: r)
    assert 0 <= delay <= policy.backoff_cap
    assert backoff(attempt + 1, policy, lambda: r) >= delay, "never shorter for a later retry"
    if r < s:
        assert backoff(attempt, policy, lambda: s) >= delay, "jitter scales the wait"


@pytest.mark.parametrize(
    ("retry_after", "cap", "expected"),
    [(5.0, 60.0, 5.0), (100.0, 60.0, 60.0), (0.0, 60.0, 0.0), (100.0, 10.0, 10.0)],
)
def test_a_server_asked_wait_is_honoured_up_to_the_cap(
    retry_after: float, cap: float, expected: float
) -> None:
    policy = RetryPolicy(retry_after_cap=cap)
    assert retry_delay(3, policy, retry_after=retry_after, random=lambda: 0.5) == expected
    assert retry_delay(3, policy, retry_after=None, random=lambda: 0.5) == 2.0, "else backoff"


@given(st.integers(100, 599), policies)
def test_only_the_documented_statuses_are_retryable(status: int, policy: RetryPolicy) -> None:
    expected = status in {408, 429, 502, 503, 504} or (status == 500 and policy.retry_on_500)
    assert is_retryable_status(status, policy) is expected


@pytest.mark.parametrize(
    ("attempt", "delay", "elapsed", "allowed"),
    [
        (0, 1.0, 0.0, True), (1, 1.0, 0.0, True), (2, 1.0, 0.0, False),  # max_retries=2
        (0, 5.0, 4.9, True), (0, 5.0, 5.0, False), (0, 0.0, 10.0, False),  # deadline=10
    ],
)  # fmt: skip
def test_may_retry_at_its_edges(attempt: int, delay: float, elapsed: float, allowed: bool) -> None:
    assert may_retry(attempt, delay, elapsed, RetryPolicy(max_retries=2, deadline=10.0)) is allowed


def test_may_retry_without_a_deadline_or_without_retries() -> None:
    assert may_retry(0, 1e6, 1e6, RetryPolicy(deadline=None)) is True
    assert may_retry(0, 0.0, 0.0, RetryPolicy(max_retries=0)) is False


@given(st.integers(0, 20), st.floats(0, 100), st.floats(0, 1000), policies)
def test_a_retry_allowed_stays_allowed_sooner(
    attempt: int, delay: float, elapsed: float, policy: RetryPolicy
) -> None:
    if may_retry(attempt, delay, elapsed, policy):
        assert may_retry(0, 0.0, 0.0, policy)
        assert may_retry(attempt, delay / 2, elapsed / 2, policy)
    elif attempt < policy.max_retries and policy.deadline is None:
        raise AssertionError("retries left and no deadline: it may retry")


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


def test_the_default_policy_as_a_call_lives_it() -> None:
    """Three attempts, waits of at most 0.5 s then 1 s, all within 120 s."""
    from .helpers import Harness, Script, url

    script = Script(*[("GET", url(1), httpx.Response(503))] * 3)
    client = Harness("sync", script, jitter=lambda: 0.999)
    with pytest.raises(ServerError):
        client.get(1)
    assert client.sleeps == pytest.approx([0.4995, 0.999])
    assert script.done()
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    script = Script(*[("GET", url(1), httpx.Response(503, headers={"Retry-After": "50"}))] * 3)
    client = Harness("sync", script, clock=lambda: now[0], sleep=sleep)
    with pytest.raises(ServerError):
        client.get(1)
    assert now[0] == 100.0, "a third 50 s wait would end past the 120 s deadline"


@pytest.mark.parametrize(
    ("date", "seconds"),
    [
        ("Fri, 27 Nov 2026 12:00:42 GMT", 42.0),
        ("Fri, 27 Nov 2026 12:00:42 -0000", 42.0),  # no zone: read as UTC
        ("Fri, 27 Nov 2026 14:00:42 +0200", 42.0),
    ],
)
def test_retry_after_dates_in_any_zone(date: str, seconds: float) -> None:
    now = dt.datetime(2026, 11, 27, 12, 0, 0, tzinfo=dt.UTC)
    assert parse_retry_after({"retry-after": date}, now=now) == seconds


def test_retry_after_ms_is_milliseconds_only() -> None:
    date = "Fri, 27 Nov 2026 12:00:42 GMT"
    now = dt.datetime(2026, 11, 27, 12, 0, 0, tzinfo=dt.UTC)
    assert parse_retry_after({"retry-after-ms": date}, now=now) is None
    assert parse_retry_after({"retry-after-ms": date, "retry-after": "7"}, now=now) == 7.0
