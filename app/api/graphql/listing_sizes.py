"""The sizes of the organisation listings a cost estimate multiplies by, from the
caller's own data: one counting statement per estimate (queries.listing_counts),
asked only for the organisations the operation names."""

from __future__ import annotations

from collections.abc import Mapping

from app.api.graphql.cost import Listing, ListSize
from app.store.db import SessionFactory
from app.tenancy import queries
from app.tenancy.queries import ListingCounts
from app.tenancy.scope import Scope


class UpperBounds:
    """Every listing as large as the maximum allows, noting which organisations the
    operation reads (None: the caller's whole scope) and which listings, so that only
    those are counted. (The estimate weighs every selection, with the counts only
    fewer: a walk at the counts asks for no listing this one did not.)"""

    def __init__(self) -> None:
        self.orgs: set[str | None] = set()
        self.listings: set[Listing] = set()

    def size(self, listing: Listing, *, org: str | None, include_deleted: bool) -> None:
        self.orgs.add(org)
        self.listings.add(listing)


class CountedSizes:
    def __init__(
        self, counts: Mapping[tuple[str, bool], ListingCounts], *, events_counted: bool = True
    ) -> None:
        self._counts = counts
        self._events_counted = events_counted

    @classmethod
    async def of(
        cls, *, sessions: SessionFactory, scope: Scope, bounds: UpperBounds
    ) -> CountedSizes:
        orgs = bounds.orgs
        named = None if None in orgs else {org for org in orgs if org is not None}
        # Counting each cluster's events is most of the statement's work (an index
        # probe per cluster): only when the operation lists events.
        events = Listing.EVENTS_OF_A_CLUSTER in bounds.listings
        async with sessions() as session:
            counts = await queries.listing_counts(
                session=session, scope=scope, tenant_org_ids=named, with_events=events
            )
        return cls(counts, events_counted=events)

    def size(self, listing: Listing, *, org: str | None, include_deleted: bool) -> ListSize | None:
        if listing is Listing.EVENTS_OF_A_CLUSTER and not self._events_counted:
            return None  # not counted (never asked for): the maximum
        counts = self._total(org, include_deleted)
        if listing is Listing.CLUSTERS:
            return ListSize.exactly(counts.clusters)
        if listing is Listing.USERS:
            return ListSize.exactly(counts.users)
        if listing is Listing.CLUSTERS_OF_A_USER:
            return ListSize.spread(rows=counts.clusters, parents=counts.users, most=counts.clusters)
        return ListSize.spread(rows=counts.events, parents=counts.clusters, most=counts.most_events)

    def _total(self, org: str | None, include_deleted: bool) -> ListingCounts:
        # An organisation the caller cannot see is simply absent: it counts as empty.
        if org is not None:
            return self._counts.get((org, include_deleted), ListingCounts())
        parts = [c for (_, deleted), c in self._counts.items() if deleted == include_deleted]
        return ListingCounts(
            clusters=sum(c.clusters for c in parts),
            users=sum(c.users for c in parts),
            events=sum(c.events for c in parts),
            most_events=max((c.most_events for c in parts), default=0),
        )
