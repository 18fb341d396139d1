"""Names: what a tenant's names may look like, the namespace they produce and record ids."""

from __future__ import annotations

import re
import threading
import time

from app.tenancy.errors import InvalidInput

MAX_NAME_LENGTH = 63
_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_NAME_RULE = (
    "use lowercase letters a-z, digits and '-', starting and ending with a letter or digit, "
    f"at most {MAX_NAME_LENGTH} characters"
)
# Namespaces Kubernetes or the platform itself owns; a tenant must never land in one.
_RESERVED_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})


def is_dns1123_label(value: str) -> bool:
    return len(value) <= MAX_NAME_LENGTH and _DNS1123_LABEL.fullmatch(value) is not None


def check_name(field: str, value: str) -> str:
    """A tenant name is used verbatim as a label value and inside the namespace, so it
    must be a DNS-1123 label; anything else is refused rather than mangled (mangling
    could map two tenants onto one name)."""
    if not is_dns1123_label(value):
        raise InvalidInput(f'{field} "{value}" is not a valid name: {_NAME_RULE}')
    return value


def default_namespace(*, tenant_org_id: str, user: str, service_name: str) -> str:
    namespace = f"{tenant_org_id}-{user}-{service_name}"
    if len(namespace) > MAX_NAME_LENGTH:
        raise InvalidInput(
            f'the generated namespace "{namespace}" is {len(namespace)} characters long, '
            f"more than Kubernetes allows ({MAX_NAME_LENGTH}); use shorter names "
            "or pass a namespace"
        )
    return namespace


def check_namespace(value: str) -> str:
    check_name("namespace", value)
    if value in _RESERVED_NAMESPACES or value.startswith("kube-"):
        raise InvalidInput(f'namespace "{value}" is reserved for Kubernetes; choose another')
    return value


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
