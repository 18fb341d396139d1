"""Who may report a deployment's usage: its own report token, or the admin."""

from __future__ import annotations

from app.access.principals import Principal, Role
from app.store.db import SessionFactory
from app.tenancy import queries
from app.tenancy.errors import Forbidden, NotFound
from app.tenancy.scope import Scope


async def report_scope(*, sessions: SessionFactory, principal: Principal, namespace: str) -> Scope:
    if principal.is_admin:
        return Scope.everything()
    if principal.role is not Role.REPORTER:
        raise Forbidden("usage is reported with the deployment's report token")
    async with sessions() as session:
        try:
            deployment = await queries.get_deployment(
                session=session, scope=Scope.everything(), namespace=namespace
            )
        except NotFound:
            deployment = None
    # The token was verified when the request was authenticated; here only which
    # deployment it names matters.
    if deployment is None or deployment.id != principal.deployment_id:
        # A token of another deployment learns nothing about this namespace.
        raise NotFound(f'no deployment in namespace "{namespace}"')
    return Scope(tenant_org_id=deployment.tenant_org_id)
