"""The simulated StatefulSet controller and kubelet, observed through the API."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from kubernetes_asyncio import client

from kube_sandbox import SandboxCluster
from tests.sandbox.support import READY_SECONDS, statefulset_manifest, wait_for


async def pods_of(core: client.CoreV1Api, namespace: str) -> list[Any]:
    return (await core.list_namespaced_pod(namespace, label_selector="app=es")).items


def fully_ready(apps: client.AppsV1Api, namespace: str, replicas: int, name: str = "es") -> Any:
    async def probe() -> Any:
        sts = await apps.read_namespaced_stateful_set_status(name, namespace)
        status = sts.status
        done = (
            status.ready_replicas == replicas
            and status.replicas == replicas
            and status.updated_replicas == replicas
            and status.observed_generation == sts.metadata.generation
            and status.current_revision == status.update_revision
        )
        return sts if done else None

    return wait_for(probe, what=f"{replicas} ready replicas")


async def test_pods_and_claims_are_created_and_become_ready(
    core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str
) -> None:
    created = await apps.create_namespaced_stateful_set(namespace, statefulset_manifest(replicas=3))
    first = await wait_for(lambda: core.list_namespaced_pod(namespace), what="a pod")
    [pod] = first.items  # OrderedReady: one pod at a time
    assert pod.metadata.name == "es-0" and pod.status.phase == "Pending"
    ready_condition = next(c for c in pod.status.conditions if c.type == "Ready")
    assert ready_condition.status == "False"
    assert not pod.status.container_statuses[0].ready

    sts = await fully_ready(apps, namespace, 3)
    pods = await pods_of(core, namespace)
    assert [p.metadata.name for p in pods] == ["es-0", "es-1", "es-2"]
    es1 = pods[1]
    assert es1.status.phase == "Running"
    assert all(c.status == "True" for c in es1.status.conditions)
    assert es1.status.container_statuses[0].ready and es1.status.pod_ip
    assert es1.metadata.labels["statefulset.kubernetes.io/pod-name"] == "es-1"
    assert es1.metadata.labels["tenant-org-id"] == "org-001"
    assert es1.metadata.labels["controller-revision-hash"] == sts.status.update_revision
    assert es1.metadata.annotations == {"example.com/note": "x"}
    [owner] = es1.metadata.owner_references
    assert (owner.kind, owner.name, owner.uid, owner.controller) == (
        "StatefulSet",
        "es",
        created.metadata.uid,
        True,
    )
    assert es1.spec.hostname == "es-1" and es1.spec.subdomain == "es"
    assert es1.spec.containers[0].image == "elasticsearch:9.1.5"
    [volume] = es1.spec.volumes
    assert volume.persistent_volume_claim.claim_name == "data-es-1"

    claims = (await core.list_namespaced_persistent_volume_claim(namespace)).items
    assert [c.metadata.name for c in claims] == ["data-es-0", "data-es-1", "data-es-2"]
    assert claims[0].metadata.labels == {"volume": "data", "app": "es"}
    assert claims[0].status.phase == "Bound"
    assert claims[0].spec.resources.requests == {"storage": "10Gi"}
    assert sts.status.available_replicas == 3 and sts.status.current_replicas == 3


async def test_ready_replicas_is_absent_until_pods_are_ready(
    sandbox: SandboxCluster, core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str
) -> None:
    sandbox.hold_readiness(namespace)
    await apps.create_namespaced_stateful_set(
        namespace, statefulset_manifest(replicas=2, policy="Parallel")
    )
    pods = await wait_for(lambda: _count(pods_of(core, namespace), 2), what="two pods (Parallel)")
    assert {p.status.phase for p in pods} == {"Pending"}
    await asyncio.sleep(READY_SECONDS * 2)
    raw = await apps.read_namespaced_stateful_set_status("es", namespace, _preload_content=False)
    status = (await raw.json())["status"]
    assert status["replicas"] == 2 and "readyReplicas" not in status
    assert status["observedGeneration"] == 1
    sandbox.hold_readiness(namespace, hold=False)
    await fully_ready(apps, namespace, 2)


async def _count(listing: Any, wanted: int) -> list[Any] | None:
    items = await listing
    return items if len(items) == wanted else None


async def test_ordered_ready_waits_for_each_pod(
    sandbox: SandboxCluster, core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str
) -> None:
    sandbox.hold_readiness(namespace)
    await apps.create_namespaced_stateful_set(namespace, statefulset_manifest(replicas=3))
    await wait_for(lambda: _count(pods_of(core, namespace), 1), what="es-0")
    await asyncio.sleep(READY_SECONDS * 2)
    assert [p.metadata.name for p in await pods_of(core, namespace)] == ["es-0"]
    sandbox.hold_readiness(namespace, hold=False)
    await fully_ready(apps, namespace, 3)


async def test_scale_subresource_scales_up_and_down_keeping_claims(
    sandbox: SandboxCluster, core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str
) -> None:
    await apps.create_namespaced_stateful_set(namespace, statefulset_manifest(replicas=1))
    await fully_ready(apps, namespace, 1)
    scale = await apps.read_namespaced_stateful_set_scale("es", namespace)
    assert (scale.kind, scale.api_version) == ("Scale", "autoscaling/v1")
    assert scale.spec.replicas == 1 and scale.status.replicas == 1
    assert scale.status.selector == "app=es"

    scale.spec.replicas = 3
    scaled = await apps.replace_namespaced_stateful_set_scale("es", namespace, scale)
    assert scaled.spec.replicas == 3
    await fully_ready(apps, namespace, 3)

    await apps.patch_namespaced_stateful_set_scale("es", namespace, {"spec": {"replicas": 1}})
    await fully_ready(apps, namespace, 1)
    assert [p.metadata.name for p in await pods_of(core, namespace)] == ["es-0"]
    claims = (await core.list_namespaced_persistent_volume_claim(namespace)).items
    assert len(claims) == 3  # claims outlive scale-down, as in Kubernetes
    sts = await apps.read_namespaced_stateful_set("es", namespace)
    assert sts.spec.replicas == 1 and sts.metadata.generation == 3
    assert sandbox.stats()["requests"]["PATCH statefulsets/scale"] == 1


async def test_scale_rejects_bad_replicas_and_stale_versions(
    apps: client.AppsV1Api, namespace: str
) -> None:
    await apps.create_namespaced_stateful_set(namespace, statefulset_manifest(claims=False))
    scale = await apps.read_namespaced_stateful_set_scale("es", namespace)
    await apps.patch_namespaced_stateful_set("es", namespace, {"metadata": {"labels": {"a": "b"}}})
    scale.spec.replicas = 2
    with pytest.raises(client.ApiException) as stale:
        await apps.replace_namespaced_stateful_set_scale("es", namespace, scale)
    assert stale.value.status == 409
    with pytest.raises(client.ApiException) as negative:
        await apps.patch_namespaced_stateful_set_scale("es", namespace, {"spec": {"replicas": -1}})
    assert negative.value.status == 422
    assert json.loads(negative.value.body)["message"].startswith(
        'Scale.autoscaling "es" is invalid'
    )


async def test_template_change_rolls_the_pods(
    core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str
) -> None:
    await apps.create_namespaced_stateful_set(namespace, statefulset_manifest(replicas=2))
    before = await fully_ready(apps, namespace, 2)
    old_uids = {p.metadata.uid for p in await pods_of(core, namespace)}
    patched = await apps.patch_namespaced_stateful_set(
        "es",
        namespace,
        {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": "elasticsearch",
                                "resources": {"requests": {"cpu": "2", "memory": "4Gi"}},
                            }
                        ]
                    }
                }
            }
        },
    )
    assert patched.metadata.generation == 2

    # The update proceeds one pod at a time, so at some point one is not ready.
    async def degraded() -> bool:
        status = (await apps.read_namespaced_stateful_set_status("es", namespace)).status
        return (status.ready_replicas or 0) < 2

    await wait_for(degraded, what="a pod being replaced")
    after = await fully_ready(apps, namespace, 2)
    assert after.status.update_revision != before.status.update_revision
    assert after.status.observed_generation == 2
    pods = await pods_of(core, namespace)
    assert not old_uids & {p.metadata.uid for p in pods}
    assert {p.spec.containers[0].resources.requests["cpu"] for p in pods} == {"2"}
    assert {p.metadata.labels["controller-revision-hash"] for p in pods} == {
        after.status.update_revision
    }


async def test_on_delete_strategy_leaves_pods_alone(
    core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str
) -> None:
    manifest = statefulset_manifest(claims=False)
    manifest["spec"]["updateStrategy"] = {"type": "OnDelete"}
    await apps.create_namespaced_stateful_set(namespace, manifest)
    await fully_ready(apps, namespace, 1)
    [pod] = await pods_of(core, namespace)
    await apps.patch_namespaced_stateful_set(
        "es",
        namespace,
        [{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "es:10"}],
    )
    await asyncio.sleep(READY_SECONDS * 2)
    [same] = await pods_of(core, namespace)
    assert same.metadata.uid == pod.metadata.uid
    status = (await apps.read_namespaced_stateful_set_status("es", namespace)).status
    assert status.updated_replicas is None and status.current_replicas == 1


async def test_a_deleted_pod_is_recreated(
    core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str
) -> None:
    await apps.create_namespaced_stateful_set(namespace, statefulset_manifest(replicas=2))
    await fully_ready(apps, namespace, 2)
    [_, old] = await pods_of(core, namespace)
    await core.delete_namespaced_pod("es-1", namespace)

    async def replaced() -> Any:
        pods = await pods_of(core, namespace)
        fresh = [
            p for p in pods if p.metadata.name == "es-1" and p.metadata.uid != old.metadata.uid
        ]
        return fresh[0] if fresh else None

    new = await wait_for(replaced, what="es-1 to come back")
    assert new.spec.volumes[0].persistent_volume_claim.claim_name == "data-es-1"
    await fully_ready(apps, namespace, 2)


async def test_deleting_a_statefulset_deletes_its_pods_not_its_claims(
    core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str
) -> None:
    await apps.create_namespaced_stateful_set(namespace, statefulset_manifest(replicas=2))
    await apps.create_namespaced_stateful_set(
        namespace,
        statefulset_manifest("tmp", retention={"whenDeleted": "Delete", "whenScaled": "Retain"}),
    )
    await fully_ready(apps, namespace, 2)
    await fully_ready(apps, namespace, 1, name="tmp")
    await apps.delete_namespaced_stateful_set("es", namespace)
    await apps.delete_namespaced_stateful_set("tmp", namespace)

    async def no_pods() -> bool:
        return not (await core.list_namespaced_pod(namespace)).items

    await wait_for(no_pods, what="pods to be garbage-collected")
    claims = (await core.list_namespaced_persistent_volume_claim(namespace)).items
    assert [c.metadata.name for c in claims] == ["data-es-0", "data-es-1"]


async def test_orphan_propagation_keeps_the_pods(
    core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str
) -> None:
    await apps.create_namespaced_stateful_set(namespace, statefulset_manifest(claims=False))
    await fully_ready(apps, namespace, 1)
    await apps.delete_namespaced_stateful_set("es", namespace, propagation_policy="Orphan")
    await asyncio.sleep(0.1)
    [pod] = await pods_of(core, namespace)
    assert not pod.metadata.owner_references


async def test_status_subresource_writes_only_status(
    apps: client.AppsV1Api, namespace: str
) -> None:
    await apps.create_namespaced_stateful_set(namespace, statefulset_manifest(claims=False))
    sts = await fully_ready(apps, namespace, 1)
    sts.spec.replicas = 5
    sts.status.collision_count = 7
    written = await apps.replace_namespaced_stateful_set_status("es", namespace, sts)
    assert written.spec.replicas == 1 and written.status.collision_count == 7
    # The main resource ignores status; spec changes go through it.
    current = await apps.read_namespaced_stateful_set("es", namespace)
    current.status.collision_count = 0
    current.spec.replicas = 1
    written = await apps.replace_namespaced_stateful_set("es", namespace, current)
    assert written.status.collision_count == 7


async def test_readiness_override_per_namespace(
    sandbox: SandboxCluster, core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str
) -> None:
    sandbox.hold_readiness(namespace, hold=False, ready_seconds=1.0)
    assert sandbox.readiness(namespace) == {
        "namespace": namespace,
        "hold": False,
        "ready_seconds": 1.0,
    }
    await apps.create_namespaced_stateful_set(namespace, statefulset_manifest(claims=False))
    await wait_for(lambda: _count(pods_of(core, namespace), 1), what="es-0")
    await asyncio.sleep(READY_SECONDS * 2)  # the cluster default would be ready by now
    [pod] = await pods_of(core, namespace)
    assert pod.status.phase == "Pending"
    await wait_for(lambda: _running(core, namespace), timeout=3, what="es-0 running")


async def _running(core: client.CoreV1Api, namespace: str) -> bool:
    return all(p.status.phase == "Running" for p in await pods_of(core, namespace))


async def test_recreated_statefulset_adopts_orphaned_pods(
    core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str
) -> None:
    """The volume-growing dance: resize the claims, orphan-delete the set, re-create it
    with a larger claim template; the new set adopts the running pods."""
    await apps.create_namespaced_stateful_set(namespace, statefulset_manifest(replicas=2))
    await fully_ready(apps, namespace, 2)
    before = {p.metadata.name: p.metadata.uid for p in await pods_of(core, namespace)}
    for claim in ("data-es-0", "data-es-1"):
        await core.patch_namespaced_persistent_volume_claim(
            claim, namespace, {"spec": {"resources": {"requests": {"storage": "20Gi"}}}}
        )
    await apps.delete_namespaced_stateful_set("es", namespace, propagation_policy="Orphan")
    bigger = statefulset_manifest(replicas=2)
    bigger["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] = "20Gi"
    created = await apps.create_namespaced_stateful_set(namespace, bigger)
    await fully_ready(apps, namespace, 2)
    pods = await pods_of(core, namespace)
    assert {p.metadata.name: p.metadata.uid for p in pods} == before  # adopted, not re-created
    assert {p.metadata.owner_references[0].uid for p in pods} == {created.metadata.uid}
    claims = (await core.list_namespaced_persistent_volume_claim(namespace)).items
    assert {c.status.capacity["storage"] for c in claims} == {"20Gi"}
