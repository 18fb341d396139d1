"""Provisioning against the sandbox cluster over real HTTP: the objects created, the
spec's kubectl queries, readiness timeout, API errors, restarts."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import httpx
import pytest

from tests.support.http import create_accepted, wait_for_status
from tests.support.kubectl import run_kubectl
from tests.support.servers import ServerProcess, StandaloneSandbox

SEED = {
    "user": "alice", "service_name": "vector-search", "replicas": 2, "cpu_request": "1",
    "cpu_limit": "4", "mem_request": "2Gi", "mem_limit": "8Gi", "disk_size": "50Gi",
    "gpu_count": 1, "dimension": 512, "vector_count": 1000000, "index_limit": 10,
    "gitlab_url": "https://gitlab.example.com/search/config",
}  # fmt: skip


def test_created_cluster_has_the_specs_kubernetes_objects(
    server: ServerProcess, client: httpx.Client, org: str
) -> None:
    assert client.post("/clusters", json={"tenant_org_id": org, **SEED}).status_code == 202
    wait_for_status(
        client, user="alice", service_name="vector-search", tenant_org_id=org, wanted={"created"}
    )
    ns = f"{org}-alice-vector-search"

    labels = server.sandbox.get(f"/api/v1/namespaces/{ns}")["metadata"]["labels"]
    assert labels["es-cluster"] == "true"
    assert (labels["tenant-org-id"], labels["user"], labels["service-name"]) == (
        org,
        "alice",
        "vector-search",
    )
    assert labels["app.kubernetes.io/managed-by"] == "es-serverless"

    sts = server.sandbox.get(f"/apis/apps/v1/namespaces/{ns}/statefulsets/elasticsearch")
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
    assert env["cluster.initial_master_nodes"] == "elasticsearch-0,elasticsearch-1"
    assert env["ES_JAVA_OPTS"] == "-Xms4g -Xmx4g"
    [claim] = sts["spec"]["volumeClaimTemplates"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "50Gi"

    services = {
        s["metadata"]["name"]: s
        for s in server.sandbox.get(f"/api/v1/namespaces/{ns}/services")["items"]
    }
    assert services["elasticsearch-headless"]["spec"]["clusterIP"] == "None"
    assert [p["port"] for p in services["elasticsearch"]["spec"]["ports"]] == [9200]
    pvcs = server.sandbox.get(f"/api/v1/namespaces/{ns}/persistentvolumeclaims")["items"]
    assert sorted(p["metadata"]["name"] for p in pvcs) == [
        "data-elasticsearch-0",
        "data-elasticsearch-1",
    ]
    pods = server.sandbox.get(f"/api/v1/namespaces/{ns}/pods?labelSelector=tenant-org-id%3D{org}")[
        "items"
    ]
    assert len(pods) == 2


def test_no_gpu_means_no_gpu_resource(
    server: ServerProcess, client: httpx.Client, org: str
) -> None:
    create_accepted(client, org, "bob", "cpu-only")
    wait_for_status(
        client, user="bob", service_name="cpu-only", tenant_org_id=org, wanted={"created"}
    )
    sts = server.sandbox.get(
        f"/apis/apps/v1/namespaces/{org}-bob-cpu-only/statefulsets/elasticsearch"
    )
    limits = sts["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    assert "nvidia.com/gpu" not in limits


def test_the_specs_kubectl_queries_work(
    server: ServerProcess, client: httpx.Client, org: str
) -> None:
    for user, service in [("alice", "vector-search"), ("bob", "image-search")]:
        create_accepted(client, org, user, service)
    for user, service in [("alice", "vector-search"), ("bob", "image-search")]:
        wait_for_status(
            client, user=user, service_name=service, tenant_org_id=org, wanted={"created"}
        )

    def names(*selector: str) -> set[str]:
        return set(
            run_kubectl(server.kubeconfig, "get", "namespaces", *selector, "-o", "name").split()
        )

    both = {f"namespace/{org}-alice-vector-search", f"namespace/{org}-bob-image-search"}
    assert names("-l", f"tenant-org-id={org}") == both
    assert names("-l", f"tenant-org-id={org},user=alice") == {
        f"namespace/{org}-alice-vector-search"
    }
    assert f"namespace/{org}-bob-image-search" in names("-l", "service-name=image-search")
    assert f"namespace/{org}-alice-vector-search" in names("-l", "user=alice")
    table = run_kubectl(server.kubeconfig, "get", "namespaces", "-l", f"tenant-org-id={org}")
    assert "NAME" in table and f"{org}-bob-image-search" in table
    ready = run_kubectl(
        server.kubeconfig, "-n", f"{org}-alice-vector-search", "get", "sts", "elasticsearch",
        "-o", "jsonpath={.status.readyReplicas}",
    )  # fmt: skip
    assert ready == "1"


def test_records_survive_a_restart(make_server: Callable[..., ServerProcess], org: str) -> None:
    server = make_server()
    with server.client() as client:
        client.post("/clusters", json={"tenant_org_id": org, **SEED})
        before = wait_for_status(
            client,
            user="alice",
            service_name="vector-search",
            tenant_org_id=org,
            wanted={"created"},
        )
    server.restart()
    with server.client() as client:
        after = client.get(f"/tenant/containers/org/{org}").json()
        assert after == [before]
        # A fresh id sequence after the restart still refuses the duplicate.
        assert client.post("/clusters", json={"tenant_org_id": org, **SEED}).status_code == 409


@pytest.mark.parametrize("kill", [True, False], ids=["SIGKILL", "SIGTERM"])
def test_cluster_left_in_progress_by_a_stopped_server_is_finished_after_restart(
    make_server: Callable[..., ServerProcess], org: str, kill: bool
) -> None:
    server = make_server()
    server.sandbox.hold_readiness(f"{org}-alice-resume")
    with server.client() as client:
        create_accepted(client, org, "alice", "resume")
        wait_for_status(
            client, user="alice", service_name="resume", tenant_org_id=org, wanted={"creating"}
        )
    started = time.monotonic()
    server.stop(kill=kill)
    assert time.monotonic() - started < 20  # SIGTERM stops in-flight work promptly
    server.restart()  # a new process: a new, empty sandbox cluster too
    with server.client() as client:
        done = wait_for_status(
            client,
            user="alice",
            service_name="resume",
            tenant_org_id=org,
            wanted={"created", "failed"},
        )
    assert done["status"] == "created"


def test_kubeconfig_mode_drives_an_external_api_server(
    standalone_sandbox: StandaloneSandbox, make_server: Callable[..., ServerProcess], org: str
) -> None:
    server = make_server(ESS_KUBE_MODE="kubeconfig", KUBECONFIG=str(standalone_sandbox.kubeconfig))
    assert not server.kubeconfig.exists()  # no embedded sandbox was started
    with server.client() as client:
        create_accepted(client, org, "erin", "ext")
        wait_for_status(
            client, user="erin", service_name="ext", tenant_org_id=org, wanted={"created"}
        )
    listed = json.loads(
        run_kubectl(
            standalone_sandbox.kubeconfig,
            "get",
            "namespaces",
            "-l",
            f"tenant-org-id={org}",
            "-o",
            "json",
        )
    )
    assert [item["metadata"]["name"] for item in listed["items"]] == [f"{org}-erin-ext"]


def test_tenant_namespace_is_isolated_and_secured(
    server: ServerProcess, client: httpx.Client, org: str
) -> None:
    create_accepted(client, org, "sec", "locked", replicas=2)
    wait_for_status(
        client, user="sec", service_name="locked", tenant_org_id=org, wanted={"created"}
    )
    ns = f"{org}-sec-locked"

    policy = server.sandbox.get(
        f"/apis/networking.k8s.io/v1/namespaces/{ns}/networkpolicies/elasticsearch"
    )
    sts = server.sandbox.get(f"/apis/apps/v1/namespaces/{ns}/statefulsets/elasticsearch")
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
        for s in server.sandbox.get(f"/api/v1/namespaces/{ns}/secrets")["items"]
    }
    assert {
        "elasticsearch-credentials",
        "es-serverless-reporter",
        "elasticsearch-transport-tls",
    } <= secrets
    env = {e["name"]: e for e in sts["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["xpack.security.enabled"]["value"] == "true"
    assert env["xpack.security.transport.ssl.enabled"]["value"] == "true"
    assert env["ELASTIC_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "elasticsearch-credentials",
        "key": "password",
    }

    # The transport certificates are generated once: an update keeps them.
    tls_before = server.sandbox.get(f"/api/v1/namespaces/{ns}/secrets/elasticsearch-transport-tls")
    updated = client.patch(f"/clusters/{ns}", json={"replicas": 3})
    assert updated.status_code == 202, updated.text
    assert updated.json()["status"] == "updating"
    after = wait_for_status(
        client, user="sec", service_name="locked", tenant_org_id=org, wanted={"created", "failed"}
    )
    assert (after["status"], after["replicas"]) == ("created", 3), after
    assert server.sandbox.statefulset(ns)["status"]["readyReplicas"] == 3
    tls_after = server.sandbox.get(f"/api/v1/namespaces/{ns}/secrets/elasticsearch-transport-tls")
    assert tls_after["metadata"]["resourceVersion"] == tls_before["metadata"]["resourceVersion"]
    assert tls_after["data"] == tls_before["data"]
