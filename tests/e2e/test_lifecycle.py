"""Delete, update, events and usage reports, through REST and GraphQL."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from tests.support.http import create_accepted, create_and_wait, graphql, wait_for_status
from tests.support.servers import ServerProcess

TIMEOUT = 30


def wait_deleted(client: httpx.Client, org: str, user: str, service: str) -> dict[str, Any]:
    return wait_for_status(
        client,
        user=user,
        service_name=service,
        tenant_org_id=org,
        wanted={"deleted"},
        include_deleted=True,
    )


def test_rest_delete_by_namespace_removes_the_namespace_and_keeps_the_records(
    server: ServerProcess, client: httpx.Client, org: str
) -> None:
    created = create_and_wait(client, org, "alice", "gone")
    ns = created["namespace"]
    response = client.delete(f"/clusters/{ns}")
    assert response.status_code == 202
    assert response.json()["status"] == "deleting"
    deleted = wait_deleted(client, org, "alice", "gone")
    assert deleted["id"] == created["id"]
    assert deleted["deleted_at"].endswith("Z")
    assert server.sandbox.status(f"/api/v1/namespaces/{ns}") == 404

    # Default listings leave it out; include_deleted shows it.
    assert client.get(f"/tenant/containers/org/{org}").json() == []
    assert (
        client.get("/tenant/containers/alice/gone", params={"tenant_org_id": org}).status_code
        == 404
    )
    listed = client.get(f"/tenant/containers/org/{org}", params={"include_deleted": "true"}).json()
    assert [c["status"] for c in listed] == ["deleted"]
    deployment = client.get(f"/deployments/{ns}").json()
    assert deployment["status"] == "deleted"
    assert "deleted_at" in deployment

    # Deleting twice is not an error.
    again = client.delete(f"/clusters/{ns}")
    assert again.status_code == 202
    assert again.json()["status"] == "deleted"

    # The service can be created again, as a new cluster.
    recreated = create_and_wait(client, org, "alice", "gone")
    assert recreated["id"] != created["id"]
    everything = client.get(
        f"/tenant/containers/org/{org}", params={"include_deleted": "true"}
    ).json()
    assert sorted(c["status"] for c in everything) == ["created", "deleted"]


def test_rest_delete_by_tenant_key(client: httpx.Client, org: str) -> None:
    create_and_wait(client, org, "bob", "keyed")
    response = client.delete(
        "/clusters", params={"tenant_org_id": org, "user": "bob", "service_name": "keyed"}
    )
    assert response.status_code == 202
    wait_deleted(client, org, "bob", "keyed")
    missing = client.delete("/clusters", params={"tenant_org_id": org, "user": "bob"})
    assert missing.status_code == 400
    assert missing.json()["error"].startswith("service_name is required")
    typed = client.request(
        "DELETE", "/clusters", json={"tenant_org_id": 5, "user": "bob", "service_name": "keyed"}
    )
    assert typed.status_code == 400
    assert typed.json() == {"error": "tenant_org_id must be a string"}
    unknown = client.delete(f"/clusters/{org}-nothing-here")
    assert unknown.status_code == 404


def test_delete_overtakes_a_create_in_progress(
    server: ServerProcess, client: httpx.Client, org: str
) -> None:
    ns = f"{org}-carol-slow"
    server.sandbox.hold_readiness(ns)
    create_accepted(client, org, "carol", "slow")
    wait_for_status(
        client, user="carol", service_name="slow", tenant_org_id=org, wanted={"creating"}
    )
    assert client.delete(f"/clusters/{ns}").status_code == 202
    wait_deleted(client, org, "carol", "slow")
    events = client.get(
        "/tenant/containers/carol/slow/events",
        params={"tenant_org_id": org, "include_deleted": "true"},
    ).json()
    assert [(e["from"], e["to"]) for e in events] == [
        (None, "pending"),
        ("pending", "creating"),
        ("creating", "deleting"),
        ("deleting", "deleted"),
    ]
    assert server.sandbox.status(f"/api/v1/namespaces/{ns}") == 404


def test_rest_update_scales_and_resizes(
    server: ServerProcess, client: httpx.Client, org: str
) -> None:
    created = create_and_wait(client, org, "dave", "grow", disk_size="10Gi")
    ns = created["namespace"]
    response = client.patch(
        f"/clusters/{ns}",
        json={
            "replicas": 3,
            "cpu_limit": "3",
            "mem_limit": "4Gi",
            "disk_size": "20Gi",
            "index_limit": 7,
        },
    )
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "updating"
    done = wait_for_status(
        client, user="dave", service_name="grow", tenant_org_id=org, wanted={"created", "failed"}
    )
    assert done["status"] == "created", done
    assert (done["replicas"], done["cpu"], done["memory"], done["disk"]) == (
        3,
        "500m/3",
        "1Gi/4Gi",
        "20Gi",
    )

    deployment = client.get(f"/deployments/{ns}").json()
    assert deployment["replicas"] == 3
    assert deployment["details"]["index_limit"] == 7
    assert deployment["details"]["disk_size"] == "20Gi"

    statefulset = server.sandbox.statefulset(ns)
    assert statefulset["spec"]["replicas"] == 3
    assert statefulset["status"]["readyReplicas"] == 3
    container = statefulset["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["limits"]["memory"] == "4Gi"
    assert (
        statefulset["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"]
        == "20Gi"
    )
    claims = server.sandbox.get(f"/api/v1/namespaces/{ns}/persistentvolumeclaims")["items"]
    sizes = {c["metadata"]["name"]: c["spec"]["resources"]["requests"]["storage"] for c in claims}
    assert sizes == {f"data-elasticsearch-{n}": "20Gi" for n in range(3)}

    events = client.get("/tenant/containers/dave/grow/events", params={"tenant_org_id": org}).json()
    assert [e["to"] for e in events][-2:] == ["updating", "created"]
    assert "replicas" in events[-2]["reason"]


def test_update_refusals(client: httpx.Client, org: str) -> None:
    created = create_and_wait(client, org, "erin", "fixed", disk_size="50Gi")
    ns = created["namespace"]
    shrink = client.patch(f"/clusters/{ns}", json={"disk_size": "10Gi"})
    assert shrink.status_code == 400
    assert "disk_size can only grow" in shrink.json()["error"]
    immutable = client.patch(f"/clusters/{ns}", json={"dimension": 1024})
    assert immutable.status_code == 400
    assert "dimension cannot be changed" in immutable.json()["error"]
    bad = client.patch(f"/clusters/{ns}", json={"cpu_request": "8"})
    assert bad.status_code == 400
    assert client.patch(f"/clusters/{org}-nope", json={"replicas": 2}).status_code == 404
    assert client.patch(f"/clusters/{ns}", content=b"{oops").status_code == 400
    # Nothing changed by the refusals.
    after = client.get("/tenant/containers/erin/fixed", params={"tenant_org_id": org}).json()
    assert (after["status"], after["disk"], after["replicas"]) == ("created", "50Gi", 1)


def test_graphql_update_and_delete_round_trip(
    server: ServerProcess, client: httpx.Client, org: str
) -> None:
    ns = create_and_wait(client, org, "frank", "gql")["namespace"]
    body = graphql(
        client,
        "mutation($ns: String!) { updateCluster(namespace: $ns, input: {replicas: 2}) { status replicas } }",
        {"ns": ns},
    )
    assert body["data"]["updateCluster"] == {"status": "updating", "replicas": 2}
    wait_for_status(client, user="frank", service_name="gql", tenant_org_id=org, wanted={"created"})
    assert server.sandbox.statefulset(ns)["status"]["readyReplicas"] == 2

    shrink = graphql(
        client,
        'mutation($ns: String!) { updateCluster(namespace: $ns, input: {diskSize: "1Gi"}) { id } }',
        {"ns": ns},
    )
    assert shrink["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"

    body = graphql(
        client,
        'mutation($org: String!) { deleteCluster(tenantOrgId: $org, user: "frank", serviceName: "gql") { status } }',
        {"org": org},
    )
    assert body["data"]["deleteCluster"]["status"] == "deleting"
    wait_deleted(client, org, "frank", "gql")
    tree = graphql(
        client,
        "query($org: String!) { organization(id: $org) { containers { id } all: containers(includeDeleted: true) { status deletedAt } } }",
        {"org": org},
    )["data"]["organization"]
    assert tree["containers"] == []
    assert tree["all"][0]["status"] == "deleted"
    assert tree["all"][0]["deletedAt"] is not None


def test_usage_reports(client: httpx.Client, org: str) -> None:
    ns = create_and_wait(client, org, "gina", "metrics")["namespace"]
    first = client.post(
        f"/deployments/{ns}/report",
        json={"cpu_usage": 1.5, "memory_usage": 2e9, "disk_usage": 3e9, "qps": 42},
    )
    assert first.status_code == 200, first.text
    assert (first.json()["cpu_usage"], first.json()["qps"]) == (1.5, 42.0)
    partial = client.post(f"/deployments/{ns}/report", json={"qps": 50})
    assert partial.json()["cpu_usage"] == 1.5
    assert partial.json()["qps"] == 50.0
    assert client.get(f"/deployments/{ns}").json()["qps"] == 50.0

    for bad, fragment in [
        ({"cpu_usage": -1}, "cpu_usage must be a finite number between 0 and 1e+30"),
        ({"cpu_usage": 1.79e308}, "cpu_usage must be a finite number between 0 and 1e+30"),
        ({"qps": "fast"}, "qps must be a number"),
        ({"watts": 3}, "unknown field"),
        ({}, "needs at least one"),
    ]:
        response = client.post(f"/deployments/{ns}/report", json=bad)
        assert response.status_code == 400
        assert fragment in response.json()["error"]
    assert client.post(f"/deployments/{org}-unknown/report", json={"qps": 1}).status_code == 404

    history = graphql(
        client,
        "query($ns: String!) { deploymentStatus(namespace: $ns) { qps usageHistory { cpuUsage qps at } } }",
        {"ns": ns},
    )["data"]["deploymentStatus"]
    assert [(s["cpuUsage"], s["qps"]) for s in history["usageHistory"]] == [
        (1.5, 42.0),
        (1.5, 50.0),
    ]
    reported = graphql(
        client,
        "mutation($ns: String!) { reportDeploymentStatus(namespace: $ns, cpuUsage: 0.5, qps: 7) { cpuUsage qps } }",
        {"ns": ns},
    )
    assert reported["data"]["reportDeploymentStatus"] == {"cpuUsage": 0.5, "qps": 7.0}
    negative = graphql(
        client,
        "mutation($ns: String!) { reportDeploymentStatus(namespace: $ns, qps: -1) { qps } }",
        {"ns": ns},
    )
    assert negative["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"

    assert client.delete(f"/clusters/{ns}").status_code == 202
    wait_deleted(client, org, "gina", "metrics")
    refused = client.post(f"/deployments/{ns}/report", json={"qps": 1})
    assert refused.status_code == 409
    assert "deleted" in refused.json()["error"]


def test_usage_history_is_kept_for_the_retention_period_only(
    make_server: Callable[..., ServerProcess], org: str
) -> None:
    server = make_server(ESS_USAGE_RETENTION_HOURS="0.0005")  # 1.8 seconds
    with server.client() as client:
        ns = create_and_wait(client, org, "kay", "short")["namespace"]
        for qps in (1, 2):
            reported = client.post(f"/deployments/{ns}/report", json={"qps": qps})
            assert (reported.status_code, reported.json()["qps"]) == (200, qps), reported.text
        time.sleep(2.5)  # past the retention: time itself is what the test needs to pass
        reported = client.post(f"/deployments/{ns}/report", json={"qps": 3})
        assert reported.status_code == 200, reported.text
        history = graphql(
            client,
            "query($ns: String!) { deploymentStatus(namespace: $ns) { usageHistory { qps } } }",
            {"ns": ns},
        )
    assert [s["qps"] for s in history["data"]["deploymentStatus"]["usageHistory"]] == [3.0]
