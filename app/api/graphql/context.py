"""The typed per-request GraphQL context: the runtime, the caller and DataLoaders
scoped to what the caller may see."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import strawberry
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.base import HTTPException  # its home module moved between releases
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
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response: Response = await self.run(Request(scope=scope, receive=receive))
        except HTTPException as exc:
            # Strawberry answers a request it cannot take (unparsable or too deeply
            # nested body, batching) in plain text; a GraphQL client expects JSON errors.
            response = JSONResponse(
                {"errors": [{"message": exc.reason, "extensions": {"code": "BAD_REQUEST"}}]},
                status_code=exc.status_code,
            )
        await response(scope, receive, send)

    def decode_json(self, data: str | bytes) -> object:
        try:
            return json.loads(data)
        except RecursionError:
            # The REST shim refuses such bodies with 400 too; uncaught, it would be a 500.
            raise HTTPException(400, "request body is nested too deeply") from None

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
