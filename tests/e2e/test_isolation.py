"""The isolation matrix: every caller by every REST endpoint and GraphQL operation,
with the exact answer each must get, and foreign rows never in sight.

Callers: no token, a bad token, a revoked key, the admin, an org-A key, an org-A key
bound to alice, an org-B key (and, for usage reports, report tokens). The app in
process, one for the module.

Another organisation's object is answered exactly as one that does not exist: every
foreign 404 is compared, body and all, with the answer to a name nobody has. A refused
write changes nothing, and no test changes the shared world's clusters (a guard checks
after every test, so a leak is reported by the test that made it, not by the ones
after it)."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio

from tests.support.inprocess import InProcessServer, create, create_accepted, wait_for_status
from tests.support.servers import ADMIN_TOKEN
from tests.support.websocket import close_code_at_init, event_of, socket, subscribed

pytestmark = pytest.mark.asyncio(loop_scope="module")

PID = os.getpid()
ORG_A, ORG_B = f"iso-a-{PID}", f"iso-b-{PID}"
NOWHERE = f"iso-nowhere-{PID}"  # an organisation nobody has
MISSING_NS = f"{ORG_A}-nobody-nothing"  # a namespace nobody has
CALLERS = ["none", "bad", "revoked", "admin", "a", "a_alice", "b"]
# The clusters every test reads and none may change: (org, user, service) by name.
BASE = {
    "alice": (ORG_A, "alice", "svc-a"),
    "bob": (ORG_A, "bob", "svc-b"),
    "carol": (ORG_B, "carol", "svc-c"),
}
# The one cluster tests may send usage reports to (accepted reports change it).
REPORTED = (ORG_A, "alice", "svc-r")


@dataclass(frozen=True)
class World:
    app: InProcessServer
    tokens: Mapping[str, str | None]
    ns: Mapping[str, str]  # alice, bob (org A), carol (org B); reported
    key_ids: Mapping[str, str]

    def client(self, caller: str) -> httpx.AsyncClient:
        return self.app.client(token=self.tokens[caller])

    async def call(self, caller: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async with self.client(caller) as http:
            return await http.request(method, path, **kwargs)

    async def graphql(
        self, caller: str, query: str, variables: dict[str, Any] | None = None
    ) -> httpx.Response:
        return await self.call(
            caller, "POST", "/graphql", json={"query": query, "variables": variables or {}}
        )

    async def secret(self, namespace: str, name: str) -> dict[str, str]:
        return await self.app.sandbox.secret(namespace, name)

    async def base_records(self) -> dict[str, Any]:
        """The base clusters as the admin sees them: records (status, shape, error,
        times) and deployments (usage included)."""
        async with self.client("admin") as admin:
            rows = []
            for org in (ORG_A, ORG_B):
                listed = await admin.get(
                    f"/tenant/containers/org/{org}", params={"include_deleted": "true"}
                )
                rows += listed.json()
            base = {self.ns[name] for name in BASE}
            deployments = {
                name: (await admin.get(f"/deployments/{self.ns[name]}")).json() for name in BASE
            }
        return {
            "containers": sorted(
                (row for row in rows if row["namespace"] in base), key=lambda row: row["id"]
            ),
            "deployments": deployments,
        }


def assert_as_if_missing(
    foreign: httpx.Response, missing: httpx.Response, *, asked: str, nobody: str
) -> None:
    """``foreign`` (the answer about another organisation's ``asked``) is word for word
    ``missing`` (the answer about ``nobody``, which does not exist), names swapped."""
    assert foreign.status_code == missing.status_code == 404, (foreign.text, missing.text)
    assert foreign.json() == json.loads(missing.text.replace(nobody, asked)), (
        foreign.text,
        missing.text,
    )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(shared_app: InProcessServer) -> World:
    async with shared_app.client() as admin:
        for org, user, service in [*BASE.values(), REPORTED]:
            await create_accepted(admin, org, user, service)
        for org, user, service in [*BASE.values(), REPORTED]:
            await wait_for_status(
                admin, user=user, service_name=service, tenant_org_id=org, wanted={"created"}
            )

        async def key(org: str, name: str, user: str | None = None) -> dict[str, Any]:
            response = await admin.post(
                "/api-keys", json={"tenant_org_id": org, "user": user, "name": name}
            )
            assert response.status_code == 201, response.text
            body: dict[str, Any] = response.json()
            return body

        a, a_alice, b, revoked = (
            await key(ORG_A, "ci a"),
            await key(ORG_A, "alice", "alice"),
            await key(ORG_B, "ci b"),
            await key(ORG_A, "old"),
        )
        assert (await admin.delete(f"/api-keys/{revoked['id']}")).status_code == 200
    return World(
        app=shared_app,
        tokens={
            "none": None,
            "bad": "ess_0000000000000000_not-a-real-secret",
            "revoked": revoked["secret"],
            "admin": ADMIN_TOKEN,
            "a": a["secret"],
            "a_alice": a_alice["secret"],
            "b": b["secret"],
        },
        ns={
            **{name: f"{org}-{user}-{service}" for name, (org, user, service) in BASE.items()},
            "reported": "-".join(REPORTED),
        },
        key_ids={"a": a["id"], "a_alice": a_alice["id"], "b": b["id"], "revoked": revoked["id"]},
    )


@pytest_asyncio.fixture(autouse=True, loop_scope="module")
async def world_unchanged(world: World) -> AsyncIterator[dict[str, Any]]:
    """No test changes the base clusters: checked after each, so a leak fails the test
    that caused it."""
    before = await world.base_records()
    yield before
    after = await world.base_records()
    assert after["containers"] == before["containers"], "this test changed a base cluster"
    assert after["deployments"] == before["deployments"], "this test changed a deployment"


def expect(code_by_caller: dict[str, int]) -> list[tuple[str, int]]:
    """Unauthenticated callers always get 401; the rest as given."""
    return [(caller, code_by_caller.get(caller, 401)) for caller in CALLERS]


def namespaces(rows: list[dict[str, Any]]) -> set[str]:
    return {row["namespace"] for row in rows}


# -- REST reads ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caller", "code"), expect({"admin": 200, "a": 200, "a_alice": 200, "b": 200})
)
async def test_list_all_containers_shows_only_the_callers_rows(
    world: World, caller: str, code: int
) -> None:
    response = await world.call(caller, "GET", "/tenant/containers")
    assert response.status_code == code
    if code != 200:
        assert set(response.json()) == {"error"}
        return
    base = {world.ns[name] for name in BASE}
    seen = namespaces(response.json()) & base
    assert (
        seen
        == {
            "admin": base,
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
async def test_org_listing_never_shows_foreign_rows(world: World, caller: str, code: int) -> None:
    response = await world.call(caller, "GET", f"/tenant/containers/org/{ORG_A}")
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
async def test_one_container_and_its_events(
    world: World, caller: str, code: int, suffix: str
) -> None:
    path = f"/tenant/containers/alice/svc-a{suffix}"
    response = await world.call(caller, "GET", path, params={"tenant_org_id": ORG_A})
    assert response.status_code == code
    if code == 404:  # exactly what a nonexistent container answers
        missing = await world.call(caller, "GET", path, params={"tenant_org_id": NOWHERE})
        assert_as_if_missing(response, missing, asked=ORG_A, nobody=NOWHERE)
        without_org = await world.call(caller, "GET", path)
        missing = await world.call(caller, "GET", f"/tenant/containers/alice/svc-none{suffix}")
        assert_as_if_missing(without_org, missing, asked="svc-a", nobody="svc-none")


@pytest.mark.parametrize(
    ("caller", "code"), expect({"admin": 200, "a": 200, "a_alice": 404, "b": 404})
)
async def test_user_bound_key_does_not_see_other_users(
    world: World, caller: str, code: int
) -> None:
    response = await world.call(caller, "GET", "/tenant/containers/bob/svc-b")
    assert response.status_code == code
    if code == 404:
        missing = await world.call(caller, "GET", "/tenant/containers/bob/svc-none")
        assert_as_if_missing(response, missing, asked="svc-b", nobody="svc-none")


@pytest.mark.parametrize(
    ("caller", "code"), expect({"admin": 200, "a": 200, "a_alice": 200, "b": 404})
)
async def test_deployment_status(world: World, caller: str, code: int) -> None:
    response = await world.call(caller, "GET", f"/deployments/{world.ns['alice']}")
    assert response.status_code == code
    if code == 200:
        assert response.json()["tenant_org_id"] == ORG_A
    if code == 404:
        missing = await world.call(caller, "GET", f"/deployments/{MISSING_NS}")
        assert_as_if_missing(response, missing, asked=world.ns["alice"], nobody=MISSING_NS)


@pytest.mark.parametrize("caller", ["a", "a_alice"])
async def test_another_orgs_lists_are_empty_like_an_unknown_orgs(world: World, caller: str) -> None:
    foreign = await world.call(caller, "GET", f"/tenant/containers/org/{ORG_B}")
    missing = await world.call(caller, "GET", f"/tenant/containers/org/{NOWHERE}")
    assert (
        (foreign.status_code, foreign.json())
        == (missing.status_code, missing.json())
        == (
            200,
            [],
        )
    )


# -- REST writes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caller", "code"), expect({"admin": 202, "a": 202, "a_alice": 202, "b": 403})
)
async def test_create_in_org_a(world: World, caller: str, code: int) -> None:
    service = f"new-{caller.replace('_', '-')}"
    async with world.client(caller) as http:
        response = await create(http, ORG_A, "alice", service)
    assert response.status_code == code
    if code == 403:
        assert ORG_A in response.json()["error"]
    if code != 202:  # nothing was recorded
        async with world.client("admin") as admin:
            params = {"tenant_org_id": ORG_A, "include_deleted": "true"}
            assert (
                await admin.get(f"/tenant/containers/alice/{service}", params=params)
            ).status_code == 404


@pytest.mark.parametrize(
    ("caller", "code"), expect({"admin": 202, "a": 202, "a_alice": 403, "b": 403})
)
async def test_create_for_another_user(world: World, caller: str, code: int) -> None:
    service = f"other-{caller.replace('_', '-')}"
    assert (await create(world.client(caller), ORG_A, "bob", service)).status_code == code
    if code != 202:
        async with world.client("admin") as admin:
            params = {"tenant_org_id": ORG_A, "include_deleted": "true"}
            assert (
                await admin.get(f"/tenant/containers/bob/{service}", params=params)
            ).status_code == 404


@pytest.mark.parametrize(
    ("caller", "code"), expect({"admin": 400, "a": 400, "a_alice": 400, "b": 404})
)
async def test_update_reaches_validation_only_when_visible(
    world: World, caller: str, code: int, world_unchanged: dict[str, Any]
) -> None:
    # A shrinking disk is refused with 400 by whoever may see the cluster: it proves the
    # request got past authorisation without changing anything.
    response = await world.call(
        caller, "PATCH", f"/clusters/{world.ns['alice']}", json={"disk_size": "1Gi"}
    )
    assert response.status_code == code
    if code == 404:
        missing = await world.call(
            caller, "PATCH", f"/clusters/{MISSING_NS}", json={"disk_size": "1Gi"}
        )
        assert_as_if_missing(response, missing, asked=world.ns["alice"], nobody=MISSING_NS)
        # A change the caller may not see is refused before it is looked at.
        grow = await world.call(
            caller, "PATCH", f"/clusters/{world.ns['alice']}", json={"replicas": 3}
        )
        assert grow.json() == response.json()
    assert (await world.base_records())["containers"] == world_unchanged["containers"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/clusters/{ns}/credentials/reset"), ("GET", "/clusters/{ns}/connection")],
)
async def test_credentials_of_a_foreign_cluster_read_as_missing(
    world: World, method: str, path: str, world_unchanged: dict[str, Any]
) -> None:
    response = await world.call("b", method, path.format(ns=world.ns["alice"]))
    assert response.status_code == 404
    missing = await world.call("b", method, path.format(ns=MISSING_NS))
    assert_as_if_missing(response, missing, asked=world.ns["alice"], nobody=MISSING_NS)
    assert (await world.base_records())["containers"] == world_unchanged["containers"]


@pytest.mark.parametrize("caller", ["a", "a_alice"])
async def test_another_orgs_cluster_cannot_be_deleted_and_stays(
    world: World, caller: str, world_unchanged: dict[str, Any]
) -> None:
    carol = world.ns["carol"]
    by_namespace = await world.call(caller, "DELETE", f"/clusters/{carol}")
    missing = await world.call(caller, "DELETE", f"/clusters/{MISSING_NS}")
    assert_as_if_missing(by_namespace, missing, asked=carol, nobody=MISSING_NS)
    key = {"tenant_org_id": ORG_B, "user": "carol", "service_name": "svc-c"}
    by_key = await world.call(caller, "DELETE", "/clusters", params=key)
    missing = await world.call(
        caller, "DELETE", "/clusters", params={**key, "service_name": "svc-none"}
    )
    assert_as_if_missing(by_key, missing, asked="svc-c", nobody="svc-none")
    assert (await world.base_records())["containers"] == world_unchanged["containers"]


@pytest.mark.parametrize(
    ("caller", "code"), expect({"admin": 202, "a": 202, "a_alice": 202, "b": 404})
)
async def test_delete(world: World, caller: str, code: int) -> None:
    service = f"del-{caller.replace('_', '-')}"
    namespace = f"{ORG_A}-alice-{service}"
    async with world.client("admin") as admin:
        await create_accepted(admin, ORG_A, "alice", service)
        by_namespace = await world.call(caller, "DELETE", f"/clusters/{namespace}")
        assert by_namespace.status_code == code
        key = {"tenant_org_id": ORG_A, "user": "alice", "service_name": service}
        by_key = await world.call(caller, "DELETE", "/clusters", params=key)
        assert by_key.status_code == code
        if code == 404:
            missing = await world.call(caller, "DELETE", f"/clusters/{MISSING_NS}")
            assert_as_if_missing(by_namespace, missing, asked=namespace, nobody=MISSING_NS)
            missing = await world.call(
                caller, "DELETE", "/clusters", params={**key, "service_name": "svc-none"}
            )
            assert_as_if_missing(by_key, missing, asked=service, nobody="svc-none")
        still = (
            await admin.get(
                f"/tenant/containers/alice/{service}",
                params={"tenant_org_id": ORG_A, "include_deleted": "true"},
            )
        ).json()
        assert (still["status"] in {"deleting", "deleted"}) == (code == 202)


@pytest.mark.parametrize(
    ("caller", "code"), expect({"admin": 200, "a": 403, "a_alice": 403, "b": 403})
)
async def test_usage_reports_take_report_tokens_not_org_keys(
    world: World, caller: str, code: int
) -> None:
    path = f"/deployments/{world.ns['reported']}"
    async with world.client("admin") as admin:
        before = (await admin.get(path)).json()
        response = await world.call(caller, "POST", f"{path}/report", json={"qps": 1})
        assert response.status_code == code
        if code != 200:  # a refused report changes nothing
            assert (await admin.get(path)).json() == before


async def test_report_token_reports_only_its_own_deployment(
    world: World, world_unchanged: dict[str, Any]
) -> None:
    reported = world.ns["reported"]
    reporter = await world.secret(reported, "es-serverless-reporter")
    assert reporter["url"].endswith(f"/deployments/{reported}/report")
    async with world.app.client(token=reporter["token"]) as http:
        own = await http.post(f"/deployments/{reported}/report", json={"qps": 9})
        assert own.status_code == 200
        assert own.json()["qps"] == 9.0
        foreign = await http.post(f"/deployments/{world.ns['carol']}/report", json={"qps": 9})
        missing = await http.post(f"/deployments/{MISSING_NS}/report", json={"qps": 9})
        assert_as_if_missing(foreign, missing, asked=world.ns["carol"], nobody=MISSING_NS)
        # A report token reads nothing.
        assert (await http.get("/tenant/containers")).status_code == 403
    assert (await world.base_records())["deployments"] == world_unchanged["deployments"]


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
async def test_admin_only_endpoints(
    world: World, caller: str, method: str, path: str, admin_code: int
) -> None:
    body = {"tenant_org_id": ORG_B, "name": f"made by {caller}"} if method == "POST" else None
    async with world.client("admin") as admin:
        if "{key}" in path:
            doomed = await admin.post("/api-keys", json={"tenant_org_id": ORG_B, "name": "doomed"})
            assert doomed.status_code == 201, doomed.text
            path = path.format(key=doomed.json()["id"])
        keys_before = (await admin.get("/api-keys")).json()
        response = await world.call(caller, method, path, json=body)
        expected = {"admin": admin_code, "a": 403, "a_alice": 403, "b": 403}.get(caller, 401)
        assert response.status_code == expected
        if caller == "admin" and (method, path) == ("GET", "/api-keys"):
            assert all("secret" not in key for key in response.json())
        if expected != admin_code:  # refused: no key made, none revoked
            assert (await admin.get("/api-keys")).json() == keys_before


@pytest.mark.parametrize("caller", CALLERS)
async def test_openapi_is_public(world: World, caller: str) -> None:
    assert (await world.call(caller, "GET", "/openapi.json")).status_code == 200


async def test_refusals_are_json_with_a_www_authenticate_challenge(world: World) -> None:
    response = await world.call("revoked", "GET", "/tenant/containers")
    assert response.status_code == 401
    assert response.json() == {"error": "missing or invalid bearer token"}
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_keys_remember_their_last_use_and_the_audit_log_names_the_actor(world: World) -> None:
    await world.call("a", "GET", "/tenant/containers")
    await world.call(
        "b", "POST", "/clusters", json={"tenant_org_id": ORG_A, "user": "x", "service_name": "y"}
    )
    async with world.client("admin") as admin:
        listed = {
            k["id"]: k
            for k in (await admin.get("/api-keys", params={"tenant_org_id": ORG_A})).json()
        }
        assert listed[world.key_ids["a"]]["last_used_at"] is not None
        assert listed[world.key_ids["revoked"]]["revoked_at"] is not None
        entries = (await admin.get("/audit", params={"tenant_org_id": ORG_A, "limit": 200})).json()
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
async def test_graphql_organization_tree(world: World, caller: str) -> None:
    response = await world.graphql(caller, TREE, {"org": ORG_A})
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
async def test_graphql_lookups_of_foreign_objects_are_null(world: World, caller: str) -> None:
    body = (
        await world.graphql(
            caller,
            """query($org: String!, $ns: String!) {
          one: tenantContainer(user: "alice", serviceName: "svc-a", tenantOrgId: $org) { id }
          dep: deploymentStatus(namespace: $ns) { id }
          all: tenantContainers { tenantOrgId user }
        }""",
            {"org": ORG_A, "ns": world.ns["alice"]},
        )
    ).json()
    visible = caller != "b"
    assert "errors" not in body, body  # null, as for what does not exist: no error to read
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
    "resetForeign": (
        "mutation($ns: String!) { resetClusterCredentials(namespace: $ns) { id } }",
        {"b": "NOT_FOUND"},
    ),
    "reportDeploymentStatus": (
        "mutation($reported: String!) { reportDeploymentStatus(namespace: $reported, qps: 1) { qps } }",
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
async def test_graphql_operations(world: World, caller: str, operation: str) -> None:
    query, codes = MUTATIONS[operation]
    response = await world.graphql(
        caller,
        query.replace("CALLER", caller.replace("_", "-")),
        {"org": ORG_A, "ns": world.ns["alice"], "reported": world.ns["reported"]},
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


@pytest.mark.parametrize("operation", ["updateCluster", "deleteForeign", "resetForeign"])
async def test_graphql_errors_about_a_foreign_namespace_read_as_missing(
    world: World, operation: str, world_unchanged: dict[str, Any]
) -> None:
    query = MUTATIONS[operation][0]
    foreign = await world.graphql("b", query, {"ns": world.ns["alice"]})
    missing = await world.graphql("b", query, {"ns": MISSING_NS})
    assert foreign.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert foreign.json() == json.loads(missing.text.replace(MISSING_NS, world.ns["alice"]))
    assert (await world.base_records())["containers"] == world_unchanged["containers"]


CREDENTIALS = (
    'query($org: String!) { tenantContainer(user: "alice", serviceName: "svc-a", '
    "tenantOrgId: $org) { %s { endpoint username password } } }"
)


# credentials, and connection: its deprecated name, kept working for existing clients.
@pytest.mark.parametrize("field", ["credentials", "connection"])
@pytest.mark.parametrize(("caller", "readable"), [("a", True), ("a_alice", True), ("admin", False)])
async def test_connection_details_only_for_the_orgs_keys(
    world: World, field: str, caller: str, readable: bool
) -> None:
    body = (await world.graphql(caller, CREDENTIALS % field, {"org": ORG_A})).json()
    if not readable:
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        return
    connection = body["data"]["tenantContainer"][field]
    credentials = await world.secret(world.ns["alice"], "elasticsearch-credentials")
    assert connection == {
        "endpoint": f"https://elasticsearch.{world.ns['alice']}.svc:9200",
        "username": "elastic",
        "password": credentials["password"],
    }


@pytest.mark.parametrize("caller", CALLERS)
async def test_credentials_answer_as_the_deprecated_connection(world: World, caller: str) -> None:
    """The renamed field is the old one under a new name: the same data, and the same
    refusals (code, message, location), only the path naming the field asked for."""
    new = (await world.graphql(caller, CREDENTIALS % "credentials", {"org": ORG_A})).json()
    old = (await world.graphql(caller, CREDENTIALS % "connection", {"org": ORG_A})).json()
    # The field starts at the same place in both documents: so do error locations.
    assert json.loads(json.dumps(new).replace('"credentials"', '"connection"')) == old
    if caller in ("a", "a_alice"):
        assert "errors" not in new and new["data"]["tenantContainer"]["credentials"]
    elif caller == "b":  # another organisation's cluster: none, as if it did not exist
        assert new == {"data": {"tenantContainer": None}}
    else:
        expected = "FORBIDDEN" if caller == "admin" else "UNAUTHENTICATED"
        assert [e["extensions"]["code"] for e in new["errors"]] == [expected]


@pytest.mark.parametrize("caller", ["none", "bad", "revoked"])
async def test_subscription_refuses_unauthenticated_connections(world: World, caller: str) -> None:
    assert await close_code_at_init(world.app, world.tokens[caller], in_header=False) == 4401


async def test_subscription_of_a_foreign_org_stays_silent(world: World) -> None:
    query = "subscription($org: String!) { clusterEvents(tenantOrgId: $org) { namespace } }"
    spy_token, own_token = world.tokens["b"], world.tokens["a"]
    assert spy_token is not None and own_token is not None
    feed = world.app.runtime.event_feed
    spy_caller, own_caller = f"key:{world.key_ids['b']}", f"key:{world.key_ids['a']}"
    held = feed.held_by(spy_caller), feed.held_by(own_caller)
    async with (
        world.client("admin") as admin,
        socket(world.app, spy_token) as spy,
        socket(world.app, own_token) as own,
    ):
        await spy.start("foreign", query, {"org": ORG_A})
        await own.start("own", query, {"org": ORG_A})
        await subscribed(world.app, spy_caller, held[0] + 1)
        await subscribed(world.app, own_caller, held[1] + 1)
        await create_accepted(admin, ORG_A, "bob", "watched")
        # The org's own key sees the change (among any others still in flight)...
        seen: set[str] = set()
        while f"{ORG_A}-bob-watched" not in seen:
            seen.add(event_of(await own.wait("own"))["namespace"])
        # ...the other organisation's key, subscribed to the same org, sees nothing.
        with pytest.raises(TimeoutError):
            await spy.wait("foreign", timeout=1.5)
