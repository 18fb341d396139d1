"""ResourceQuota and LimitRange: served, validated, enforced at admission, with the
quota's status kept current, as a kube-apiserver with its quota controller does."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes_asyncio import client
from kubernetes_asyncio.client.rest import ApiException

from kube_sandbox import SandboxCluster
from tests.sandbox.support import Kubectl, statefulset_manifest, wait_for


def pod(name: str, **resources: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "app", "image": "busybox", "resources": resources}]},
    }


def quota(name: str = "q", **hard: str) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {"hard": hard}}


FULL = {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "2Gi"}}


async def refused(call: Any) -> dict[str, Any]:
    with pytest.raises(ApiException) as caught:
        await call
    body: dict[str, Any] = json.loads(caught.value.body)
    assert caught.value.status == body["code"]
    return body


async def test_quota_refuses_a_pod_over_hard_with_the_apiservers_status(
    core: client.CoreV1Api, namespace: str
) -> None:
    await core.create_namespaced_resource_quota(
        namespace, quota(**{"limits.cpu": "4", "limits.memory": "8Gi", "pods": "10"})
    )
    await core.create_namespaced_pod(namespace, pod("a", **FULL))
    await core.create_namespaced_pod(namespace, pod("b", **FULL))
    body = await refused(core.create_namespaced_pod(namespace, pod("x", **FULL)))
    assert body["code"] == 403 and body["reason"] == "Forbidden"
    assert body["message"] == (
        'pods "x" is forbidden: exceeded quota: q, requested: limits.cpu=2, '
        "used: limits.cpu=4, limited: limits.cpu=4"
    )
    assert body["details"] == {"name": "x", "kind": "pods"}
    status = (await core.read_namespaced_resource_quota("q", namespace)).status
    assert status.hard == {"limits.cpu": "4", "limits.memory": "8Gi", "pods": "10"}
    assert status.used == {"limits.cpu": "4", "limits.memory": "4Gi", "pods": "2"}
    assert [p.metadata.name for p in (await core.list_namespaced_pod(namespace)).items] == [
        "a",
        "b",
    ]


async def test_pod_usage_is_the_larger_of_the_containers_and_the_init_containers(
    core: client.CoreV1Api, namespace: str
) -> None:
    await core.create_namespaced_resource_quota(
        namespace,
        quota(**{"requests.cpu": "10", "limits.cpu": "10", "requests.nvidia.com/gpu": "2"}),
    )
    body = pod("mixed")
    spec = body["spec"]
    spec["containers"] = [
        {"name": "a", "image": "x", "resources": {"limits": {"cpu": "1", "nvidia.com/gpu": "1"}}},
        {"name": "b", "image": "x", "resources": {"limits": {"cpu": "500m"}}},
    ]
    spec["initContainers"] = [
        {"name": "init", "image": "x", "resources": {"limits": {"cpu": "3"}}},
        {"name": "small", "image": "x", "resources": {"limits": {"cpu": "100m"}}},
    ]
    await core.create_namespaced_pod(namespace, body)
    used = (await core.read_namespaced_resource_quota("q", namespace)).status.used
    # init 3 > 1 + 0.5; requests default to limits (extended resources too)
    assert used == {"requests.cpu": "3", "limits.cpu": "3", "requests.nvidia.com/gpu": "1"}
    gpus = pod("gpus", limits={"cpu": "1", "nvidia.com/gpu": "2"})
    message = (await refused(core.create_namespaced_pod(namespace, gpus)))["message"]
    assert message == (
        'pods "gpus" is forbidden: exceeded quota: q, requested: requests.nvidia.com/gpu=2, '
        "used: requests.nvidia.com/gpu=1, limited: requests.nvidia.com/gpu=2"
    )


async def test_a_quota_on_limits_needs_every_container_to_state_them(
    core: client.CoreV1Api, namespace: str
) -> None:
    await core.create_namespaced_resource_quota(
        namespace, quota(**{"limits.cpu": "4", "limits.memory": "4Gi"})
    )
    message = (await refused(core.create_namespaced_pod(namespace, pod("bare"))))["message"]
    assert message == (
        'pods "bare" is forbidden: failed quota: q: must specify limits.cpu for: app; '
        "limits.memory for: app"
    )


async def test_terminated_and_deleted_pods_stop_counting_and_lowering_hard_is_allowed(
    core: client.CoreV1Api, namespace: str
) -> None:
    await core.create_namespaced_resource_quota(namespace, quota(pods="2"))
    await core.create_namespaced_pod(namespace, pod("a"))
    await core.create_namespaced_pod(namespace, pod("b"))
    await refused(core.create_namespaced_pod(namespace, pod("c")))
    done = await core.read_namespaced_pod_status("a", namespace)
    done.status.phase = "Succeeded"
    await core.replace_namespaced_pod_status("a", namespace, done)
    await core.create_namespaced_pod(namespace, pod("c"))
    await core.delete_namespaced_pod("b", namespace)
    assert (await core.read_namespaced_resource_quota("q", namespace)).status.used == {"pods": "1"}

    # Lowering hard below what is used is allowed: nothing goes, only growth is refused.
    await core.patch_namespaced_resource_quota("q", namespace, {"spec": {"hard": {"pods": "0"}}})
    status = (await core.read_namespaced_resource_quota("q", namespace)).status
    assert (status.hard, status.used) == ({"pods": "0"}, {"pods": "1"})
    message = (await refused(core.create_namespaced_pod(namespace, pod("d"))))["message"]
    assert "requested: pods=1, used: pods=1, limited: pods=0" in message
    assert [p.metadata.name for p in (await core.list_namespaced_pod(namespace)).items] == [
        "a",
        "c",
    ]


async def test_claims_count_on_create_and_on_resize(core: client.CoreV1Api, namespace: str) -> None:
    await core.create_namespaced_resource_quota(
        namespace, quota(**{"requests.storage": "30Gi", "persistentvolumeclaims": "2"})
    )

    def claim(name: str, size: str) -> dict[str, Any]:
        return {
            "metadata": {"name": name},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": size}},
            },
        }

    await core.create_namespaced_persistent_volume_claim(namespace, claim("a", "10Gi"))
    await core.create_namespaced_persistent_volume_claim(namespace, claim("b", "10Gi"))
    message = (
        await refused(core.create_namespaced_persistent_volume_claim(namespace, claim("c", "1Gi")))
    )["message"]
    assert message == (
        'persistentvolumeclaims "c" is forbidden: exceeded quota: q, requested: '
        "persistentvolumeclaims=1, used: persistentvolumeclaims=2, limited: "
        "persistentvolumeclaims=2"
    )
    grow = {"spec": {"resources": {"requests": {"storage": "25Gi"}}}}
    message = (await refused(core.patch_namespaced_persistent_volume_claim("a", namespace, grow)))[
        "message"
    ]
    assert message == (
        'persistentvolumeclaims "a" is forbidden: exceeded quota: q, requested: '
        "requests.storage=15Gi, used: requests.storage=20Gi, limited: requests.storage=30Gi"
    )
    grow["spec"]["resources"]["requests"]["storage"] = "20Gi"
    await core.patch_namespaced_persistent_volume_claim("a", namespace, grow)
    used = (await core.read_namespaced_resource_quota("q", namespace)).status.used
    assert used == {"requests.storage": "30Gi", "persistentvolumeclaims": "2"}


async def test_quota_and_limit_range_validation(core: client.CoreV1Api, namespace: str) -> None:
    body = await refused(
        core.create_namespaced_resource_quota(namespace, quota(pods="1500m", cpu="lots"))
    )
    assert body["code"] == 422
    assert body["message"] == (
        'ResourceQuota "q" is invalid: [spec.hard[cpu]: Invalid value: "lots": must be a '
        'valid quantity, spec.hard[pods]: Invalid value: "1500m": must be an integer]'
    )
    limits = {
        "metadata": {"name": "l"},
        "spec": {
            "limits": [{"type": "Container", "default": {"cpu": "1"}, "max": {"cpu": "500m"}}]
        },
    }
    body = await refused(core.create_namespaced_limit_range(namespace, limits))
    # The default request is defaulted from the default limit, so both are too large.
    assert body["message"] == (
        'LimitRange "l" is invalid: [spec.limits[0].defaultRequest[cpu]: Invalid value: "1": '
        "default request value 1 is greater than max value 500m, "
        'spec.limits[0].default[cpu]: Invalid value: "1": default value 1 is greater than '
        "max value 500m]"
    )


async def test_limit_range_defaults_and_bounds_containers(
    core: client.CoreV1Api, namespace: str
) -> None:
    item = {
        "type": "Container",
        "max": {"cpu": "2", "memory": "4Gi"},
        "defaultRequest": {"cpu": "250m", "memory": "1Gi"},
    }
    await core.create_namespaced_limit_range(
        namespace, {"metadata": {"name": "l"}, "spec": {"limits": [item]}}
    )
    stored = await core.read_namespaced_limit_range("l", namespace)
    # A default limit left out is the max (SetDefaults_LimitRangeItem).
    assert stored.spec.limits[0].default == {"cpu": "2", "memory": "4Gi"}
    made = await core.create_namespaced_pod(namespace, pod("bare"))
    assert made.spec.containers[0].resources.requests == {"cpu": "250m", "memory": "1Gi"}
    assert made.spec.containers[0].resources.limits == {"cpu": "2", "memory": "4Gi"}
    assert made.metadata.annotations["kubernetes.io/limit-ranger"] == (
        "LimitRanger plugin set: cpu, memory request for container app; "
        "cpu, memory limit for container app"
    )
    body = await refused(core.create_namespaced_pod(namespace, pod("big", limits={"cpu": "3"})))
    assert body["message"] == (
        'pods "big" is forbidden: maximum cpu usage per Container is 2, but limit is 3'
    )


async def test_statefulset_controller_records_failed_create_and_retries(
    sandbox: SandboxCluster, core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str
) -> None:
    await core.create_namespaced_resource_quota(namespace, quota(**{"requests.cpu": "2"}))
    await apps.create_namespaced_stateful_set(
        namespace, statefulset_manifest(replicas=3, policy="Parallel")
    )

    async def failed_create() -> Any:
        events = (await core.list_namespaced_event(namespace)).items
        return [e for e in events if e.reason == "FailedCreate"] or None

    [event] = await wait_for(failed_create, what="a FailedCreate event")
    assert event.type == "Warning" and event.involved_object.kind == "StatefulSet"
    assert event.source.component == "statefulset-controller"
    assert event.message == (
        'create Pod es-2 in StatefulSet es failed error: pods "es-2" is forbidden: exceeded '
        "quota: q, requested: requests.cpu=1, used: requests.cpu=2, limited: requests.cpu=2"
    )
    pods = (await core.list_namespaced_pod(namespace)).items
    assert [p.metadata.name for p in pods] == ["es-0", "es-1"]

    async def counted_again() -> Any:
        [again] = (await failed_create()) or [None]
        return again if again is not None and again.count >= 2 else None

    await wait_for(counted_again, what="the retry's repeated event, counted on the first")
    # Raising the quota lets the next retry through: nothing had to be re-created.
    await core.patch_namespaced_resource_quota(
        "q", namespace, {"spec": {"hard": {"requests.cpu": "3"}}}
    )

    async def three() -> Any:
        sts = await apps.read_namespaced_stateful_set_status("es", namespace)
        return sts if sts.status.ready_replicas == 3 else None

    await wait_for(three, what="the third pod once the quota admits it", timeout=20)


async def test_kubectl_gets_and_describes_quota_and_limits(
    kubectl: Kubectl, core: client.CoreV1Api, namespace: str
) -> None:
    await core.create_namespaced_resource_quota(
        namespace, quota("tenant", **{"requests.cpu": "4", "limits.cpu": "8", "pods": "3"})
    )
    await core.create_namespaced_limit_range(
        namespace,
        {"metadata": {"name": "tenant"},
         "spec": {"limits": [{"type": "Container", "default": {"cpu": "2"}}]}},
    )  # fmt: skip
    await core.create_namespaced_pod(namespace, pod("a"))
    table = (await kubectl("-n", namespace, "get", "quota")).stdout
    header, row = table.strip().splitlines()
    assert header.split() == ["NAME", "AGE", "REQUEST", "LIMIT"]
    assert row.split(None, 2)[0] == "tenant"
    assert "pods: 1/3, requests.cpu: 2/4" in row and row.endswith("limits.cpu: 2/8")
    described = (await kubectl("-n", namespace, "describe", "quota", "tenant")).stdout
    lines = [line.split() for line in described.splitlines()]
    assert ["limits.cpu", "2", "8"] in lines and ["pods", "1", "3"] in lines
    limits = (await kubectl("-n", namespace, "get", "limits")).stdout
    assert limits.splitlines()[0].split() == ["NAME", "CREATED", "AT"]
    assert limits.splitlines()[1].startswith("tenant ")
    described = (await kubectl("-n", namespace, "describe", "limitrange", "tenant")).stdout
    assert ["Container", "cpu", "-", "-", "2", "2", "-"] in [
        line.split() for line in described.splitlines()
    ]
