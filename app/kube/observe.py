"""What a running tenant cluster looks like in Kubernetes right now, for the
reconciler: None when it is what its record wants and ready, else the problem in
words (namespace or StatefulSet gone, spec drift, the namespace's ResourceQuota or
LimitRange gone or edited, replicas not ready)."""

from __future__ import annotations

from typing import Any

from app.kube.client import KubeClient
from app.kube.drift import namespace_limits_drift, spec_drift
from app.kube.errors import KubeError
from app.kube.manifests import ClusterShape
from app.kube.names import LIMIT_RANGE_NAME, QUOTA_NAME
from app.kube.readiness import readiness_of
from app.kube.verbs import verbs


async def cluster_problem(
    kube: KubeClient, *, namespace: str, statefulset: str, wanted: ClusterShape
) -> str | None:
    try:
        ns = await kube.call_json(kube.core.read_namespace, name=namespace) or {}
    except KubeError as exc:
        if exc.status == 404:
            return f"namespace {namespace} no longer exists in Kubernetes"
        raise
    if (ns.get("status") or {}).get("phase") == "Terminating":
        return f"namespace {namespace} is being deleted outside the control plane"
    try:
        sts = (
            await kube.call_json(
                kube.apps.read_namespaced_stateful_set, name=statefulset, namespace=namespace
            )
            or {}
        )
    except KubeError as exc:
        if exc.status == 404:
            return f"StatefulSet {statefulset} in namespace {namespace} no longer exists"
        raise
    claims = (
        await kube.call_json(kube.core.list_namespaced_persistent_volume_claim, namespace=namespace)
        or {}
    )
    drift = spec_drift(
        statefulset=sts,
        claims=claims.get("items") or [],
        wanted=wanted,
    )
    drift += namespace_limits_drift(
        quota=await _read_or_none(kube, "ResourceQuota", QUOTA_NAME, namespace),
        limit_range=await _read_or_none(kube, "LimitRange", LIMIT_RANGE_NAME, namespace),
        wanted=wanted,
    )
    if drift:
        return "; ".join(drift)
    readiness = readiness_of(sts)
    if readiness.ready < readiness.wanted:
        return f"only {readiness.ready}/{readiness.wanted} replicas of {statefulset} are ready"
    return None


async def _read_or_none(kube: KubeClient, kind: str, name: str, namespace: str) -> Any:
    """The object as JSON, or None when it does not exist."""
    try:
        return await kube.call_json(verbs(kube, kind).read, name=name, namespace=namespace)
    except KubeError as exc:
        if exc.status == 404:
            return None
        raise
