"""Unknown fields under each ``fieldValidation`` directive, over plain HTTP, and the
control plane's own objects under the strictest one."""

from __future__ import annotations

from typing import Any

import aiohttp
from kubernetes_asyncio import client

from app.kube.manifests import ClusterSecrets, cluster_manifests
from app.kube.namespace_limits import limit_range_manifest, resource_quota_manifest
from kube_sandbox import SandboxCluster
from kube_sandbox.registry import with_type
from kube_sandbox.schema import declared_fields, walk
from tests.sandbox.support import statefulset_manifest, wait_for
from tests.support.factories import SPEC_EXAMPLE

STS_PATH = "/apis/apps/v1/namespaces/{ns}/statefulsets"


def with_strangers() -> dict[str, Any]:
    """A StatefulSet with an unknown field in a container and one at the top of its spec,
    after the template (the decoder names them in document order)."""
    manifest = statefulset_manifest()
    manifest["spec"]["template"]["spec"]["containers"][0]["bogus"] = True
    manifest["spec"]["foo"] = 1
    return manifest


def unknown_fields_stored(sandbox: SandboxCluster) -> list[str]:
    found: list[str] = []
    for resource in sandbox.resources:
        for obj in sandbox.store.list(resource):
            walk(resource.definition, with_type(resource, obj), unknown=found.append)
    return found


async def post(
    http: aiohttp.ClientSession, path: str, body: Any, **query: str
) -> tuple[int, Any, list[str]]:
    async with http.post(path, json=body, params=query) as response:
        return response.status, await response.json(), response.headers.getall("Warning", [])


async def test_strict_refuses_unknown_fields_with_the_decoders_message(
    http: aiohttp.ClientSession, namespace: str
) -> None:
    path = STS_PATH.format(ns=namespace)
    status, body, _ = await post(http, path, with_strangers(), fieldValidation="Strict")
    assert status == 400
    assert body["reason"] == "BadRequest" and body["code"] == 400
    assert body["message"] == (
        'StatefulSet in version "v1" cannot be handled as a StatefulSet: strict decoding '
        'error: unknown field "spec.template.spec.containers[0].bogus", unknown field '
        '"spec.foo"'
    )
    async with http.get(f"{path}/es") as missing:
        assert missing.status == 404  # nothing was written


async def test_warn_is_the_default_and_drops_the_fields_with_warning_headers(
    http: aiohttp.ClientSession, namespace: str
) -> None:
    path = STS_PATH.format(ns=namespace)
    status, body, warnings = await post(http, path, with_strangers())
    assert status == 201
    assert warnings == [
        '299 - "unknown field \\"spec.template.spec.containers[0].bogus\\""',
        '299 - "unknown field \\"spec.foo\\""',
    ]
    assert "foo" not in body["spec"]
    async with http.get(f"{path}/es") as response:
        stored = await response.json()
    assert "foo" not in stored["spec"]
    assert "bogus" not in stored["spec"]["template"]["spec"]["containers"][0]
    # An explicit Warn is the same; a known-fields-only body warns of nothing.
    manifest = statefulset_manifest("clean")
    status, _, warnings = await post(http, path, manifest, fieldValidation="Warn")
    assert (status, warnings) == (201, [])


async def test_ignore_drops_the_fields_silently(
    http: aiohttp.ClientSession, namespace: str
) -> None:
    path = STS_PATH.format(ns=namespace)
    status, body, warnings = await post(http, path, with_strangers(), fieldValidation="Ignore")
    assert (status, warnings) == (201, [])
    assert "foo" not in body["spec"]


async def test_updates_and_patches_are_validated_too(
    http: aiohttp.ClientSession, namespace: str
) -> None:
    path = STS_PATH.format(ns=namespace)
    _, created, _ = await post(http, path, statefulset_manifest())
    created["spec"]["foo"] = 1
    async with http.put(f"{path}/es", json=created, params={"fieldValidation": "Strict"}) as put:
        assert put.status == 400
        assert (await put.json())["message"] == (
            'StatefulSet in version "v1" cannot be handled as a StatefulSet: strict decoding '
            'error: unknown field "spec.foo"'
        )
    merge = {"Content-Type": "application/merge-patch+json"}
    patch = {"metadata": {"app": "x"}}
    async with http.patch(
        f"{path}/es", json=patch, headers=merge, params={"fieldValidation": "Strict"}
    ) as refused:
        assert refused.status == 400
        assert (await refused.json())["message"] == (
            'strict decoding error: unknown field "metadata.app"'
        )
    async with http.patch(f"{path}/es", json=patch, headers=merge) as warned:
        assert warned.status == 200
        assert warned.headers.getall("Warning") == ['299 - "unknown field \\"metadata.app\\""']
        assert "app" not in (await warned.json())["metadata"]


async def test_an_unsupported_directive_is_invalid(
    http: aiohttp.ClientSession, namespace: str
) -> None:
    path = STS_PATH.format(ns=namespace)
    status, body, _ = await post(http, path, statefulset_manifest(), fieldValidation="strict")
    assert status == 422
    assert body["message"] == (
        'CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: '
        '"strict": supported values: "", "Ignore", "Strict", "Warn"'
    )


async def test_the_control_planes_objects_declare_only_known_fields(
    sandbox: SandboxCluster, http: aiohttp.ClientSession
) -> None:
    """Every object the control plane writes passes Strict validation unchanged."""
    shape = SPEC_EXAMPLE.model_copy(update={"replicas": 3})  # with its disruption budget
    manifests = cluster_manifests(
        shape,
        cluster_id="tenant_alice_vector-search_1700000000000000",
        image="docker.elastic.co/elasticsearch/elasticsearch:8.15.0",
        secrets=ClusterSecrets(elastic_password="pw-strict", report_token="tok-strict"),
        report_url="http://control-plane:8080/report",
        platform_namespace="es-serverless",
        bootstrap=True,
    )
    manifests += [
        limit_range_manifest(shape),
        resource_quota_manifest(shape),
    ]
    kinds = {(r.api_version, r.kind): r for r in sandbox.resources}
    assert {m["kind"] for m in manifests} >= {"Namespace", "StatefulSet", "NetworkPolicy"}
    for manifest in manifests:
        resource = kinds[(manifest["apiVersion"], manifest["kind"])]
        prefix = f"/apis/{resource.api_version}" if resource.group else "/api/v1"
        scope = f"/namespaces/{shape.namespace}" if resource.namespaced else ""
        status, body, warnings = await post(
            http, f"{prefix}{scope}/{resource.plural}", manifest, fieldValidation="Strict"
        )
        assert (status, warnings) == (201, []), body
    assert unknown_fields_stored(sandbox) == []  # with the quota's and budget's status


async def test_what_the_sandbox_writes_itself_declares_only_known_fields(
    sandbox: SandboxCluster, apps: client.AppsV1Api, core: client.CoreV1Api, namespace: str
) -> None:
    """Statuses, events and revisions written by the simulated components survive a
    Strict patch: no field of theirs is unknown to the definitions."""
    await apps.create_namespaced_stateful_set(namespace, statefulset_manifest(replicas=2))
    await core.create_namespaced_service(
        namespace, {"metadata": {"name": "es"}, "spec": {"ports": [{"port": 9200}]}}
    )

    async def running() -> bool:
        status = (await apps.read_namespaced_stateful_set("es", namespace)).status
        return status.ready_replicas == 2

    await wait_for(running, what="both pods running")
    assert unknown_fields_stored(sandbox) == []
    assert {r.kind for r in sandbox.resources if declared_fields(r.definition) is None} == {
        "PodMetrics"  # read-only, made on every read
    }
