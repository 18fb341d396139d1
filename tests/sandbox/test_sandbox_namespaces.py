"""Namespace deletion: Terminating, cascade, then gone."""

from __future__ import annotations

import json

import pytest
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from tests.sandbox.support import statefulset_manifest, wait_for


async def test_deleting_a_namespace_cascades(
    core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str
) -> None:
    await core.create_namespace({"metadata": {"name": "bystander"}})
    await core.create_namespaced_config_map("bystander", {"metadata": {"name": "keep"}})
    await apps.create_namespaced_stateful_set(
        namespace, statefulset_manifest(replicas=2, policy="Parallel")
    )
    await core.create_namespaced_secret(namespace, {"metadata": {"name": "creds"}})
    await core.create_namespaced_service(
        namespace, {"metadata": {"name": "es"}, "spec": {"ports": [{"port": 9200}]}}
    )
    await wait_for(lambda: core.list_namespaced_persistent_volume_claim(namespace), what="claims")

    raw = await core.delete_namespace(namespace, _preload_content=False)
    deleted = await raw.json()
    assert deleted["kind"] == "Namespace"
    assert deleted["status"]["phase"] == "Terminating"
    assert deleted["metadata"]["deletionTimestamp"]

    terminating = await core.read_namespace(namespace)
    assert terminating.status.phase == "Terminating"
    with pytest.raises(ApiException) as forbidden:
        await core.create_namespaced_config_map(namespace, {"metadata": {"name": "late"}})
    status = json.loads(forbidden.value.body)
    assert (forbidden.value.status, status["reason"]) == (403, "Forbidden")
    assert status["message"] == (
        f'configmaps "late" is forbidden: unable to create new content in namespace {namespace} '
        "because it is being terminated"
    )
    with pytest.raises(ApiException) as again:
        await core.delete_namespace(namespace)
    assert again.value.status == 409

    async def gone() -> bool:
        names = [n.metadata.name for n in (await core.list_namespace()).items]
        return namespace not in names

    await wait_for(gone, timeout=3, what="the namespace to disappear")
    for listing in (
        core.list_pod_for_all_namespaces(),
        core.list_service_for_all_namespaces(),
        core.list_persistent_volume_claim_for_all_namespaces(),
        core.list_secret_for_all_namespaces(),
        apps.list_stateful_set_for_all_namespaces(),
    ):
        assert {o.metadata.namespace for o in (await listing).items} <= {"bystander"}
    assert [
        c.metadata.name for c in (await core.list_namespaced_config_map("bystander")).items
    ] == ["keep"]
    # The name is free again.
    recreated = await core.create_namespace({"metadata": {"name": namespace}})
    assert recreated.status.phase == "Active"


async def test_system_namespaces_cannot_be_deleted(core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as refused:
        await core.delete_namespace("default")
    assert refused.value.status == 403
    assert json.loads(refused.value.body)["message"] == (
        'namespaces "default" is forbidden: this namespace may not be deleted'
    )


async def test_namespace_delete_honours_preconditions(core: client.CoreV1Api) -> None:
    # What the control plane relies on to delete a namespace only at the version it
    # judged to be its own: a stale resourceVersion or a foreign uid is a 409.
    created = await core.create_namespace({"metadata": {"name": "guarded"}})
    seen = created.metadata.resource_version
    await core.patch_namespace("guarded", {"metadata": {"annotations": {"changed": "yes"}}})
    for preconditions in ({"resourceVersion": seen}, {"uid": "someone-else"}):
        with pytest.raises(ApiException) as refused:
            await core.delete_namespace("guarded", body={"preconditions": preconditions})
        status = json.loads(refused.value.body)
        assert (refused.value.status, status["reason"]) == (409, "Conflict")
        assert "Precondition failed" in status["message"]
    assert (await core.read_namespace("guarded")).status.phase == "Active"
    current = await core.read_namespace("guarded")
    body = {
        "preconditions": {
            "uid": current.metadata.uid,
            "resourceVersion": current.metadata.resource_version,
        }
    }
    await core.delete_namespace("guarded", body=body)
    assert (await core.read_namespace("guarded")).status.phase == "Terminating"
