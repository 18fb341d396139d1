"""GraphQL types: a deliberate contract, separate from the tables. The cluster's types
and inputs derive from the model family (app.models, through app.api.graphql.derive):
their fields, types and descriptions are the models'. Ids are ``ID``, timestamps
``DateTime`` (RFC 3339 in UTC, to the second, as the REST shim writes them), statuses
the ``ClusterStatus`` enum (its values spelt as everywhere else). Related objects
resolve through the request's DataLoaders."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError

from app.access.keys import ApiKeyRequest
from app.api.graphql import billing
from app.api.graphql.connections import (
    DEPRECATED,
    After,
    Connection,
    ContainerFilterInput,
    ContainerOrder,
    Direction,
    First,
    OrderBy,
    SortDirection,
    connection,
    container_filter,
    container_page,
)
from app.api.graphql.context import Info
from app.api.graphql.derive import LONG_SCALAR, Long, builder, input_type, object_type
from app.api.graphql.enums import ClusterStatus
from app.api.graphql.fast_execution import NOT_LOADED, PREFETCHED, NotLoaded
from app.api.graphql.quotas import Quota
from app.api.graphql.quotas import read as read_quota
from app.api.graphql.reading import UNREAD, reading_of, row_builder
from app.api.graphql.selections import selected, selects
from app.api.graphql.sizing import QUANTIZATION_DESCRIPTION, VectorSizing
from app.api.payloads import rfc3339
from app.models.cluster import ClusterCreate, ClusterDetails, ClusterUpdate
from app.models.records import ClusterRecord, DeploymentRecord
from app.models.sizing import Quantization
from app.models.usage import Usage
from app.models.versions import UpgradeProgress as UpgradeProgressModel
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
    at: datetime = strawberry.field(description="When the report was received.")

    @classmethod
    def from_row(cls, row: UsageSampleRow) -> UsageSample:
        return builder(cls)(row)


@object_type(ClusterDetails, description="Resource settings the cluster runs with.")
class DeploymentDetails:
    pass


@object_type(UpgradeProgressModel, description=UpgradeProgressModel.__doc__ or "")
class UpgradeProgress:
    pass


@object_type(
    DeploymentRecord, description="Live state and reported usage of a tenant's deployment."
)
class DeploymentStatus:
    id: strawberry.ID = strawberry.field(
        description="The deployment's id, deploy_{namespace}_{n} (not the container's)."
    )
    status: ClusterStatus = strawberry.field(description="Its cluster's status.")
    details: DeploymentDetails = strawberry.field(
        description="The resources the cluster was last created or updated with."
    )
    version: str
    upgrade: UpgradeProgress | None

    @strawberry.field(
        description="Usage reports, oldest first (bounded retention).",
        deprecation_reason=DEPRECATED.format("usageHistoryConnection"),
    )
    async def usage_history(
        self,
        info: Info,
        last: Annotated[
            int, strawberry.argument(description="The newest this many (0: none).")
        ] = 100,
    ) -> list[UsageSample]:
        rows = await info.context.loaders.usage_by_deployment.load(self.id)
        return [UsageSample.from_row(row) for row in rows[-max(last, 0) :]] if last else []

    @strawberry.field(
        description="Usage reports, oldest first; kept ESS_USAGE_RETENTION_HOURS (a week "
        "by default)."
    )
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
        """Of a row with every column, or some (app.api.graphql.reading)."""
        make = _deployment_makers.get(type(row))
        if make is None:
            make = _deployment_makers[type(row)] = _deployment_maker(type(row))
        return make(row)


def _deployment_maker(row_type: type[Any]) -> Callable[[Any], DeploymentStatus]:
    """How a DeploymentStatus is made of a row of ``row_type``: its details and upgrade
    as objects, or UNREAD when the rows have not their columns."""
    columns = getattr(row_type, "_fields", None)
    build = row_builder(DeploymentStatus, row_type, ("details", "upgrade"))
    if columns is None or {"details", "upgrade"} <= set(columns):

        def make(row: Any) -> DeploymentStatus:
            upgrade = UpgradeProgress(**row.upgrade) if row.upgrade else None
            return build(row, DeploymentDetails(**row.details), upgrade)

        return make
    read_details, read_upgrade = "details" in columns, "upgrade" in columns

    def make_of_some(row: Any) -> DeploymentStatus:
        upgrade: Any = UNREAD
        if read_upgrade:
            upgrade = UpgradeProgress(**row.upgrade) if row.upgrade else None
        details = DeploymentDetails(**row.details) if read_details else UNREAD
        return build(row, details, upgrade)

    return make_of_some


# By the type of the rows made from (a table's, or named tuples of some columns).
_deployment_makers: dict[type[Any], Callable[[Any], DeploymentStatus]] = {}


@strawberry.type(description="One status change of a cluster.")
class ClusterEvent:
    at: datetime = strawberry.field(description="When the change was recorded.")
    from_status: ClusterStatus | None = strawberry.field(
        name="from", description="The status before; null for the first event (pending)."
    )
    to_status: ClusterStatus = strawberry.field(name="to", description="The status after.")
    reason: str = strawberry.field(
        description="Why, in words (for failed and degraded, the error shown on the cluster)."
    )

    @classmethod
    def from_row(cls, row: ClusterEventRow) -> ClusterEvent:
        return cls(
            at=row.at, from_status=row.from_status, to_status=row.to_status, reason=row.reason
        )


@strawberry.type(
    description="Where and as whom to reach a cluster's Elasticsearch: what its Secrets "
    "elasticsearch-credentials and elasticsearch-transport-tls hold. (Named "
    "ClusterConnection before: that name is Relay's for a page of a listing.)"
)
class ClusterCredentials:
    endpoint: str = strawberry.field(
        description="The HTTPS URL of its client Service, reachable inside the Kubernetes "
        "cluster network: https://elasticsearch.{namespace}.svc:9200."
    )
    username: str = strawberry.field(description="The Elasticsearch user: elastic.")
    password: str = strawberry.field(
        description="The elastic user's password (derived from the server key, "
        "ESS_SECRET_KEY, and the cluster's credentials generation: "
        "resetClusterCredentials makes a new one)."
    )
    ca_certificate: str | None = strawberry.field(
        description="PEM of the cluster's own CA, which signed its HTTPS certificate: "
        "verify the endpoint with it. null while the certificates cannot be read (not "
        "made yet, or Kubernetes not answering)."
    )


CREDENTIALS_DESCRIPTION = (
    "How to reach the cluster's Elasticsearch (inside the cluster network). Readable only "
    "with an API key of the cluster's organisation (a key bound to a user sees only that "
    "user's clusters); anyone else, the platform admin too, gets FORBIDDEN."
)


@object_type(
    ClusterRecord, description="A tenant's Elasticsearch cluster: one per org, user and service."
)
class TenantContainer:
    id: strawberry.ID = strawberry.field(
        description="The container's id, tenant_{user}_{service_name}_{n}; the REST "
        "shim's container id too."
    )
    status: ClusterStatus = strawberry.field(
        description="Where the cluster is in its life (its changes: eventsConnection)."
    )
    tenant_org_id: str
    namespace: str
    version: str
    created_at: datetime
    # Its deployment when the list it is in loaded every item's ahead (containers_of).
    loaded_deployment: strawberry.Private[DeploymentStatus | NotLoaded | None] = NOT_LOADED

    @classmethod
    def from_row(cls, row: TenantContainerRow) -> TenantContainer:
        """Of a row with every column, or some (app.api.graphql.reading)."""
        return row_builder(cls, type(row))(row)

    @strawberry.field(
        description="This container's place in listings: pass it as `after` to list "
        "the containers that follow it."
    )
    def cursor(self) -> str:
        return Position.of(self).cursor

    @strawberry.field(
        description="Its deployment: live state and reported usage (recorded with the "
        "container; null when none is).",
        metadata={PREFETCHED: "loaded_deployment"},
    )
    async def deployment(self, info: Info) -> DeploymentStatus | None:
        if self.loaded_deployment is not NOT_LOADED:
            return self.loaded_deployment
        row = await info.context.loaders.deployment_by_container.load(self.id)
        return DeploymentStatus.from_row(row) if row is not None else None

    @strawberry.field(description=CREDENTIALS_DESCRIPTION)
    async def credentials(self, info: Info) -> ClusterCredentials:
        return await self._credentials(info)

    @strawberry.field(
        description=CREDENTIALS_DESCRIPTION,
        deprecation_reason="Use credentials: the same answer and refusals, under a name that "
        "does not read as a Relay connection.",
    )
    async def connection(self, info: Info) -> ClusterCredentials:
        return await self._credentials(info)

    async def _credentials(self, info: Info) -> ClusterCredentials:
        info.context.caller.require_connection_reader(self.tenant_org_id)
        runtime = info.context.runtime
        async with runtime.sessions() as session:
            row = await queries.get_container(session=session, container_id=str(self.id))
        if row is None:  # pragma: no cover - this container was read in this request
            raise NotFound(f'no cluster in namespace "{self.namespace}"')
        details = await connection_details(
            kube=runtime.kube, secrets=runtime.secrets, container=row
        )
        return ClusterCredentials(
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


async def containers_of(
    info: Info,
    rows: Sequence[TenantContainerRow],
    *,
    org: tuple[str, bool] | None = None,
    deployments: Mapping[str, DeploymentStatusRow] | None = None,
    with_deployments: bool | None = None,
) -> list[TenantContainer]:
    """The containers of ``rows``, each built once per request (an organisation tree
    shows each twice: under ``containers`` and under its user), with their deployments
    loaded ahead in one batch when the list's items select ``deployment``: a tree of
    thousands of clusters then resolves no field item by item. The deployments are
    ``deployments`` (by container id) when given; else, the rows being of the
    organisation listing ``org`` (tenant_org_id, include_deleted), that listing's,
    loaded with it; else those of the rows' ids. ``with_deployments``: whether to load
    them (None: when the field being resolved selects ``deployment``)."""
    built = info.context.loaders.containers
    containers = []
    # The rows of a listing are of one type: the builder is found once for that type.
    row_type: type[Any] | None = None
    make: Callable[[Any], TenantContainer] = TenantContainer.from_row
    for row in rows:
        container = built.get(row.id)
        if container is None:
            if type(row) is not row_type:
                row_type = type(row)
                make = row_builder(TenantContainer, row_type)
            container = built[row.id] = make(row)
        containers.append(container)
    waiting = [c for c in containers if c.loaded_deployment is NOT_LOADED]
    if with_deployments is None:
        with_deployments = selects(info._raw_info, "deployment")
    if waiting and with_deployments:
        loaders = info.context.loaders
        if deployments is None and org is not None:
            key = (*org, True, reading_of(info._raw_info))
            deployments = (await loaders.org_containers.load(key)).deployments
        if deployments is None:
            # One key per list: a future per container cost more than its row.
            deployments = await loaders.deployments_of_lists.load(tuple(str(c.id) for c in waiting))
        for container in waiting:
            deployment = deployments.get(str(container.id))
            loaded = DeploymentStatus.from_row(deployment) if deployment is not None else None
            container.loaded_deployment = loaded
    return containers


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
FilterArgument = Annotated[
    ContainerFilterInput | None,
    strawberry.argument(
        name="filter", description="Only the containers meeting every condition given."
    ),
]
IncludeDeleted = Annotated[
    bool,
    strawberry.argument(
        description="Also the deleted clusters (status deleted, kept as records); "
        "false: only those not deleted."
    ),
]


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


async def containers_below(
    root: Any,
    info: Info,
    first: First = None,
    after: After = None,
    filter_: FilterArgument = None,
    order_by: OrderBy = ContainerOrder.CREATED,
    direction: Direction = SortDirection.ASC,
    include_deleted: IncludeDeleted = False,
) -> Connection[TenantContainer]:
    """``containersConnection`` of an organisation or a user (``root``, which names its
    listing's parent): one argument list for both."""
    return await containers_connection(
        info,
        parent=root.listing_parent(),
        first=first,
        after=after,
        filter_=filter_,
        order_by=order_by,
        direction=direction,
        include_deleted=include_deleted,
    )


async def rows_by_user(
    info: Info, tenant_org_id: str, include_deleted: bool
) -> dict[str, list[TenantContainerRow]]:
    """An organisation's container rows by user, grouped once per request."""
    key = (tenant_org_id, include_deleted)
    grouped = info.context.loaders.rows_by_user
    if key not in grouped:
        reading = reading_of(info._raw_info)
        rows = (await info.context.loaders.org_containers.load((*key, False, reading))).rows
        by_user: dict[str, list[TenantContainerRow]] = {}
        for row in rows:
            by_user.setdefault(row.user, []).append(row)
        grouped[key] = by_user
    return grouped[key]


@strawberry.type(description="A user of an organisation and their clusters.")
class OrganizationUser:
    name: str = strawberry.field(description="The user's id (the clusters' user).")
    tenant_org_id: strawberry.Private[str]
    # Whether the listing that gave this user holds deleted clusters: its containers do.
    include_deleted: strawberry.Private[bool]
    # Its containers when the list it is in loaded every user's ahead (Organization.users):
    # what ``containers`` answers without arguments.
    loaded_containers: strawberry.Private[list[TenantContainer] | NotLoaded] = NOT_LOADED

    async def rows(self, info: Info) -> list[TenantContainerRow]:
        """The user's clusters of the organisation's rows (one batched query)."""
        by_user = await rows_by_user(info, self.tenant_org_id, self.include_deleted)
        return by_user.get(self.name, [])

    @strawberry.field(description="The user's quota inside the organisation, and its usage.")
    async def quota(self, info: Info) -> Quota:
        # Only users the caller's scope lists are here: no further check is needed.
        report = await info.context.loaders.user_quota.load((self.tenant_org_id, self.name))
        return Quota.of(report)

    @strawberry.field(
        description="The user's clusters, oldest first.",
        deprecation_reason=DEPRECATED.format("containersConnection"),
        metadata={PREFETCHED: "loaded_containers"},
    )
    async def containers(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST_DESCRIPTION)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
    ) -> list[TenantContainer]:
        # The organisation's rows are loaded already (one batched query): a page of a
        # user's is cut from them.
        page = page_of(info, first=first, after=after)
        if page is None and self.loaded_containers is not NOT_LOADED:
            return self.loaded_containers
        rows = await self.rows(info)
        if page is not None:  # a few: their deployments by id
            return await containers_of(info, page.of_rows(rows))
        # All the users' clusters are shown: the organisation's deployments, at once.
        return await containers_of(info, rows, org=(self.tenant_org_id, self.include_deleted))

    # Not annotated: a field with a resolver, in its place among the others.
    containers_connection = strawberry.field(
        resolver=containers_below, description=CONTAINERS_CONNECTION
    )

    def listing_parent(self) -> dict[str, str]:
        return {"tenant_org_id": self.tenant_org_id, "user": self.name}


async def _load_users_containers(
    info: Info,
    users: list[OrganizationUser],
    by_user: Mapping[str, Sequence[TenantContainerRow]],
    *,
    org: tuple[str, bool],
) -> None:
    """Each user's ``containers`` without arguments, loaded ahead when the document
    selects it: an organisation tree then makes no resolver call per user (each one a
    coroutine the executor gathered as a task of its own)."""
    raw = info._raw_info
    listed = [
        node
        for node in selected(raw.field_nodes, raw.fragments, "containers")
        if not node.arguments
    ]
    if not listed:
        return
    with_deployments = bool(selected(listed, raw.fragments, "deployment"))
    for user in users:
        user.loaded_containers = await containers_of(
            info, by_user.get(user.name, ()), org=org, with_deployments=with_deployments
        )


@strawberry.type(description="An organisation (tenant_org_id) and everything it owns.")
class Organization:
    id: strawberry.ID = strawberry.field(
        description="The organisation's id: the tenant_org_id its clusters are created with."
    )

    @strawberry.field(
        description="Its clusters, oldest first.",
        deprecation_reason=DEPRECATED.format("containersConnection"),
    )
    async def containers(
        self,
        info: Info,
        include_deleted: IncludeDeleted = False,
        first: Annotated[int | None, strawberry.argument(description=FIRST_DESCRIPTION)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
    ) -> list[TenantContainer]:
        page = page_of(info, first=first, after=after)
        if page is None:
            # The deployments in the same statement when the tree shows them.
            key = (str(self.id), include_deleted)
            with_deployments = selects(info._raw_info, "deployment")
            reading = reading_of(info._raw_info)
            listing = await info.context.loaders.org_containers.load(
                (*key, with_deployments, reading)
            )
            return await containers_of(info, listing.rows, org=key, deployments=listing.deployments)
        async with info.context.runtime.sessions() as session:
            paged = await queries.list_org_containers(
                session=session,
                scope=info.context.caller.scope,
                tenant_org_id=self.id,
                include_deleted=include_deleted,
                page=page,
            )
        return await containers_of(info, paged)

    # Not annotated: a field with a resolver, in its place among the others.
    containers_connection = strawberry.field(
        resolver=containers_below, description=CONTAINERS_CONNECTION
    )

    def listing_parent(self) -> dict[str, str]:
        return {"tenant_org_id": str(self.id)}

    @strawberry.field(
        description="The users that have clusters here (of those the caller sees), by name.",
        deprecation_reason=DEPRECATED.format("usersConnection"),
    )
    async def users(
        self, info: Info, include_deleted: IncludeDeleted = False
    ) -> list[OrganizationUser]:
        by_user = await rows_by_user(info, self.id, include_deleted)
        users = [
            OrganizationUser(name=name, tenant_org_id=self.id, include_deleted=include_deleted)
            for name in sorted(by_user)
        ]
        await _load_users_containers(info, users, by_user, org=(self.id, include_deleted))
        return users

    @strawberry.field(
        description="The users that have clusters here (of those the caller sees), a page "
        "at a time, by name."
    )
    async def users_connection(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        include_deleted: Annotated[
            bool,
            strawberry.argument(
                description="Also the users whose clusters are all deleted, and their "
                "deleted clusters in each user's containers; false: only users with a "
                "cluster not deleted."
            ),
        ] = False,
    ) -> Connection[OrganizationUser]:
        def user(row: TenantContainerRow) -> OrganizationUser:
            return OrganizationUser(
                name=row.user, tenant_org_id=self.id, include_deleted=include_deleted
            )

        return await connection(
            info,
            listing=listings.users_of_orgs(include_deleted=include_deleted),
            page=PageRequest.of(order=listings.USER_ORDER, first=first, after=after),
            parent=(str(self.id),),
            node=user,
        )

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
        period: Annotated[
            str | None,
            strawberry.argument(description="A calendar month, YYYY-MM; not with from/to."),
        ] = None,
        from_: Annotated[
            datetime | None,
            strawberry.argument(name="from", description="Start (inclusive); needs to."),
        ] = None,
        to: Annotated[
            datetime | None, strawberry.argument(description="End (exclusive); needs from.")
        ] = None,
    ) -> billing.Bill:
        return await billing.org_bill(
            info, tenant_org_id=self.id, period=period, start=from_, end=to
        )


@input_type(
    ClusterCreate,
    description="The spec's create parameters: tenantOrgId, user and serviceName are "
    "required, unset fields take the defaults.",
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
    container_id: strawberry.ID = strawberry.field(
        description="The cluster's id (TenantContainer.id)."
    )
    tenant_org_id: str = strawberry.field(description="The cluster's organisation.")
    user: str = strawberry.field(description="The cluster's user.")
    service_name: str = strawberry.field(description="The cluster's service name.")
    namespace: str = strawberry.field(description="The cluster's Kubernetes namespace.")
    event: ClusterEvent = strawberry.field(description="The status change.")


KEY_FIELDS = ApiKeyRequest.model_fields


@strawberry.type(description="An organisation API key (its secret is never shown again).")
class ApiKey:
    id: strawberry.ID = strawberry.field(
        description="The key's id: the part of its secret after ess_ and before the next _; "
        "audit entries name the key as key:{id}."
    )
    tenant_org_id: str = strawberry.field(description=KEY_FIELDS["tenant_org_id"].description)
    user: str | None = strawberry.field(description=KEY_FIELDS["user"].description)
    name: str = strawberry.field(description=KEY_FIELDS["name"].description)
    created_at: datetime = strawberry.field(description="When it was issued.")
    last_used_at: datetime | None = strawberry.field(
        description="When it last authenticated a request, to within a minute (written "
        "at most once a minute); null: never."
    )
    revoked_at: datetime | None = strawberry.field(
        description="When it was revoked (then refused with UNAUTHENTICATED); null: valid."
    )

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
    key: ApiKey = strawberry.field(description="The key, as apiKeysConnection lists it.")
    secret: str = strawberry.field(
        description="The bearer token, ess_{id}_{secret}: send it as Authorization: Bearer "
        "... Only its hash is kept, so it cannot be shown again."
    )


@strawberry.type(description="One audited write.")
class AuditEntry:
    id: int = strawberry.field(description="The entry's number, increasing with time.")
    at: datetime = strawberry.field(description="When the write ended.")
    actor: str = strawberry.field(
        description="Who: admin, key:{api key id}, reporter:{deployment id} or anonymous."
    )
    tenant_org_id: str | None = strawberry.field(
        description="The organisation written to; null when none is known (an unknown "
        "namespace or key, a price list)."
    )
    action: str = strawberry.field(
        description="The operation, as the GraphQL mutation is named (createCluster, "
        "setQuota, ...), also for the same write through REST."
    )
    target: str = strawberry.field(
        description="What was written: a namespace, quota of ..., api-key {id}, prices "
        "from ..., or the REST request's path; empty when not known."
    )
    outcome: str = strawberry.field(
        description="ok, or error {HTTP status} {code} (error 500 for an unexpected failure)."
    )

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
