"""Provisioning against the sandbox cluster over real HTTP (the app in process): the
objects created, the spec's kubectl queries, isolation inside the namespace, a cluster
reached through a kubeconfig. (Failures: tests/worker; restarts: test_restarts.py.)"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import yaml

from app.settings import KubeMode
from kube_sandbox import SandboxCluster
from tests.conftest import MakeApp
from tests.support.inprocess import (
    InProcessServer,
    create_accepted,
    create_and_wait,
    wait_for_status,
)
from tests.support.sandbox import AsyncSandboxAPI

pytestmark = pytest.mark.asyncio(loop_scope="module")

SEED = {
    "user": "alice", "service_name": "vector-search", "replicas": 2, "cpu_request": "1",
    "cpu_limit": "4", "mem_request": "2Gi", "mem_limit": "8Gi", "disk_size": "50Gi",
    "gpu_count": 1, "dimension": 512, "vector_count": 1000000, "index_limit": 10,
    "gitlab_url": "https://gitlab.example.com/search/config",
}  # fmt: skip


async def test_created_cluster_has_the_specs_kubernetes_objects(
    shared_app: InProcessServer, shared_admin: httpx.AsyncClient, org: str
) -> None:
    assert (
        await shared_admin.post("/clusters", json={"tenant_org_id": org, **SEED})
    ).status_code == 202
    await wait_for_status(
        shared_admin,
        user="alice",
        service_name="vector-search",
        tenant_org_id=org,
        wanted={"created"},
    )
    ns = f"{org}-alice-vector-search"

    labels = (await shared_app.sandbox.get(f"/api/v1/namespaces/{ns}"))["metadata"]["labels"]
    assert labels["es-cluster"] == "true"
    assert (labels["tenant-org-id"], labels["user"], labels["service-name"]) == (
        org,
        "alice",
        "vector-search",
    )
    assert labels["app.kubernetes.io/managed-by"] == "es-serverless"

    sts = await shared_app.sandbox.get(f"/apis/apps/v1/namespaces/{ns}/statefulsets/elasticsearch")
    assert sts["spec"]["replicas"] == 2
    assert sts["status"]["readyReplicas"] == 2
    pod = sts["spec"]["template"]
    assert pod["metadata"]["labels"]["tenant-org-id"] == org
    [container] = pod["spec"]["containers"]
    assert container["resources"] == {
        "requests": {"cpu": "1", "memory": "2Gi"},
        "limits": {"cpu": "4", "memory": "8Gi", "nvidia.com/gpu": "1"},
    }
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["ESS_VECTOR_DIMENSION"] == "512"
    assert env["ESS_INDEX_LIMIT"] == "10"
    assert env["ESS_GITLAB_URL"] == SEED["gitlab_url"]
    assert env["ES_JAVA_OPTS"] == "-Xms4g -Xmx4g"
    config = await shared_app.sandbox.get(
        f"/api/v1/namespaces/{ns}/configmaps/elasticsearch-config"
    )
    settings = yaml.safe_load(config["data"]["elasticsearch.yml"])
    assert settings["cluster.name"] == "vector-search"
    # The cluster has formed: the bootstrap list is gone from the nodes' config.
    assert "cluster.initial_master_nodes" not in settings
    [claim] = sts["spec"]["volumeClaimTemplates"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "50Gi"

    services = {
        s["metadata"]["name"]: s
        for s in (await shared_app.sandbox.get(f"/api/v1/namespaces/{ns}/services"))["items"]
    }
    assert services["elasticsearch-headless"]["spec"]["clusterIP"] == "None"
    assert [p["port"] for p in services["elasticsearch"]["spec"]["ports"]] == [9200]
    pvcs = (await shared_app.sandbox.get(f"/api/v1/namespaces/{ns}/persistentvolumeclaims"))[
        "items"
    ]
    assert sorted(p["metadata"]["name"] for p in pvcs) == [
        "data-elasticsearch-0",
        "data-elasticsearch-1",
    ]
    pods = (
        await shared_app.sandbox.get(
            f"/api/v1/namespaces/{ns}/pods?labelSelector=tenant-org-id%3D{org}"
        )
    )["items"]
    assert len(pods) == 2


async def test_no_gpu_means_no_gpu_resource(
    shared_app: InProcessServer, shared_admin: httpx.AsyncClient, org: str
) -> None:
    await create_accepted(shared_admin, org, "bob", "cpu-only")
    await wait_for_status(
        shared_admin, user="bob", service_name="cpu-only", tenant_org_id=org, wanted={"created"}
    )
    sts = await shared_app.sandbox.get(
        f"/apis/apps/v1/namespaces/{org}-bob-cpu-only/statefulsets/elasticsearch"
    )
    limits = sts["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    assert "nvidia.com/gpu" not in limits


async def test_the_specs_kubectl_queries_work(
    shared_app: InProcessServer, shared_admin: httpx.AsyncClient, org: str
) -> None:
    for user, service in [("alice", "vector-search"), ("bob", "image-search")]:
        await create_accepted(shared_admin, org, user, service)
    for user, service in [("alice", "vector-search"), ("bob", "image-search")]:
        await wait_for_status(
            shared_admin, user=user, service_name=service, tenant_org_id=org, wanted={"created"}
        )

    async def names(*selector: str) -> set[str]:
        return set((await shared_app.kubectl("get", "namespaces", *selector, "-o", "name")).split())

    both = {f"namespace/{org}-alice-vector-search", f"namespace/{org}-bob-image-search"}
    assert await names("-l", f"tenant-org-id={org}") == both
    assert await names("-l", f"tenant-org-id={org},user=alice") == {
        f"namespace/{org}-alice-vector-search"
    }
    assert f"namespace/{org}-bob-image-search" in await names("-l", "service-name=image-search")
    assert f"namespace/{org}-alice-vector-search" in await names("-l", "user=alice")
    table = await shared_app.kubectl("get", "namespaces", "-l", f"tenant-org-id={org}")
    assert "NAME" in table and f"{org}-bob-image-search" in table
    ready = await shared_app.kubectl("-n", f"{org}-alice-vector-search", "get", "sts", "elasticsearch",
        "-o", "jsonpath={.status.readyReplicas}",
    )  # fmt: skip
    assert ready == "1"


@pytest.mark.asyncio(loop_scope="function")  # a server of its own
async def test_kubeconfig_mode_drives_an_external_api_server(
    sandbox_cluster: SandboxCluster, make_app: MakeApp, org: str, tmp_path: Path
) -> None:
    kubeconfig = sandbox_cluster.write_kubeconfig(tmp_path / "external.kubeconfig")
    app = await make_app(kube_mode=KubeMode.KUBECONFIG, kubeconfig=str(kubeconfig))
    assert app.runtime.sandbox is None  # no embedded sandbox was started
    assert not app.kubeconfig.exists()
    async with app.client() as admin:
        await create_and_wait(admin, org, "erin", "ext")
    listed = await AsyncSandboxAPI(sandbox_cluster.url).get(
        f"/api/v1/namespaces?labelSelector=tenant-org-id%3D{org}"
    )
    assert [item["metadata"]["name"] for item in listed["items"]] == [f"{org}-erin-ext"]


async def test_tenant_namespace_is_isolated_and_secured(
    shared_app: InProcessServer, shared_admin: httpx.AsyncClient, org: str
) -> None:
    await create_accepted(shared_admin, org, "sec", "locked", replicas=2)
    await wait_for_status(
        shared_admin, user="sec", service_name="locked", tenant_org_id=org, wanted={"created"}
    )
    ns = f"{org}-sec-locked"

    policy = await shared_app.sandbox.get(
        f"/apis/networking.k8s.io/v1/namespaces/{ns}/networkpolicies/elasticsearch"
    )
    sts = await shared_app.sandbox.get(f"/apis/apps/v1/namespaces/{ns}/statefulsets/elasticsearch")
    assert policy["spec"]["podSelector"]["matchLabels"] == sts["spec"]["selector"]["matchLabels"]
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    sources = [
        (rule["from"], sorted(p["port"] for p in rule["ports"]))
        for rule in policy["spec"]["ingress"]
    ]
    assert ([{"podSelector": {}}], [9200, 9300]) in sources
    assert (
        [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "es-serverless"}}}],
        [9200],
    ) in sources
    assert len(sources) == 2  # nothing else may reach Elasticsearch

    secrets = {
        s["metadata"]["name"]
        for s in (await shared_app.sandbox.get(f"/api/v1/namespaces/{ns}/secrets"))["items"]
    }
    assert {
        "elasticsearch-credentials",
        "es-serverless-reporter",
        "elasticsearch-transport-tls",
    } <= secrets
    env = {e["name"]: e for e in sts["spec"]["template"]["spec"]["containers"][0]["env"]}
    config = await shared_app.sandbox.get(
        f"/api/v1/namespaces/{ns}/configmaps/elasticsearch-config"
    )
    settings = yaml.safe_load(config["data"]["elasticsearch.yml"])
    assert settings["xpack.security.enabled"] is True
    assert settings["xpack.security.transport.ssl.enabled"] is True
    assert env["ELASTIC_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "elasticsearch-credentials",
        "key": "password",
    }

    # The transport certificates are generated once: an update keeps them.
    tls_before = await shared_app.sandbox.get(
        f"/api/v1/namespaces/{ns}/secrets/elasticsearch-transport-tls"
    )
    updated = await shared_admin.patch(f"/clusters/{ns}", json={"replicas": 3})
    assert updated.status_code == 202, updated.text
    assert updated.json()["status"] == "updating"
    after = await wait_for_status(
        shared_admin,
        user="sec",
        service_name="locked",
        tenant_org_id=org,
        wanted={"created", "failed"},
    )
    assert (after["status"], after["replicas"]) == ("created", 3), after
    assert (await shared_app.sandbox.statefulset(ns))["status"]["readyReplicas"] == 3
    tls_after = await shared_app.sandbox.get(
        f"/api/v1/namespaces/{ns}/secrets/elasticsearch-transport-tls"
    )
    assert tls_after["metadata"]["resourceVersion"] == tls_before["metadata"]["resourceVersion"]
    assert tls_after["data"] == tls_before["data"]
