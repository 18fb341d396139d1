"""Credentials are checked on every operation, over HTTP and WebSockets alike: revoked
keys stop working on sockets opened before, report tokens are verified (forged ones
are 401 everywhere), rate-limit buckets belong to verified identities, and
subscriptions per caller are bounded. (The app in process.)"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.conftest import MakeApp
from tests.support.inprocess import InProcessServer, create_accepted, wait_for_status
from tests.support.waiting import wait_for
from tests.support.websocket import (
    AsgiWebSocket,
    Closed,
    close_code_at_init,
    codes,
    event_of,
    socket,
    subscribed,
    succeeded,
)

SUBSCRIBE = """subscription($org: String!) {
  clusterEvents(tenantOrgId: $org) { namespace serviceName event { to } }
}"""
CREATE = """mutation($org: String!, $service: String!) {
  createCluster(input: {tenantOrgId: $org, user: "alice", serviceName: $service}) { namespace }
}"""
DELETE = "mutation($ns: String!) { deleteCluster(namespace: $ns) { status } }"
REPORT = "mutation($ns: String!) { reportDeploymentStatus(namespace: $ns, qps: 3) { qps } }"
INTROSPECTION = "{ __schema { queryType { name } } }"


async def api_key(admin: httpx.AsyncClient, org: str, name: str = "k") -> dict[str, Any]:
    response = await admin.post("/api-keys", json={"tenant_org_id": org, "name": name})
    assert response.status_code == 201, response.text
    key: dict[str, Any] = response.json()
    return key


async def report_token(app: InProcessServer, namespace: str) -> str:
    """The deployment's token, from its Secret (there as soon as provisioning applied
    it; waiting here costs the control plane no requests)."""

    async def applied() -> str | None:
        found = await app.sandbox.request(
            "GET", f"/api/v1/namespaces/{namespace}/secrets/es-serverless-reporter"
        )
        if found.status_code != 200:
            return None
        return base64.b64decode(found.json()["data"]["token"]).decode()

    return await wait_for(applied, timeout=30, what="the reporter Secret")


# -- revoked keys on open sockets ---------------------------------------------------------


async def test_a_revoked_key_is_refused_on_a_socket_opened_before(
    app_server: InProcessServer, admin_client: httpx.AsyncClient, org: str
) -> None:
    key = await api_key(admin_client, org)
    async with socket(app_server, key["secret"]) as ws:
        await ws.start("events", SUBSCRIBE, {"org": org})
        assert succeeded(await ws.run("before", CREATE, {"org": org, "service": "before"}))

        assert (await admin_client.delete(f"/api-keys/{key['id']}")).status_code == 200
        async with app_server.client(token=key["secret"]) as revoked:
            assert (await revoked.get("/tenant/containers")).status_code == 401
        create = await ws.run("after", CREATE, {"org": org, "service": "after"})
        assert create["type"] == "error"
        assert codes(create) == ["UNAUTHENTICATED"]
        delete = await ws.run("delete", DELETE, {"ns": f"{org}-alice-before"})
        assert codes(delete) == ["UNAUTHENTICATED"]
        assert codes(await ws.run("read", "{ tenantContainers { id } }")) == ["UNAUTHENTICATED"]

        # The running subscription ends within a few seconds, saying why.
        ended = await ws.until_end("events", timeout=5)
        assert ended[-1]["type"] == "complete"
        assert codes(ended[-2]) == ["UNAUTHENTICATED"]

    rows = (
        await admin_client.get(f"/tenant/containers/org/{org}", params={"include_deleted": "true"})
    ).json()
    assert [row["service_name"] for row in rows] == ["before"]
    assert rows[0]["status"] not in ("deleting", "deleted")
    audit = (await admin_client.get("/audit", params={"tenant_org_id": org})).json()
    assert [e["action"] for e in audit if e["actor"] == f"key:{key['id']}"] == ["createCluster"]


# -- report tokens --------------------------------------------------------------------------


@pytest.fixture
async def reporter(
    app_server: InProcessServer, admin_client: httpx.AsyncClient, org: str
) -> dict[str, str]:
    """A deployment with its genuine report token, and another one's namespace."""
    for service in ("own", "other"):
        await create_accepted(admin_client, org, "rita", service)
    await wait_for_status(
        admin_client, user="rita", service_name="own", tenant_org_id=org, wanted={"created"}
    )
    namespace = f"{org}-rita-own"
    return {
        "namespace": namespace,
        "other": f"{org}-rita-other",
        "token": await report_token(app_server, namespace),
    }


FORGERIES: dict[str, Callable[[str], str]] = {
    "bare prefix": lambda genuine: "essr_x",
    "another mac": lambda genuine: (
        genuine[:-6] + ("AAAAAA" if genuine[-6:] != "AAAAAA" else "BBBBBB")
    ),
    "unknown deployment": lambda genuine: (
        "essr_"
        + base64.urlsafe_b64encode(b"deploy_nowhere_1").decode().rstrip("=")
        + "."
        + genuine.rsplit(".", 1)[1]
    ),
    "no mac": lambda genuine: genuine.rsplit(".", 1)[0],
}


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
async def test_forged_report_tokens_are_401_everywhere(
    app_server: InProcessServer, reporter: dict[str, str], forgery: str
) -> None:
    token = FORGERIES[forgery](reporter["token"])
    assert token != reporter["token"]
    async with app_server.client(token=token) as forged:
        assert (await forged.get("/tenant/containers")).status_code == 401
        report = await forged.post(f"/deployments/{reporter['namespace']}/report", json={"qps": 1})
        assert report.status_code == 401
        assert report.json() == {"error": "missing or invalid bearer token"}
        introspection = await forged.post("/graphql", json={"query": INTROSPECTION})
        assert introspection.status_code == 401
        assert introspection.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await close_code_at_init(app_server, token, in_header=True) == 4401
    assert await close_code_at_init(app_server, token, in_header=False) == 4401


async def test_a_genuine_report_token_reports_only_its_own_deployment(
    app_server: InProcessServer, reporter: dict[str, str]
) -> None:
    token, namespace = reporter["token"], reporter["namespace"]
    # Self-describing: it names its deployment, so it is checked without the database.
    named, mac = token.removeprefix("essr_").split(".")
    assert (
        base64.urlsafe_b64decode(named + "=" * (-len(named) % 4))
        .decode()
        .startswith(f"deploy_{namespace}_")
    )
    assert len(mac) == 43
    async with app_server.client(token=token) as http:
        own = await http.post(f"/deployments/{namespace}/report", json={"qps": 7})
        assert own.status_code == 200
        assert own.json()["qps"] == 7.0
        foreign = await http.post(f"/deployments/{reporter['other']}/report", json={"qps": 7})
        assert foreign.status_code == 404
        assert (await http.get("/tenant/containers")).status_code == 403  # verified, may not read
    # Over a WebSocket it may do what it may do over HTTP, and no more.
    async with socket(app_server, token) as ws:
        reported = await ws.run("report", REPORT, {"ns": namespace})
        assert succeeded(reported), reported
        assert codes(await ws.run("foreign", REPORT, {"ns": reporter["other"]})) == ["NOT_FOUND"]
        assert codes(await ws.run("read", "{ tenantContainers { id } }")) == ["FORBIDDEN"]
        await ws.start("events", SUBSCRIBE, {"org": "anything"})
        assert codes(await ws.wait("events")) == ["FORBIDDEN"]


async def test_a_socket_without_a_graphql_protocol_is_refused(app_server: InProcessServer) -> None:
    # Both GraphQL protocols are spoken (tests/e2e/test_graphql_clients.py); others not.
    with pytest.raises(Closed) as closed:
        async with AsgiWebSocket(app_server.app, subprotocols=("mqtt",)) as ws:
            await ws.receive()
    assert closed.value.code == 4406


# -- rate limits per identity ---------------------------------------------------------------


async def test_rate_limit_buckets_belong_to_verified_identities(make_app: MakeApp) -> None:
    limit = 20
    app = await make_app(rate_limit_per_minute=limit)
    async with app.client() as admin:
        await create_accepted(admin, "rl", "u", "s")
        key = (await api_key(admin, "rl"))["secret"]
        genuine = await report_token(app, "rl-u-s")

        # Made-up report tokens (each one different) all draw from their sender's
        # address bucket: they run dry, and nobody else's does.
        bogus = []
        for n in range(limit + 5):
            async with app.client(token=f"essr_bogus{n}") as http:
                bogus.append((await http.get("/tenant/containers")).status_code)
        assert set(bogus) == {401, 429}
        assert bogus[-1] == 429
        async with app.client(token=genuine) as reporting:
            report = await reporting.post("/deployments/rl-u-s/report", json={"qps": 1})
            assert report.status_code == 200
        async with app.client(token=key) as keyed:
            assert (await keyed.get("/tenant/containers")).status_code == 200

        # WebSocket operations draw from the same bucket as the caller's HTTP requests.
        async with socket(app, key, in_header=True) as ws:
            answers = [await ws.run(f"q{n}", "{ __typename }") for n in range(limit + 5)]
        passed = [succeeded(a) for a in answers]
        assert 0 < sum(passed) <= limit - 2  # the GET and the upgrade took two tokens
        assert passed == sorted(passed, reverse=True)  # once dry, it stays dry for now
        refused = answers[-1]
        assert refused["type"] == "error"
        assert codes(refused) == ["RATE_LIMITED"]
        assert refused["payload"][0]["extensions"]["retryAfter"] >= 1
        assert "retry after" in refused["payload"][0]["message"]
        # Another caller is not slowed down by this one.
        assert (await admin.get("/tenant/containers")).status_code == 200


# -- subscriptions per caller -----------------------------------------------------------------


async def test_subscriptions_per_caller_are_bounded_across_sockets(make_app: MakeApp) -> None:
    app = await make_app(graphql_max_subscriptions_per_caller=2)
    async with app.client() as admin:
        a, b = await api_key(admin, "sa"), await api_key(admin, "sb")
        caller_a, caller_b = f"key:{a['id']}", f"key:{b['id']}"

        async def service_of(ws: Any, op_id: str) -> str:
            return str(event_of(await ws.wait(op_id))["serviceName"])

        async with (
            socket(app, a["secret"]) as first,
            socket(app, a["secret"]) as second,
            socket(app, b["secret"]) as other,
        ):
            await first.start("1", SUBSCRIBE, {"org": "sa"})
            await first.start("2", SUBSCRIBE, {"org": "sa"})
            await other.start("b", SUBSCRIBE, {"org": "sb"})
            await subscribed(app, caller_a, 2)
            await subscribed(app, caller_b, 1)
            await create_accepted(admin, "sa", "u", "one")
            for op_id in ("1", "2"):
                assert await service_of(first, op_id) == "one"

            # A third one of the same key, on another socket, is refused.
            await second.start("3", SUBSCRIBE, {"org": "sa"})
            refused = await second.until_end("3", timeout=10)
            assert codes(refused[0]) == ["TOO_MANY_SUBSCRIPTIONS"]
            assert "at most 2" in refused[0]["payload"]["errors"][0]["message"]

            # Another key is not affected.
            await create_accepted(admin, "sb", "u", "two")
            assert await service_of(other, "b") == "two"

            # Ending one makes room for another.
            await first.stop("1")

            async def one_left() -> bool:
                return app.runtime.event_feed.held_by(caller_a) == 1

            await wait_for(one_left, what="the ended subscription released")
            await second.start("4", SUBSCRIBE, {"org": "sa"})
            await subscribed(app, caller_a, 2)
            await create_accepted(admin, "sa", "u", "three")
            seen = {await service_of(second, "4")}
            while "three" not in seen:  # "one" may still be on its way to created
                seen.add(await service_of(second, "4"))
