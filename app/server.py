"""The ASGI application: REST shim and GraphQL on one port, with the runtime opened
and closed by the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.routing import Route, WebSocketRoute

from app.api import rest
from app.api.graphql.context import GraphQLApp
from app.api.graphql.schema import schema
from app.runtime import open_runtime
from app.settings import Settings


def create_app(settings: Settings) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_runtime(settings) as runtime:
            app.state.runtime = runtime
            yield

    graphql = GraphQLApp(schema)
    return Starlette(
        routes=[
            *rest.routes,
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
        ],
        exception_handlers=rest.exception_handlers,  # type: ignore[arg-type]
        lifespan=lifespan,
    )
