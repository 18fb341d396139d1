"""A scale-down takes one Elasticsearch node away at a time, waiting for the others to
be ready before the next leaves: never one jump of spec.replicas that could take the
master quorum away. Each step is an event of the cluster (status still updating)."""

from __future__ import annotations

import asyncio

import httpx

from tests.support.inprocess import (
    InProcessServer,
    create_and_wait,
    events,
    wait_for_status,
)


async def watch_replicas(app: InProcessServer, namespace: str, seen: list[int]) -> None:
    """Every spec.replicas the StatefulSet takes, in order, from a Kubernetes watch."""
    path = f"/apis/apps/v1/namespaces/{namespace}/statefulsets"
    async for event in app.sandbox.watch(path):
        replicas = event["object"]["spec"]["replicas"]
        if not seen or seen[-1] != replicas:
            seen.append(replicas)


async def test_five_to_two_steps_through_four_and_three(
    app_server: InProcessServer, admin_client: httpx.AsyncClient, org: str
) -> None:
    created = await create_and_wait(admin_client, org, "alice", "shrink", replicas=5)
    namespace = created["namespace"]
    seen: list[int] = []
    watcher = asyncio.create_task(watch_replicas(app_server, namespace, seen))
    await asyncio.sleep(0.2)  # the watch is open
    response = await admin_client.patch(f"/clusters/{namespace}", json={"replicas": 2})
    assert response.status_code == 202, response.text
    done = await wait_for_status(
        admin_client, user="alice", service_name="shrink", tenant_org_id=org,
        wanted={"created", "failed"}, timeout=60,
    )  # fmt: skip
    await asyncio.sleep(0.2)
    watcher.cancel()
    assert done["status"] == "created", done
    assert seen == [4, 3, 2]

    history = await events(admin_client, org, "alice", "shrink")
    steps = [
        (e["from"], e["to"], e["reason"]) for e in history if e["reason"].startswith("replicas")
    ]
    assert steps == [
        ("updating", "updating", "replicas 5 → 4"),
        ("updating", "updating", "replicas 4 → 3"),
        ("updating", "updating", "replicas 3 → 2"),
    ]
    sts = await app_server.sandbox.statefulset(namespace)
    assert (sts["spec"]["replicas"], sts["status"]["readyReplicas"]) == (2, 2)

    # A scale-up is one step: new nodes join the running cluster.
    seen.clear()
    watcher = asyncio.create_task(watch_replicas(app_server, namespace, seen))
    await asyncio.sleep(0.2)
    response = await admin_client.patch(f"/clusters/{namespace}", json={"replicas": 4})
    assert response.status_code == 202, response.text
    await wait_for_status(
        admin_client, user="alice", service_name="shrink", tenant_org_id=org, wanted={"created"}
    )
    await asyncio.sleep(0.2)
    watcher.cancel()
    assert seen == [4]
