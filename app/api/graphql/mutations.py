"""GraphQL mutations: the same flows as the REST shim, with the same validation."""

from __future__ import annotations

import strawberry

from app.api.graphql.context import Info
from app.api.graphql.types import (
    CreateClusterInput,
    DeploymentStatus,
    TenantContainer,
    UpdateClusterInput,
)
from app.tenancy import flows


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Record a cluster and start provisioning it; answers at once with "
        "status pending. Validation errors carry extensions.code BAD_USER_INPUT, "
        "duplicates and namespace collisions CONFLICT."
    )
    async def create_cluster(self, info: Info, input: CreateClusterInput) -> TenantContainer:
        runtime = info.context.runtime
        row = await flows.create_cluster(
            sessions=runtime.sessions,
            ids=runtime.ids,
            worker=runtime.worker,
            payload=input.as_payload(),
        )
        return TenantContainer.from_row(row)

    @strawberry.mutation(
        description="Change a running (or failed, or degraded) cluster: status updating, "
        "then created once the StatefulSet reports the new spec ready. Disk can only grow. "
        "With no changes it re-applies every object (repair)."
    )
    async def update_cluster(
        self, info: Info, namespace: str, input: UpdateClusterInput
    ) -> TenantContainer:
        runtime = info.context.runtime
        row = await flows.update_cluster(
            sessions=runtime.sessions,
            worker=runtime.worker,
            namespace=namespace,
            payload=input.as_payload(),
        )
        return TenantContainer.from_row(row)

    @strawberry.mutation(
        description="Delete a cluster by namespace, or by tenantOrgId, user and serviceName: "
        "status deleting, then deleted once its namespace is gone. The records stay. "
        "Deleting twice is not an error."
    )
    async def delete_cluster(
        self,
        info: Info,
        namespace: str | None = None,
        tenant_org_id: str | None = None,
        user: str | None = None,
        service_name: str | None = None,
    ) -> TenantContainer:
        runtime = info.context.runtime
        row = await flows.delete_cluster(
            sessions=runtime.sessions,
            worker=runtime.worker,
            namespace=namespace,
            tenant_org_id=tenant_org_id,
            user=user,
            service_name=service_name,
        )
        return TenantContainer.from_row(row)

    @strawberry.mutation(
        description="A running cluster reports its usage (cpu in cores, memory and disk "
        "in bytes, qps); fields left out keep their last value."
    )
    async def report_deployment_status(
        self,
        info: Info,
        namespace: str,
        cpu_usage: float | None = None,
        memory_usage: float | None = None,
        disk_usage: float | None = None,
        qps: float | None = None,
    ) -> DeploymentStatus:
        runtime = info.context.runtime
        report = {
            "cpu_usage": cpu_usage,
            "memory_usage": memory_usage,
            "disk_usage": disk_usage,
            "qps": qps,
        }
        row = await flows.report_usage(
            sessions=runtime.sessions,
            namespace=namespace,
            payload={k: v for k, v in report.items() if v is not None},
            retention=runtime.usage_retention,
        )
        return DeploymentStatus.from_row(row)
