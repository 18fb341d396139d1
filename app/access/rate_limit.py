"""The per-caller rate limit: one object per process, drawn from by every HTTP request
and by every operation sent over a WebSocket.

Budgets are keyed by verified identity (``Principal.actor``: the admin, ``key:<id>``,
``reporter:<deployment id>``) or, for callers who proved nothing, by client address,
so a flood of made-up tokens only ever empties its sender's own budget.

Counting is the `limits` library's (the one behind slowapi), asked directly rather
than through a framework's decorator, since both an ASGI middleware and a WebSocket
handler ask it. Its sliding-window counter comes closest to a token bucket: a burst up
to the limit, then capacity coming back continuously as the previous window's count
decays (no double burst at a window's edge, as a fixed window allows), in two counters
per caller (a moving window keeps a timestamp per request: 600 per caller at the
default). Counters expire two windows after their last use, so memory follows the
callers of the last two minutes, not every caller ever seen. The storage is a `limits`
URI: ``memory://`` (this process), or e.g. ``redis://host:6379`` so that several
replicas share one budget per caller (that storage's client package must then be
installed, e.g. ``pip install 'limits[redis]'``).
"""

from __future__ import annotations

import time

from limits import RateLimitItemPerSecond
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import ConfigurationError
from limits.storage import storage_from_string

from app.access.principals import Principal

# Keys in a shared storage start with this, apart from any other application's.
NAMESPACE = "es-serverless"
# A refused caller is always told to wait a little: 0 means "go ahead".
MIN_WAIT_SECONDS = 0.001


def caller_key(principal: Principal | None, client_address: str | None) -> str:
    return principal.actor if principal is not None else f"ip:{client_address or '?'}"


def async_storage_uri(uri: str) -> str:
    """`limits` names its asyncio storages ``async+<scheme>``; the setting takes the
    plain URI its documentation shows as well."""
    return uri if uri.startswith("async+") else f"async+{uri}"


class RateLimiter:
    """``limit`` requests per caller in any ``window_seconds``."""

    def __init__(self, *, limit: int, window_seconds: int = 60, storage: str = "memory://"):
        self._item = RateLimitItemPerSecond(limit, window_seconds, namespace=NAMESPACE)
        # Built here, so a storage `limits` does not know (or cannot reach for want of
        # its client package) stops the server at start, not at the first request.
        try:
            backend = storage_from_string(async_storage_uri(storage))
        except ConfigurationError as exc:
            raise ConfigurationError(f"rate limit storage {storage!r}: {exc}") from None
        self._strategy = SlidingWindowCounterRateLimiter(backend)

    async def take(self, caller: str) -> float:
        """Take one request from the caller's budget: 0 when it may go ahead, else the
        seconds until it may (none is taken then)."""
        if await self._strategy.hit(self._item, caller):
            return 0.0
        stats = await self._strategy.get_window_stats(self._item, caller)
        return max(stats.reset_time - time.time(), MIN_WAIT_SECONDS)
