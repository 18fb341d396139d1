"""Shard allocation awareness against the sandbox: when the Kubernetes nodes carry
topology.kubernetes.io/zone, every Elasticsearch pod gets its node's zone as an
annotation (which its wait-for-zone init container waits for, and its ZONE variable
reads) and elasticsearch.yml names the attribute; without zones, neither."""

from __future__ import annotations

from typing import Any

import httpx
import yaml

from kube_sandbox.pods import node_manifest
from tests.support.inprocess import InProcessServer, create_and_wait, wait_for_status

ZONE = "topology.kubernetes.io/zone"


async def add_node(app: InProcessServer, name: str, zone: str | None) -> None:
    labels = {ZONE: zone} if zone else {}
    response = await app.sandbox.request("POST", "/api/v1/nodes", json=node_manifest(name, labels))
    assert response.status_code == 201, response.text


async def elasticsearch_yml(app: InProcessServer, namespace: str) -> dict[str, Any]:
    config = await app.sandbox.get(f"/api/v1/namespaces/{namespace}/configmaps/elasticsearch-config")
    settings: dict[str, Any] = yaml.safe_load(config["data"]["elasticsearch.yml"])
    return settings


async def placements(app: InProcessServer, namespace: str) -> dict[str, tuple[str, str | None]]:
    """Pod -> (its node, its zone annotation)."""
    pods = await app.sandbox.get(f"/api/v1/namespaces/{namespace}/pods")
    return {
        p["metadata"]["name"]: (
            p["spec"]["nodeName"],
            (p["metadata"].get("annotations") or {}).get(ZONE),
        )
        for p in pods["items"]
    }


async def test_zoned_nodes_give_each_pod_its_zone_and_the_cluster_awareness(
    app_server: InProcessServer, admin_client: httpx.AsyncClient, org: str
) -> None:
    await app_server.sandbox.merge_patch(
        "/api/v1/nodes/sandbox-node", {"metadata": {"labels": {ZONE: "zone-a"}}}
    )
    await add_node(app_server, "sandbox-node-b", "zone-b")
    await add_node(app_server, "sandbox-node-c", "zone-c")
    await add_node(app_server, "sandbox-node-d", None)  # a node without a zone
    created = await create_and_wait(admin_client, org, "alice", "zoned", replicas=4)
    namespace = created["namespace"]

    settings = await elasticsearch_yml(app_server, namespace)
    assert settings["node.attr.zone"] == "${ZONE}"
    assert settings["cluster.routing.allocation.awareness.attributes"] == "zone"
    assert await placements(app_server, namespace) == {
        "elasticsearch-0": ("sandbox-node", "zone-a"),
        "elasticsearch-1": ("sandbox-node-b", "zone-b"),
        "elasticsearch-2": ("sandbox-node-c", "zone-c"),
        # It starts too, in a zone of its own, rather than waiting for ever.
        "elasticsearch-3": ("sandbox-node-d", "unknown"),
    }

    # A pod started later (a scale-up here; a drained node's replacement alike) is
    # given its zone too.
    response = await admin_client.patch(f"/clusters/{namespace}", json={"replicas": 5})
    assert response.status_code == 202, response.text
    await wait_for_status(
        admin_client, user="alice", service_name="zoned", tenant_org_id=org, wanted={"created"}
    )
    assert (await placements(app_server, namespace))["elasticsearch-4"] == (
        "sandbox-node",
        "zone-a",
    )


async def test_without_zones_there_is_no_awareness(
    app_server: InProcessServer, admin_client: httpx.AsyncClient, org: str
) -> None:
    created = await create_and_wait(admin_client, org, "alice", "flat", replicas=2)
    namespace = created["namespace"]
    settings = await elasticsearch_yml(app_server, namespace)
    assert not [key for key in settings if "zone" in key or "awareness" in key]
    assert await placements(app_server, namespace) == {
        "elasticsearch-0": ("sandbox-node", None),
        "elasticsearch-1": ("sandbox-node", None),
    }
    # The same pod template as with zones: knowing them later restarts nothing.
    sts = await app_server.sandbox.statefulset(namespace)
    init = [c["name"] for c in sts["spec"]["template"]["spec"]["initContainers"]]
    assert init == ["sysctl", "wait-for-zone"]
