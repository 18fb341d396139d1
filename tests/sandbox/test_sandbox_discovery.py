"""Discovery documents, Table output and content negotiation, as raw HTTP."""

from __future__ import annotations

from typing import Any

import aiohttp
from kubernetes_asyncio import client

from tests.sandbox.support import statefulset_manifest, wait_for

TABLE_ACCEPT = (
    "application/json;as=Table;v=v1;g=meta.k8s.io,"
    "application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
)


async def get_json(http: aiohttp.ClientSession, path: str, **headers: str) -> Any:
    async with http.get(path, headers=headers) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def test_version_and_api_roots(http: aiohttp.ClientSession) -> None:
    version = await get_json(http, "/version")
    assert version["gitVersion"].startswith("v1.32.") and (version["major"], version["minor"]) == (
        "1",
        "32",
    )
    api = await get_json(http, "/api")
    assert api["kind"] == "APIVersions" and api["versions"] == ["v1"]
    groups = await get_json(http, "/apis")
    assert groups["kind"] == "APIGroupList"
    assert [g["name"] for g in groups["groups"]] == [
        "apps",
        "networking.k8s.io",
        "policy",
        "metrics.k8s.io",
        "rbac.authorization.k8s.io",
    ]
    apps = await get_json(http, "/apis/apps")
    assert apps["preferredVersion"] == {"groupVersion": "apps/v1", "version": "v1"}
    async with http.get("/healthz") as response:
        assert await response.text() == "ok"


async def test_aggregated_discovery_requests_get_the_legacy_documents(
    http: aiohttp.ClientSession,
) -> None:
    accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
    async with http.get("/apis", headers={"Accept": accept}) as response:
        assert response.headers["Content-Type"].startswith("application/json")
        assert (await response.json())["kind"] == "APIGroupList"


async def test_resource_lists(http: aiohttp.ClientSession) -> None:
    core = await get_json(http, "/api/v1")
    assert core["kind"] == "APIResourceList" and core["groupVersion"] == "v1"
    by_name = {r["name"]: r for r in core["resources"]}
    assert by_name["namespaces"]["namespaced"] is False
    assert by_name["namespaces"]["shortNames"] == ["ns"]
    assert by_name["pods"]["shortNames"] == ["po"] and by_name["pods"]["singularName"] == "pod"
    assert by_name["services"]["shortNames"] == ["svc"]
    assert by_name["persistentvolumeclaims"]["shortNames"] == ["pvc"]
    assert "watch" in by_name["configmaps"]["verbs"] and "patch" in by_name["secrets"]["verbs"]
    apps = {r["name"]: r for r in (await get_json(http, "/apis/apps/v1"))["resources"]}
    assert apps["statefulsets"]["kind"] == "StatefulSet" and apps["statefulsets"]["shortNames"] == [
        "sts"
    ]
    assert apps["statefulsets/status"]["verbs"] == ["get", "patch", "update"]
    scale = apps["statefulsets/scale"]
    assert (scale["group"], scale["version"], scale["kind"]) == ("autoscaling", "v1", "Scale")
    networking = await get_json(http, "/apis/networking.k8s.io/v1")
    [policy] = networking["resources"]
    assert (policy["name"], policy["shortNames"]) == ("networkpolicies", ["netpol"])
    async with http.get("/apis/batch/v1") as response:
        assert response.status == 404


async def test_openapi_v3_advertises_server_side_field_validation(
    http: aiohttp.ClientSession,
) -> None:
    root = await get_json(http, "/openapi/v3")
    url = root["paths"]["apis/apps/v1"]["serverRelativeURL"]
    assert url.startswith("/openapi/v3/apis/apps/v1?hash=")
    document = await get_json(http, url)
    patch = document["paths"]["/apis/apps/v1/namespaces/{namespace}/statefulsets/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {
        "group": "apps",
        "version": "v1",
        "kind": "StatefulSet",
    }
    assert "fieldValidation" in {p["name"] for p in patch["parameters"]}
    async with http.get("/openapi/v2") as response:
        assert response.status == 404


async def test_table_for_namespaces_with_partial_object_metadata(
    http: aiohttp.ClientSession, core: client.CoreV1Api
) -> None:
    await core.create_namespace(
        {"metadata": {"name": "org-001-alice", "labels": {"user": "alice"}}}
    )
    table = await get_json(
        http, "/api/v1/namespaces?labelSelector=user%3Dalice", Accept=TABLE_ACCEPT
    )
    assert (table["kind"], table["apiVersion"]) == ("Table", "meta.k8s.io/v1")
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Status", "Age"]
    assert table["columnDefinitions"][0]["format"] == "name"
    [row] = table["rows"]
    assert row["cells"][:2] == ["org-001-alice", "Active"]
    assert row["cells"][2].endswith("s")
    assert row["object"]["kind"] == "PartialObjectMetadata"
    assert row["object"]["metadata"]["labels"]["user"] == "alice"
    full = await get_json(
        http, "/api/v1/namespaces/org-001-alice?includeObject=Object", Accept=TABLE_ACCEPT
    )
    assert full["rows"][0]["object"]["kind"] == "Namespace"


async def test_tables_for_workload_kinds(
    http: aiohttp.ClientSession, core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str
) -> None:
    await apps.create_namespaced_stateful_set(namespace, statefulset_manifest(replicas=1))
    await core.create_namespaced_service(
        namespace,
        {
            "metadata": {"name": "es"},
            "spec": {
                "selector": {"app": "es"},
                "ports": [{"name": "http", "port": 9200}, {"name": "transport", "port": 9300}],
            },
        },
    )

    async def running() -> bool:
        pods = (await core.list_namespaced_pod(namespace)).items
        return bool(pods) and pods[0].status.phase == "Running"

    await wait_for(running, what="es-0 running")

    async def table(path: str) -> tuple[list[str], list[Any]]:
        body = await get_json(http, f"/api/v1/namespaces/{namespace}/{path}", Accept=TABLE_ACCEPT)
        priority0 = [c["name"] for c in body["columnDefinitions"] if c["priority"] == 0]
        return priority0, [r["cells"][: len(priority0)] for r in body["rows"]]

    columns, [cells] = await table("pods")
    assert columns == ["Name", "Ready", "Status", "Restarts", "Age"]
    assert cells[:4] == ["es-0", "1/1", "Running", 0]
    columns, [cells] = await table("services")
    assert columns == ["Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age"]
    assert cells[1] == "ClusterIP" and cells[3] == "<none>" and cells[4] == "9200/TCP,9300/TCP"
    columns, [cells] = await table("persistentvolumeclaims")
    assert columns == [
        "Name",
        "Status",
        "Volume",
        "Capacity",
        "Access Modes",
        "StorageClass",
        "Age",
    ]
    assert cells[:2] == ["data-es-0", "Bound"] and cells[3:6] == ["10Gi", "RWO", "standard"]
    body = await get_json(
        http, f"/apis/apps/v1/namespaces/{namespace}/statefulsets", Accept=TABLE_ACCEPT
    )
    assert [c["name"] for c in body["columnDefinitions"] if c["priority"] == 0] == [
        "Name",
        "Ready",
        "Age",
    ]
    assert body["rows"][0]["cells"][:2] == ["es", "1/1"]
    events = await get_json(http, f"/api/v1/namespaces/{namespace}/events", Accept=TABLE_ACCEPT)
    assert [c["name"] for c in events["columnDefinitions"] if c["priority"] == 0] == [
        "Last Seen",
        "Type",
        "Reason",
        "Object",
        "Message",
    ]
    names = [c["name"] for c in events["columnDefinitions"]]
    rows = [dict(zip(names, r["cells"], strict=True)) for r in events["rows"]]
    scheduled = next(row for row in rows if row["Reason"] == "Scheduled")
    assert (scheduled["Type"], scheduled["Object"], scheduled["Source"]) == (
        "Normal",
        "pod/es-0",
        "default-scheduler",
    )
    assert scheduled["Message"] == f"Successfully assigned {namespace}/es-0 to sandbox-node"
    body = await get_json(
        http, f"/apis/apps/v1/namespaces/{namespace}/controllerrevisions", Accept=TABLE_ACCEPT
    )
    assert [c["name"] for c in body["columnDefinitions"]] == [
        "Name",
        "Controller",
        "Revision",
        "Age",
    ]
    [row] = body["rows"]
    assert row["cells"][1:3] == ["statefulset.apps/es", 1]


async def test_partial_object_metadata_and_unacceptable_media(http: aiohttp.ClientSession) -> None:
    accept = "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io"
    listing = await get_json(http, "/api/v1/namespaces", Accept=accept)
    assert listing["kind"] == "PartialObjectMetadataList"
    assert {i["kind"] for i in listing["items"]} == {"PartialObjectMetadata"}
    async with http.get("/api/v1/namespaces", headers={"Accept": "application/xml"}) as response:
        assert response.status == 406
    # Protobuf-preferring clients list JSON as a fallback and get JSON.
    listing = await get_json(
        http, "/api/v1/namespaces", Accept="application/vnd.kubernetes.protobuf,application/json"
    )
    assert listing["kind"] == "NamespaceList"
