"""The clusterEvents subscription over graphql-transport-ws: a frontend sees status
changes as they happen, in order, without polling."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect

from tests.support.servers import ServerProcess

SUBSCRIBE = """
subscription($org: String!, $ns: String) {
  clusterEvents(tenantOrgId: $org, namespace: $ns) {
    tenantOrgId namespace serviceName event { from to reason at }
  }
}
"""


def _subscribe(
    ws: ClientConnection, variables: dict[str, Any], init: dict[str, Any] | None = None
) -> None:
    ws.send(json.dumps({"type": "connection_init", "payload": init or {}}))
    assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
    ws.send(
        json.dumps(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": SUBSCRIBE, "variables": variables},
            }
        )
    )
    time.sleep(0.5)  # let the server take its starting point in the event log


def _events(ws: ClientConnection, *, until: str, timeout: float = 30) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = json.loads(ws.recv(timeout=deadline - time.monotonic()))
        assert message["type"] == "next", message
        update = message["payload"]["data"]["clusterEvents"]
        seen.append(update)
        if update["event"]["to"] == until:
            return seen
    raise AssertionError(f"never saw {until}: {seen}")


def test_subscription_streams_the_lifecycle_in_order(
    server: ServerProcess, client: httpx.Client, org: str
) -> None:
    ws_url = server.url.replace("http://", "ws://") + "/graphql"
    # The browser way: the token travels in connection_init, not in a header.
    with connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        _subscribe(
            ws, {"org": org, "ns": None}, init={"Authorization": server.headers["Authorization"]}
        )
        client.post("/clusters", json={"tenant_org_id": org, "user": "ivy", "service_name": "live"})
        # Another organisation's changes never reach this subscriber.
        client.post(
            "/clusters",
            json={"tenant_org_id": f"{org}-other", "user": "ivy", "service_name": "live"},
        )
        created = _events(ws, until="created")
        client.delete(f"/clusters/{org}-ivy-live")
        deleted = _events(ws, until="deleted")
    transitions = [(u["event"]["from"], u["event"]["to"]) for u in created + deleted]
    assert transitions == [
        (None, "pending"),
        ("pending", "creating"),
        ("creating", "created"),
        ("created", "deleting"),
        ("deleting", "deleted"),
    ]
    assert {u["tenantOrgId"] for u in created + deleted} == {org}
    assert {u["namespace"] for u in created + deleted} == {f"{org}-ivy-live"}


def test_subscription_can_follow_one_namespace(
    server: ServerProcess, client: httpx.Client, org: str
) -> None:
    ws_url = server.url.replace("http://", "ws://") + "/graphql"
    with connect(
        ws_url, subprotocols=["graphql-transport-ws"], additional_headers=server.headers
    ) as ws:  # type: ignore[list-item]
        _subscribe(ws, {"org": org, "ns": f"{org}-jo-b"})
        client.post("/clusters", json={"tenant_org_id": org, "user": "jo", "service_name": "a"})
        client.post("/clusters", json={"tenant_org_id": org, "user": "jo", "service_name": "b"})
        seen = _events(ws, until="created")
    assert {u["serviceName"] for u in seen} == {"b"}
