"""GraphQL mutations."""

from __future__ import annotations

import strawberry

from app.api.graphql.context import Info
from app.api.graphql.types import CreateClusterInput, TenantContainer
from app.tenancy import create_flow


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Record a cluster and start provisioning it; answers at once with "
        "status pending. Validation errors carry extensions.code BAD_USER_INPUT, "
        "duplicates and namespace collisions CONFLICT."
    )
    async def create_cluster(self, info: Info, input: CreateClusterInput) -> TenantContainer:
        runtime = info.context.runtime
        row = await create_flow.create_cluster(
            sessions=runtime.sessions,
            ids=runtime.ids,
            provisioner=runtime.provisioner,
            payload=input.as_payload(),
        )
        return TenantContainer.from_row(row)
