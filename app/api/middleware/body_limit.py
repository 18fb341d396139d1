"""413 for a request body over the limit: at once when Content-Length says so, or as
soon as a streamed (chunked) body passes it while the endpoint reads."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.error_codes import PayloadTooLarge
from app.api.middleware.refusal import refuse


class BodyTooLarge(Exception):
    """Raised into the endpoint reading the body, and caught here. Not a DomainError:
    no endpoint's error handling may answer it in place of this middleware."""


class BodyLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        too_large = PayloadTooLarge(f"request body is larger than {limit} bytes")
        if int(Headers(scope=scope).get("content-length") or 0) > limit:
            await refuse(scope, send, too_large)
            return
        try:
            await self.app(scope, _limited(receive, limit), send)
        except BodyTooLarge:
            await refuse(scope, send, too_large)


def _limited(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge
        return message

    return wrapped
