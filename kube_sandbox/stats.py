"""Request counters, so tests can assert how many calls of each kind were made and how
much concurrent pressure a client put on the API server."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .errors import ApiError


@dataclass
class Outcome:
    """Filled in by the request handler: the HTTP status it answered."""

    status: int | None = None


class RequestStats:
    def __init__(self) -> None:
        self._requests: Counter[str] = Counter()
        # What RBAC would be asked to allow: (API group, resource[/subresource], verb).
        self._access: Counter[tuple[str, str, str]] = Counter()
        self._responses: Counter[str] = Counter()
        self._in_flight = 0
        self._max_in_flight = 0

    @contextmanager
    def track(self, method: str, resource: str, *, long_running: bool = False) -> Iterator[Outcome]:
        """Count one API request and, when it ends, its response status.

        ``resource`` is the plural or "plural/subresource". Long-running requests
        (watches) are left out of the in-flight figures, as the apiserver's
        max-requests-inflight limit leaves them out.
        """
        self._requests[f"{method} {resource}"] += 1
        outcome = Outcome()
        if not long_running:
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
        try:
            yield outcome
        except ApiError as exc:
            outcome.status = exc.code
            raise
        except Exception:
            outcome.status = 500
            raise
        finally:
            if not long_running:
                self._in_flight -= 1
            if outcome.status is not None:  # None: the client went away mid-request
                self._responses[f"{method} {resource} {outcome.status}"] += 1

    def note_access(self, group: str, resource: str, verb: str) -> None:
        """Count one request by its authorization attributes, as an audit log records
        them ("" is the core group; a subresource as "statefulsets/scale")."""
        self._access[group, resource, verb] += 1

    def snapshot(self) -> dict[str, Any]:
        return {
            "requests": dict(sorted(self._requests.items())),
            "access": [
                {"group": group, "resource": resource, "verb": verb, "count": count}
                for (group, resource, verb), count in sorted(self._access.items())
            ],
            "responses": dict(sorted(self._responses.items())),
            "in_flight": self._in_flight,
            "max_in_flight": self._max_in_flight,
        }

    def reset(self) -> None:
        self._requests.clear()
        self._access.clear()
        self._responses.clear()
        self._max_in_flight = self._in_flight
