"""The authenticated caller of a request."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from app.tenancy.errors import Forbidden
from app.tenancy.scope import Scope


class Role(enum.StrEnum):
    ADMIN = "admin"
    ORG_KEY = "org_key"
    REPORTER = "reporter"  # a deployment's report token: may only report usage


@dataclass(frozen=True)
class Principal:
    role: Role
    actor: str  # how the audit log names it: "admin", "key:<id>", "reporter"
    tenant_org_id: str | None = None
    user: str | None = None
    token: str = ""  # kept for reporters only: checked against the namespace reported on

    @classmethod
    def admin(cls) -> Principal:
        return cls(Role.ADMIN, "admin")

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def scope(self) -> Scope:
        """What this caller sees of tenant data. Reporters see none of it."""
        if self.role is Role.REPORTER:
            raise Forbidden("a report token can only report usage of its deployment")
        if self.role is Role.ADMIN:
            return Scope.everything()
        return Scope(tenant_org_id=self.tenant_org_id, user=self.user)

    def require_admin(self) -> None:
        if not self.is_admin:
            raise Forbidden("only the platform administrator may do this")
