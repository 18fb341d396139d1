"""Request counters, so tests can assert how many calls of each kind were made."""

from __future__ import annotations

from collections import Counter
from typing import Any


class RequestStats:
    def __init__(self) -> None:
        self._requests: Counter[str] = Counter()

    def record(self, method: str, resource: str) -> None:
        """Count one request; ``resource`` is the plural, or "plural/subresource"."""
        self._requests[f"{method} {resource}"] += 1

    def snapshot(self) -> dict[str, Any]:
        return {"requests": dict(sorted(self._requests.items()))}

    def reset(self) -> None:
        self._requests.clear()
