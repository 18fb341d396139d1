"""The ResourceQuota and LimitRange of a tenant namespace: what the cluster was
granted, so that Kubernetes enforces it too (spec section 8). Pure builders.

The quota's ``hard`` is the granted cluster: replicas x the Elasticsearch container's
requests and limits (the sysctl init container is kept within them, so a pod counts
exactly that), ``pods`` = replicas, ``requests.storage`` = replicas x disk,
``persistentvolumeclaims`` = replicas and ``requests.nvidia.com/gpu`` = replicas x
gpu_count (``0`` when none is granted: no GPU pods in the namespace). The LimitRange
gives any other container started in the namespace the cluster's per-node requests and
limits as defaults, so nothing in it runs unbounded.

During a rollout pods of the old and of the new shape run side by side (a rolling
update deletes one pod and creates its replacement while the others still run the old
template; a scale-up creates pods of the new template next to the old ones), so the
exact quota could refuse a replacement and hang the rollout. ``rollout_hard`` is the
bound that admits every such mix: per resource, the most pods that may exist (old or
new replica count, claims already there) times the most one pod may count (old or new
shape, any live pod). The exact quota is applied once the rollout is ready.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.kube.manifests import (
    ClusterShape,
    Manifest,
    elasticsearch_resources,
    owned_metadata,
)
from app.kube.names import LIMIT_RANGE_NAME, QUOTA_NAME
from app.kube.quantity import InvalidQuantity, parse_quantity
from app.models.quantity import format_quantity

__all__ = [
    "GPU_QUOTA",
    "LiveCluster",
    "limit_range_manifest",
    "pod_share",
    "quota_hard",
    "resource_quota_manifest",
    "rollout_hard",
]

GPU_QUOTA = "requests.nvidia.com/gpu"
_POD_KEYS = ("requests.cpu", "limits.cpu", "requests.memory", "limits.memory", GPU_QUOTA)
_BINARY_KEYS = ("requests.memory", "limits.memory", "requests.storage")


def _is_binary(text: str) -> bool:
    return text.endswith("i")


def _value(text: Any) -> Decimal:
    try:
        return parse_quantity(str(text))
    except InvalidQuantity:
        return Decimal(0)  # a live object with a malformed quantity counts nothing here


def pod_share(resources: Mapping[str, Any]) -> dict[str, Decimal]:
    """What one Elasticsearch pod counts against the quota, from its container's
    ``resources`` (requests default to limits, as Kubernetes defaults them)."""
    requests = dict(resources.get("requests") or {})
    limits = dict(resources.get("limits") or {})
    share = {}
    for name in ("cpu", "memory"):
        share[f"requests.{name}"] = _value(requests.get(name, limits.get(name, "0")))
        share[f"limits.{name}"] = _value(limits.get(name, "0"))
    share[GPU_QUOTA] = _value(requests.get("nvidia.com/gpu", limits.get("nvidia.com/gpu", "0")))
    return share


def _formats(shape: ClusterShape) -> dict[str, bool]:
    return {
        "requests.memory": _is_binary(shape.mem_request),
        "limits.memory": _is_binary(shape.mem_limit),
        "requests.storage": _is_binary(shape.disk_size),
    }


def _render(amounts: Mapping[str, Decimal], shape: ClusterShape) -> dict[str, str]:
    formats = _formats(shape)
    return {
        name: format_quantity(amount, binary=formats.get(name, False))
        for name, amount in amounts.items()
    }


def _exact(shape: ClusterShape) -> dict[str, Decimal]:
    replicas = Decimal(shape.replicas)
    share = pod_share(elasticsearch_resources(shape))
    amounts = {name: replicas * share[name] for name in _POD_KEYS}
    amounts["pods"] = replicas
    amounts["requests.storage"] = replicas * parse_quantity(shape.disk_size)
    amounts["persistentvolumeclaims"] = replicas
    return amounts


def quota_hard(shape: ClusterShape) -> dict[str, str]:
    """The exact ``hard`` of the granted cluster, quantities written canonically."""
    return _render(_exact(shape), shape)


@dataclass(frozen=True, kw_only=True)
class LiveCluster:
    """What runs in the namespace before a rollout: the StatefulSet's replica count and
    per-pod share (None when there is none), each live pod's share, each claim's size."""

    replicas: int = 0
    template_share: Mapping[str, Decimal] | None = None
    pod_shares: tuple[Mapping[str, Decimal], ...] = ()
    claim_sizes: tuple[Decimal, ...] = ()


def rollout_hard(shape: ClusterShape, *, live: LiveCluster) -> dict[str, str]:
    """A ``hard`` that admits every mix of old and new pods (see the module's words);
    exactly ``quota_hard`` when nothing of another shape lives."""
    shares: list[Mapping[str, Decimal]] = [pod_share(elasticsearch_resources(shape))]
    if live.template_share is not None:
        shares.append(live.template_share)
    shares.extend(live.pod_shares)
    pods = max(shape.replicas, live.replicas, len(live.pod_shares))
    amounts = {
        name: pods * max(share.get(name, Decimal(0)) for share in shares) for name in _POD_KEYS
    }
    amounts["pods"] = Decimal(pods)
    claims = max(shape.replicas, live.replicas, len(live.claim_sizes))
    disk = max([parse_quantity(shape.disk_size), *live.claim_sizes])
    amounts["requests.storage"] = claims * disk
    amounts["persistentvolumeclaims"] = Decimal(claims)
    return _render(amounts, shape)


def resource_quota_manifest(
    shape: ClusterShape, *, hard: Mapping[str, str] | None = None
) -> Manifest:
    """The namespace's ResourceQuota: ``quota_hard`` unless another ``hard`` is given
    (``rollout_hard`` while a rollout runs)."""
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": owned_metadata(shape, QUOTA_NAME),
        "spec": {"hard": dict(hard if hard is not None else quota_hard(shape))},
    }


def limit_range_manifest(shape: ClusterShape) -> Manifest:
    """Defaults for containers that state no requests or limits: the cluster's per-node
    cpu and memory (no GPUs: a default would hand every such container one)."""
    resources = elasticsearch_resources(shape)
    return {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": owned_metadata(shape, LIMIT_RANGE_NAME),
        "spec": {
            "limits": [
                {
                    "type": "Container",
                    "default": {k: resources["limits"][k] for k in ("cpu", "memory")},
                    "defaultRequest": {k: resources["requests"][k] for k in ("cpu", "memory")},
                }
            ]
        },
    }


def shares_of(containers: Iterable[Mapping[str, Any]], name: str) -> Mapping[str, Decimal] | None:
    """The share of the container called ``name`` among a pod spec's containers."""
    for container in containers:
        if container.get("name") == name:
            return pod_share(container.get("resources") or {})
    return None
