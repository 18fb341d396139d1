"""GET /metrics: Prometheus' text format, for the admin's token only: request latency,
provisioning work and its outcome, Kubernetes API errors, clusters by status, and the
work queue's depth, whether the namespace informer is in step."""

from __future__ import annotations

import re

import httpx

from tests.support.inprocess import InProcessServer, create_and_wait


def sample(text: str, name: str, **labels: str) -> float:
    """One sample's value from the text format."""
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    pattern = (
        rf"^{re.escape(name)}\{{{re.escape(wanted)}\}} (\S+)$" if labels else rf"^{name} (\S+)$"
    )
    match = re.search(pattern, text, re.MULTILINE)
    assert match is not None, f"no {name}{{{wanted}}} in the metrics"
    return float(match.group(1))


async def test_metrics_for_the_admin(
    app_server: InProcessServer, admin_client: httpx.AsyncClient, org: str
) -> None:
    await create_and_wait(admin_client, org, "alice", "measured")
    response = await admin_client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert sample(text, "ess_clusters", status="created") >= 1
    assert sample(text, "ess_clusters", status="failed") == 0
    assert sample(text, "ess_work_queue_depth") == 0
    assert sample(text, "ess_namespace_informer_in_step") == 1
    assert sample(text, "ess_cluster_work_seconds_count", operation="create", outcome="done") >= 1
    assert (
        sample(
            text, "ess_http_request_seconds_count", method="POST", route="/clusters", status="202"
        )
        >= 1
    )

    # An organisation's key may not read them: they span every tenant.
    issued = await admin_client.post("/api-keys", json={"tenant_org_id": org, "name": "m"})
    async with app_server.client(token=issued.json()["secret"]) as org_key:
        assert (await org_key.get("/metrics")).status_code == 403
    async with app_server.client(token=None) as anonymous:
        assert (await anonymous.get("/metrics")).status_code == 401


async def test_kubernetes_api_errors_are_counted(
    app_server: InProcessServer, admin_client: httpx.AsyncClient
) -> None:
    before = await admin_client.get("/metrics")
    try:
        seen = sample(before.text, "ess_kubernetes_api_errors_total", status="503")
    except AssertionError:
        seen = 0.0
    await app_server.sandbox.inject_fault(method="GET", resource="namespaces", status=503)
    assert (await admin_client.get("/readyz")).status_code == 503
    after = (await admin_client.get("/metrics")).text
    assert sample(after, "ess_kubernetes_api_errors_total", status="503") == seen + 1
