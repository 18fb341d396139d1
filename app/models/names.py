"""What a tenant's names may look like and the namespace they produce: the DNS-1123
label rule and the reserved namespaces, each written once."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from app.models.rules import RuleViolation

MAX_NAME_LENGTH = 63
# A DNS-1123 label (without its length limit): lowercase alphanumerics and '-', starting
# and ending with an alphanumeric.
LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL = re.compile(LABEL)
NAME_RULE = (
    "use lowercase letters a-z, digits and '-', starting and ending with a letter or digit, "
    f"at most {MAX_NAME_LENGTH} characters"
)
# The same rule as JSON Schema keywords, for descriptions of the API.
NAME_SCHEMA: dict[str, Any] = {
    "pattern": f"^{LABEL}$",
    "minLength": 1,
    "maxLength": MAX_NAME_LENGTH,
}
# Namespaces Kubernetes owns, reserved whatever the operator configures; `*` ends a prefix.
BUILT_IN_RESERVED = ("default", "kube-*")
# The same as JSON Schema (the platform's own namespace and the operator's list are
# settings, so only described in words).
RESERVED_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"enum": [p for p in BUILT_IN_RESERVED if not p.endswith("*")]},
        *(
            {"type": "string", "pattern": f"^{p.removesuffix('*')}"}
            for p in BUILT_IN_RESERVED
            if p.endswith("*")
        ),
    ]
}


def is_dns1123_label(value: str) -> bool:
    return len(value) <= MAX_NAME_LENGTH and _DNS1123_LABEL.fullmatch(value) is not None


def check_name(field: str, value: str) -> str:
    """A tenant name is used verbatim as a label value and inside the namespace, so it
    must be a DNS-1123 label; anything else is refused rather than mangled (mangling
    could map two tenants onto one name)."""
    if not is_dns1123_label(value):
        raise RuleViolation(f'{field} "{value}" is not a valid name: {NAME_RULE}')
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


def _refuse_reserved(namespace: str, *, reserved: ReservedNamespaces, what: str, hint: str) -> None:
    if namespace in reserved:
        raise RuleViolation(
            f'{what} "{namespace}" is reserved for Kubernetes or the platform; {hint}'
        )


def default_namespace(
    *, tenant_org_id: str, user: str, service_name: str, reserved: ReservedNamespaces
) -> str:
    namespace = f"{tenant_org_id}-{user}-{service_name}"
    if len(namespace) > MAX_NAME_LENGTH:
        raise RuleViolation(
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
        raise RuleViolation(
            f'namespace "{value}" must start with "{org_prefix}-": with an organisation\'s '
            "or user's key, a custom namespace begins with the organisation id and '-'"
        )
    return value
