"""Relay-style connections (``first``/``after``, ``edges { cursor node }``,
``pageInfo``, ``totalCount``) over the listings that can grow, and the container
listings' filter and order arguments.

Pages are keyset pages (app.tenancy.paging) read through the request's DataLoaders,
so a connection below every container of a tree is one statement, not one per
container; ``totalCount`` is counted only when asked for, batched the same way.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

import strawberry

from app.api.graphql.context import Info
from app.api.graphql.enums import ClusterStatus, described_enum
from app.tenancy.container_filters import ContainerFilter, container_order
from app.tenancy.listings import Listing
from app.tenancy.paging import MAX_PAGE, PageRequest

N = TypeVar("N")

FIRST = f"At most this many (0 to {MAX_PAGE}); {MAX_PAGE} when unset."
AFTER = "Only those after the edge with this cursor (its cursor, or pageInfo.endCursor)."
DEPRECATED = "Use {}: pages with cursors and a totalCount."

First = Annotated[int | None, strawberry.argument(description=FIRST)]
After = Annotated[str | None, strawberry.argument(description=AFTER)]


@strawberry.type(description="Where a page starts and ends, and whether others are around it.")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="Whether more edges follow this page: ask again with after: endCursor."
    )
    has_previous_page: bool = strawberry.field(
        description="Whether the page was asked for after a cursor, so edges came before "
        "it (paging forward, as the Relay specification allows, it is not counted)."
    )
    start_cursor: str | None = strawberry.field(description="The first edge's cursor.")
    end_cursor: str | None = strawberry.field(
        description="The last edge's cursor: pass it as `after` for the next page."
    )


@strawberry.type(description="One item of a page, with its place in the listing.")
class Edge(Generic[N]):
    cursor: str = strawberry.field(
        description="This edge's place in the listing, opaque: pass it as `after` for "
        "the edges that follow it."
    )
    node: N = strawberry.field(description="The item.")


@strawberry.type(description="A page of a listing.")
class Connection(Generic[N]):
    edges: list[Edge[N]] = strawberry.field(description="The page's items, in listing order.")
    page_info: PageInfo = strawberry.field(
        description="Where the page starts and ends, and whether another follows."
    )
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many the whole listing holds (with its filters).")
    async def total_count(self) -> int:
        return await self.count()


async def connection(
    info: Info,
    *,
    listing: Listing,
    page: PageRequest,
    parent: tuple[Any, ...] = (),
    node: Callable[[Any], N],
) -> Connection[N]:
    loaders = info.context.loaders
    found = await loaders.pages.load((listing, page, parent))
    edges = [Edge(cursor=page.order.cursor_of(row), node=node(row)) for row in found.rows]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=found.has_next,
            has_previous_page=page.after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        count=lambda: loaders.counts.load((listing, parent)),
    )


class ContainerOrder(enum.Enum):
    CREATED = "created"
    NAME = "name"


described_enum(
    ContainerOrder,
    description="What containers are listed by.",
    values={
        ContainerOrder.CREATED: "Creation time, then id.",
        ContainerOrder.NAME: "Service name, then user, then id.",
    },
)


class SortDirection(enum.Enum):
    ASC = "asc"
    DESC = "desc"


described_enum(
    SortDirection,
    description="Ascending (oldest, A first) or descending.",
    values={
        SortDirection.ASC: "Oldest first; by name, A to Z.",
        SortDirection.DESC: "Newest first; by name, Z to A.",
    },
)


@strawberry.input(description="Which containers to list; every condition given must hold.")
class ContainerFilterInput:
    status: list[ClusterStatus] | None = strawberry.field(
        default=None, description="Any of these statuses."
    )
    user: str | None = strawberry.field(default=None, description="This user's only.")
    service_prefix: str | None = strawberry.field(
        default=None, description="Service names starting with this."
    )
    created_after: datetime | None = strawberry.field(
        default=None, description="Created at or after this moment."
    )
    created_before: datetime | None = strawberry.field(
        default=None, description="Created before this moment."
    )
    has_gpu: bool | None = strawberry.field(
        default=None, description="true: gpuCount > 0; false: none."
    )


OrderBy = Annotated[
    ContainerOrder, strawberry.argument(description="What the containers are listed by.")
]
Direction = Annotated[
    SortDirection, strawberry.argument(description="Which way round: ASC or DESC.")
]


def container_filter(
    given: ContainerFilterInput | None, *, include_deleted: bool
) -> ContainerFilter:
    if given is None:
        return ContainerFilter(include_deleted=include_deleted)
    return ContainerFilter.of(
        include_deleted=include_deleted,
        statuses=[s.value for s in given.status or ()],
        user=given.user,
        service_prefix=given.service_prefix,
        created_after=given.created_after,
        created_before=given.created_before,
        has_gpu=given.has_gpu,
    )


def container_page(
    *, first: int | None, after: str | None, order_by: ContainerOrder, direction: SortDirection
) -> PageRequest:
    order = container_order(order_by.value).reversed_if(direction is SortDirection.DESC)
    return PageRequest.of(order=order, first=first, after=after)
