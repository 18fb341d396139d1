"""GraphQL queries. Everything is read through the caller's scope: foreign rows are
never in a list, and a foreign single object is null, like one that does not exist."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app.access import audit, keys
from app.api.graphql import quotas
from app.api.graphql.connections import (
    DEPRECATED,
    After,
    Connection,
    ContainerOrder,
    Direction,
    First,
    OrderBy,
    SortDirection,
    connection,
)
from app.api.graphql.context import Info
from app.api.graphql.quotas import Quota
from app.api.graphql.sizing import VectorSizing, VectorSizingInput
from app.api.graphql.types import (
    AFTER_DESCRIPTION,
    FIRST_DESCRIPTION,
    ApiKey,
    AuditEntry,
    DeploymentStatus,
    FilterArgument,
    IncludeDeleted,
    Organization,
    TenantContainer,
    containers_connection,
    containers_of,
    given_fields,
    page_of,
)
from app.tenancy import flows, listings, queries
from app.tenancy.errors import NotFound
from app.tenancy.listings import Kind, Listing
from app.tenancy.paging import PageRequest
from app.tenancy.sizing import size_planned_cluster

OnlyOrg = Annotated[
    str | None,
    strawberry.argument(
        description="Only this organisation's (a tenant_org_id); unset: all the caller may see."
    ),
]
User = Annotated[str, strawberry.argument(description="The user id.")]
ServiceName = Annotated[str, strawberry.argument(description="The service name.")]


@strawberry.type
class Query:
    @strawberry.field(
        description="An organisation's tree; empty lists when it owns nothing, or nothing "
        "the caller may see."
    )
    def organization(
        self,
        info: Info,
        id: Annotated[str, strawberry.argument(description="The organisation's tenant_org_id.")],
    ) -> Organization:
        info.context.caller  # noqa: B018 - authenticated callers only
        return Organization(id=strawberry.ID(id))

    @strawberry.field(
        description="All tenant containers, or one organisation's, oldest first.",
        deprecation_reason=DEPRECATED.format("tenantContainersConnection"),
    )
    async def tenant_containers(
        self,
        info: Info,
        tenant_org_id: OnlyOrg = None,
        include_deleted: IncludeDeleted = False,
        first: Annotated[int | None, strawberry.argument(description=FIRST_DESCRIPTION)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
    ) -> list[TenantContainer]:
        scope = info.context.caller.scope
        page = page_of(info, first=first, after=after)
        async with info.context.runtime.sessions() as session:
            if tenant_org_id is None:
                rows = await queries.list_containers(
                    session=session, scope=scope, include_deleted=include_deleted, page=page
                )
            else:
                rows = await queries.list_org_containers(
                    session=session,
                    scope=scope,
                    tenant_org_id=tenant_org_id,
                    include_deleted=include_deleted,
                    page=page,
                )
        return await containers_of(info, rows)

    @strawberry.field(
        description="The tenant containers the caller sees (or one organisation's), a "
        "page at a time: filtered, in creation order (oldest first) or by name "
        "(service name, then user), either way round."
    )
    async def tenant_containers_connection(
        self,
        info: Info,
        tenant_org_id: OnlyOrg = None,
        first: First = None,
        after: After = None,
        filter_: FilterArgument = None,
        order_by: OrderBy = ContainerOrder.CREATED,
        direction: Direction = SortDirection.ASC,
        include_deleted: IncludeDeleted = False,
    ) -> Connection[TenantContainer]:
        return await containers_connection(
            info,
            parent={} if tenant_org_id is None else {"tenant_org_id": tenant_org_id},
            first=first,
            after=after,
            filter_=filter_,
            order_by=order_by,
            direction=direction,
            include_deleted=include_deleted,
        )

    @strawberry.field(
        description="One container; null when none. When the user/service pair exists "
        "in several organisations, pass tenantOrgId (error code CONFLICT otherwise)."
    )
    async def tenant_container(
        self,
        info: Info,
        user: User,
        service_name: ServiceName,
        tenant_org_id: Annotated[
            str | None,
            strawberry.argument(
                description="The organisation; needed when the pair exists in several."
            ),
        ] = None,
        include_deleted: Annotated[
            bool,
            strawberry.argument(
                description="When no live cluster has the name, the newest deleted one."
            ),
        ] = False,
    ) -> TenantContainer | None:
        scope = info.context.caller.scope
        async with info.context.runtime.sessions() as session:
            try:
                row = await queries.find_container(
                    session=session,
                    scope=scope,
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
    async def deployment_status(
        self,
        info: Info,
        namespace: Annotated[str, strawberry.argument(description="The Kubernetes namespace.")],
    ) -> DeploymentStatus | None:
        scope = info.context.caller.scope
        async with info.context.runtime.sessions() as session:
            try:
                row = await queries.get_deployment(
                    session=session, scope=scope, namespace=namespace
                )
            except NotFound:
                return None
        return DeploymentStatus.from_row(row)

    @strawberry.field(
        description="Elasticsearch versions, oldest first: without a namespace, those a "
        "cluster may be created with (createCluster's version; defaultVersion when none "
        "is given); with one, those that cluster may be upgraded to (updateCluster's "
        "version): later versions of its major, and of the next major once it runs the "
        "newest minor of its own offered (NOT_FOUND for a namespace the caller cannot see)."
    )
    async def available_versions(
        self,
        info: Info,
        namespace: Annotated[
            str | None,
            strawberry.argument(
                description="A cluster's namespace: what it may be upgraded to; unset: "
                "every version offered for a new cluster."
            ),
        ] = None,
    ) -> list[str]:
        runtime = info.context.runtime
        catalog = runtime.settings.es_catalog
        if namespace is None:
            info.context.caller  # noqa: B018 - authenticated callers only
            return list(catalog.available)
        _, upgrades = await flows.upgrades_of(
            sessions=runtime.sessions,
            scope=info.context.caller.scope,
            namespace=namespace,
            versions=catalog,
        )
        return list(upgrades)

    @strawberry.field(description="The version a cluster created without one gets.")
    def default_version(self, info: Info) -> str:
        info.context.caller  # noqa: B018 - authenticated callers only
        return info.context.runtime.settings.es_catalog.default

    @strawberry.field(
        description="The quota of an organisation, of a user of it (with user) or of one "
        "service (with user and serviceName), and what is held against it."
    )
    async def quota(
        self,
        info: Info,
        tenant_org_id: quotas.QuotaOrg,
        user: quotas.QuotaUser = None,
        service_name: quotas.QuotaService = None,
    ) -> Quota:
        return await quotas.read(info, quotas.subject_of(tenant_org_id, user, service_name))

    @strawberry.field(
        description="Size a planned cluster before creating it (a dry run: nothing is "
        "recorded); the same checks and errors as createCluster's fields."
    )
    def vector_sizing(
        self,
        info: Info,
        input: Annotated[
            VectorSizingInput | None,
            strawberry.argument(description="The planned cluster; unset: every default."),
        ] = None,
    ) -> VectorSizing:
        info.context.caller.scope  # noqa: B018 - any caller with a scope (no report token)
        payload = given_fields(input) if input is not None else {}
        return VectorSizing.of(size_planned_cluster(payload=payload))

    @strawberry.field(
        description="API keys, without secrets (admin only).",
        deprecation_reason=DEPRECATED.format("apiKeysConnection"),
    )
    async def api_keys(self, info: Info, tenant_org_id: OnlyOrg = None) -> list[ApiKey]:
        info.context.caller.require_admin()
        async with info.context.runtime.sessions() as session:
            rows = await keys.list_api_keys(session=session, tenant_org_id=tenant_org_id)
        return [ApiKey.from_row(row) for row in rows]

    @strawberry.field(description="API keys, without secrets, oldest first (admin only).")
    async def api_keys_connection(
        self, info: Info, tenant_org_id: OnlyOrg = None, first: First = None, after: After = None
    ) -> Connection[ApiKey]:
        info.context.caller.require_admin()
        return await connection(
            info,
            listing=Listing(Kind.API_KEYS, tenant_org_id=tenant_org_id),
            page=PageRequest.of(order=listings.API_KEY_ORDER, first=first, after=after),
            node=ApiKey.from_row,
        )

    @strawberry.field(
        description="The audit log, newest first (admin only).",
        deprecation_reason=DEPRECATED.format("auditLogConnection"),
    )
    async def audit_log(
        self,
        info: Info,
        tenant_org_id: OnlyOrg = None,
        limit: Annotated[
            int, strawberry.argument(description="The newest this many (1 to 1000).")
        ] = 100,
    ) -> list[AuditEntry]:
        info.context.caller.require_admin()
        async with info.context.runtime.sessions() as session:
            rows = await audit.list_entries(
                session=session, tenant_org_id=tenant_org_id, limit=limit
            )
        return [AuditEntry.from_row(row) for row in rows]

    @strawberry.field(description="The audit log, newest first (admin only).")
    async def audit_log_connection(
        self, info: Info, tenant_org_id: OnlyOrg = None, first: First = None, after: After = None
    ) -> Connection[AuditEntry]:
        info.context.caller.require_admin()
        return await connection(
            info,
            listing=Listing(Kind.AUDIT, tenant_org_id=tenant_org_id),
            page=PageRequest.of(order=listings.AUDIT_ORDER, first=first, after=after),
            node=AuditEntry.from_row,
        )
