"""Which pods of a StatefulSet run its newest template: the progress of a rolling
update, as the StatefulSet controller makes it.

An upgrade changes the image in the pod template; the StatefulSet's ``RollingUpdate``
strategy (``maxUnavailable: 1``, ``partition: 0``) then replaces one pod at a time,
highest ordinal first, each only once the one before is Running and Ready again (the
real controller's order, and the sandbox's). A pod is updated when it carries the
``controller-revision-hash`` label of the set's ``status.updateRevision`` and is ready.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.kube.client import KubeClient
from app.kube.readiness import readiness_of

__all__ = ["RolloutPods", "rollout_pods"]

REVISION_LABEL = "controller-revision-hash"


@dataclass(frozen=True)
class RolloutPods:
    updated: list[str]  # ready pods of the newest template, highest ordinal first
    total: int  # the replicas wanted


async def rollout_pods(kube: KubeClient, *, namespace: str, name: str) -> RolloutPods | None:
    """The StatefulSet's updated pods; None while its controller has not yet seen its
    newest spec (its ``updateRevision`` would still name the old template)."""
    sts = await kube.call_json(
        kube.apps.read_namespaced_stateful_set, name=name, namespace=namespace
    )
    if sts is None or not readiness_of(sts).observed:
        return None
    revision = (sts.get("status") or {}).get("updateRevision")
    labels = ((sts.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    selector = ",".join(f"{key}={value}" for key, value in sorted(labels.items()))
    listed = await kube.call_json(
        kube.core.list_namespaced_pod, namespace=namespace, label_selector=selector
    )
    prefix = f"{name}-"
    updated = [
        pod["metadata"]["name"]
        for pod in (listed or {}).get("items") or []
        if _on_revision(pod, revision) and str(pod["metadata"]["name"]).startswith(prefix)
    ]
    updated.sort(key=lambda pod: int(pod.removeprefix(prefix) or 0), reverse=True)
    return RolloutPods(updated=updated, total=int((sts.get("spec") or {}).get("replicas") or 0))


def _on_revision(pod: dict[str, Any], revision: str | None) -> bool:
    meta = pod.get("metadata") or {}
    if revision is None or meta.get("deletionTimestamp"):
        return False
    if (meta.get("labels") or {}).get(REVISION_LABEL) != revision:
        return False
    status = pod.get("status") or {}
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )
    return status.get("phase") == "Running" and ready
