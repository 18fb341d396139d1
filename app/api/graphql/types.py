"""GraphQL types: a deliberate contract, separate from the tables. The cluster's types
and inputs derive from the model family (app.models, through app.api.graphql.derive):
their fields, types and descriptions are the models'. Ids are ``ID``, timestamps
``DateTime`` (RFC 3339 in UTC, to the second, as the REST shim writes them), statuses
the ``ClusterStatus`` enum (its values spelt as everywhere else). Related objects
resolve through the request's DataLoaders."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError

from app.api.graphql import billing
from app.api.graphql.connections import (
    DEPRECATED,
    After,
    Connection,
    ContainerFilterInput,
    ContainerOrder,
    First,
    SortDirection,
    connection,
    container_filter,
    container_page,
)
from app.api.graphql.context import Info
from app.api.graphql.derive import LONG_SCALAR, Long, input_type, object_type, values
from app.api.graphql.enums import ClusterStatus
from app.api.graphql.quotas import Quota
from app.api.graphql.quotas import read as read_quota
from app.api.graphql.sizing import QUANTIZATION_DESCRIPTION, VectorSizing
from app.api.payloads import rfc3339
from app.models.cluster import ClusterCreate, ClusterDetails, ClusterUpdate
from app.models.records import ClusterRecord, DeploymentRecord
from app.models.sizing import Quantization
from app.models.usage import Usage
from app.store.tables import (
    ApiKeyRow,
    AuditEntryRow,
    ClusterEventRow,
    DeploymentStatusRow,
    TenantContainerRow,
    UsageSampleRow,
)
from app.tenancy import listings, queries
from app.tenancy.connection import connection_details
from app.tenancy.errors import NotFound
from app.tenancy.paging import Page, PageRequest, Position
from app.tenancy.quota import Subject

__all__ = ["DATETIME_SCALAR", "LONG_SCALAR", "Long"]


def _parse_datetime(value: Any) -> datetime:
    # A GraphQLError: the client's value is refused (BAD_USER_INPUT), whether it came
    # as a variable or written in the document, never an internal error.
    try:
        if isinstance(value, str):
            return datetime.fromisoformat(value)
    except ValueError:
        pass
    raise GraphQLError(
        f"DateTime must be an RFC 3339 moment such as 2026-01-01T12:00:00Z, not {value!r}"
    )


DATETIME_SCALAR = strawberry.scalar(
    name="DateTime",
    serialize=rfc3339,
    parse_value=_parse_datetime,
    description="A moment in RFC 3339, in UTC, to the second (2026-01-01T12:00:00Z).",
)


@object_type(Usage, description="One usage report of a running deployment.")
class UsageSample:
    at: datetime

    @classmethod
    def from_row(cls, row: UsageSampleRow) -> UsageSample:
        return cls(**values(cls, row))


@object_type(ClusterDetails, description="Resource settings the cluster runs with.")
class DeploymentDetails:
    pass


@object_type(
    DeploymentRecord, description="Live state and reported usage of a tenant's deployment."
)
class DeploymentStatus:
    id: strawberry.ID
    details: DeploymentDetails

    @strawberry.field(
        description="Usage reports, oldest first (bounded retention).",
        deprecation_reason=DEPRECATED.format("usageHistoryConnection"),
    )
    async def usage_history(self, info: Info, last: int = 100) -> list[UsageSample]:
        rows = await info.context.loaders.usage_by_deployment.load(self.id)
        return [UsageSample.from_row(row) for row in rows[-max(last, 0) :]] if last else []

    @strawberry.field(description="Usage reports, oldest first (bounded retention).")
    async def usage_history_connection(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[UsageSample]:
        page = PageRequest.of(order=listings.USAGE_ORDER, first=first, after=after)
        return await connection(
            info,
            listing=listings.USAGE_OF_DEPLOYMENTS,
            page=page,
            parent=(str(self.id),),
            node=UsageSample.from_row,
        )

    @classmethod
    def from_row(cls, row: DeploymentStatusRow) -> DeploymentStatus:
        return cls(**values(cls, row, details=DeploymentDetails(**row.details)))


@strawberry.type(description="One status change of a cluster.")
class ClusterEvent:
    at: datetime
    from_status: ClusterStatus | None = strawberry.field(
        name="from", description="null for the first"
    )
    to_status: ClusterStatus = strawberry.field(name="to")
    reason: str

    @classmethod
    def from_row(cls, row: ClusterEventRow) -> ClusterEvent:
        return cls(
            at=row.at, from_status=row.from_status, to_status=row.to_status, reason=row.reason
        )


@strawberry.type(description="Where and as whom to reach a cluster's Elasticsearch.")
class ClusterConnection:
    endpoint: str = strawberry.field(description="An https:// URL inside the cluster network.")
    username: str
    password: str
    ca_certificate: str | None = strawberry.field(
        description="PEM of the cluster's own CA, which signed its HTTPS certificate: "
        "verify the endpoint with it. null while the certificates cannot be read (not "
        "made yet, or Kubernetes not answering)."
    )


@object_type(
    ClusterRecord, description="A tenant's Elasticsearch cluster: one per org, user and service."
)
class TenantContainer:
    id: strawberry.ID
    tenant_org_id: str
    namespace: str
    cursor: str = strawberry.field(
        description="This container's place in listings: pass it as `after` to list "
        "the containers that follow it."
    )

    @classmethod
    def from_row(cls, row: TenantContainerRow) -> TenantContainer:
        return cls(**values(cls, row, cursor=Position.of(row).cursor))

    @strawberry.field
    async def deployment(self, info: Info) -> DeploymentStatus | None:
        row = await info.context.loaders.deployment_by_container.load(self.id)
        return DeploymentStatus.from_row(row) if row is not None else None

    @strawberry.field(
        description="How to reach the cluster's Elasticsearch (inside the cluster network). "
        "Readable only with an API key of the cluster's organisation."
    )
    async def connection(self, info: Info) -> ClusterConnection:
        info.context.caller.require_connection_reader(self.tenant_org_id)
        runtime = info.context.runtime
        async with runtime.sessions() as session:
            row = await queries.get_container(session=session, container_id=str(self.id))
        if row is None:  # pragma: no cover - this container was read in this request
            raise NotFound(f'no cluster in namespace "{self.namespace}"')
        details = await connection_details(
            kube=runtime.kube, secrets=runtime.secrets, container=row
        )
        return ClusterConnection(
            endpoint=details.endpoint,
            username=details.username,
            password=details.password,
            ca_certificate=details.ca_certificate,
        )

    @strawberry.field(
        description="Status changes, oldest first.",
        deprecation_reason=DEPRECATED.format("eventsConnection"),
    )
    async def events(self, info: Info) -> list[ClusterEvent]:
        rows = await info.context.loaders.events_by_container.load(self.id)
        return [ClusterEvent.from_row(row) for row in rows]

    @strawberry.field(description="Status changes, oldest first.")
    async def events_connection(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[ClusterEvent]:
        page = PageRequest.of(order=listings.EVENT_ORDER, first=first, after=after)
        return await connection(
            info,
            listing=listings.EVENTS_OF_CONTAINERS,
            page=page,
            parent=(str(self.id),),
            node=ClusterEvent.from_row,
        )

    @strawberry.field(description="Whether its nodes can hold its vectors off the JVM heap.")
    def sizing(
        self,
        quantization: Annotated[
            Quantization | None, strawberry.argument(description=QUANTIZATION_DESCRIPTION)
        ] = None,
    ) -> VectorSizing:
        return VectorSizing.of_cluster(self, quantization)


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


CONTAINERS_CONNECTION = (
    "Its clusters, a page at a time: filtered, in creation order (oldest first) "
    "or by name (service name, then user), either way round."
)
FilterArgument = Annotated[ContainerFilterInput | None, strawberry.argument(name="filter")]


async def containers_connection(
    info: Info,
    *,
    parent: dict[str, str],
    first: int | None,
    after: str | None,
    filter_: ContainerFilterInput | None,
    order_by: ContainerOrder,
    direction: SortDirection,
    include_deleted: bool,
) -> Connection[TenantContainer]:
    """A page of the containers below ``parent`` (column: value; none: all the caller
    sees), one batched statement for every parent of the same page."""
    return await connection(
        info,
        listing=listings.containers(
            filter=container_filter(filter_, include_deleted=include_deleted),
            parents=tuple(parent),
        ),
        page=container_page(first=first, after=after, order_by=order_by, direction=direction),
        parent=tuple(parent.values()),
        node=TenantContainer.from_row,
    )


@strawberry.type(description="A user of an organisation and their clusters.")
class OrganizationUser:
    name: str
    rows: strawberry.Private[list[TenantContainerRow]]
    tenant_org_id: strawberry.Private[str]

    @strawberry.field(description="The user's quota inside the organisation, and its usage.")
    async def quota(self, info: Info) -> Quota:
        # Only users the caller's scope lists are here: no further check is needed.
        report = await info.context.loaders.user_quota.load((self.tenant_org_id, self.name))
        return Quota.of(report)

    @strawberry.field(deprecation_reason=DEPRECATED.format("containersConnection"))
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

    @strawberry.field(description=CONTAINERS_CONNECTION)
    async def containers_connection(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        filter_: FilterArgument = None,
        order_by: ContainerOrder = ContainerOrder.CREATED,
        direction: SortDirection = SortDirection.ASC,
        include_deleted: bool = False,
    ) -> Connection[TenantContainer]:
        return await containers_connection(
            info,
            parent={"tenant_org_id": self.tenant_org_id, "user": self.name},
            first=first,
            after=after,
            filter_=filter_,
            order_by=order_by,
            direction=direction,
            include_deleted=include_deleted,
        )


@strawberry.type(description="An organisation (tenant_org_id) and everything it owns.")
class Organization:
    id: strawberry.ID

    @strawberry.field(
        description="Its clusters, oldest first.",
        deprecation_reason=DEPRECATED.format("containersConnection"),
    )
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

    @strawberry.field(description=CONTAINERS_CONNECTION)
    async def containers_connection(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        filter_: FilterArgument = None,
        order_by: ContainerOrder = ContainerOrder.CREATED,
        direction: SortDirection = SortDirection.ASC,
        include_deleted: bool = False,
    ) -> Connection[TenantContainer]:
        return await containers_connection(
            info,
            parent={"tenant_org_id": str(self.id)},
            first=first,
            after=after,
            filter_=filter_,
            order_by=order_by,
            direction=direction,
            include_deleted=include_deleted,
        )

    @strawberry.field
    async def users(self, info: Info, include_deleted: bool = False) -> list[OrganizationUser]:
        rows = await info.context.loaders.containers_by_org.load((self.id, include_deleted))
        by_user: dict[str, list[TenantContainerRow]] = {}
        for row in rows:
            by_user.setdefault(row.user, []).append(row)
        return [
            OrganizationUser(name=name, rows=by_user[name], tenant_org_id=self.id)
            for name in sorted(by_user)
        ]

    @strawberry.field(
        description="The organisation's quota and usage (spec section 9); a user's key "
        "reads its own user's quota instead (FORBIDDEN here)."
    )
    async def quota(self, info: Info) -> Quota:
        return await read_quota(info, Subject.organization(self.id))

    @strawberry.field(description=billing.BILL_DESCRIPTION)
    async def bill(
        self,
        info: Info,
        period: str | None = None,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
    ) -> billing.Bill:
        return await billing.org_bill(
            info, tenant_org_id=self.id, period=period, start=from_, end=to
        )


@input_type(
    ClusterCreate, description="The spec's create parameters; unset fields take the defaults."
)
class CreateClusterInput:
    tenant_org_id: str | None

    def as_payload(self) -> dict[str, Any]:
        return given_fields(self)


@input_type(ClusterUpdate, description="What to change; unset fields keep their value.")
class UpdateClusterInput:
    def as_payload(self) -> dict[str, Any]:
        return given_fields(self)


@strawberry.type(description="A status change of a cluster, as it happens.")
class ClusterEventUpdate:
    container_id: strawberry.ID
    tenant_org_id: str
    user: str
    service_name: str
    namespace: str
    event: ClusterEvent


@strawberry.type(description="An organisation API key (its secret is never shown again).")
class ApiKey:
    id: strawberry.ID
    tenant_org_id: str
    user: str | None
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def from_row(cls, row: ApiKeyRow) -> ApiKey:
        return cls(
            id=strawberry.ID(row.id),
            tenant_org_id=row.tenant_org_id,
            user=row.user,
            name=row.name,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
        )


@strawberry.type(description="A new API key with its secret, shown this once.")
class IssuedApiKey:
    key: ApiKey
    secret: str


@strawberry.type(description="One audited write.")
class AuditEntry:
    id: int
    at: datetime
    actor: str
    tenant_org_id: str | None
    action: str
    target: str
    outcome: str

    @classmethod
    def from_row(cls, row: AuditEntryRow) -> AuditEntry:
        return cls(
            id=row.id or 0,
            at=row.at,
            actor=row.actor,
            tenant_org_id=row.tenant_org_id,
            action=row.action,
            target=row.target,
            outcome=row.outcome,
        )
