"""Who is calling, and the refusal of HTTP requests that prove no identity.

Two middlewares, because the rate limit sits between them: it needs the caller's
identity (its budget is the caller's), and a flood without a valid token is answered
429 from its address's budget before it is told 401.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.graphiql.page import PREFIX as GRAPHIQL_FILES
from app.api.middleware.refusal import principal_in, refuse, runtime_in
from app.tenancy.errors import Unauthenticated


class Authenticate:
    """Puts the caller its bearer token proves (or None) in ``scope["state"]``, where
    the endpoints read it as ``request.state.principal``. Refuses nothing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            authorization = Headers(scope=scope).get("authorization")
            principal = await runtime_in(scope).authenticator.authenticate(authorization)
            scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)


class RequireAuthentication:
    """401 for an HTTP request without a valid token, except the public pages.
    WebSockets are let through: graphql-transport-ws authenticates in connection_init
    when the upgrade request carried no header (browsers cannot set one)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and principal_in(scope) is None and not _public(scope):
            await refuse(scope, send, Unauthenticated("missing or invalid bearer token"))
            return
        await self.app(scope, receive, send)


def _public(scope: Scope) -> bool:
    """Requests that need no token: the OpenAPI document, the probes (probes
    carry no token) and the GraphiQL page itself with its files (they hold no data; its
    queries carry the token the user types into it)."""
    if scope.get("method", "GET") not in ("GET", "HEAD"):
        return False
    path = scope["path"]
    if path in ("/openapi.json", "/healthz", "/readyz") or path.startswith(GRAPHIQL_FILES + "/"):
        return True
    return path == "/graphql" and "text/html" in Headers(scope=scope).get("accept", "")
