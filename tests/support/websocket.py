"""A graphql-transport-ws client of the app in process.

httpx's ASGITransport carries no WebSockets, so ``AsgiWebSocket`` speaks the ASGI
WebSocket messages to the app itself, in the test's event loop (starlette's TestClient
would run the app in a thread and loop of its own, out of reach of the worker and the
sandbox the test also drives). ``GraphQLSocket`` is the protocol on top: operations
sorted by id. ``subscribed`` waits until the server holds a caller's subscriptions,
instead of sleeping in the hope that it does."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.types import ASGIApp, Message

from tests.support.inprocess import InProcessServer
from tests.support.waiting import wait_for

PROTOCOL = "graphql-transport-ws"


class Closed(Exception):
    """The server closed the socket (or refused the handshake) with ``code``."""

    def __init__(self, code: int) -> None:
        super().__init__(f"closed with {code}")
        self.code = code


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class AsgiWebSocket:
    def __init__(
        self,
        app: ASGIApp,
        *,
        path: str = "/graphql",
        subprotocols: tuple[str, ...] = (PROTOCOL,),
        headers: dict[str, str] | None = None,
    ) -> None:
        self._app = app
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue()
        raw_headers = [(b"host", b"testserver")]
        raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        if subprotocols:
            raw_headers.append((b"sec-websocket-protocol", ", ".join(subprotocols).encode()))
        self._scope: dict[str, Any] = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "scheme": "ws",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": raw_headers,
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
            "subprotocols": list(subprotocols),
        }
        self._task: asyncio.Task[None] | None = None
        self.subprotocol: str | None = None

    async def __aenter__(self) -> AsgiWebSocket:
        self._task = asyncio.create_task(
            self._app(self._scope, self._to_app.get, self._from_app.put)
        )
        await self._to_app.put({"type": "websocket.connect"})
        answer = await asyncio.wait_for(self._from_app.get(), 10)
        if answer["type"] == "websocket.close":  # refused at the handshake
            raise Closed(answer.get("code", 1000))
        assert answer["type"] == "websocket.accept", answer
        self.subprotocol = answer.get("subprotocol")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._to_app.put({"type": "websocket.disconnect", "code": 1000})
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, 10)
            except (TimeoutError, Closed):
                self._task.cancel()

    async def send(self, data: dict[str, Any]) -> None:
        await self._to_app.put({"type": "websocket.receive", "text": json.dumps(data)})

    async def receive(self, *, timeout: float = 10) -> dict[str, Any]:
        """The next message; ``TimeoutError`` when none comes, ``Closed`` on a close."""
        message = await asyncio.wait_for(self._from_app.get(), timeout)
        if message["type"] == "websocket.close":
            raise Closed(message.get("code", 1000))
        text = message.get("text") or message.get("bytes", b"").decode()
        received: dict[str, Any] = json.loads(text)
        return received


class GraphQLSocket:
    """graphql-transport-ws on an open socket, with what arrives sorted by operation."""

    def __init__(self, ws: AsgiWebSocket) -> None:
        self.ws = ws
        self.inbox: dict[str, list[dict[str, Any]]] = defaultdict(list)

    async def init(self, token: str | None) -> None:
        await self.ws.send({"type": "connection_init", "payload": bearer(token) if token else {}})
        assert (await self.ws.receive())["type"] == "connection_ack"

    async def start(self, op_id: str, query: str, variables: dict[str, Any] | None = None) -> None:
        payload = {"query": query, "variables": variables or {}}
        await self.ws.send({"id": op_id, "type": "subscribe", "payload": payload})

    async def stop(self, op_id: str) -> None:
        await self.ws.send({"id": op_id, "type": "complete"})

    async def wait(self, op_id: str, timeout: float = 10) -> dict[str, Any]:
        """The next message of one operation (others are kept for their own wait)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.inbox[op_id]:
            message = await self.ws.receive(timeout=max(0.01, deadline - loop.time()))
            self.inbox[message.get("id", "")].append(message)
        return self.inbox[op_id].pop(0)

    async def run(self, op_id: str, query: str, variables: dict[str, Any] | None = None) -> Any:
        await self.start(op_id, query, variables)
        return await self.wait(op_id)

    async def until_end(self, op_id: str, timeout: float) -> list[dict[str, Any]]:
        """Every message of an operation up to its complete (or error)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        seen = [await self.wait(op_id, timeout=deadline - loop.time())]
        while seen[-1]["type"] not in ("complete", "error"):
            seen.append(await self.wait(op_id, timeout=deadline - loop.time()))
        return seen


@asynccontextmanager
async def socket(
    app: InProcessServer, token: str, *, in_header: bool = False
) -> AsyncIterator[GraphQLSocket]:
    """A socket authenticated the browser way (connection_init) or in the upgrade
    request's header."""
    async with AsgiWebSocket(app.app, headers=bearer(token) if in_header else None) as ws:
        opened = GraphQLSocket(ws)
        await opened.init(None if in_header else token)
        yield opened


async def close_code_at_init(app: InProcessServer, token: str | None, *, in_header: bool) -> int:
    """The close code the server answers ``connection_init`` with."""
    headers = bearer(token) if token and in_header else None
    async with AsgiWebSocket(app.app, headers=headers) as ws:
        payload = bearer(token) if token and not in_header else {}
        await ws.send({"type": "connection_init", "payload": payload})
        try:
            answer = await ws.receive()
        except Closed as closed:
            return closed.code
    raise AssertionError(f"the socket stayed open: {answer}")


def codes(message: dict[str, Any]) -> list[str]:
    errors = message["payload"] if message["type"] == "error" else message["payload"].get("errors")
    return [error["extensions"]["code"] for error in errors or []]


def succeeded(message: dict[str, Any]) -> bool:
    return message["type"] == "next" and not message["payload"].get("errors")


def event_of(message: dict[str, Any]) -> dict[str, Any]:
    """The ``clusterEvents`` update a ``next`` message carries."""
    assert message["type"] == "next", message
    update: dict[str, Any] = message["payload"]["data"]["clusterEvents"]
    return update


async def subscribed(app: InProcessServer, caller: str, count: int = 1) -> None:
    """Wait until ``caller`` (``admin``, ``key:<id>``) holds ``count`` subscriptions in
    the server's event feed: from then on each gets every event."""

    async def held() -> bool:
        return app.runtime.event_feed.held_by(caller) >= count

    await wait_for(held, timeout=10, what=f"{count} subscription(s) of {caller}")
