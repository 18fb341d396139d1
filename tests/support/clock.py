"""A clock a test moves by hand, for the runtime's ``clock`` (records, ledger, bills)."""

from __future__ import annotations

from datetime import datetime, timedelta


class ManualClock:
    def __init__(self, start: datetime) -> None:
        assert start.tzinfo is not None, "the control plane's clock is timezone-aware"
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now
