"""The real kubectl against the sandbox: discovery, Tables, verbs, apply, scale, watch."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from kubernetes_asyncio import client

from tests.sandbox.support import Kubectl, statefulset_manifest, wait_for


async def make_tenants(core: client.CoreV1Api) -> None:
    for name, labels in (
        ("org-001-alice", {"tenant-org-id": "org-001", "user": "alice"}),
        ("org-001-bob", {"tenant-org-id": "org-001", "user": "bob"}),
        ("org-002-alice", {"tenant-org-id": "org-002", "user": "alice"}),
    ):
        await core.create_namespace({"metadata": {"name": name, "labels": labels}})


def first_column(table: str) -> list[str]:
    header, *rows = table.strip().splitlines()
    assert header.split()[0] == "NAME"
    return [row.split()[0] for row in rows]


async def test_get_namespaces_with_label_selectors(
    kubectl: Kubectl, core: client.CoreV1Api
) -> None:
    await make_tenants(core)
    table = (await kubectl("get", "namespaces", "-l", "tenant-org-id=org-001")).stdout
    assert table.splitlines()[0].split() == ["NAME", "STATUS", "AGE"]
    assert first_column(table) == ["org-001-alice", "org-001-bob"]
    table = (await kubectl("get", "namespaces", "-l", "tenant-org-id=org-001,user=alice")).stdout
    assert first_column(table) == ["org-001-alice"]
    table = (await kubectl("get", "ns", "-l", "user in (bob)")).stdout
    assert first_column(table) == ["org-001-bob"]
    empty = await kubectl("get", "ns", "-l", "tenant-org-id=org-404")
    assert empty.stdout == "" and "No resources found" in empty.stderr


async def test_get_namespaces_output_formats(kubectl: Kubectl, core: client.CoreV1Api) -> None:
    await make_tenants(core)
    labelled = (await kubectl("get", "namespaces", "--show-labels")).stdout
    header, *rows = labelled.splitlines()
    assert header.split() == ["NAME", "STATUS", "AGE", "LABELS"]
    alice = next(r for r in rows if r.startswith("org-001-alice "))
    assert "tenant-org-id=org-001" in alice and "user=alice" in alice

    listing = json.loads((await kubectl("get", "ns", "-o", "json")).stdout)
    assert listing["kind"] == "List"
    names = [item["metadata"]["name"] for item in listing["items"]]
    assert {"default", "org-001-alice", "org-002-alice"} <= set(names)
    assert {item["kind"] for item in listing["items"]} == {"Namespace"}
    single = yaml.safe_load((await kubectl("get", "ns", "org-001-bob", "-o", "yaml")).stdout)
    assert single["metadata"]["labels"]["user"] == "bob" and single["status"]["phase"] == "Active"
    named = (await kubectl("get", "ns", "-l", "tenant-org-id=org-001", "-o", "name")).stdout
    assert named.split() == ["namespace/org-001-alice", "namespace/org-001-bob"]


async def test_get_workloads_across_kinds(
    kubectl: Kubectl, core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str
) -> None:
    await apps.create_namespaced_stateful_set(namespace, statefulset_manifest(replicas=2))
    await core.create_namespaced_service(
        namespace,
        {
            "metadata": {"name": "es"},
            "spec": {"clusterIP": "None", "selector": {"app": "es"}, "ports": [{"port": 9200}]},
        },
    )
    await kubectl("-n", namespace, "rollout", "status", "statefulset/es", "--timeout=20s")
    out = (await kubectl("-n", namespace, "get", "statefulsets,pods,services,pvc")).stdout
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "READY", "AGE"]
    assert lines[1].split()[:2] == ["statefulset.apps/es", "2/2"]
    pods = [line.split() for line in lines if line.startswith("pod/")]
    assert [p[:4] for p in pods] == [
        ["pod/es-0", "1/1", "Running", "0"],
        ["pod/es-1", "1/1", "Running", "0"],
    ]
    assert next(line for line in lines if line.startswith("service/es")).split()[1:5] == [
        "ClusterIP",
        "None",
        "<none>",
        "9200/TCP",
    ]
    claims = [line.split() for line in lines if line.startswith("persistentvolumeclaim/")]
    assert [c[0] for c in claims] == [
        "persistentvolumeclaim/data-es-0",
        "persistentvolumeclaim/data-es-1",
    ]
    assert claims[0][1] == "Bound" and claims[0][3:6] == ["10Gi", "RWO", "standard"]
    ready = await kubectl(
        "-n", namespace, "get", "sts", "es", "-o", "jsonpath={.status.readyReplicas}"
    )
    assert ready.stdout == "2"


async def test_create_and_delete_namespace(kubectl: Kubectl, core: client.CoreV1Api) -> None:
    created = await kubectl("create", "namespace", "scratch")  # a protobuf request body
    assert created.stdout.strip() == "namespace/scratch created"
    namespace = await core.read_namespace("scratch")
    assert namespace.metadata.labels == {"kubernetes.io/metadata.name": "scratch"}
    await kubectl("-n", "scratch", "create", "configmap", "settings", "--from-literal=a=b")
    await kubectl("-n", "scratch", "create", "secret", "generic", "creds", "--from-literal=p=q")
    assert (await core.read_namespaced_config_map("settings", "scratch")).data == {"a": "b"}
    assert (await core.read_namespaced_secret("creds", "scratch")).data == {"p": "cQ=="}
    again = await kubectl("create", "namespace", "scratch", check=False)
    assert again.returncode == 1
    assert 'Error from server (AlreadyExists): namespaces "scratch" already exists' in again.stderr
    # delete waits (with a watch) until the namespace is really gone.
    deleted = await kubectl("delete", "namespace", "scratch")
    assert deleted.stdout.strip() == 'namespace "scratch" deleted'
    names = [n.metadata.name for n in (await core.list_namespace()).items]
    assert "scratch" not in names
    missing = await kubectl("get", "namespace", "scratch", check=False)
    assert missing.returncode == 1
    assert 'Error from server (NotFound): namespaces "scratch" not found' in missing.stderr


async def test_scale_statefulset(
    kubectl: Kubectl, core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str
) -> None:
    await apps.create_namespaced_stateful_set(namespace, statefulset_manifest(replicas=1))
    scaled = await kubectl("-n", namespace, "scale", "statefulset", "es", "--replicas=3")
    assert scaled.stdout.strip() == "statefulset.apps/es scaled"
    await kubectl(
        "-n",
        namespace,
        "wait",
        "--for=jsonpath={.status.readyReplicas}=3",
        "statefulset/es",
        "--timeout=20s",
    )
    pods = (await core.list_namespaced_pod(namespace)).items
    assert [p.metadata.name for p in pods] == ["es-0", "es-1", "es-2"]


async def test_apply_creates_then_configures(
    kubectl: Kubectl, apps: client.AppsV1Api, tmp_path: Path
) -> None:
    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "applied", "labels": {"tenant-org-id": "org-009"}},
    }
    statefulset = statefulset_manifest(replicas=1)
    statefulset["metadata"]["namespace"] = "applied"
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(yaml.safe_dump_all([namespace, statefulset]))
    # No --validate=false needed: the OpenAPI v3 stub lets kubectl validate server-side.
    first = await kubectl("apply", "-f", str(manifest))
    assert first.stdout.split("\n")[:2] == [
        "namespace/applied created",
        "statefulset.apps/es created",
    ]

    container = statefulset["spec"]["template"]["spec"]["containers"][0]
    container["image"] = "elasticsearch:9.2.0"
    statefulset["spec"]["replicas"] = 2
    manifest.write_text(yaml.safe_dump_all([namespace, statefulset]))
    second = await kubectl("apply", "-f", str(manifest))
    assert second.stdout.split("\n")[:2] == [
        "namespace/applied unchanged",
        "statefulset.apps/es configured",
    ]
    current = await apps.read_namespaced_stateful_set("es", "applied")
    [applied] = current.spec.template.spec.containers
    assert applied.image == "elasticsearch:9.2.0"
    assert applied.ports[0].container_port == 9200  # merged by name, not replaced
    assert current.spec.replicas == 2 and current.metadata.generation == 2
    last_applied = json.loads(
        current.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]
    )
    assert last_applied["spec"]["replicas"] == 2

    async def rolled() -> bool:
        status = (await apps.read_namespaced_stateful_set_status("es", "applied")).status
        return status.ready_replicas == 2 and status.current_revision == status.update_revision

    await wait_for(rolled, what="the applied rollout")


async def test_label_patch_and_delete_statefulset(
    kubectl: Kubectl, core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str
) -> None:
    await apps.create_namespaced_stateful_set(namespace, statefulset_manifest(replicas=1))
    await kubectl("-n", namespace, "label", "statefulset", "es", "tier=hot")
    await kubectl(
        "-n",
        namespace,
        "patch",
        "statefulset",
        "es",
        "--type=json",
        "-p",
        '[{"op": "replace", "path": "/spec/replicas", "value": 2}]',
    )
    current = await apps.read_namespaced_stateful_set("es", namespace)
    assert current.metadata.labels == {"tier": "hot"} and current.spec.replicas == 2
    deleted = await kubectl("-n", namespace, "delete", "statefulset", "es")
    assert deleted.stdout.strip() == 'statefulset.apps "es" deleted'

    async def no_pods() -> bool:
        return not (await core.list_namespaced_pod(namespace)).items

    await wait_for(no_pods, what="pods garbage-collected")


async def test_api_resources_describe_annotate_and_wide_output(
    kubectl: Kubectl, apps: client.AppsV1Api, namespace: str
) -> None:
    resources = (await kubectl("api-resources")).stdout.splitlines()
    rows = {line.split()[0]: line.split() for line in resources[1:]}
    assert rows["statefulsets"][1:] == ["sts", "apps/v1", "true", "StatefulSet"]
    assert rows["namespaces"][1:] == ["ns", "v1", "false", "Namespace"]
    assert rows["networkpolicies"][1] == "netpol"
    await apps.create_namespaced_stateful_set(namespace, statefulset_manifest(replicas=1))
    await kubectl("-n", namespace, "annotate", "statefulset", "es", "owner=search-team")
    described = (await kubectl("-n", namespace, "describe", "statefulset", "es")).stdout
    assert "owner: search-team" in described
    assert "Image:" in described and "elasticsearch:9.1.5" in described
    await kubectl("-n", namespace, "rollout", "status", "statefulset/es", "--timeout=20s")
    wide = (await kubectl("-n", namespace, "get", "pods", "-o", "wide")).stdout.splitlines()
    assert wide[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE"]
    assert wide[1].split()[6] == "sandbox-node"
