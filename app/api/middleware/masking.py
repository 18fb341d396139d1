"""An unexpected error in an endpoint is logged with its traceback and answered with a
bare 500: the client learns nothing of the internals, and the connection stays usable
(nothing is re-raised to the server)."""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.middleware.refusal import send_json

log = logging.getLogger(__name__)


class MaskErrors:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception:
            log.exception("%s %s failed", scope.get("method", "GET"), scope["path"])
            if not started:  # else the client sees the answer cut short
                await send_json(send, 500, {"error": "internal server error"}, [])
