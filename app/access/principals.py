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
    """Who is calling, and what must be checked again while a connection lasts: the
    API key's id (a key can be revoked). No secret is kept here."""

    role: Role
    # How the audit log names it and whose rate-limit budget it counts against:
    # "admin", "key:<id>", "reporter:<deployment id>".
    actor: str
    tenant_org_id: str | None = None
    user: str | None = None
    key_id: str | None = None  # organisation keys: re-checked on every WebSocket operation
    deployment_id: str | None = None  # reporters: the deployment their token names

    @classmethod
    def admin(cls) -> Principal:
        return cls(Role.ADMIN, "admin")

    @classmethod
    def api_key(cls, *, key_id: str, tenant_org_id: str, user: str | None) -> Principal:
        return cls(
            Role.ORG_KEY, f"key:{key_id}", tenant_org_id=tenant_org_id, user=user, key_id=key_id
        )

    @classmethod
    def reporter(cls, *, deployment_id: str) -> Principal:
        return cls(Role.REPORTER, f"reporter:{deployment_id}", deployment_id=deployment_id)

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

    def require_connection_reader(self, tenant_org_id: str) -> None:
        """Connection details (the `elastic` password, the cluster's CA) go only to the
        keys of the cluster's own organisation: the platform admin manages clusters but
        does not use them."""
        if self.role is not Role.ORG_KEY or self.tenant_org_id != tenant_org_id:
            raise Forbidden("connection details are readable only with the organisation's keys")

    def require_admin(self) -> None:
        if not self.is_admin:
            raise Forbidden("only the platform administrator may do this")
