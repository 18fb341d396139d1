"""GraphQL queries."""

from __future__ import annotations

import strawberry

from app.api.graphql.context import Info
from app.api.graphql.types import DeploymentStatus, Organization, TenantContainer
from app.tenancy import service
from app.tenancy.errors import NotFound


@strawberry.type
class Query:
    @strawberry.field(description="An organisation's tree; empty lists when it owns nothing.")
    def organization(self, id: str) -> Organization:
        return Organization(id=id)

    @strawberry.field(description="All tenant containers, or one organisation's.")
    async def tenant_containers(
        self, info: Info, tenant_org_id: str | None = None
    ) -> list[TenantContainer]:
        async with info.context.runtime.sessions() as session:
            if tenant_org_id is None:
                rows = await service.list_containers(session=session)
            else:
                rows = await service.list_org_containers(
                    session=session, tenant_org_id=tenant_org_id
                )
        return [TenantContainer.from_row(row) for row in rows]

    @strawberry.field(
        description="One container; null when none. When the user/service pair exists "
        "in several organisations, pass tenantOrgId (error code CONFLICT otherwise)."
    )
    async def tenant_container(
        self, info: Info, user: str, service_name: str, tenant_org_id: str | None = None
    ) -> TenantContainer | None:
        async with info.context.runtime.sessions() as session:
            try:
                row = await service.find_container(
                    session=session,
                    user=user,
                    service_name=service_name,
                    tenant_org_id=tenant_org_id,
                )
            except NotFound:
                return None
        return TenantContainer.from_row(row)

    @strawberry.field(description="The deployment in a namespace; null when none.")
    async def deployment_status(self, info: Info, namespace: str) -> DeploymentStatus | None:
        async with info.context.runtime.sessions() as session:
            try:
                row = await service.get_deployment(session=session, namespace=namespace)
            except NotFound:
                return None
        return DeploymentStatus.from_row(row)
