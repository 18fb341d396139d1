"""Usage is collected, not only reported: every reconcile pass fills a running cluster's
cpu and memory from the metrics API (PodMetrics, summed over its pods) and its disk from
its volume claims, so GET /deployments/{ns} shows live usage without any report. A
Kubernetes without the metrics API (404) is measured on disk only, and nothing fails."""

from __future__ import annotations

import httpx
import pytest

from tests.support.inprocess import InProcessServer, create_and_wait, graphql

GIB = 2**30


async def test_a_pass_fills_usage_without_any_report(
    app_server: InProcessServer, admin_client: httpx.AsyncClient, org: str
) -> None:
    created = await create_and_wait(
        admin_client, org, "alice", "measured", replicas=2, cpu_request="1", cpu_limit="4",
        mem_request="2Gi", mem_limit="8Gi", disk_size="50Gi",
    )  # fmt: skip
    namespace = created["namespace"]
    before = (await admin_client.get(f"/deployments/{namespace}")).json()
    assert (before["cpu_usage"], before["memory_usage"], before["disk_usage"]) == (0.0, 0.0, 0.0)
    # The cluster reports its own qps; measuring never touches it.
    report = await admin_client.post(f"/deployments/{namespace}/report", json={"qps": 42.0})
    assert report.status_code == 200, report.text

    await app_server.runtime.reconciler.pass_once()
    usage = (await admin_client.get(f"/deployments/{namespace}")).json()
    # The sandbox's metrics: a quarter of each node's cpu request, three fifths of its
    # memory limit (to the KiB); disk is the claims' capacity.
    assert usage["cpu_usage"] == pytest.approx(2 * 0.25)
    assert usage["memory_usage"] == 2 * round(0.6 * 8 * GIB / 1024) * 1024
    assert usage["disk_usage"] == 2 * 50 * GIB
    assert usage["qps"] == 42.0
    # Unchanged use adds no sample on the next pass.
    samples = await usage_history(admin_client, namespace)
    assert samples[-1]["cpuUsage"] == pytest.approx(0.5)
    await app_server.runtime.reconciler.pass_once()
    assert await usage_history(admin_client, namespace) == samples


async def usage_history(http: httpx.AsyncClient, namespace: str) -> list[dict[str, float]]:
    body = await graphql(
        http,
        "query($ns: String!) { deploymentStatus(namespace: $ns) { usageHistory { cpuUsage "
        "memoryUsage diskUsage qps } } }",
        {"ns": namespace},
    )
    history: list[dict[str, float]] = body["data"]["deploymentStatus"]["usageHistory"]
    return history


async def test_without_the_metrics_api_only_disk_is_measured(
    app_server: InProcessServer, admin_client: httpx.AsyncClient, org: str
) -> None:
    created = await create_and_wait(admin_client, org, "alice", "blind", disk_size="20Gi")
    namespace = created["namespace"]
    await app_server.sandbox.inject_fault(
        method="GET", resource="pods.metrics.k8s.io", namespace=namespace, status=404, count=1
    )
    assert await app_server.runtime.reconciler.pass_once() == 0  # nothing degraded
    usage = (await admin_client.get(f"/deployments/{namespace}")).json()
    assert (usage["cpu_usage"], usage["memory_usage"]) == (0.0, 0.0)
    assert usage["disk_usage"] == 20 * GIB
    assert (await admin_client.get(f"/tenant/containers/alice/blind?tenant_org_id={org}")).json()[
        "status"
    ] == "created"
