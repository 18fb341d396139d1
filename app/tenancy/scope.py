"""What part of the tenant data a caller may see and change.

Every query the API runs for a caller takes its Scope, so foreign rows are filtered
out in SQL and never reach a response; a look-up outside the scope is simply "not
found", never confirming that another organisation's resource exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import col

from app.store.tables import TenantContainerRow
from app.tenancy.errors import Forbidden

# The names of the bound parameters of ``Scope.placeholders``.
_ORG, _USER = "scope_tenant_org_id", "scope_user"


@dataclass(frozen=True)
class Scope:
    tenant_org_id: str | None = None  # None: every organisation (the platform admin)
    user: str | None = None  # None: every user of the organisation

    @classmethod
    def everything(cls) -> Scope:
        return cls()

    def covers(self, *, tenant_org_id: str, user: str) -> bool:
        return self.tenant_org_id in (None, tenant_org_id) and self.user in (None, user)

    def covers_org(self, tenant_org_id: str) -> bool:
        return self.tenant_org_id in (None, tenant_org_id)

    @classmethod
    def placeholders(cls, *, org: bool, user: bool) -> Scope:
        """A scope of this kind whose values are bound parameters: a statement it
        restricts can be built once per kind of scope and run with any scope of that
        kind's ``parameters()`` (a value left out fails the statement, never widens it)."""
        return cls(
            tenant_org_id=bindparam(_ORG) if org else None,  # type: ignore[arg-type]
            user=bindparam(_USER) if user else None,  # type: ignore[arg-type]
        )

    def parameters(self) -> dict[str, str]:
        """The values of the bound parameters of ``placeholders`` of this scope's kind."""
        named = ((_ORG, self.tenant_org_id), (_USER, self.user))
        return {name: value for name, value in named if value is not None}

    def restrict(self, statement: Any) -> Any:
        if self.tenant_org_id is not None:
            statement = statement.where(col(TenantContainerRow.tenant_org_id) == self.tenant_org_id)
        if self.user is not None:
            statement = statement.where(col(TenantContainerRow.user) == self.user)
        return statement

    def require_acting(self, *, tenant_org_id: str, user: str) -> None:
        """Acting (creating) for another organisation or user is refused outright:
        there is nothing to hide, the caller named the target itself."""
        if not self.covers_org(tenant_org_id):
            raise Forbidden(f'this key may not act in organisation "{tenant_org_id}"')
        if not self.covers(tenant_org_id=tenant_org_id, user=user):
            raise Forbidden(f'this key may not act for user "{user}"')
