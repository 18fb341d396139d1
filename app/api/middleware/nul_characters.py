"""400 for a request whose path or query holds a NUL character (``%00``). No name or
id may contain one, and PostgreSQL refuses it in any text it is given (SQLite took it
and found nothing): refused here, before a lookup could fail as a 500."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.middleware.refusal import refuse
from app.tenancy.errors import InvalidInput

NUL_IN_REQUEST = InvalidInput("the request path or query contains a NUL character (%00)")


class RefuseNulCharacters:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            "\x00" in scope["path"] or b"%00" in scope.get("query_string", b"")
        ):
            await refuse(scope, send, NUL_IN_REQUEST)
            return
        await self.app(scope, receive, send)
