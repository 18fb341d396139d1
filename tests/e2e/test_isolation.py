"""The isolation matrix: every caller by every REST endpoint and GraphQL operation,
with the exact answer each must get, and foreign rows never in sight.

Callers: no token, a bad token, a revoked key, the admin, an org-A key, an org-A key
bound to alice, an org-B key (and, for usage reports, report tokens)."""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.support.http import wait_for_status
from tests.support.servers import ServerProcess

PID = os.getpid()
ORG_A, ORG_B = f"iso-a-{PID}", f"iso-b-{PID}"
CALLERS = ["none", "bad", "revoked", "admin", "a", "a_alice", "b"]


@dataclass
class World:
    server: ServerProcess
    tokens: dict[str, str | None]
    ns: dict[str, str]  # alice, bob (org A), carol (org B)
    key_ids: dict[str, str]

    def client(self, caller: str) -> httpx.Client:
        token = self.tokens[caller]
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.server.url, headers=headers, timeout=30)

    def call(self, caller: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        with self.client(caller) as http:
            return http.request(method, path, **kwargs)

    def graphql(
        self, caller: str, query: str, variables: dict[str, Any] | None = None
    ) -> httpx.Response:
        return self.call(
            caller, "POST", "/graphql", json={"query": query, "variables": variables or {}}
        )

    def secret(self, namespace: str, name: str) -> dict[str, str]:
        response = httpx.get(
            f"{self.server.sandbox_url}/api/v1/namespaces/{namespace}/secrets/{name}"
        )
        assert response.status_code == 200, response.text
        body = response.json()
        data = {k: base64.b64decode(v).decode() for k, v in (body.get("data") or {}).items()}
        return {**data, **(body.get("stringData") or {})}


@pytest.fixture(scope="module")
def world(server: ServerProcess) -> Iterator[World]:
    with server.client() as admin:
        for org, user, service in [
            (ORG_A, "alice", "svc-a"),
            (ORG_A, "bob", "svc-b"),
            (ORG_B, "carol", "svc-c"),
        ]:
            assert (
                admin.post(
                    "/clusters", json={"tenant_org_id": org, "user": user, "service_name": service}
                ).status_code
                == 202
            )
        for org, user, service in [
            (ORG_A, "alice", "svc-a"),
            (ORG_A, "bob", "svc-b"),
            (ORG_B, "carol", "svc-c"),
        ]:
            wait_for_status(
                admin, user=user, service_name=service, tenant_org_id=org, wanted={"created"}
            )

        def key(org: str, name: str, user: str | None = None) -> dict[str, Any]:
            response = admin.post(
                "/api-keys", json={"tenant_org_id": org, "user": user, "name": name}
            )
            assert response.status_code == 201, response.text
            body: dict[str, Any] = response.json()
            return body

        a, a_alice, b, revoked = (
            key(ORG_A, "ci a"),
            key(ORG_A, "alice", "alice"),
            key(ORG_B, "ci b"),
            key(ORG_A, "old"),
        )
        assert admin.delete(f"/api-keys/{revoked['id']}").status_code == 200
    yield World(
        server=server,
        tokens={
            "none": None,
            "bad": "ess_0000000000000000_not-a-real-secret",
            "revoked": revoked["secret"],
            "admin": server.headers["Authorization"].split(" ", 1)[1],
            "a": a["secret"],
            "a_alice": a_alice["secret"],
            "b": b["secret"],
        },
        ns={
            "alice": f"{ORG_A}-alice-svc-a",
            "bob": f"{ORG_A}-bob-svc-b",
            "carol": f"{ORG_B}-carol-svc-c",
        },
        key_ids={"a": a["id"], "a_alice": a_alice["id"], "b": b["id"], "revoked": revoked["id"]},
    )


def expect(code_by_caller: dict[str, int]) -> list[tuple[str, int]]:
    """Unauthenticated callers always get 401; the rest as given."""
    return [(caller, code_by_caller.get(caller, 401)) for caller in CALLERS]


def namespaces(rows: list[dict[str, Any]]) -> set[str]:
    return {row["namespace"] for row in rows}


# -- REST reads ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caller", "code"), expect({"admin": 200, "a": 200, "a_alice": 200, "b": 200})
)
def test_list_all_containers_shows_only_the_callers_rows(
    world: World, caller: str, code: int
) -> None:
    response = world.call(caller, "GET", "/tenant/containers")
    assert response.status_code == code
    if code != 200:
        assert set(response.json()) == {"error"}
        return
    seen = namespaces(response.json()) & set(world.ns.values())
    assert (
        seen
        == {
            "admin": set(world.ns.values()),
            "a": {world.ns["alice"], world.ns["bob"]},
            "a_alice": {world.ns["alice"]},
            "b": {world.ns["carol"]},
        }[caller]
    )
    if caller != "admin":
        assert {row["tenant_org_id"] for row in response.json()} == {
            ORG_B if caller == "b" else ORG_A
        }


@pytest.mark.parametrize(
    ("caller", "code"), expect({"admin": 200, "a": 200, "a_alice": 200, "b": 200})
)
def test_org_listing_never_shows_foreign_rows(world: World, caller: str, code: int) -> None:
    response = world.call(caller, "GET", f"/tenant/containers/org/{ORG_A}")
    assert response.status_code == code
    if code == 200:
        expected = {
            "admin": {"alice", "bob"},
            "a": {"alice", "bob"},
            "a_alice": {"alice"},
            "b": set(),
        }[caller]
        assert {row["user"] for row in response.json()} == expected


@pytest.mark.parametrize(
    ("caller", "code"), expect({"admin": 200, "a": 200, "a_alice": 200, "b": 404})
)
@pytest.mark.parametrize("suffix", ["", "/events"])
def test_one_container_and_its_events(world: World, caller: str, code: int, suffix: str) -> None:
    response = world.call(
        caller, "GET", f"/tenant/containers/alice/svc-a{suffix}", params={"tenant_org_id": ORG_A}
    )
    assert response.status_code == code
    if code == 404:  # exactly what a nonexistent container answers
        missing = world.call(
            "admin",
            "GET",
            f"/tenant/containers/alice/svc-a{suffix}",
            params={"tenant_org_id": "iso-nowhere"},
        )
        assert missing.status_code == 404
        assert response.json()["error"].replace(ORG_A, "X") == missing.json()["error"].replace(
            "iso-nowhere", "X"
        )


@pytest.mark.parametrize(
    ("caller", "code"), expect({"admin": 200, "a": 200, "a_alice": 404, "b": 404})
)
def test_user_bound_key_does_not_see_other_users(world: World, caller: str, code: int) -> None:
    assert world.call(caller, "GET", "/tenant/containers/bob/svc-b").status_code == code


@pytest.mark.parametrize(
    ("caller", "code"), expect({"admin": 200, "a": 200, "a_alice": 200, "b": 404})
)
def test_deployment_status(world: World, caller: str, code: int) -> None:
    response = world.call(caller, "GET", f"/deployments/{world.ns['alice']}")
    assert response.status_code == code
    if code == 200:
        assert response.json()["tenant_org_id"] == ORG_A


# -- REST writes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caller", "code"), expect({"admin": 202, "a": 202, "a_alice": 202, "b": 403})
)
def test_create_in_org_a(world: World, caller: str, code: int) -> None:
    body = {
        "tenant_org_id": ORG_A,
        "user": "alice",
        "service_name": f"new-{caller.replace('_', '-')}",
    }
    response = world.call(caller, "POST", "/clusters", json=body)
    assert response.status_code == code
    if code == 403:
        assert ORG_A in response.json()["error"]


@pytest.mark.parametrize(
    ("caller", "code"), expect({"admin": 202, "a": 202, "a_alice": 403, "b": 403})
)
def test_create_for_another_user(world: World, caller: str, code: int) -> None:
    body = {
        "tenant_org_id": ORG_A,
        "user": "bob",
        "service_name": f"other-{caller.replace('_', '-')}",
    }
    assert world.call(caller, "POST", "/clusters", json=body).status_code == code


@pytest.mark.parametrize(
    ("caller", "code"), expect({"admin": 400, "a": 400, "a_alice": 400, "b": 404})
)
def test_update_reaches_validation_only_when_visible(world: World, caller: str, code: int) -> None:
    # A shrinking disk is refused with 400 by whoever may see the cluster: it proves the
    # request got past authorisation without changing anything.
    response = world.call(
        caller, "PATCH", f"/clusters/{world.ns['alice']}", json={"disk_size": "1Gi"}
    )
    assert response.status_code == code


@pytest.mark.parametrize(
    ("caller", "code"), expect({"admin": 202, "a": 202, "a_alice": 202, "b": 404})
)
def test_delete(world: World, caller: str, code: int) -> None:
    with world.client("admin") as admin:
        service = f"del-{caller.replace('_', '-')}"
        admin.post(
            "/clusters", json={"tenant_org_id": ORG_A, "user": "alice", "service_name": service}
        )
        by_namespace = world.call(caller, "DELETE", f"/clusters/{ORG_A}-alice-{service}")
        assert by_namespace.status_code == code
        by_key = world.call(
            caller,
            "DELETE",
            "/clusters",
            params={"tenant_org_id": ORG_A, "user": "alice", "service_name": service},
        )
        assert by_key.status_code == code
        still = admin.get(
            f"/tenant/containers/alice/{service}",
            params={"tenant_org_id": ORG_A, "include_deleted": "true"},
        ).json()
        assert (still["status"] in {"deleting", "deleted"}) == (code == 202)


@pytest.mark.parametrize(
    ("caller", "code"), expect({"admin": 200, "a": 403, "a_alice": 403, "b": 403})
)
def test_usage_reports_take_report_tokens_not_org_keys(
    world: World, caller: str, code: int
) -> None:
    response = world.call(
        caller, "POST", f"/deployments/{world.ns['alice']}/report", json={"qps": 1}
    )
    assert response.status_code == code


def test_report_token_reports_only_its_own_deployment(world: World) -> None:
    reporter = world.secret(world.ns["alice"], "es-serverless-reporter")
    assert reporter["url"].endswith(f"/deployments/{world.ns['alice']}/report")
    headers = {"Authorization": f"Bearer {reporter['token']}"}
    own = httpx.post(
        f"{world.server.url}/deployments/{world.ns['alice']}/report",
        json={"qps": 9},
        headers=headers,
    )
    assert own.status_code == 200
    assert own.json()["qps"] == 9.0
    foreign = httpx.post(
        f"{world.server.url}/deployments/{world.ns['carol']}/report",
        json={"qps": 9},
        headers=headers,
    )
    assert foreign.status_code == 404
    # A report token reads nothing.
    assert httpx.get(f"{world.server.url}/tenant/containers", headers=headers).status_code == 403


@pytest.mark.parametrize(
    ("method", "path", "admin_code"),
    [
        ("GET", "/api-keys", 200),
        ("POST", "/api-keys", 201),
        ("GET", "/audit", 200),
        ("DELETE", "/api-keys/{key}", 200),
    ],
)
@pytest.mark.parametrize("caller", CALLERS)
def test_admin_only_endpoints(
    world: World, caller: str, method: str, path: str, admin_code: int
) -> None:
    body = {"tenant_org_id": ORG_B, "name": f"made by {caller}"} if method == "POST" else None
    if "{key}" in path:
        with world.client("admin") as admin:
            path = path.format(
                key=admin.post("/api-keys", json={"tenant_org_id": ORG_B, "name": "doomed"}).json()[
                    "id"
                ]
            )
    response = world.call(caller, method, path, json=body)
    expected = {"admin": admin_code, "a": 403, "a_alice": 403, "b": 403}.get(caller, 401)
    assert response.status_code == expected
    if caller == "admin" and (method, path) == ("GET", "/api-keys"):
        assert all("secret" not in key for key in response.json())


@pytest.mark.parametrize("caller", CALLERS)
def test_openapi_is_public(world: World, caller: str) -> None:
    assert world.call(caller, "GET", "/openapi.json").status_code == 200


def test_refusals_are_json_with_a_www_authenticate_challenge(world: World) -> None:
    response = world.call("revoked", "GET", "/tenant/containers")
    assert response.status_code == 401
    assert response.json() == {"error": "missing or invalid bearer token"}
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_keys_remember_their_last_use_and_the_audit_log_names_the_actor(world: World) -> None:
    world.call("a", "GET", "/tenant/containers")
    world.call(
        "b", "POST", "/clusters", json={"tenant_org_id": ORG_A, "user": "x", "service_name": "y"}
    )
    with world.client("admin") as admin:
        listed = {
            k["id"]: k for k in admin.get("/api-keys", params={"tenant_org_id": ORG_A}).json()
        }
        assert listed[world.key_ids["a"]]["last_used_at"] is not None
        assert listed[world.key_ids["revoked"]]["revoked_at"] is not None
        entries = admin.get("/audit", params={"tenant_org_id": ORG_A, "limit": 200}).json()
    refused = [
        e
        for e in entries
        if e["actor"] == f"key:{world.key_ids['b']}" and e["action"] == "createCluster"
    ]
    assert refused and refused[0]["outcome"] == "error 403 FORBIDDEN"
    assert any(e["actor"] == "admin" and e["action"] == "createApiKey" for e in entries)


# -- GraphQL ---------------------------------------------------------------------------

TREE = "query($org: String!) { organization(id: $org) { containers { namespace tenantOrgId } users { name } } }"


@pytest.mark.parametrize("caller", CALLERS)
def test_graphql_organization_tree(world: World, caller: str) -> None:
    response = world.graphql(caller, TREE, {"org": ORG_A})
    if caller in ("none", "bad", "revoked"):
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        return
    tree = response.json()["data"]["organization"]
    expected = {"admin": {"alice", "bob"}, "a": {"alice", "bob"}, "a_alice": {"alice"}, "b": set()}[
        caller
    ]
    assert {u["name"] for u in tree["users"]} == expected
    assert all(c["tenantOrgId"] == ORG_A for c in tree["containers"])
    owners = {c["namespace"].removeprefix(f"{ORG_A}-").split("-", 1)[0] for c in tree["containers"]}
    assert owners == expected


@pytest.mark.parametrize("caller", ["admin", "a", "a_alice", "b"])
def test_graphql_lookups_of_foreign_objects_are_null(world: World, caller: str) -> None:
    body = world.graphql(
        caller,
        """query($org: String!, $ns: String!) {
          one: tenantContainer(user: "alice", serviceName: "svc-a", tenantOrgId: $org) { id }
          dep: deploymentStatus(namespace: $ns) { id }
          all: tenantContainers { tenantOrgId user }
        }""",
        {"org": ORG_A, "ns": world.ns["alice"]},
    ).json()
    visible = caller != "b"
    assert (body["data"]["one"] is not None) == visible
    assert (body["data"]["dep"] is not None) == visible
    orgs = {row["tenantOrgId"] for row in body["data"]["all"]}
    if caller != "admin":
        assert orgs <= {ORG_B if caller == "b" else ORG_A}
    if caller == "a_alice":
        assert {row["user"] for row in body["data"]["all"]} == {"alice"}


MUTATIONS = {
    "createCluster": (
        'mutation($org: String!) { createCluster(input: {tenantOrgId: $org, user: "alice", serviceName: "gql-CALLER"}) { id } }',
        {"admin": None, "a": None, "a_alice": None, "b": "FORBIDDEN"},
    ),
    "updateCluster": (
        'mutation($ns: String!) { updateCluster(namespace: $ns, input: {diskSize: "1Gi"}) { id } }',
        {
            "admin": "BAD_USER_INPUT",
            "a": "BAD_USER_INPUT",
            "a_alice": "BAD_USER_INPUT",
            "b": "NOT_FOUND",
        },
    ),
    "deleteCluster": (
        'mutation { deleteCluster(namespace: "iso-nowhere-ns") { id } }',
        {"admin": "NOT_FOUND", "a": "NOT_FOUND", "a_alice": "NOT_FOUND", "b": "NOT_FOUND"},
    ),
    "deleteForeign": (
        "mutation($ns: String!) { deleteCluster(namespace: $ns) { id } }",
        {"b": "NOT_FOUND"},
    ),
    "reportDeploymentStatus": (
        "mutation($ns: String!) { reportDeploymentStatus(namespace: $ns, qps: 1) { qps } }",
        {"admin": None, "a": "FORBIDDEN", "a_alice": "FORBIDDEN", "b": "FORBIDDEN"},
    ),
    "createApiKey": (
        'mutation($org: String!) { createApiKey(tenantOrgId: $org, name: "k") { secret } }',
        {"admin": None, "a": "FORBIDDEN", "a_alice": "FORBIDDEN", "b": "FORBIDDEN"},
    ),
    "revokeApiKey": (
        'mutation { revokeApiKey(id: "no-such-key") { id } }',
        {"admin": "NOT_FOUND", "a": "FORBIDDEN", "a_alice": "FORBIDDEN", "b": "FORBIDDEN"},
    ),
    "apiKeys": (
        "query { apiKeys { id } }",
        {"admin": None, "a": "FORBIDDEN", "a_alice": "FORBIDDEN", "b": "FORBIDDEN"},
    ),
    "auditLog": (
        "query { auditLog(limit: 5) { id } }",
        {"admin": None, "a": "FORBIDDEN", "a_alice": "FORBIDDEN", "b": "FORBIDDEN"},
    ),
}


GRAPHQL_MATRIX = [
    (operation, caller)
    for operation, (_, codes) in sorted(MUTATIONS.items())
    for caller in CALLERS
    if caller in codes or caller in ("none", "bad", "revoked")
]


@pytest.mark.parametrize(("operation", "caller"), GRAPHQL_MATRIX)
def test_graphql_operations(world: World, caller: str, operation: str) -> None:
    query, codes = MUTATIONS[operation]
    response = world.graphql(
        caller,
        query.replace("CALLER", caller.replace("_", "-")),
        {"org": ORG_A, "ns": world.ns["alice"]},
    )
    if caller in ("none", "bad", "revoked"):
        assert response.status_code == 401
        return
    body = response.json()
    expected = codes[caller]
    if expected is None:
        assert "errors" not in body, body
    else:
        assert [e["extensions"]["code"] for e in body["errors"]] == [expected]


@pytest.mark.parametrize(("caller", "readable"), [("a", True), ("a_alice", True), ("admin", False)])
def test_connection_details_only_for_the_orgs_keys(
    world: World, caller: str, readable: bool
) -> None:
    body = world.graphql(
        caller,
        'query($org: String!) { tenantContainer(user: "alice", serviceName: "svc-a", tenantOrgId: $org) { connection { endpoint username password } } }',
        {"org": ORG_A},
    ).json()
    if not readable:
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        return
    connection = body["data"]["tenantContainer"]["connection"]
    credentials = world.secret(world.ns["alice"], "elasticsearch-credentials")
    assert connection == {
        "endpoint": f"http://elasticsearch.{world.ns['alice']}.svc:9200",
        "username": "elastic",
        "password": credentials["password"],
    }


def _ws(world: World, caller: str) -> Any:
    return connect(
        world.server.url.replace("http://", "ws://") + "/graphql",
        subprotocols=["graphql-transport-ws"],
    )  # type: ignore[list-item]


@pytest.mark.parametrize("caller", ["none", "bad", "revoked"])
def test_subscription_refuses_unauthenticated_connections(world: World, caller: str) -> None:
    token = world.tokens[caller]
    with _ws(world, caller) as ws:
        ws.send(
            json.dumps(
                {
                    "type": "connection_init",
                    "payload": {"Authorization": f"Bearer {token}"} if token else {},
                }
            )
        )
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


def test_subscription_of_a_foreign_org_stays_silent(world: World) -> None:
    subscribe = {"id": "1", "type": "subscribe", "payload": {
        "query": "subscription($org: String!) { clusterEvents(tenantOrgId: $org) { namespace } }",
        "variables": {"org": ORG_A},
    }}  # fmt: skip
    with _ws(world, "b") as spy, _ws(world, "a") as own:
        for ws, caller in ((spy, "b"), (own, "a")):
            ws.send(
                json.dumps(
                    {
                        "type": "connection_init",
                        "payload": {"Authorization": f"Bearer {world.tokens[caller]}"},
                    }
                )
            )
            assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
            ws.send(json.dumps(subscribe))
        time.sleep(0.5)
        world.call(
            "admin",
            "POST",
            "/clusters",
            json={"tenant_org_id": ORG_A, "user": "bob", "service_name": "watched"},
        )
        # The org's own key sees the change (among any others still in flight)...
        seen: set[str] = set()
        while f"{ORG_A}-bob-watched" not in seen:
            seen.add(
                json.loads(own.recv(timeout=10))["payload"]["data"]["clusterEvents"]["namespace"]
            )
        # ...the other organisation's key, subscribed to the same org, sees nothing.
        with pytest.raises(TimeoutError):
            spy.recv(timeout=1.5)
