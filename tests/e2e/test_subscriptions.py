"""The clusterEvents subscription over graphql-transport-ws: a frontend sees status
changes as they happen, in order, without polling. (The app in process.)"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.inprocess import InProcessServer, create_accepted
from tests.support.servers import ADMIN_TOKEN
from tests.support.websocket import GraphQLSocket, codes, event_of, socket, subscribed

pytestmark = pytest.mark.asyncio(loop_scope="module")

SUBSCRIBE = """
subscription($org: String!, $ns: String) {
  clusterEvents(tenantOrgId: $org, namespace: $ns) {
    tenantOrgId namespace serviceName event { from to reason at }
  }
}
"""


async def _updates(ws: GraphQLSocket, op_id: str, *, until: str) -> list[dict[str, Any]]:
    """The operation's updates up to (and with) the first whose event goes to ``until``."""
    seen: list[dict[str, Any]] = []
    while not seen or seen[-1]["event"]["to"] != until:
        seen.append(event_of(await ws.wait(op_id, timeout=30)))
    return seen


async def test_subscription_streams_the_lifecycle_in_order(
    shared_app: InProcessServer, shared_admin: httpx.AsyncClient, org: str
) -> None:
    # The browser way: the token travels in connection_init, not in a header.
    async with socket(shared_app, ADMIN_TOKEN) as ws:
        held = shared_app.runtime.event_feed.held_by("admin")
        await ws.start("1", SUBSCRIBE, {"org": org, "ns": None})
        await subscribed(shared_app, "admin", held + 1)
        await create_accepted(shared_admin, org, "ivy", "live")
        # Another organisation's changes never reach this subscriber.
        await create_accepted(shared_admin, f"{org}-other", "ivy", "live")
        created = await _updates(ws, "1", until="created")
        assert (await shared_admin.delete(f"/clusters/{org}-ivy-live")).status_code == 202
        deleted = await _updates(ws, "1", until="deleted")
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


async def test_subscription_can_follow_one_namespace(
    shared_app: InProcessServer, shared_admin: httpx.AsyncClient, org: str
) -> None:
    async with socket(shared_app, ADMIN_TOKEN, in_header=True) as ws:
        held = shared_app.runtime.event_feed.held_by("admin")
        await ws.start("1", SUBSCRIBE, {"org": org, "ns": f"{org}-jo-b"})
        await subscribed(shared_app, "admin", held + 1)
        await create_accepted(shared_admin, org, "jo", "a")
        await create_accepted(shared_admin, org, "jo", "b")
        seen = await _updates(ws, "1", until="created")
    assert {u["serviceName"] for u in seen} == {"b"}
    assert [u["event"]["to"] for u in seen] == ["pending", "creating", "created"]


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"org": "Not A Valid Name!", "ns": None}, 'tenant_org_id "Not A Valid Name!"'),
        ({"org": "fine", "ns": "Bad_Namespace"}, 'namespace "Bad_Namespace"'),
    ],
)
async def test_a_name_nothing_can_have_is_bad_input_not_silence(
    shared_app: InProcessServer, variables: dict[str, Any], message: str
) -> None:
    async with socket(shared_app, ADMIN_TOKEN) as ws:
        await ws.start("1", SUBSCRIBE, variables)
        answer, *_ = await ws.until_end("1", timeout=10)
    assert codes(answer) == ["BAD_USER_INPUT"]
    errors = answer["payload"] if answer["type"] == "error" else answer["payload"]["errors"]
    assert errors[0]["message"].startswith(message)
