"""What a running tenant cluster looks like in Kubernetes right now, for the
reconciler: None when healthy, else the problem in words."""

from __future__ import annotations

from app.kube.client import KubeClient
from app.kube.errors import KubeError
from app.kube.readiness import statefulset_readiness


async def cluster_problem(kube: KubeClient, *, namespace: str, statefulset: str) -> str | None:
    try:
        ns = await kube.call(kube.core.read_namespace, name=namespace)
    except KubeError as exc:
        if exc.status == 404:
            return f"namespace {namespace} no longer exists in Kubernetes"
        raise
    if ns.status is not None and ns.status.phase == "Terminating":
        return f"namespace {namespace} is being deleted outside the control plane"
    try:
        readiness = await statefulset_readiness(kube, namespace=namespace, name=statefulset)
    except KubeError as exc:
        if exc.status == 404:
            return f"StatefulSet {statefulset} in namespace {namespace} no longer exists"
        raise
    if readiness.ready < readiness.wanted:
        return f"only {readiness.ready}/{readiness.wanted} replicas of {statefulset} are ready"
    return None
