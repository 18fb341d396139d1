"""Applying a tenant namespace's ResourceQuota and LimitRange around a rollout (see
``app.kube.namespace_limits`` for what they hold and why a rollout needs a wider quota
until it is ready)."""

from __future__ import annotations

from app.kube.apply import apply_manifest
from app.kube.client import KubeClient
from app.kube.errors import KubeError
from app.kube.manifests import DATA_VOLUME, ELASTICSEARCH_CONTAINER, ClusterShape
from app.kube.names import STATEFULSET_NAME
from app.kube.namespace_limits import (
    LiveCluster,
    limit_range_manifest,
    resource_quota_manifest,
    rollout_hard,
    shares_of,
)
from app.kube.quantity import InvalidQuantity, parse_quantity

__all__ = ["apply_exact_quota", "apply_rollout_limits"]


async def apply_rollout_limits(kube: KubeClient, *, shape: ClusterShape, empty: bool) -> bool:
    """The LimitRange, and the quota wide enough for every step of the rollout to come
    (the exact one when nothing of another shape runs, as on a create). ``empty``: the
    namespace was just created, so nothing runs in it (and nothing is read). True when
    the quota applied is already the exact one (``apply_exact_quota`` would not change
    it)."""
    live = LiveCluster() if empty else await _live_cluster(kube, namespace=shape.namespace)
    await apply_manifest(kube, limit_range_manifest(shape))
    quota = resource_quota_manifest(shape, hard=rollout_hard(shape, live=live))
    await apply_manifest(kube, quota)
    return quota == resource_quota_manifest(shape)


async def apply_exact_quota(kube: KubeClient, *, shape: ClusterShape) -> None:
    """The quota of exactly what was granted, once the rollout is ready. A quota below
    what is in use (claims a scale-down left) is allowed: it only refuses growth."""
    await apply_manifest(kube, resource_quota_manifest(shape))


async def _live_cluster(kube: KubeClient, *, namespace: str) -> LiveCluster:
    try:
        sts = await kube.call_json(
            kube.apps.read_namespaced_stateful_set, name=STATEFULSET_NAME, namespace=namespace
        )
    except KubeError as exc:
        if exc.status != 404:
            raise
        sts = None
    replicas, template_share, selector = 0, None, None
    if sts is not None:
        spec = sts.get("spec") or {}
        replicas = int(spec.get("replicas") or 0)
        pod_spec = (spec.get("template") or {}).get("spec") or {}
        template_share = shares_of(pod_spec.get("containers") or [], ELASTICSEARCH_CONTAINER)
        labels = (spec.get("selector") or {}).get("matchLabels") or {}
        selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or None
    pod_shares = []
    if selector is not None:
        pods = await kube.call_json(
            kube.core.list_namespaced_pod, namespace=namespace, label_selector=selector
        )
        for pod in (pods or {}).get("items") or []:
            containers = (pod.get("spec") or {}).get("containers")
            share = shares_of(containers or [], ELASTICSEARCH_CONTAINER)
            if share is not None:
                pod_shares.append(share)
    claims = await kube.call_json(
        kube.core.list_namespaced_persistent_volume_claim, namespace=namespace
    )
    prefix = f"{DATA_VOLUME}-{STATEFULSET_NAME}-"
    sizes = []
    for claim in (claims or {}).get("items") or []:
        if str((claim.get("metadata") or {}).get("name", "")).startswith(prefix):
            resources = (claim.get("spec") or {}).get("resources") or {}
            requests = resources.get("requests") or {}
            try:
                sizes.append(parse_quantity(str(requests.get("storage", "0"))))
            except InvalidQuantity:
                continue
    return LiveCluster(
        replicas=replicas,
        template_share=template_share,
        pod_shares=tuple(pod_shares),
        claim_sizes=tuple(sizes),
    )
