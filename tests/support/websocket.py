"""A graphql-transport-ws client over a real WebSocket (the ``websockets`` library) to a
server in another process: connection set-up, operations sorted by id, and waiting
until subscriptions are live, not a fixed sleep."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.support.servers import ServerProcess


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Socket:
    """A graphql-transport-ws client that sorts what arrives by operation id."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.inbox: dict[str, list[dict[str, Any]]] = defaultdict(list)

    def init(self, token: str | None) -> None:
        self.ws.send(
            json.dumps({"type": "connection_init", "payload": bearer(token) if token else {}})
        )
        assert json.loads(self.ws.recv(timeout=10))["type"] == "connection_ack"

    def start(self, op_id: str, query: str, variables: dict[str, Any] | None = None) -> None:
        payload = {"query": query, "variables": variables or {}}
        self.ws.send(json.dumps({"id": op_id, "type": "subscribe", "payload": payload}))

    def stop(self, op_id: str) -> None:
        self.ws.send(json.dumps({"id": op_id, "type": "complete"}))

    def wait(self, op_id: str, timeout: float = 10) -> dict[str, Any]:
        """The next message of one operation."""
        deadline = time.monotonic() + timeout
        while not self.inbox[op_id]:
            message = json.loads(self.ws.recv(timeout=max(0.01, deadline - time.monotonic())))
            self.inbox[message.get("id", "")].append(message)
        return self.inbox[op_id].pop(0)

    def run(self, op_id: str, query: str, variables: dict[str, Any] | None = None) -> Any:
        self.start(op_id, query, variables)
        return self.wait(op_id)

    def until_end(self, op_id: str, timeout: float) -> list[dict[str, Any]]:
        """Every message of an operation up to its complete (or error)."""
        deadline = time.monotonic() + timeout
        seen = [self.wait(op_id, timeout=deadline - time.monotonic())]
        while seen[-1]["type"] not in ("complete", "error"):
            seen.append(self.wait(op_id, timeout=deadline - time.monotonic()))
        return seen


def codes(message: dict[str, Any]) -> list[str]:
    errors = message["payload"] if message["type"] == "error" else message["payload"].get("errors")
    return [error["extensions"]["code"] for error in errors or []]


def succeeded(message: dict[str, Any]) -> bool:
    return message["type"] == "next" and not message["payload"].get("errors")


def ws_url(server: ServerProcess) -> str:
    return server.ws_url


@contextmanager
def socket(server: ServerProcess, token: str, *, in_header: bool = False) -> Iterator[Socket]:
    """A socket authenticated the browser way (connection_init) or with the header."""
    with connect(
        ws_url(server),
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        additional_headers=bearer(token) if in_header else None,
    ) as ws:
        opened = Socket(ws)
        opened.init(None if in_header else token)
        yield opened


def close_code_at_init(server: ServerProcess, token: str, *, in_header: bool) -> int | None:
    with connect(
        ws_url(server),
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        additional_headers=bearer(token) if in_header else None,
    ) as ws:
        payload = {} if in_header else bearer(token)
        ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    return closed.value.rcvd.code if closed.value.rcvd else None


def event_namespace(message: dict[str, Any]) -> str:
    """The namespace of a ``clusterEvents`` update."""
    return str(message["payload"]["data"]["clusterEvents"]["namespace"])


def wait_live(
    subscriptions: list[tuple[Socket, str]], poke: Callable[[int], str], *, tries: int = 30
) -> None:
    """Wait until every subscription (a socket and an operation id) delivers events:
    ``poke(n)`` makes a change each of them is to see and returns its namespace, and is
    called again (n = 1, 2, ...) until each has seen one. A subscription takes its
    starting point on the server a moment after it is sent; from the first event seen
    on, it misses nothing. The pokes' events are dropped from the inboxes."""
    waiting = list(subscriptions)
    for n in range(tries):
        poked = poke(n)
        deadline = time.monotonic() + 1.0
        for ws, op_id in list(waiting):
            try:
                while True:
                    message = ws.wait(op_id, timeout=max(0.05, deadline - time.monotonic()))
                    if event_namespace(message) == poked:
                        waiting.remove((ws, op_id))
                        break
            except TimeoutError:
                continue
        if not waiting:
            for ws, op_id in subscriptions:
                ws.inbox[op_id].clear()
            return
    pytest.fail(f"subscriptions never went live: {[op for _, op in waiting]}")
