"""The typed per-request GraphQL context: the runtime, the caller and DataLoaders
scoped to what the caller may see."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types.unset import UnsetType

from app.access.principals import Principal
from app.api.graphql.loaders import Loaders, make_loaders
from app.runtime import Runtime
from app.tenancy.errors import Unauthenticated


@dataclass
class Context:
    runtime: Runtime
    principal: Principal | None
    # graphql-transport-ws's connection_init payload (browsers send the token there).
    connection_params: dict[str, Any] | None = None
    _loaders: Loaders | None = field(default=None, repr=False)

    @property
    def caller(self) -> Principal:
        if self.principal is None:
            raise Unauthenticated("missing or invalid bearer token")
        return self.principal

    @property
    def loaders(self) -> Loaders:
        # Built on first use: on a WebSocket the caller is known only after connecting.
        if self._loaders is None:
            self._loaders = make_loaders(self.runtime.sessions, self.caller.scope)
        return self._loaders


Info = strawberry.Info[Context, None]


class GraphQLApp(GraphQL[Context, None]):
    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        runtime: Runtime = request.app.state.runtime
        principal: Principal | None = request.scope.get("state", {}).get("principal")
        return Context(runtime=runtime, principal=principal)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        if context.principal is None:
            params = context.connection_params or {}
            authorization = params.get("Authorization") or params.get("authorization")
            context.principal = await context.runtime.authenticator.authenticate(
                authorization if isinstance(authorization, str) else None
            )
        if context.principal is None:
            raise ConnectionRejectionError({"message": "missing or invalid bearer token"})
        return await super().on_ws_connect(context)
