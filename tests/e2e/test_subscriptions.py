"""The clusterEvents subscription over graphql-transport-ws: a frontend sees status
changes as they happen, in order, without polling."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.http import create_accepted
from tests.support.servers import ServerProcess
from tests.support.websocket import Socket, socket, wait_live

SUBSCRIBE = """
subscription($org: String!, $ns: String) {
  clusterEvents(tenantOrgId: $org, namespace: $ns) {
    tenantOrgId namespace serviceName event { from to reason at }
  }
}
"""


def _updates(ws: Socket, op_id: str, *, namespace: str, until: str) -> list[dict[str, Any]]:
    """The updates of ``namespace`` up to the event ``until``; every update of the
    operation on the way is returned (others' included), for checks on all of them."""
    seen: list[dict[str, Any]] = []
    while True:
        message = ws.wait(op_id, timeout=30)
        assert message["type"] == "next", message
        update = message["payload"]["data"]["clusterEvents"]
        seen.append(update)
        if update["namespace"] == namespace and update["event"]["to"] == until:
            return seen


def test_subscription_streams_the_lifecycle_in_order(
    server: ServerProcess, client: httpx.Client, org: str
) -> None:
    ns = f"{org}-ivy-live"
    # The browser way: the token travels in connection_init, not in a header.
    with socket(server, server.headers["Authorization"].split(" ", 1)[1]) as ws:
        ws.start("1", SUBSCRIBE, {"org": org, "ns": None})
        wait_live([(ws, "1")], lambda n: create_accepted(client, org, "mark", f"m{n}")["namespace"])
        create_accepted(client, org, "ivy", "live")
        # Another organisation's changes never reach this subscriber.
        create_accepted(client, f"{org}-other", "ivy", "live")
        created = _updates(ws, "1", namespace=ns, until="created")
        assert client.delete(f"/clusters/{ns}").status_code == 202
        deleted = _updates(ws, "1", namespace=ns, until="deleted")
    assert {u["tenantOrgId"] for u in created + deleted} == {org}
    transitions = [
        (u["event"]["from"], u["event"]["to"]) for u in created + deleted if u["namespace"] == ns
    ]
    assert transitions == [
        (None, "pending"),
        ("pending", "creating"),
        ("creating", "created"),
        ("created", "deleting"),
        ("deleting", "deleted"),
    ]


def test_subscription_can_follow_one_namespace(
    server: ServerProcess, client: httpx.Client, org: str
) -> None:
    token = server.headers["Authorization"].split(" ", 1)[1]
    with socket(server, token, in_header=True) as ws:
        ws.start("one", SUBSCRIBE, {"org": org, "ns": f"{org}-jo-b"})
        # Sent after it on the same socket: once this one is live, so is the first.
        ws.start("probe", SUBSCRIBE, {"org": org, "ns": None})
        wait_live(
            [(ws, "probe")], lambda n: create_accepted(client, org, "mark", f"m{n}")["namespace"]
        )
        create_accepted(client, org, "jo", "a")
        create_accepted(client, org, "jo", "b")
        seen = _updates(ws, "one", namespace=f"{org}-jo-b", until="created")
    assert {u["serviceName"] for u in seen} == {"b"}
    assert [u["event"]["to"] for u in seen] == ["pending", "creating", "created"]
