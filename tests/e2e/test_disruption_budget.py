"""A tenant cluster survives voluntary disruptions: its PodDisruptionBudget lets a node
drain take one Elasticsearch node at a time, and its pods prefer separate Kubernetes
nodes and zones. Read back with kubectl from the sandbox the control plane drives."""

from __future__ import annotations

import json

import httpx

from tests.support.inprocess import InProcessServer, create_and_wait


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

    # A single-node cluster's budget still allows its one disruption: never a stuck drain.
    single = await create_and_wait(admin_client, org, "alice", "single")
    budget = json.loads(
        await app_server.kubectl(
            "-n", single["namespace"], "get", "pdb", "elasticsearch", "-o", "json"
        )
    )
    assert (budget["status"]["expectedPods"], budget["status"]["disruptionsAllowed"]) == (1, 1)
