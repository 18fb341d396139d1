"""Growing a StatefulSet's volumes, the way Elasticsearch operators do it.

A StatefulSet's volumeClaimTemplates are immutable, so growing the disk means: resize
every existing PVC (the storage class must allow volume expansion), delete the
StatefulSet with ``propagationPolicy=Orphan`` so its pods keep running, and let the
next apply re-create it with the larger template; the new StatefulSet adopts the
orphaned pods."""

from __future__ import annotations

from app.kube.client import KubeClient
from app.kube.errors import KubeError
from app.kube.quantity import parse_quantity
from app.kube.waiting import wait_gone


async def grow_volumes(
    kube: KubeClient, *, namespace: str, statefulset: str, size: str, timeout: float
) -> bool:
    """Resize the claims of ``statefulset`` to ``size``; False when nothing to do."""
    try:
        sts = await kube.call(
            kube.apps.read_namespaced_stateful_set, name=statefulset, namespace=namespace
        )
    except KubeError as exc:
        if exc.status == 404:
            return False
        raise
    wanted = parse_quantity(size)
    templates = sts.spec.volume_claim_templates or []
    if all(parse_quantity(_storage(t.spec.resources.requests)) >= wanted for t in templates):
        return False
    claims = await kube.call(kube.core.list_namespaced_persistent_volume_claim, namespace=namespace)
    prefixes = tuple(f"{t.metadata.name}-{statefulset}-" for t in templates)
    for claim in claims.items:
        if claim.metadata.name.startswith(prefixes):
            await kube.call(
                kube.core.patch_namespaced_persistent_volume_claim,
                name=claim.metadata.name,
                namespace=namespace,
                body={"spec": {"resources": {"requests": {"storage": size}}}},
            )
    await kube.call(
        kube.apps.delete_namespaced_stateful_set,
        name=statefulset,
        namespace=namespace,
        propagation_policy="Orphan",
    )
    await wait_gone(
        kube,
        kube.apps.read_namespaced_stateful_set,
        what=f"StatefulSet {statefulset} in namespace {namespace}",
        timeout=timeout,
        name=statefulset,
        namespace=namespace,
    )
    return True


def _storage(requests: dict[str, str] | None) -> str:
    return (requests or {}).get("storage", "0")
