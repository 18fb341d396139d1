"""GraphQL end to end: createCluster, the organisation tree, single look-ups, errors
with extensions.code, GraphiQL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.http import graphql, wait_for_status

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


def create(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    return graphql(client, CREATE, {"input": fields})


def test_create_cluster_returns_the_recorded_container(client: httpx.Client, org: str) -> None:
    body = create(
        client, tenantOrgId=org, user="alice", serviceName="vector-search", replicas=2,
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

    wait_for_status(
        client, user="alice", service_name="vector-search", tenant_org_id=org, wanted={"created"}
    )
    rest = client.get(f"/tenant/containers/org/{org}").json()
    assert [c["id"] for c in rest] == [container["id"]]


def test_organization_tree(client: httpx.Client, org: str) -> None:
    for user, service in [("alice", "vector-search"), ("bob", "image-search"), ("alice", "logs")]:
        assert "errors" not in create(client, tenantOrgId=org, user=user, serviceName=service)
    tree = graphql(client, TREE, {"id": org})["data"]["organization"]
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


def test_empty_organisation_has_empty_lists(client: httpx.Client, org: str) -> None:
    tree = graphql(client, TREE, {"id": org})["data"]["organization"]
    assert tree == {"id": org, "containers": [], "users": []}


def test_single_lookups_and_events(client: httpx.Client, org: str) -> None:
    create(client, tenantOrgId=org, user="carol", serviceName="qa")
    wait_for_status(client, user="carol", service_name="qa", tenant_org_id=org, wanted={"created"})
    body = graphql(
        client,
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
def test_validation_errors_carry_codes(
    client: httpx.Client, fields: dict[str, Any], message: str, code: str
) -> None:
    body = create(client, **fields)
    assert body["data"] is None
    [error] = body["errors"]
    assert error["message"] == message
    assert error["extensions"]["code"] == code


def test_duplicates_and_ambiguity_are_conflicts(client: httpx.Client, org: str) -> None:
    create(client, tenantOrgId=org, user="dave", serviceName="dup")
    again = create(client, tenantOrgId=org, user="dave", serviceName="dup")
    assert again["errors"][0]["extensions"]["code"] == "CONFLICT"
    create(client, tenantOrgId=f"{org}-x", user="dave", serviceName="dup")
    body = graphql(client, '{ tenantContainer(user: "dave", serviceName: "dup") { id } }')
    assert body["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert "tenant_org_id" in body["errors"][0]["message"]


def test_bad_query_is_a_graphql_error_not_a_500(client: httpx.Client) -> None:
    body = graphql(client, "{ organization(id: 1) { nope } }")
    assert body["errors"]
    assert all(e["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED" for e in body["errors"])


def test_graphiql_is_served_in_the_browser(client: httpx.Client) -> None:
    page = client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()
