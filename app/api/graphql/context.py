"""The typed per-request GraphQL context."""

from __future__ import annotations

from dataclasses import dataclass

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from app.api.graphql.loaders import Loaders, make_loaders
from app.runtime import Runtime


@dataclass(frozen=True)
class Context:
    runtime: Runtime
    loaders: Loaders


Info = strawberry.Info[Context, None]


class GraphQLApp(GraphQL[Context, None]):
    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        runtime: Runtime = request.app.state.runtime
        return Context(runtime=runtime, loaders=make_loaders(runtime.sessions))
