"""GraphQL queries."""

from __future__ import annotations

import strawberry

from app.api.graphql.context import Info
from app.api.graphql.types import DeploymentStatus, Organization, TenantContainer
from app.tenancy import queries
from app.tenancy.errors import NotFound


@strawberry.type
class Query:
    @strawberry.field(description="An organisation's tree; empty lists when it owns nothing.")
    def organization(self, id: str) -> Organization:
        return Organization(id=id)

    @strawberry.field(description="All tenant containers, or one organisation's.")
    async def tenant_containers(
        self, info: Info, tenant_org_id: str | None = None, include_deleted: bool = False
    ) -> list[TenantContainer]:
        async with info.context.runtime.sessions() as session:
            if tenant_org_id is None:
                rows = await queries.list_containers(
                    session=session, include_deleted=include_deleted
                )
            else:
                rows = await queries.list_org_containers(
                    session=session, tenant_org_id=tenant_org_id, include_deleted=include_deleted
                )
        return [TenantContainer.from_row(row) for row in rows]

    @strawberry.field(
        description="One container; null when none. When the user/service pair exists "
        "in several organisations, pass tenantOrgId (error code CONFLICT otherwise)."
    )
    async def tenant_container(
        self,
        info: Info,
        user: str,
        service_name: str,
        tenant_org_id: str | None = None,
        include_deleted: bool = False,
    ) -> TenantContainer | None:
        async with info.context.runtime.sessions() as session:
            try:
                row = await queries.find_container(
                    session=session,
                    user=user,
                    service_name=service_name,
                    tenant_org_id=tenant_org_id,
                    include_deleted=include_deleted,
                )
            except NotFound:
                return None
        return TenantContainer.from_row(row)

    @strawberry.field(
        description="The deployment in a namespace (the live one, else the newest "
        "deleted one); null when none."
    )
    async def deployment_status(self, info: Info, namespace: str) -> DeploymentStatus | None:
        async with info.context.runtime.sessions() as session:
            try:
                row = await queries.get_deployment(session=session, namespace=namespace)
            except NotFound:
                return None
        return DeploymentStatus.from_row(row)
