"""GraphQL subscriptions (graphql-transport-ws over WebSocket at /graphql)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import strawberry

from app.api.graphql.context import Info
from app.api.graphql.types import ClusterEvent, ClusterEventUpdate
from app.tenancy import queries

# How often the event log is read for news. The log is the source of truth, so any
# control-plane replica's changes reach every subscriber, and nothing is missed
# between two reads.
POLL_SECONDS = 0.2


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Status changes of an organisation's clusters (or of one namespace) "
        "as they happen, in order, starting from the moment of subscribing."
    )
    async def cluster_events(
        self, info: Info, tenant_org_id: str, namespace: str | None = None
    ) -> AsyncGenerator[ClusterEventUpdate, None]:
        sessions = info.context.runtime.sessions
        # Another organisation's events are filtered out like a nonexistent one's:
        # the subscription stays silent rather than confirming anything.
        scope = info.context.caller.scope
        async with sessions() as session:
            last = await queries.last_event_id(session=session)
        while True:
            async with sessions() as session:
                news = await queries.events_after(
                    session=session,
                    scope=scope,
                    after_id=last,
                    tenant_org_id=tenant_org_id,
                    namespace=namespace,
                )
            for event, container in news:
                last = event.id or last
                yield ClusterEventUpdate(
                    container_id=container.id,
                    tenant_org_id=container.tenant_org_id,
                    user=container.user,
                    service_name=container.service_name,
                    namespace=container.namespace,
                    event=ClusterEvent.from_row(event),
                )
            await asyncio.sleep(POLL_SECONDS)
