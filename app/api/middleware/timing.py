"""Every HTTP request's duration, by method, first path segment and status, into the
process's metrics (app/telemetry.py): refusals and masked 500s included."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.telemetry import REQUEST_SECONDS, route_of


class RequestTiming:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets when nothing answers

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting_status)
        finally:
            REQUEST_SECONDS.labels(
                scope.get("method", ""), route_of(scope.get("path", "")), str(status)
            ).observe(time.perf_counter() - started)
