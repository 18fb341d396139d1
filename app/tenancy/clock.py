"""Where the control plane's writes take the time from: a clock the runtime holds and
passes down (the real UTC clock by default), so a test can say what time it is."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from app.store.tables import utcnow

# Returns the current moment, timezone-aware, in UTC.
Clock = Callable[[], datetime]

SYSTEM_CLOCK: Clock = utcnow
