"""Helpers shared by the sandbox tests (fixtures live in conftest.py); the waiting and
kubectl helpers every test uses come from ``tests/support``."""

from __future__ import annotations

from typing import Any

from tests.support.kubectl import Kubectl, KubectlResult
from tests.support.waiting import wait_for

__all__ = ["READY_SECONDS", "Kubectl", "KubectlResult", "statefulset_manifest", "wait_for"]

# Short enough to keep the suite fast, long enough to observe the not-ready phase.
READY_SECONDS = 0.2


def statefulset_manifest(
    name: str = "es",
    *,
    replicas: int = 1,
    image: str = "elasticsearch:9.1.5",
    policy: str = "OrderedReady",
    claims: bool = True,
    retention: dict[str, str] | None = None,
) -> dict[str, Any]:
    labels = {"app": name, "tenant-org-id": "org-001"}
    spec: dict[str, Any] = {
        "replicas": replicas,
        "serviceName": name,
        "podManagementPolicy": policy,
        "selector": {"matchLabels": {"app": name}},
        "template": {
            "metadata": {"labels": labels, "annotations": {"example.com/note": "x"}},
            "spec": {
                "containers": [
                    {
                        "name": "elasticsearch",
                        "image": image,
                        "ports": [{"containerPort": 9200, "name": "http"}],
                        "resources": {"requests": {"cpu": "1", "memory": "2Gi"}},
                    }
                ]
            },
        },
    }
    if claims:
        spec["volumeClaimTemplates"] = [
            {
                "metadata": {"name": "data", "labels": {"volume": "data"}},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "10Gi"}},
                },
            }
        ]
    if retention:
        spec["persistentVolumeClaimRetentionPolicy"] = retention
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name},
        "spec": spec,
    }
