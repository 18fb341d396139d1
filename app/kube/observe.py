"""What a running tenant cluster looks like in Kubernetes right now, for the
reconciler: None when it is what its record wants and ready, else the problem in
words (namespace or StatefulSet gone, spec drift, replicas not ready)."""

from __future__ import annotations

from app.kube.client import KubeClient
from app.kube.drift import spec_drift
from app.kube.errors import KubeError
from app.kube.manifests import ClusterShape
from app.kube.readiness import readiness_of


async def cluster_problem(
    kube: KubeClient, *, namespace: str, statefulset: str, wanted: ClusterShape
) -> str | None:
    try:
        ns = await kube.call(kube.core.read_namespace, name=namespace)
    except KubeError as exc:
        if exc.status == 404:
            return f"namespace {namespace} no longer exists in Kubernetes"
        raise
    if ns.status is not None and ns.status.phase == "Terminating":
        return f"namespace {namespace} is being deleted outside the control plane"
    try:
        sts = await kube.call(
            kube.apps.read_namespaced_stateful_set, name=statefulset, namespace=namespace
        )
    except KubeError as exc:
        if exc.status == 404:
            return f"StatefulSet {statefulset} in namespace {namespace} no longer exists"
        raise
    claims = await kube.call(kube.core.list_namespaced_persistent_volume_claim, namespace=namespace)
    drift = spec_drift(
        statefulset=kube.api.sanitize_for_serialization(sts),
        claims=[kube.api.sanitize_for_serialization(claim) for claim in claims.items],
        wanted=wanted,
    )
    if drift:
        return "; ".join(drift)
    readiness = readiness_of(sts)
    if readiness.ready < readiness.wanted:
        return f"only {readiness.ready}/{readiness.wanted} replicas of {statefulset} are ready"
    return None
