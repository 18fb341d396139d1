"""Elasticsearch's settings come from a mounted elasticsearch.yml (a ConfigMap), not
from pod-template variables that vary with the cluster's size: scaling a created
cluster changes the StatefulSet's replicas and nothing of its pod template, so no
running node is restarted; the bootstrap list of masters is there only until the
cluster has first formed."""

from __future__ import annotations

import json
from typing import Any

import httpx
import yaml

from tests.support.inprocess import InProcessServer, create_accepted, wait_for_status
from tests.support.waiting import wait_for

CONFIG = "/api/v1/namespaces/{namespace}/configmaps/elasticsearch-config"


async def settings_of(app: InProcessServer, namespace: str) -> dict[str, Any] | None:
    """The nodes' elasticsearch.yml, None before it exists."""
    path = CONFIG.format(namespace=namespace)
    if await app.sandbox.status(path) != 200:
        return None
    settings: dict[str, Any] = yaml.safe_load((await app.sandbox.get(path))["data"][FILE])
    return settings


FILE = "elasticsearch.yml"


async def test_scaling_changes_only_the_replicas(
    app_server: InProcessServer, admin_client: httpx.AsyncClient, org: str
) -> None:
    # Held not ready, the new cluster shows what its nodes bootstrap with.
    namespace = f"{org}-alice-scaled"
    await app_server.sandbox.hold_readiness(namespace)
    await create_accepted(admin_client, org, "alice", "scaled", replicas=2)

    settings = await wait_for(
        lambda: settings_of(app_server, namespace), timeout=30, what="the nodes' config"
    )
    assert settings["cluster.initial_master_nodes"] == ["elasticsearch-0", "elasticsearch-1"]
    await app_server.sandbox.hold_readiness(namespace, hold=False)
    await wait_for_status(
        admin_client, user="alice", service_name="scaled", tenant_org_id=org, wanted={"created"}
    )
    assert "cluster.initial_master_nodes" not in (await settings_of(app_server, namespace) or {})
    before = await app_server.sandbox.statefulset(namespace)

    for replicas in (5, 3):
        response = await admin_client.patch(f"/clusters/{namespace}", json={"replicas": replicas})
        assert response.status_code == 202, response.text
        await wait_for_status(
            admin_client, user="alice", service_name="scaled", tenant_org_id=org,
            wanted={"created"},
        )  # fmt: skip
        after = await app_server.sandbox.statefulset(namespace)
        # Byte for byte: the pod template, so no running node restarts.
        assert json.dumps(after["spec"]["template"]) == json.dumps(before["spec"]["template"])
        rest_before = {k: v for k, v in before["spec"].items() if k != "replicas"}
        assert {k: v for k, v in after["spec"].items() if k != "replicas"} == rest_before
        assert after["spec"]["replicas"] == replicas
        assert "cluster.initial_master_nodes" not in (
            await settings_of(app_server, namespace) or {}
        )
