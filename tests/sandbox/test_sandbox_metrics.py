"""The resource metrics API (metrics.k8s.io/v1beta1 PodMetrics) as metrics-server serves
it: read-only, one entry per running pod, usage per container; `kubectl top` reads it."""

from __future__ import annotations

import pytest
from kubernetes_asyncio import client
from kubernetes_asyncio.client.rest import ApiException

from tests.sandbox.support import Kubectl, statefulset_manifest, wait_for


async def test_running_pods_have_metrics(
    api: client.ApiClient, apps: client.AppsV1Api, kubectl: Kubectl, namespace: str
) -> None:
    custom = client.CustomObjectsApi(api)
    await apps.create_namespaced_stateful_set(
        namespace, statefulset_manifest(replicas=2, policy="Parallel", claims=False)
    )

    async def both_measured() -> bool:
        listed = await custom.list_namespaced_custom_object(
            "metrics.k8s.io", "v1beta1", namespace, "pods"
        )
        return len(listed["items"]) == 2

    await wait_for(both_measured, what="metrics of both pods")
    one = await custom.get_namespaced_custom_object(
        "metrics.k8s.io", "v1beta1", namespace, "pods", "es-0"
    )
    assert (one["kind"], one["apiVersion"]) == ("PodMetrics", "metrics.k8s.io/v1beta1")
    assert one["metadata"]["labels"]["app"] == "es"
    # A quarter of the 1 cpu request; the container states no memory limit but 2Gi requested.
    assert one["containers"] == [
        {"name": "elasticsearch", "usage": {"cpu": "250000000n", "memory": "1258291Ki"}}
    ]
    selected = await custom.list_namespaced_custom_object(
        "metrics.k8s.io", "v1beta1", namespace, "pods", label_selector="app=other"
    )
    assert selected["items"] == []

    table = (await kubectl("-n", namespace, "top", "pod")).stdout
    assert table.split()[:3] == ["NAME", "CPU(cores)", "MEMORY(bytes)"]
    assert "es-0" in table and "250m" in table

    with pytest.raises(ApiException) as caught:
        await custom.create_namespaced_custom_object(
            "metrics.k8s.io", "v1beta1", namespace, "pods", {"metadata": {"name": "x"}}
        )
    assert caught.value.status == 405
