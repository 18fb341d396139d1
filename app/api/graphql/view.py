"""The GraphQL endpoint: HTTP requests (already authenticated and rate-limited by the
middlewares in app/api/middleware, one operation per request), WebSockets in both
GraphQL protocols, and the GraphiQL page (app/api/graphiql) for a browser.

A WebSocket outlives the request that opened it, so its caller is checked again for
every operation it sends: the operation counts against the caller's rate-limit
budget (the same budget as its HTTP requests), and an API key revoked since is refused.
The check sits in the protocol handler, before strawberry parses anything, so even an
invalid document counts. A refused operation gets the protocol's ``error``
message with ``extensions.code`` (UNAUTHENTICATED, RATE_LIMITED) and the socket stays
open: the client learns why, and its other operations are judged on their own.
Closing with 4401 is kept for connection_init, where the protocol defines it.

graphql-transport-ws is preferred; the legacy ``graphql-ws`` protocol (Apollo's
subscriptions-transport-ws) is spoken too, because clients still offer it first (the
``gql`` Python client does). Strawberry runs only subscriptions on it; here queries and
mutations are answered on it as well (one ``data`` message, then ``complete``), with the
same per-operation checks, answered by its ``error`` message.
"""

from __future__ import annotations

import asyncio
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
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import (
    ConnectionInitMessage as LegacyInitMessage,
)
from strawberry.subscriptions.protocols.graphql_ws.types import StartMessage
from strawberry.types.execution import PreExecutionError
from strawberry.types.unset import UnsetType

from app.api.error_codes import RateLimited, UnsupportedMediaType, error_code
from app.api.graphiql.assets import AssetSource
from app.api.graphiql.page import page_response
from app.api.graphql.context import Context
from app.api.json_encoding import graphql_json
from app.api.media_types import require_json
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


class CheckedLegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    """graphql-ws: connection_init, then ``start`` messages, each answered by ``data``
    messages and ``complete``, or by one ``error`` (whose payload is a single error)."""

    async def handle_connection_init(self, message: LegacyInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
        except Unauthenticated as error:
            payload = dict(refusal(error).formatted)
            await self.send_message({"type": "connection_error", "payload": payload})
            await self.websocket.close(code=UNAUTHORIZED, reason="Unauthorized")

    async def handle_start(self, message: StartMessage) -> None:
        payload = message.get("payload")
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            error = GraphQLError(
                "a start message needs a payload with a query string",
                extensions={"code": "BAD_REQUEST"},
            )
            await self.send_error(message, error.formatted)
            return
        if self.connection_acknowledged:
            try:
                await check_operation(self.context)
            except DomainError as refused:
                await self.send_error(message, refusal(refused).formatted)
                return
        await super().handle_start(message)

    async def send_error(self, message: StartMessage, error: Any) -> None:
        await self.send_message({"type": "error", "id": message.get("id", ""), "payload": error})

    async def handle_async_results(
        self,
        operation_id: str,
        query: str,
        operation_name: str | None,
        variables: dict[str, object] | None,
    ) -> None:
        # Strawberry's own, with schema.stream in place of schema.subscribe: stream runs
        # every kind of operation, subscribe refuses queries and mutations ("queries are
        # not allowed"), which strawberry would report as an internal error.
        try:
            results = await self.schema.stream(
                query=query,
                variable_values=variables,
                operation_name=operation_name,
                context_value=self.context,
                root_value=self.root_value,
            )
            self.subscriptions[operation_id] = results  # type: ignore[assignment]
            first = True
            async for result in results:
                if first and isinstance(result, PreExecutionError):
                    assert result.errors
                    await self.send_message(
                        {"type": "error", "id": operation_id, "payload": result.errors[0].formatted}
                    )
                    return
                await self.send_data_message(result, operation_id)  # type: ignore[arg-type]
                first = False
            await self.send_message({"type": "complete", "id": operation_id})
        except asyncio.CancelledError:
            await self.send_message({"type": "complete", "id": operation_id})
        finally:
            self.subscriptions.pop(operation_id, None)
            self.tasks.pop(operation_id, None)


def _errors(message: str, code: str, status: int) -> JSONResponse:
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status)


def type_of(value: object) -> str:
    """The JSON name of a decoded scalar's type."""
    if value is None:
        return "null"
    return {bool: "a boolean", str: "a string"}.get(type(value), "a number")


class GraphQLApp(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = CheckedTransportWSHandler
    graphql_ws_handler_class = CheckedLegacyWSHandler

    def __init__(self, schema: Any, graphiql_assets: AssetSource) -> None:
        super().__init__(
            schema, subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL)
        )
        self.graphiql_assets = graphiql_assets

    async def pick_websocket_subprotocol(self, request: WebSocket) -> str | None:
        # Ours, not the client's, order: graphql-transport-ws whenever it is offered.
        offered = request["subprotocols"]
        return next((p for p in self.protocols if p in offered), None)

    async def render_graphql_ide(self, request: Request) -> Response:
        return page_response(self.graphiql_assets)

    async def __call__(self, scope: ASGIScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        try:
            if request.method == "POST":
                # Before strawberry, whose answer would be 400: a body of another type
                # is 415 as in REST (a browser sends text/plain cross-site unasked).
                # Strawberry reads application/json only, not other +json types.
                require_json(request.headers.get("content-type", ""), suffixed=False)
            response: Response = await self.run(request)
        except UnsupportedMediaType as refused:
            shown = error_code(refused)
            response = _errors(refused.message, shown.code, shown.status)
        except HTTPException as exc:
            # Strawberry answers a request it cannot take (unparsable or too deeply
            # nested body, batching) in plain text; a GraphQL client expects JSON errors.
            response = _errors(exc.reason, "BAD_REQUEST", exc.status_code)
        await response(scope, receive, send)

    def encode_json(self, data: object) -> str:
        # orjson where its output means what json.dumps's does (app.api.json_encoding).
        return graphql_json(data)

    def decode_json(self, data: str | bytes) -> object:
        try:
            decoded = json.loads(data)
        except RecursionError:
            # The REST shim refuses such bodies with 400 too; uncaught, it would be a 500.
            raise HTTPException(400, "request body is nested too deeply") from None
        if not isinstance(decoded, dict | list):
            # Strawberry takes any JSON for a request (or its variables) and fails on
            # a string, number or null with an AttributeError: a 500.
            raise HTTPException(400, "a JSON object was expected, not " + type_of(decoded))
        return decoded

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
