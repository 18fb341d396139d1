"""The per-caller token bucket shared by HTTP requests and WebSocket operations."""

from __future__ import annotations

from app.access.rate_limit import RateLimiter


def test_rate_limiter_refills_and_forgets_idle_callers() -> None:
    limiter = RateLimiter(per_minute=2, max_callers=3)
    assert limiter.retry_after("a") == 0
    assert limiter.retry_after("a") == 0
    assert 0 < limiter.retry_after("a") <= 30
    for bucket in limiter._buckets.values():
        bucket.stamp -= 120  # two idle minutes later
    for caller in ("b", "c", "d"):
        assert limiter.retry_after(caller) == 0
    assert "a" not in limiter._buckets
    assert len(limiter._buckets) <= 3
