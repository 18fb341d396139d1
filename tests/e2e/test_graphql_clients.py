"""A GraphQL client nobody on the project wrote, `gql`, against the server on a real
socket: queries, mutations and subscriptions over HTTP and over both WebSocket
protocols (graphql-transport-ws, and the legacy graphql-ws that gql used to prefer),
with refusals answered as GraphQL errors with their codes, never a masked 500."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport

from tests.support.inprocess import InProcessServer, listening
from tests.support.servers import ADMIN_TOKEN
from tests.support.websocket import AsgiWebSocket, subscribed

pytestmark = pytest.mark.asyncio(loop_scope="module")

TRANSPORT_WS = WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL  # graphql-transport-ws
LEGACY_WS = WebsocketsTransport.APOLLO_SUBPROTOCOL  # graphql-ws
BEARER = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

ORGANIZATION = gql('query($id: String!) { organization(id: $id) { id } }')
CREATE = gql(
    """mutation($org: String!, $user: String!, $service: String!) {
      createCluster(input: {tenantOrgId: $org, user: $user, serviceName: $service}) {
        namespace status
      }
    }"""
)
DELETE = gql('mutation($ns: String!) { deleteCluster(namespace: $ns) { namespace status } }')
EVENTS = gql(
    """subscription($org: String!) {
      clusterEvents(tenantOrgId: $org) { namespace event { from to } }
    }"""
)


def ask(document: GraphQLRequest, **variables: Any) -> GraphQLRequest:
    return GraphQLRequest(document, variable_values=variables)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def base_url(shared_app: InProcessServer) -> AsyncIterator[str]:
    async with listening(shared_app) as url:
        yield url


def websocket(base_url: str, protocol: str, **options: Any) -> Client:
    url = base_url.replace("http://", "ws://") + "/graphql"
    return Client(transport=WebsocketsTransport(url=url, subprotocols=[protocol], **options))


def clients(base_url: str) -> dict[str, Client]:
    return {
        "http": Client(transport=HTTPXAsyncTransport(url=base_url + "/graphql", headers=BEARER)),
        TRANSPORT_WS: websocket(base_url, TRANSPORT_WS, headers=BEARER),
        # The browser way: the token in connection_init rather than in a header.
        LEGACY_WS: websocket(base_url, LEGACY_WS, init_payload=BEARER),
    }


@pytest.mark.parametrize("way", ["http", TRANSPORT_WS, LEGACY_WS])
async def test_queries_mutations_and_refusals(base_url: str, org: str, way: str) -> None:
    async with clients(base_url)[way] as session:
        if way != "http":
            assert session.transport.subprotocol == way  # type: ignore[attr-defined]
        answer = await session.execute(ask(ORGANIZATION, id=org))
        assert answer == {"organization": {"id": org}}

        created = await session.execute(ask(CREATE, org=org, user="gql", service="one"))
        assert created["createCluster"] == {"namespace": f"{org}-gql-one", "status": "pending"}
        deleted = await session.execute(ask(DELETE, ns=f"{org}-gql-one"))
        assert deleted["deleteCluster"]["status"] in ("deleting", "deleted")

        # Refusals: the domain's (an invalid name) and the document's (no such field).
        with pytest.raises(TransportQueryError) as bad_input:
            await session.execute(ask(CREATE, org="Not A Name!", user="u", service="s"))
        assert bad_input.value.errors[0]["extensions"]["code"] == "BAD_USER_INPUT"  # type: ignore[index]
        with pytest.raises(TransportQueryError) as invalid:
            await session.execute(gql("{ noSuchField }"), parse_result=False)
        assert invalid.value.errors[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"  # type: ignore[index]
        # The socket (or client) still works after them.
        assert await session.execute(ask(ORGANIZATION, id=org))


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_subscriptions_stream_a_clusters_lifecycle(
    shared_app: InProcessServer, base_url: str, org: str, protocol: str
) -> None:
    held = shared_app.runtime.event_feed.held_by("admin")
    async with websocket(base_url, protocol, init_payload=BEARER) as session:
        updates: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        async def follow() -> None:
            async for update in session.subscribe(ask(EVENTS, org=org)):
                await updates.put(update["clusterEvents"])

        following = asyncio.create_task(follow())
        try:
            await subscribed(shared_app, "admin", held + 1)
            # A mutation on the same socket as the subscription.
            await session.execute(ask(CREATE, org=org, user="s", service="v"))
            seen: list[tuple[str | None, str]] = []
            while not seen or seen[-1][1] != "created":
                update = await asyncio.wait_for(updates.get(), 30)
                assert update["namespace"] == f"{org}-s-v"
                seen.append((update["event"]["from"], update["event"]["to"]))
        finally:
            following.cancel()
            await asyncio.gather(following, return_exceptions=True)
    assert seen == [(None, "pending"), ("pending", "creating"), ("creating", "created")]


async def test_the_server_prefers_graphql_transport_ws(base_url: str) -> None:
    """gql offers both protocols, the legacy one first: the maintained one is picked."""
    url = base_url.replace("http://", "ws://") + "/graphql"
    async with Client(transport=WebsocketsTransport(url=url, headers=BEARER)) as session:
        assert session.transport.subprotocol == TRANSPORT_WS  # type: ignore[attr-defined]


async def test_legacy_protocol_checks_each_operation(
    shared_admin: httpx.AsyncClient, base_url: str, org: str
) -> None:
    """A key revoked while its graphql-ws socket is open: the next operation is refused
    with UNAUTHENTICATED, as on graphql-transport-ws; a bad token never gets an ack."""
    response = await shared_admin.post("/api-keys", json={"tenant_org_id": org, "name": "ws"})
    key = response.json()
    bearer = {"Authorization": f"Bearer {key['secret']}"}
    async with websocket(base_url, LEGACY_WS, init_payload=bearer) as session:
        assert await session.execute(ask(ORGANIZATION, id=org))
        assert (await shared_admin.delete(f"/api-keys/{key['id']}")).status_code == 200
        with pytest.raises(TransportQueryError) as refused:
            await session.execute(ask(ORGANIZATION, id=org))
        assert refused.value.errors[0]["extensions"]["code"] == "UNAUTHENTICATED"  # type: ignore[index]

    with pytest.raises(Exception) as no_ack:  # gql raises its own kind for connection_error
        async with websocket(base_url, LEGACY_WS, init_payload={"Authorization": "Bearer nope"}):
            pass
    assert "missing or invalid bearer token" in str(no_ack.value)


async def test_legacy_protocol_answers_a_malformed_start_with_an_error(
    shared_app: InProcessServer,
) -> None:
    async with AsgiWebSocket(shared_app.app, subprotocols=(LEGACY_WS,)) as ws:
        await ws.send({"type": "connection_init", "payload": BEARER})
        assert (await ws.receive())["type"] == "connection_ack"
        for payload in (None, {}, {"query": 5}):
            await ws.send({"type": "start", "id": "1", "payload": payload})
            answer = await ws.receive()
            assert answer["type"] == "error" and answer["id"] == "1"
            assert answer["payload"]["extensions"] == {"code": "BAD_REQUEST"}
        # The socket still answers a well-formed one.
        await ws.send({"type": "start", "id": "2", "payload": {"query": "{ __typename }"}})
        assert (await ws.receive())["payload"] == {"data": {"__typename": "Query"}}
        assert await ws.receive() == {"type": "complete", "id": "2"}
