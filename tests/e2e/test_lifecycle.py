"""Delete, update, events and usage reports, through REST and GraphQL (the app in
process)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.conftest import MakeApp
from tests.support.inprocess import (
    InProcessServer,
    create_accepted,
    create_and_wait,
    graphql,
    wait_for_status,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def wait_deleted(
    http: httpx.AsyncClient, org: str, user: str, service: str
) -> dict[str, Any]:
    return await wait_for_status(
        http,
        user=user,
        service_name=service,
        tenant_org_id=org,
        wanted={"deleted"},
        include_deleted=True,
    )


async def test_rest_delete_by_namespace_removes_the_namespace_and_keeps_the_records(
    shared_app: InProcessServer, shared_admin: httpx.AsyncClient, org: str
) -> None:
    created = await create_and_wait(shared_admin, org, "alice", "gone")
    ns = created["namespace"]
    response = await shared_admin.delete(f"/clusters/{ns}")
    assert response.status_code == 202
    assert response.json()["status"] == "deleting"
    deleted = await wait_deleted(shared_admin, org, "alice", "gone")
    assert deleted["id"] == created["id"]
    assert deleted["deleted_at"].endswith("Z")
    assert await shared_app.sandbox.status(f"/api/v1/namespaces/{ns}") == 404

    # Default listings leave it out; include_deleted shows it.
    assert (await shared_admin.get(f"/tenant/containers/org/{org}")).json() == []
    assert (
        await shared_admin.get("/tenant/containers/alice/gone", params={"tenant_org_id": org})
    ).status_code == 404
    listed = (
        await shared_admin.get(f"/tenant/containers/org/{org}", params={"include_deleted": "true"})
    ).json()
    assert [c["status"] for c in listed] == ["deleted"]
    deployment = (await shared_admin.get(f"/deployments/{ns}")).json()
    assert deployment["status"] == "deleted"
    assert "deleted_at" in deployment

    # Deleting twice is not an error.
    again = await shared_admin.delete(f"/clusters/{ns}")
    assert again.status_code == 202
    assert again.json()["status"] == "deleted"

    # The service can be created again, as a new cluster.
    recreated = await create_and_wait(shared_admin, org, "alice", "gone")
    assert recreated["id"] != created["id"]
    everything = (
        await shared_admin.get(f"/tenant/containers/org/{org}", params={"include_deleted": "true"})
    ).json()
    assert sorted(c["status"] for c in everything) == ["created", "deleted"]


async def test_rest_delete_by_tenant_key(shared_admin: httpx.AsyncClient, org: str) -> None:
    await create_and_wait(shared_admin, org, "bob", "keyed")
    response = await shared_admin.delete(
        "/clusters", params={"tenant_org_id": org, "user": "bob", "service_name": "keyed"}
    )
    assert response.status_code == 202
    await wait_deleted(shared_admin, org, "bob", "keyed")
    missing = await shared_admin.delete("/clusters", params={"tenant_org_id": org, "user": "bob"})
    assert missing.status_code == 400
    assert missing.json()["error"].startswith("service_name is required")
    typed = await shared_admin.request(
        "DELETE", "/clusters", json={"tenant_org_id": 5, "user": "bob", "service_name": "keyed"}
    )
    assert typed.status_code == 400
    assert typed.json() == {"error": "tenant_org_id must be a string"}
    unknown = await shared_admin.delete(f"/clusters/{org}-nothing-here")
    assert unknown.status_code == 404


async def test_delete_overtakes_a_create_in_progress(
    shared_app: InProcessServer, shared_admin: httpx.AsyncClient, org: str
) -> None:
    ns = f"{org}-carol-slow"
    await shared_app.sandbox.hold_readiness(ns)
    await create_accepted(shared_admin, org, "carol", "slow")
    await wait_for_status(
        shared_admin, user="carol", service_name="slow", tenant_org_id=org, wanted={"creating"}
    )
    assert (await shared_admin.delete(f"/clusters/{ns}")).status_code == 202
    await wait_deleted(shared_admin, org, "carol", "slow")
    events = (
        await shared_admin.get(
            "/tenant/containers/carol/slow/events",
            params={"tenant_org_id": org, "include_deleted": "true"},
        )
    ).json()
    assert [(e["from"], e["to"]) for e in events] == [
        (None, "pending"),
        ("pending", "creating"),
        ("creating", "deleting"),
        ("deleting", "deleted"),
    ]
    assert await shared_app.sandbox.status(f"/api/v1/namespaces/{ns}") == 404


async def test_rest_update_scales_and_resizes(
    shared_app: InProcessServer, shared_admin: httpx.AsyncClient, org: str
) -> None:
    created = await create_and_wait(shared_admin, org, "dave", "grow", disk_size="10Gi")
    ns = created["namespace"]
    response = await shared_admin.patch(
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
    done = await wait_for_status(
        shared_admin,
        user="dave",
        service_name="grow",
        tenant_org_id=org,
        wanted={"created", "failed"},
    )
    assert done["status"] == "created", done
    assert (done["replicas"], done["cpu"], done["memory"], done["disk"]) == (
        3,
        "500m/3",
        "1Gi/4Gi",
        "20Gi",
    )

    deployment = (await shared_admin.get(f"/deployments/{ns}")).json()
    assert deployment["replicas"] == 3
    assert deployment["details"]["index_limit"] == 7
    assert deployment["details"]["disk_size"] == "20Gi"

    statefulset = await shared_app.sandbox.statefulset(ns)
    assert statefulset["spec"]["replicas"] == 3
    assert statefulset["status"]["readyReplicas"] == 3
    container = statefulset["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["limits"]["memory"] == "4Gi"
    assert (
        statefulset["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"]
        == "20Gi"
    )
    claims = (await shared_app.sandbox.get(f"/api/v1/namespaces/{ns}/persistentvolumeclaims"))[
        "items"
    ]
    sizes = {c["metadata"]["name"]: c["spec"]["resources"]["requests"]["storage"] for c in claims}
    assert sizes == {f"data-elasticsearch-{n}": "20Gi" for n in range(3)}

    events = (
        await shared_admin.get("/tenant/containers/dave/grow/events", params={"tenant_org_id": org})
    ).json()
    assert [e["to"] for e in events][-2:] == ["updating", "created"]
    assert "replicas" in events[-2]["reason"]


async def test_update_refusals(shared_admin: httpx.AsyncClient, org: str) -> None:
    created = await create_and_wait(shared_admin, org, "erin", "fixed", disk_size="50Gi")
    ns = created["namespace"]
    shrink = await shared_admin.patch(f"/clusters/{ns}", json={"disk_size": "10Gi"})
    assert shrink.status_code == 400
    assert "disk_size can only grow" in shrink.json()["error"]
    immutable = await shared_admin.patch(f"/clusters/{ns}", json={"dimension": 1024})
    assert immutable.status_code == 400
    assert "dimension cannot be changed" in immutable.json()["error"]
    bad = await shared_admin.patch(f"/clusters/{ns}", json={"cpu_request": "8"})
    assert bad.status_code == 400
    assert (
        await shared_admin.patch(f"/clusters/{org}-nope", json={"replicas": 2})
    ).status_code == 404
    assert (await shared_admin.patch(f"/clusters/{ns}", content=b"{oops")).status_code == 400
    # Nothing changed by the refusals.
    after = (
        await shared_admin.get("/tenant/containers/erin/fixed", params={"tenant_org_id": org})
    ).json()
    assert (after["status"], after["disk"], after["replicas"]) == ("created", "50Gi", 1)


async def test_graphql_update_and_delete_round_trip(
    shared_app: InProcessServer, shared_admin: httpx.AsyncClient, org: str
) -> None:
    ns = (await create_and_wait(shared_admin, org, "frank", "gql"))["namespace"]
    body = await graphql(
        shared_admin,
        "mutation($ns: String!) { updateCluster(namespace: $ns, input: {replicas: 2}) { status replicas } }",
        {"ns": ns},
    )
    assert body["data"]["updateCluster"] == {"status": "updating", "replicas": 2}
    await wait_for_status(
        shared_admin, user="frank", service_name="gql", tenant_org_id=org, wanted={"created"}
    )
    assert (await shared_app.sandbox.statefulset(ns))["status"]["readyReplicas"] == 2

    shrink = await graphql(
        shared_admin,
        'mutation($ns: String!) { updateCluster(namespace: $ns, input: {diskSize: "1Gi"}) { id } }',
        {"ns": ns},
    )
    assert shrink["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"

    body = await graphql(
        shared_admin,
        'mutation($org: String!) { deleteCluster(tenantOrgId: $org, user: "frank", serviceName: "gql") { status } }',
        {"org": org},
    )
    assert body["data"]["deleteCluster"]["status"] == "deleting"
    await wait_deleted(shared_admin, org, "frank", "gql")
    tree = (
        await graphql(
            shared_admin,
            "query($org: String!) { organization(id: $org) { containers { id } all: containers(includeDeleted: true) { status deletedAt } } }",
            {"org": org},
        )
    )["data"]["organization"]
    assert tree["containers"] == []
    assert tree["all"][0]["status"] == "deleted"
    assert tree["all"][0]["deletedAt"] is not None


async def test_usage_reports(shared_admin: httpx.AsyncClient, org: str) -> None:
    ns = (await create_and_wait(shared_admin, org, "gina", "metrics"))["namespace"]
    first = await shared_admin.post(
        f"/deployments/{ns}/report",
        json={"cpu_usage": 1.5, "memory_usage": 2e9, "disk_usage": 3e9, "qps": 42},
    )
    assert first.status_code == 200, first.text
    assert (first.json()["cpu_usage"], first.json()["qps"]) == (1.5, 42.0)
    partial = await shared_admin.post(f"/deployments/{ns}/report", json={"qps": 50})
    assert partial.json()["cpu_usage"] == 1.5
    assert partial.json()["qps"] == 50.0
    assert (await shared_admin.get(f"/deployments/{ns}")).json()["qps"] == 50.0

    for bad, fragment in [
        ({"cpu_usage": -1}, "cpu_usage must be a finite number between 0 and 1e+30"),
        ({"cpu_usage": 1.79e308}, "cpu_usage must be a finite number between 0 and 1e+30"),
        ({"qps": "fast"}, "qps must be a number"),
        ({"watts": 3}, "unknown field"),
        ({}, "needs at least one"),
    ]:
        response = await shared_admin.post(f"/deployments/{ns}/report", json=bad)
        assert response.status_code == 400
        assert fragment in response.json()["error"]
    assert (
        await shared_admin.post(f"/deployments/{org}-unknown/report", json={"qps": 1})
    ).status_code == 404

    history = (
        await graphql(
            shared_admin,
            "query($ns: String!) { deploymentStatus(namespace: $ns) { qps usageHistory { cpuUsage qps at } } }",
            {"ns": ns},
        )
    )["data"]["deploymentStatus"]
    assert [(s["cpuUsage"], s["qps"]) for s in history["usageHistory"]] == [
        (1.5, 42.0),
        (1.5, 50.0),
    ]
    reported = await graphql(
        shared_admin,
        "mutation($ns: String!) { reportDeploymentStatus(namespace: $ns, cpuUsage: 0.5, qps: 7) { cpuUsage qps } }",
        {"ns": ns},
    )
    assert reported["data"]["reportDeploymentStatus"] == {"cpuUsage": 0.5, "qps": 7.0}
    negative = await graphql(
        shared_admin,
        "mutation($ns: String!) { reportDeploymentStatus(namespace: $ns, qps: -1) { qps } }",
        {"ns": ns},
    )
    assert negative["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"

    assert (await shared_admin.delete(f"/clusters/{ns}")).status_code == 202
    await wait_deleted(shared_admin, org, "gina", "metrics")
    refused = await shared_admin.post(f"/deployments/{ns}/report", json={"qps": 1})
    assert refused.status_code == 409
    assert "deleted" in refused.json()["error"]


@pytest.mark.asyncio(loop_scope="function")  # a server of its own
async def test_usage_history_is_kept_for_the_retention_period_only(
    make_app: MakeApp, org: str
) -> None:
    app = await make_app(usage_retention_hours=0.0005)  # 1.8 seconds
    async with app.client() as admin:
        ns = (await create_and_wait(admin, org, "kay", "short"))["namespace"]
        for qps in (1, 2):
            reported = await admin.post(f"/deployments/{ns}/report", json={"qps": qps})
            assert (reported.status_code, reported.json()["qps"]) == (200, qps), reported.text
        await asyncio.sleep(2.5)  # past the retention: the passing of time is what is tested
        reported = await admin.post(f"/deployments/{ns}/report", json={"qps": 3})
        assert reported.status_code == 200, reported.text
        history = await graphql(
            admin,
            "query($ns: String!) { deploymentStatus(namespace: $ns) { usageHistory { qps } } }",
            {"ns": ns},
        )
    assert [s["qps"] for s in history["data"]["deploymentStatus"]["usageHistory"]] == [3.0]
