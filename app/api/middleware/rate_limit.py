"""429 (WebSockets: closed with 4429) once the caller has used its budget
(app/access/rate_limit.py): the verified identity's, or the client address's for a
request that proves none."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from app.access.rate_limit import caller_key
from app.api.error_codes import RateLimited
from app.api.middleware.refusal import principal_in, refuse, runtime_in


class RateLimit:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            client = scope.get("client")
            caller = caller_key(principal_in(scope), client[0] if client else None)
            wait = await runtime_in(scope).rate_limiter.take(caller)
            if wait > 0:
                await refuse(scope, send, RateLimited(wait, "rate limit exceeded; slow down"))
                return
        await self.app(scope, receive, send)
