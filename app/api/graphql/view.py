"""The GraphQL endpoint: HTTP requests (already authenticated and rate-limited by the
middlewares in app/api/middleware, one operation per request) and graphql-transport-ws
WebSockets.

A WebSocket outlives the request that opened it, so its caller is checked again for
every operation it sends: the operation counts against the caller's rate-limit
budget (the same budget as its HTTP requests), and an API key revoked since is refused.
The check sits in the protocol handler, before strawberry parses anything, so even an
invalid document counts. A refused operation gets the protocol's ``error``
message with ``extensions.code`` (UNAUTHENTICATED, RATE_LIMITED) and the socket stays
open: the client learns why, and its other operations are judged on their own.
Closing with 4401 is kept for connection_init, where the protocol defines it.

Only graphql-transport-ws is spoken: the legacy ``graphql-ws`` protocol (Apollo's
subscriptions-transport-ws, unmaintained) is refused at the handshake with 4406, so
there is a single path to keep checked.
"""

from __future__ import annotations

import json
from typing import Any

from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Send
from starlette.types import Scope as ASGIScope
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http.base import HTTPException  # its home module moved between releases
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)
from strawberry.types.unset import UnsetType

from app.api.error_codes import RateLimited, error_code
from app.api.graphql.context import Context
from app.runtime import Runtime
from app.tenancy.errors import DomainError, Unauthenticated

UNAUTHORIZED = 4401  # graphql-transport-ws: the caller is not (or no longer) authenticated


async def check_operation(context: Context) -> None:
    """Raise when the socket's caller may not run another operation now."""
    runtime, caller = context.runtime, context.caller
    wait = await runtime.rate_limiter.take(caller.actor)
    if wait > 0:
        raise RateLimited(wait)
    if not await runtime.authenticator.still_valid(caller):
        raise Unauthenticated("the API key of this connection was revoked")


def refusal(error: DomainError) -> GraphQLError:
    extensions: dict[str, Any] = {"code": error_code(error).code}
    if isinstance(error, RateLimited):
        extensions["retryAfter"] = error.retry_after
    return GraphQLError(error.message, extensions=extensions)


class CheckedTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
        except Unauthenticated:
            await self.websocket.close(code=UNAUTHORIZED, reason="Unauthorized")

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        # Before acknowledgement and for a duplicate id the protocol closes the socket
        # (4401, 4409): that is strawberry's to do.
        if self.connection_acknowledged and message["id"] not in self.operations:
            try:
                await check_operation(self.context)
            except DomainError as error:
                await self.send_message(
                    {"id": message["id"], "type": "error", "payload": [refusal(error).formatted]}
                )
                return
        await super().handle_subscribe(message)


class GraphQLApp(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = CheckedTransportWSHandler

    def __init__(self, schema: Any) -> None:
        super().__init__(schema, subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,))

    async def __call__(self, scope: ASGIScope, receive: Receive, send: Send) -> None:
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
        principal = request.scope.get("state", {}).get("principal")
        return Context(
            runtime=runtime,
            principal=principal,
            token_in_upgrade="authorization" in request.headers,
        )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        if context.principal is None and not context.token_in_upgrade:
            params = context.connection_params or {}
            authorization = params.get("Authorization") or params.get("authorization")
            context.principal = await context.runtime.authenticator.authenticate(
                authorization if isinstance(authorization, str) else None
            )
        if context.principal is None:
            raise Unauthenticated("missing or invalid bearer token")  # closed with 4401
        return await super().on_ws_connect(context)
