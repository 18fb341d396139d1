"""Every HTTP request (and WebSocket) gets an id: the caller's ``X-Request-ID`` when it
is sane, else a fresh one. It is echoed in the answer's ``X-Request-ID`` header and set
as the log context (app/logs.py), so the request's log lines, uvicorn's access line and
the background work the request starts all carry it."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.logs import bound, request_id_from

HEADER = "x-request-id"


class RequestId:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(Headers(scope=scope).get(HEADER))
        echoed = (HEADER.encode(), request_id.encode())

        async def with_id(message: Message) -> None:
            if message["type"] in ("http.response.start", "websocket.accept"):
                message = {**message, "headers": [*message.get("headers", []), echoed]}
            await send(message)

        with bound(request_id=request_id):
            await self.app(scope, receive, with_id)
