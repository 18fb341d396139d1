"""Fault injection: make the next N matching API requests fail with a Status error."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .errors import ApiError, reason_for

METHODS: tuple[str, ...] = ("GET", "POST", "PUT", "PATCH", "DELETE", "*")


@dataclass
class Fault:
    method: str = "*"
    resource: str = "*"  # plural, "plural/subresource", or "*"
    namespace: str | None = None
    status: int = 500
    reason: str | None = None
    message: str | None = None
    count: int = 1

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> Fault:
        """Build from the control API's JSON, rejecting nonsense with ValueError."""
        unknown = set(spec) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        fault = cls(**spec)
        fault.method = str(fault.method).upper()
        if fault.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}")
        if not isinstance(fault.status, int) or not 400 <= fault.status <= 599:
            raise ValueError("status must be an HTTP error code (400-599)")
        if not isinstance(fault.count, int) or fault.count < 1:
            raise ValueError("count must be a positive integer")
        if not fault.resource:
            raise ValueError("resource must be a plural resource name or '*'")
        return fault

    def matches(self, method: str, resource: str, namespace: str) -> bool:
        return (
            self.method in ("*", method)
            and self.resource in ("*", resource)
            and (self.namespace is None or self.namespace == namespace)
        )

    def error(self, resource: str, name: str) -> ApiError:
        reason = self.reason or reason_for(self.status)
        details: dict[str, Any] = {"name": name, "kind": resource}
        headers: dict[str, str] = {}
        if self.status in (429, 503):
            # Clients (client-go, kubectl) honour Retry-After on these codes.
            details["retryAfterSeconds"] = 1
            headers["Retry-After"] = "1"
        return ApiError(
            self.status,
            self.message or f"sandbox: injected fault ({self.status} {reason})",
            reason=reason,
            details=details,
            headers=headers,
        )


class FaultInjector:
    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> dict[str, Any]:
        self._faults.append(fault)
        return asdict(fault)

    def clear(self) -> None:
        self._faults.clear()

    def pending(self) -> list[dict[str, Any]]:
        return [asdict(f) for f in self._faults]

    def take(self, method: str, resource: str, namespace: str, name: str) -> ApiError | None:
        """The error for this request if a fault matches (consuming one use of it)."""
        for fault in self._faults:
            if fault.matches(method, resource, namespace):
                fault.count -= 1
                if fault.count <= 0:
                    self._faults.remove(fault)
                return fault.error(resource, name)
        return None
