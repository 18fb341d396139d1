"""GraphQL end to end (the app in process): createCluster, the organisation tree, single look-ups, errors
with extensions.code, GraphiQL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.inprocess import graphql, wait_for_status

pytestmark = pytest.mark.asyncio(loop_scope="module")

CREATE = """
mutation Create($input: CreateClusterInput!) {
  createCluster(input: $input) {
    id tenantOrgId user serviceName namespace replicas cpu memory disk
    cpuRequest cpuLimit memRequest memLimit diskSize gpuCount dimension vectorCount
    indexLimit gitlabUrl status error createdAt syncTime
  }
}
"""

TREE = """
query Tree($id: String!) {
  organization(id: $id) {
    id
    containers { id user serviceName status deployment { id status namespace details { indexLimit vectorCount } } }
    users { name containers { serviceName namespace } }
  }
}
"""


async def create_cluster(http: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    """``createCluster`` with these input fields: the whole answer."""
    return await graphql(http, CREATE, {"input": fields})


async def test_create_cluster_returns_the_recorded_container(
    shared_admin: httpx.AsyncClient, org: str
) -> None:
    body = await create_cluster(
        shared_admin, tenantOrgId=org, user="alice", serviceName="vector-search", replicas=2,
        cpuRequest="1", cpuLimit="4", memRequest="2Gi", memLimit="8Gi", diskSize="50Gi",
        gpuCount=1, dimension=512, vectorCount=3_000_000_000, indexLimit=10,
        gitlabUrl="https://gitlab.example.com/team/config",
    )  # fmt: skip
    assert "errors" not in body, body
    container = body["data"]["createCluster"]
    assert container["tenantOrgId"] == org
    assert container["namespace"] == f"{org}-alice-vector-search"
    assert (container["cpu"], container["memory"]) == ("1/4", "2Gi/8Gi")
    assert container["vectorCount"] == 3_000_000_000  # beyond GraphQL's 32-bit Int
    assert container["gitlabUrl"] == "https://gitlab.example.com/team/config"
    assert container["status"] in {"pending", "creating"}
    assert container["syncTime"] is None

    await wait_for_status(
        shared_admin,
        user="alice",
        service_name="vector-search",
        tenant_org_id=org,
        wanted={"created"},
    )
    rest = (await shared_admin.get(f"/tenant/containers/org/{org}")).json()
    assert [c["id"] for c in rest] == [container["id"]]


async def test_organization_tree(shared_admin: httpx.AsyncClient, org: str) -> None:
    for user, service in [("alice", "vector-search"), ("bob", "image-search"), ("alice", "logs")]:
        assert "errors" not in await create_cluster(
            shared_admin, tenantOrgId=org, user=user, serviceName=service
        )
    tree = (await graphql(shared_admin, TREE, {"id": org}))["data"]["organization"]
    assert tree["id"] == org
    assert [(c["user"], c["serviceName"]) for c in tree["containers"]] == [
        ("alice", "vector-search"),
        ("bob", "image-search"),
        ("alice", "logs"),
    ]
    for container in tree["containers"]:
        assert (
            container["deployment"]["namespace"]
            == f"{org}-{container['user']}-{container['serviceName']}"
        )
        assert container["deployment"]["details"] == {"indexLimit": 0, "vectorCount": 10000}
    assert [(u["name"], [c["serviceName"] for c in u["containers"]]) for u in tree["users"]] == [
        ("alice", ["vector-search", "logs"]),
        ("bob", ["image-search"]),
    ]


async def test_empty_organisation_has_empty_lists(
    shared_admin: httpx.AsyncClient, org: str
) -> None:
    tree = (await graphql(shared_admin, TREE, {"id": org}))["data"]["organization"]
    assert tree == {"id": org, "containers": [], "users": []}


async def test_single_lookups_and_events(shared_admin: httpx.AsyncClient, org: str) -> None:
    await create_cluster(shared_admin, tenantOrgId=org, user="carol", serviceName="qa")
    await wait_for_status(
        shared_admin, user="carol", service_name="qa", tenant_org_id=org, wanted={"created"}
    )
    body = await graphql(
        shared_admin,
        """query($org: String!, $ns: String!) {
          tenantContainer(user: "carol", serviceName: "qa", tenantOrgId: $org) {
            status syncTime events { from to reason }
          }
          deploymentStatus(namespace: $ns) { namespace status cpuUsage details { cpuRequest } }
          missing: tenantContainer(user: "nobody", serviceName: "qa", tenantOrgId: $org) { id }
          noDeployment: deploymentStatus(namespace: "no-such-namespace") { id }
          all: tenantContainers(tenantOrgId: $org) { serviceName }
        }""",
        {"org": org, "ns": f"{org}-carol-qa"},
    )
    assert "errors" not in body, body
    data = body["data"]
    assert data["tenantContainer"]["status"] == "created"
    assert data["tenantContainer"]["syncTime"] is not None
    assert [(e["from"], e["to"]) for e in data["tenantContainer"]["events"]] == [
        (None, "pending"),
        ("pending", "creating"),
        ("creating", "created"),
    ]
    assert data["deploymentStatus"] == {
        "namespace": f"{org}-carol-qa", "status": "created", "cpuUsage": 0.0,
        "details": {"cpuRequest": "500m"},
    }  # fmt: skip
    assert data["missing"] is None
    assert data["noDeployment"] is None
    assert data["all"] == [{"serviceName": "qa"}]


@pytest.mark.parametrize(
    ("fields", "message", "code"),
    [
        ({}, "tenant_org_id is required for multi-tenancy", "BAD_USER_INPUT"),
        ({"tenantOrgId": "o"}, "user is required", "BAD_USER_INPUT"),
        ({"tenantOrgId": "o", "user": "alice"}, "service_name is required", "BAD_USER_INPUT"),
        (
            {
                "tenantOrgId": "o",
                "user": "alice",
                "serviceName": "s",
                "cpuRequest": "9",
                "cpuLimit": "1",
            },
            'cpu_request ("9") must not exceed cpu_limit ("1")',
            "BAD_USER_INPUT",
        ),
    ],
)
async def test_validation_errors_carry_codes(
    shared_admin: httpx.AsyncClient, fields: dict[str, Any], message: str, code: str
) -> None:
    body = await create_cluster(shared_admin, **fields)
    assert body["data"] is None
    [error] = body["errors"]
    assert error["message"] == message
    assert error["extensions"]["code"] == code


async def test_duplicates_and_ambiguity_are_conflicts(
    shared_admin: httpx.AsyncClient, org: str
) -> None:
    await create_cluster(shared_admin, tenantOrgId=org, user="dave", serviceName="dup")
    again = await create_cluster(shared_admin, tenantOrgId=org, user="dave", serviceName="dup")
    assert again["errors"][0]["extensions"]["code"] == "CONFLICT"
    await create_cluster(shared_admin, tenantOrgId=f"{org}-x", user="dave", serviceName="dup")
    body = await graphql(
        shared_admin, '{ tenantContainer(user: "dave", serviceName: "dup") { id } }'
    )
    assert body["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert "tenant_org_id" in body["errors"][0]["message"]


async def test_bad_query_is_a_graphql_error_not_a_500(shared_admin: httpx.AsyncClient) -> None:
    body = await graphql(shared_admin, "{ organization(id: 1) { nope } }")
    assert body["errors"]
    assert all(e["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED" for e in body["errors"])


async def test_graphiql_is_served_in_the_browser(shared_admin: httpx.AsyncClient) -> None:
    page = await shared_admin.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()


async def test_introspection_of_is_one_of_answers_for_every_kind_of_type(
    shared_admin: httpx.AsyncClient,
) -> None:
    body = await graphql(
        shared_admin,
        """{ query: __type(name: "Query") { isOneOf fields { name type { kind isOneOf
               ofType { kind isOneOf ofType { name isOneOf } } } } }
             input: __type(name: "CreateClusterInput") { isOneOf } }""",
    )
    assert "errors" not in body, body
    # The specification: true or false for input objects, null for every other kind.
    assert body["data"]["input"] == {"isOneOf": False}
    assert body["data"]["query"]["isOneOf"] is None
    wrapped = [field["type"] for field in body["data"]["query"]["fields"]]
    assert {t["kind"] for t in wrapped} >= {"NON_NULL"}
    assert all(t["isOneOf"] is None for t in wrapped)
