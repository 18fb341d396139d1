"""GraphQL types: a deliberate contract, separate from the tables. Each type is built
from rows by an explicit ``from_row``; related objects resolve through the request's
DataLoaders."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, NewType

import strawberry

from app.access.principals import Role
from app.api.graphql.context import Info
from app.api.payloads import rfc3339
from app.kube.manifests import CLIENT_SERVICE_NAME
from app.store.tables import (
    ApiKeyRow,
    AuditEntryRow,
    ClusterEventRow,
    DeploymentStatusRow,
    TenantContainerRow,
    UsageSampleRow,
)
from app.tenancy import queries
from app.tenancy.errors import Forbidden
from app.tenancy.paging import Page, Position

# GraphQL's Int is 32-bit; vector counts can exceed it. The scalar's definition is
# registered on the schema (LONG_SCALAR in its scalar_map).
Long = NewType("Long", int)


def _parse_long(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"Long cannot represent a non-integer value: {value!r}")
    return value


LONG_SCALAR = strawberry.scalar(
    name="Long", serialize=int, parse_value=_parse_long, description="A 64-bit integer."
)


STATUS_DESCRIPTION = "pending, creating, created, updating, degraded, failed, deleting or deleted."
ERROR_DESCRIPTION = "Why the cluster is failed or degraded; null otherwise."


@strawberry.type(description="One usage report of a running deployment.")
class UsageSample:
    at: str
    cpu_usage: float = strawberry.field(description="cores")
    memory_usage: float = strawberry.field(description="bytes")
    disk_usage: float = strawberry.field(description="bytes")
    qps: float = strawberry.field(description="queries per second")

    @classmethod
    def from_row(cls, row: UsageSampleRow) -> UsageSample:
        return cls(
            at=rfc3339(row.at) or "",
            cpu_usage=row.cpu_usage,
            memory_usage=row.memory_usage,
            disk_usage=row.disk_usage,
            qps=row.qps,
        )


@strawberry.type(description="Resource settings the cluster runs with.")
class DeploymentDetails:
    cpu_request: str
    cpu_limit: str
    mem_request: str
    mem_limit: str
    disk_size: str
    gpu_count: int
    dimension: int
    vector_count: Long
    index_limit: int


@strawberry.type(description="Live state and reported usage of a tenant's deployment.")
class DeploymentStatus:
    id: str
    tenant_org_id: str
    namespace: str
    user: str
    service_name: str
    status: str = strawberry.field(description="pending, creating, created or failed (see error).")
    error: str | None = strawberry.field(description="Why the deployment failed, if it did.")
    cpu_usage: float
    memory_usage: float
    disk_usage: float
    qps: float
    gpu_count: int
    dimension: int
    vector_count: Long
    replicas: int
    created_at: str
    updated_at: str
    deleted_at: str | None
    details: DeploymentDetails

    @strawberry.field(description="Usage reports, oldest first (bounded retention).")
    async def usage_history(self, info: Info, last: int = 100) -> list[UsageSample]:
        rows = await info.context.loaders.usage_by_deployment.load(self.id)
        return [UsageSample.from_row(row) for row in rows[-max(last, 0) :]] if last else []

    @classmethod
    def from_row(cls, row: DeploymentStatusRow) -> DeploymentStatus:
        return cls(
            id=row.id,
            tenant_org_id=row.tenant_org_id,
            namespace=row.namespace,
            user=row.user,
            service_name=row.service_name,
            status=row.status,
            error=row.error,
            cpu_usage=row.cpu_usage,
            memory_usage=row.memory_usage,
            disk_usage=row.disk_usage,
            qps=row.qps,
            gpu_count=row.gpu_count,
            dimension=row.dimension,
            vector_count=Long(row.vector_count),
            replicas=row.replicas,
            created_at=rfc3339(row.created_at) or "",
            updated_at=rfc3339(row.updated_at) or "",
            deleted_at=rfc3339(row.deleted_at),
            details=DeploymentDetails(**row.details),
        )


@strawberry.type(description="One status change of a cluster.")
class ClusterEvent:
    at: str
    from_status: str | None = strawberry.field(name="from")
    to_status: str = strawberry.field(name="to")
    reason: str

    @classmethod
    def from_row(cls, row: ClusterEventRow) -> ClusterEvent:
        return cls(
            at=rfc3339(row.at) or "",
            from_status=row.from_status,
            to_status=row.to_status,
            reason=row.reason,
        )


@strawberry.type(description="Where and as whom to reach a cluster's Elasticsearch.")
class ClusterConnection:
    endpoint: str
    username: str
    password: str


@strawberry.type(description="A tenant's Elasticsearch cluster: one per org, user and service.")
class TenantContainer:
    id: str
    tenant_org_id: str
    user: str
    service_name: str
    namespace: str
    replicas: int
    cpu: str = strawberry.field(description="cpu request/limit, e.g. 1/4")
    memory: str = strawberry.field(description="memory request/limit, e.g. 2Gi/8Gi")
    disk: str
    cpu_request: str
    cpu_limit: str
    mem_request: str
    mem_limit: str
    disk_size: str
    gpu_count: int
    dimension: int
    vector_count: Long
    index_limit: int
    gitlab_url: str | None
    status: str = strawberry.field(description=STATUS_DESCRIPTION)
    error: str | None = strawberry.field(description=ERROR_DESCRIPTION)
    created_at: str
    updated_at: str
    sync_time: str | None
    deleted_at: str | None
    cursor: str = strawberry.field(
        description="This container's place in listings: pass it as `after` to list "
        "the containers that follow it."
    )

    @classmethod
    def from_row(cls, row: TenantContainerRow) -> TenantContainer:
        return cls(
            id=row.id,
            tenant_org_id=row.tenant_org_id,
            user=row.user,
            service_name=row.service_name,
            namespace=row.namespace,
            replicas=row.replicas,
            cpu=f"{row.cpu_request}/{row.cpu_limit}",
            memory=f"{row.mem_request}/{row.mem_limit}",
            disk=row.disk_size,
            cpu_request=row.cpu_request,
            cpu_limit=row.cpu_limit,
            mem_request=row.mem_request,
            mem_limit=row.mem_limit,
            disk_size=row.disk_size,
            gpu_count=row.gpu_count,
            dimension=row.dimension,
            vector_count=Long(row.vector_count),
            index_limit=row.index_limit,
            gitlab_url=row.gitlab_url,
            status=row.status,
            error=row.error,
            created_at=rfc3339(row.created_at) or "",
            updated_at=rfc3339(row.updated_at) or "",
            sync_time=rfc3339(row.sync_time),
            deleted_at=rfc3339(row.deleted_at),
            cursor=Position.of(row).cursor,
        )

    @strawberry.field
    async def deployment(self, info: Info) -> DeploymentStatus | None:
        row = await info.context.loaders.deployment_by_container.load(self.id)
        return DeploymentStatus.from_row(row) if row is not None else None

    @strawberry.field(
        description="How to reach the cluster's Elasticsearch (inside the cluster network). "
        "Readable only with an API key of the cluster's organisation."
    )
    def connection(self, info: Info) -> ClusterConnection:
        caller = info.context.caller
        if caller.role is not Role.ORG_KEY or caller.tenant_org_id != self.tenant_org_id:
            raise Forbidden("connection details are readable only with the organisation's keys")
        return ClusterConnection(
            endpoint=f"http://{CLIENT_SERVICE_NAME}.{self.namespace}.svc:9200",
            username="elastic",
            password=info.context.runtime.secrets.elastic_password(self.id),
        )

    @strawberry.field(description="Status changes, oldest first.")
    async def events(self, info: Info) -> list[ClusterEvent]:
        rows = await info.context.loaders.events_by_container.load(self.id)
        return [ClusterEvent.from_row(row) for row in rows]


def given_fields(graphql_input: object) -> dict[str, Any]:
    """An input as the same snake_case mapping the REST shim receives, unset fields
    left out, so both surfaces share one validation."""
    return {name: value for name, value in vars(graphql_input).items() if value is not None}


def containers_from_rows(rows: Sequence[TenantContainerRow]) -> list[TenantContainer]:
    return [TenantContainer.from_row(row) for row in rows]


FIRST_DESCRIPTION = (
    "At most this many (1 to ESS_GRAPHQL_MAX_LIST_ROWS, 5000 by default); all when unset."
)
AFTER_DESCRIPTION = "Only those after the container with this cursor (its cursor field)."


def page_of(info: Info, *, first: int | None, after: str | None) -> Page | None:
    """The page asked for; None when the whole listing is."""
    if first is None and after is None:
        return None
    max_rows = info.context.runtime.settings.graphql_max_list_rows
    return Page.of(first=first, after=after, max_rows=max_rows)


@strawberry.type(description="A user of an organisation and their clusters.")
class OrganizationUser:
    name: str
    rows: strawberry.Private[list[TenantContainerRow]]

    @strawberry.field
    def containers(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST_DESCRIPTION)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
    ) -> list[TenantContainer]:
        # The organisation's rows are loaded already (one batched query): a page of a
        # user's is cut from them.
        page = page_of(info, first=first, after=after)
        return containers_from_rows(self.rows if page is None else page.of_rows(self.rows))


@strawberry.type(description="An organisation (tenant_org_id) and everything it owns.")
class Organization:
    id: str

    @strawberry.field(description="Its clusters, oldest first.")
    async def containers(
        self,
        info: Info,
        include_deleted: bool = False,
        first: Annotated[int | None, strawberry.argument(description=FIRST_DESCRIPTION)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
    ) -> list[TenantContainer]:
        page = page_of(info, first=first, after=after)
        if page is None:
            rows = await info.context.loaders.containers_by_org.load((self.id, include_deleted))
            return containers_from_rows(rows)
        async with info.context.runtime.sessions() as session:
            paged = await queries.list_org_containers(
                session=session,
                scope=info.context.caller.scope,
                tenant_org_id=self.id,
                include_deleted=include_deleted,
                page=page,
            )
        return containers_from_rows(paged)

    @strawberry.field
    async def users(self, info: Info, include_deleted: bool = False) -> list[OrganizationUser]:
        rows = await info.context.loaders.containers_by_org.load((self.id, include_deleted))
        by_user: dict[str, list[TenantContainerRow]] = {}
        for row in rows:
            by_user.setdefault(row.user, []).append(row)
        return [OrganizationUser(name=name, rows=by_user[name]) for name in sorted(by_user)]


@strawberry.input(description="The spec's create parameters; unset fields take the defaults.")
class CreateClusterInput:
    tenant_org_id: str | None = None
    user: str | None = None
    service_name: str | None = None
    replicas: int | None = strawberry.field(default=None, description="default 1")
    cpu_request: str | None = strawberry.field(default=None, description='default "500m"')
    cpu_limit: str | None = strawberry.field(default=None, description='default "2"')
    mem_request: str | None = strawberry.field(default=None, description='default "1Gi"')
    mem_limit: str | None = strawberry.field(default=None, description='default "2Gi"')
    disk_size: str | None = strawberry.field(default=None, description='default "10Gi"')
    gpu_count: int | None = strawberry.field(default=None, description="default 0")
    dimension: int | None = strawberry.field(default=None, description="default 128")
    vector_count: Long | None = strawberry.field(default=None, description="default 10000")
    index_limit: int | None = strawberry.field(default=None, description="default 0")
    gitlab_url: str | None = None
    namespace: str | None = strawberry.field(
        default=None,
        description="default {tenantOrgId}-{user}-{serviceName}; with an organisation's "
        "or user's key it must start with {tenantOrgId}-; reserved namespaces and ones "
        "that already exist are refused",
    )

    def as_payload(self) -> dict[str, Any]:
        return given_fields(self)


@strawberry.input(description="What to change; unset fields keep their value.")
class UpdateClusterInput:
    replicas: int | None = None
    cpu_request: str | None = None
    cpu_limit: str | None = None
    mem_request: str | None = None
    mem_limit: str | None = None
    disk_size: str | None = strawberry.field(default=None, description="can only grow")
    gpu_count: int | None = None
    index_limit: int | None = None

    def as_payload(self) -> dict[str, Any]:
        return given_fields(self)


@strawberry.type(description="A status change of a cluster, as it happens.")
class ClusterEventUpdate:
    container_id: str
    tenant_org_id: str
    user: str
    service_name: str
    namespace: str
    event: ClusterEvent


@strawberry.type(description="An organisation API key (its secret is never shown again).")
class ApiKey:
    id: str
    tenant_org_id: str
    user: str | None
    name: str
    created_at: str
    last_used_at: str | None
    revoked_at: str | None

    @classmethod
    def from_row(cls, row: ApiKeyRow) -> ApiKey:
        return cls(
            id=row.id,
            tenant_org_id=row.tenant_org_id,
            user=row.user,
            name=row.name,
            created_at=rfc3339(row.created_at) or "",
            last_used_at=rfc3339(row.last_used_at),
            revoked_at=rfc3339(row.revoked_at),
        )


@strawberry.type(description="A new API key with its secret, shown this once.")
class IssuedApiKey:
    key: ApiKey
    secret: str


@strawberry.type(description="One audited write.")
class AuditEntry:
    id: int
    at: str
    actor: str
    tenant_org_id: str | None
    action: str
    target: str
    outcome: str

    @classmethod
    def from_row(cls, row: AuditEntryRow) -> AuditEntry:
        return cls(
            id=row.id or 0,
            at=rfc3339(row.at) or "",
            actor=row.actor,
            tenant_org_id=row.tenant_org_id,
            action=row.action,
            target=row.target,
            outcome=row.outcome,
        )
