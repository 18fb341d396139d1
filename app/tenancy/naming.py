"""Names: the rules for a tenant's names and namespaces (app.models.names, where the
cluster model checks them) as domain checks, and record ids."""

from __future__ import annotations

import threading
import time

from app.models import names
from app.models.names import MAX_NAME_LENGTH, ReservedNamespaces, is_dns1123_label
from app.tenancy.validation import rule_checks

__all__ = [
    "MAX_NAME_LENGTH",
    "IdSequence",
    "ReservedNamespaces",
    "check_name",
    "check_namespace",
    "container_id",
    "default_namespace",
    "deployment_id",
    "is_dns1123_label",
]


def check_name(field: str, value: str) -> str:
    """``value`` if it is a valid tenant name (a DNS-1123 label), else ``InvalidInput``."""
    with rule_checks():
        return names.check_name(field, value)


def default_namespace(
    *, tenant_org_id: str, user: str, service_name: str, reserved: ReservedNamespaces
) -> str:
    with rule_checks():
        return names.default_namespace(
            tenant_org_id=tenant_org_id, user=user, service_name=service_name, reserved=reserved
        )


def check_namespace(value: str, *, reserved: ReservedNamespaces, org_prefix: str | None) -> str:
    with rule_checks():
        return names.check_namespace(value, reserved=reserved, org_prefix=org_prefix)


class IdSequence:
    """The N in ``tenant_{user}_{service_name}_{N}``: microseconds since the epoch at
    creation, made strictly increasing within this process so two creates in the same
    instant (even of the same user/service in two organisations) never share an id.
    Across control-plane replicas the primary key catches a clash and the caller
    draws again."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> int:
        with self._lock:
            self._last = max(time.time_ns() // 1000, self._last + 1)
            return self._last


def container_id(*, user: str, service_name: str, n: int) -> str:
    return f"tenant_{user}_{service_name}_{n}"


def deployment_id(*, namespace: str, n: int) -> str:
    return f"deploy_{namespace}_{n}"
