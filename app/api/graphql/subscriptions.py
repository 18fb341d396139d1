"""GraphQL subscriptions (graphql-transport-ws over WebSocket at /graphql), served from
the process's shared event feed (app/tenancy/event_feed.py)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from app.api.graphql.context import Info
from app.api.graphql.types import ClusterEvent, ClusterEventUpdate
from app.models.names import check_name
from app.tenancy.validation import rule_checks


@strawberry.type(
    description="Live updates over a WebSocket at /graphql; the API key is given in "
    "connection_init or in the upgrade request's Authorization header."
)
class Subscription:
    @strawberry.subscription(
        description="Status changes of an organisation's clusters (or of one namespace) "
        "as they happen, in order, starting from the moment of subscribing. Another "
        "organisation's stay silent, as a nonexistent one's; a name that is not a "
        "DNS-1123 label is BAD_USER_INPUT; over ESS_GRAPHQL_MAX_SUBSCRIPTIONS_PER_CALLER "
        "open subscriptions, TOO_MANY_SUBSCRIPTIONS."
    )
    async def cluster_events(
        self,
        info: Info,
        tenant_org_id: Annotated[
            str, strawberry.argument(description="The organisation whose clusters to follow.")
        ],
        namespace: Annotated[
            str | None,
            strawberry.argument(description="Only this namespace's cluster; unset: all."),
        ] = None,
    ) -> AsyncGenerator[ClusterEventUpdate, None]:
        runtime, caller = info.context.runtime, info.context.caller
        # A name no organisation or namespace can have is bad input, as in a mutation,
        # not a subscription that stays silent for ever.
        with rule_checks():
            check_name("tenant_org_id", tenant_org_id)
            if namespace is not None:
                check_name("namespace", namespace)
        # Another organisation's events are filtered out like a nonexistent one's:
        # the subscription stays silent rather than confirming anything.
        async with runtime.event_feed.subscribe(
            caller=caller.actor,
            credential=caller.key_id,
            scope=caller.scope,
            tenant_org_id=tenant_org_id,
            namespace=namespace,
            max_per_caller=runtime.settings.graphql_max_subscriptions_per_caller,
        ) as subscription:
            async for event, container in subscription:
                yield ClusterEventUpdate(
                    container_id=strawberry.ID(container.id),
                    tenant_org_id=container.tenant_org_id,
                    user=container.user,
                    service_name=container.service_name,
                    namespace=container.namespace,
                    event=ClusterEvent.from_row(event),
                )
