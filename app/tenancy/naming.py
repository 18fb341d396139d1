"""Names: what a tenant's names may look like, the namespace they produce and record ids."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

from app.tenancy.errors import InvalidInput

MAX_NAME_LENGTH = 63
_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_NAME_RULE = (
    "use lowercase letters a-z, digits and '-', starting and ending with a letter or digit, "
    f"at most {MAX_NAME_LENGTH} characters"
)
# Namespaces Kubernetes owns, reserved whatever the operator configures; `*` ends a prefix.
BUILT_IN_RESERVED = ("default", "kube-*")


def is_dns1123_label(value: str) -> bool:
    return len(value) <= MAX_NAME_LENGTH and _DNS1123_LABEL.fullmatch(value) is not None


def check_name(field: str, value: str) -> str:
    """A tenant name is used verbatim as a label value and inside the namespace, so it
    must be a DNS-1123 label; anything else is refused rather than mangled (mangling
    could map two tenants onto one name)."""
    if not is_dns1123_label(value):
        raise InvalidInput(f'{field} "{value}" is not a valid name: {_NAME_RULE}')
    return value


@dataclass(frozen=True)
class ReservedNamespaces:
    """Namespaces no tenant cluster may use: Kubernetes' own, the platform's (every
    tenant NetworkPolicy admits it, so a tenant's pods there would reach every other
    tenant) and the operator's list. A pattern ending in ``*`` reserves a prefix."""

    names: frozenset[str]
    prefixes: tuple[str, ...]

    @classmethod
    def of(cls, *, platform_namespace: str, extra: Iterable[str] = ()) -> ReservedNamespaces:
        patterns = [*BUILT_IN_RESERVED, *extra]
        return cls(
            names=frozenset({platform_namespace, *(p for p in patterns if not p.endswith("*"))}),
            prefixes=tuple(p.removesuffix("*") for p in patterns if p.endswith("*")),
        )

    def __contains__(self, namespace: object) -> bool:
        return isinstance(namespace, str) and (
            namespace in self.names or namespace.startswith(self.prefixes)
        )


def _refuse_reserved(
    namespace: str, *, reserved: ReservedNamespaces, what: str, hint: str
) -> None:
    if namespace in reserved:
        raise InvalidInput(
            f'{what} "{namespace}" is reserved for Kubernetes or the platform; {hint}'
        )


def default_namespace(
    *, tenant_org_id: str, user: str, service_name: str, reserved: ReservedNamespaces
) -> str:
    namespace = f"{tenant_org_id}-{user}-{service_name}"
    if len(namespace) > MAX_NAME_LENGTH:
        raise InvalidInput(
            f'the generated namespace "{namespace}" is {len(namespace)} characters long, '
            f"more than Kubernetes allows ({MAX_NAME_LENGTH}); use shorter names "
            "or pass a namespace"
        )
    # An organisation called "kube" would otherwise generate kube-node-lease.
    _refuse_reserved(
        namespace, reserved=reserved, what="the generated namespace", hint="pass a namespace"
    )
    return namespace


def check_namespace(value: str, *, reserved: ReservedNamespaces, org_prefix: str | None) -> str:
    """A custom namespace. ``org_prefix``: the organisation it must belong to by name
    (``{org}-...``), for callers bound to one; None for the platform admin, who may
    choose any name that is not reserved."""
    check_name("namespace", value)
    _refuse_reserved(value, reserved=reserved, what="namespace", hint="choose another")
    if org_prefix is not None and not value.startswith(f"{org_prefix}-"):
        raise InvalidInput(
            f'namespace "{value}" must start with "{org_prefix}-": with an organisation\'s '
            "or user's key, a custom namespace begins with the organisation id and '-'"
        )
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
