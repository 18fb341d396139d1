"""A tenant cluster survives voluntary disruptions: its PodDisruptionBudget (clusters of
several nodes) lets a node drain take one Elasticsearch node at a time, and its pods
prefer separate Kubernetes nodes and zones. Read back from the sandbox the control
plane drives."""

from __future__ import annotations

import json

import httpx

from tests.support.inprocess import InProcessServer, create_and_wait, wait_for_status


async def test_a_created_cluster_has_its_budget_and_spreads_its_pods(
    app_server: InProcessServer, admin_client: httpx.AsyncClient, org: str
) -> None:
    created = await create_and_wait(admin_client, org, "alice", "spread", replicas=3)
    namespace = created["namespace"]
    budget = json.loads(
        await app_server.kubectl("-n", namespace, "get", "pdb", "elasticsearch", "-o", "json")
    )
    assert budget["spec"]["maxUnavailable"] == 1
    assert budget["status"]["expectedPods"] == 3
    assert budget["status"]["currentHealthy"] == 3
    assert budget["status"]["disruptionsAllowed"] == 1
    assert budget["metadata"]["labels"]["tenant-org-id"] == org

    statefulset = json.loads(
        await app_server.kubectl(
            "-n", namespace, "get", "statefulset", "elasticsearch", "-o", "json"
        )
    )
    pod = statefulset["spec"]["template"]["spec"]
    assert pod["topologySpreadConstraints"][0]["topologyKey"] == "topology.kubernetes.io/zone"
    term = pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]
    assert term["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
    assert term["podAffinityTerm"]["labelSelector"] == budget["spec"]["selector"]

    # A single node has no budget: it would only stand in a drain's way.
    single = await create_and_wait(admin_client, org, "alice", "single")
    path = f"/apis/policy/v1/namespaces/{single['namespace']}/poddisruptionbudgets"
    assert (await app_server.sandbox.get(path))["items"] == []

    # Scaled down to one node the budget goes; scaled up again it comes back.
    for replicas, budgets in ((1, 0), (2, 1)):
        response = await admin_client.patch(f"/clusters/{namespace}", json={"replicas": replicas})
        assert response.status_code == 202, response.text
        await wait_for_status(
            admin_client, user="alice", service_name="spread", tenant_org_id=org,
            wanted={"created"},
        )  # fmt: skip
        listed = f"/apis/policy/v1/namespaces/{namespace}/poddisruptionbudgets"
        assert len((await app_server.sandbox.get(listed))["items"]) == budgets
