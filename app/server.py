"""The ASGI application: REST shim and GraphQL on one port behind the protective
middlewares (app/api/middleware), with the runtime opened and closed by the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route, WebSocketRoute

from app.api import (
    health,
    metrics,
    openapi,
    rest,
    rest_billing,
    rest_listings,
    rest_quotas,
    rest_sizing,
)
from app.api.graphiql.assets import asset_source
from app.api.graphiql.page import asset_routes
from app.api.graphql.cost_limit import CostBudget
from app.api.graphql.schema import make_schema
from app.api.graphql.view import GraphQLApp
from app.api.middleware.authentication import Authenticate, RequireAuthentication
from app.api.middleware.body_limit import BodyLimit
from app.api.middleware.headers import SecurityHeaders
from app.api.middleware.masking import MaskErrors
from app.api.middleware.nul_characters import RefuseNulCharacters
from app.api.middleware.rate_limit import RateLimit
from app.api.middleware.request_id import RequestId
from app.api.middleware.timing import RequestTiming
from app.runtime import open_runtime
from app.settings import Settings
from app.tenancy.clock import SYSTEM_CLOCK, Clock


def create_app(settings: Settings, *, clock: Clock = SYSTEM_CLOCK) -> Starlette:
    """``clock``: what time it is for the records' changes, the ledger and bills."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_runtime(settings, clock=clock) as runtime:
            app.state.runtime = runtime
            yield

    graphiql_assets = asset_source(settings.graphiql_assets)
    graphql = GraphQLApp(
        make_schema(
            max_depth=settings.graphql_max_depth,
            max_aliases=settings.graphql_max_aliases,
            max_tokens=settings.graphql_max_tokens,
            max_fields=settings.graphql_max_fields,
            introspection=settings.graphql_introspection,
            cost=CostBudget(
                max_cost=settings.graphql_max_cost, max_rows=settings.graphql_max_list_rows
            ),
        ),
        graphiql_assets,
    )
    return Starlette(
        routes=[
            # Before rest's: /tenant/containers/org/{id} wins over /{user}/{service_name}.
            *rest_listings.routes,
            *rest.routes,
            *rest_quotas.routes,
            *rest_billing.routes,
            *rest_sizing.routes,
            *openapi.routes,
            *health.routes,
            *metrics.routes,
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            *asset_routes(graphiql_assets),
        ],
        # Outermost first. The request id and headers wrap everything, refusals and
        # 500s included (their log lines carry the id too). The rate limit needs the
        # caller and comes before the 401, so a flood without a valid token is
        # answered 429 from its address's budget. The masking wraps only
        # the endpoints: the body limit inside it turns a body that grows too large
        # while an endpoint reads it into 413 before it could be taken for a fault.
        middleware=[
            Middleware(RequestId),
            Middleware(RequestTiming),
            Middleware(SecurityHeaders),
            Middleware(Authenticate),
            Middleware(RateLimit),
            Middleware(RequireAuthentication),
            Middleware(RefuseNulCharacters),
            Middleware(MaskErrors),
            Middleware(BodyLimit, max_bytes=settings.max_body_bytes),
        ],
        exception_handlers=rest.exception_handlers,  # type: ignore[arg-type]
        lifespan=lifespan,
    )
