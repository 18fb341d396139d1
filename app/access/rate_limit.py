"""The per-caller token bucket: one object per process, drawn from by every HTTP
request and by every operation sent over a WebSocket.

Buckets are keyed by verified identity (``Principal.actor``: the admin, ``key:<id>``,
``reporter:<deployment id>``) or, for callers who proved nothing, by client address,
so a flood of made-up tokens only ever empties its sender's own bucket.
(Hand-written rather than a library: it is a dozen lines, and the libraries at hand
are built around a framework's request object, while this one is asked from an ASGI
middleware and from a WebSocket handler alike.)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from app.access.principals import Principal


def caller_key(principal: Principal | None, client_address: str | None) -> str:
    return principal.actor if principal is not None else f"ip:{client_address or '?'}"


@dataclass
class _Bucket:
    tokens: float
    stamp: float


@dataclass
class RateLimiter:
    """A token bucket per caller: ``per_minute`` requests, refilled continuously."""

    per_minute: int
    max_callers: int = 10_000
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def retry_after(self, caller: str) -> float:
        """0 when the request may go ahead, else the seconds until it may."""
        now = time.monotonic()
        rate = self.per_minute / 60.0
        if len(self._buckets) >= self.max_callers and caller not in self._buckets:
            self._forget_idle(now)
        bucket = self._buckets.setdefault(caller, _Bucket(float(self.per_minute), now))
        bucket.tokens = min(float(self.per_minute), bucket.tokens + (now - bucket.stamp) * rate)
        bucket.stamp = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / rate

    def _forget_idle(self, now: float) -> None:
        """Drop callers whose bucket has refilled: remembering them changes nothing, and
        many callers (say, bad tokens from many addresses) must not grow memory."""
        full_after = 60.0
        for caller in [c for c, b in self._buckets.items() if now - b.stamp >= full_after]:
            del self._buckets[caller]
