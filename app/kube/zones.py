"""The zone each Elasticsearch node runs in, for shard allocation awareness.

Elasticsearch keeps a shard's copies in different zones when its nodes carry a zone
attribute (``node.attr.zone``) and ``cluster.routing.allocation.awareness.attributes``
names it. A pod cannot read its node's labels through the downward API (before
Kubernetes 1.33's PodTopologyLabels admission, which copies the zone onto the pod's
labels when it is bound, alpha then and beta in 1.35), so the control plane does what
ECK does: once a pod is bound it copies its node's ``topology.kubernetes.io/zone``
label onto the pod as an annotation of the same name (from the pod's own label where
that admission set one, else from the Node). The pod template exposes the annotation
as ``ZONE`` (downward API ``fieldRef``, read when the container starts), and its
``wait-for-zone`` init container holds Elasticsearch back until the annotation is
there (downward API volume, updated live), but only while elasticsearch.yml asks for
a zone: so nothing in the template depends on whether zones are known.

Zones are known when the Kubernetes nodes carry the label. Without the permission to
read nodes (403) they count as unknown and the cluster runs without awareness.
A pod on a node without a zone label, in a cluster whose other nodes have one, gets
the zone ``unknown``, so it starts rather than waiting for ever.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from app.kube.client import KubeClient
from app.kube.errors import KubeError
from app.kube.manifests import STATEFULSET_NAME, UNKNOWN_ZONE
from app.kube.manifests import ZONE_TOPOLOGY_KEY as ZONE_KEY

__all__ = ["NodeZones", "annotate_zones", "zones_known"]

log = logging.getLogger(__name__)


async def zones_known(kube: KubeClient) -> bool:
    """Whether the Kubernetes nodes carry zone labels (one is enough to ask)."""
    try:
        nodes = await kube.call_json(kube.core.list_node, label_selector=ZONE_KEY, limit=1)
    except KubeError as exc:
        if exc.status in (403, 404):
            log.info("node zones unknown (cannot list nodes: %s)", exc.message)
            return False
        raise
    return bool((nodes or {}).get("items"))


class NodeZones:
    """``zones_known``, asked at most once per ``ttl`` seconds: nodes gain or lose zone
    labels rarely, and a burst of creates should not list the nodes once each."""

    def __init__(self, *, ttl: float = 60.0) -> None:
        self._ttl = ttl
        self._known: tuple[bool, float] | None = None

    async def known(self, kube: KubeClient) -> bool:
        now = time.monotonic()
        if self._known is None or now - self._known[1] > self._ttl:
            self._known = (await zones_known(kube), now)
        return self._known[0]


async def annotate_zones(kube: KubeClient, *, namespace: str) -> list[str]:
    """Give every bound pod of the cluster without one its node's zone annotation;
    returns the pods annotated."""
    listed = await kube.call_json(kube.core.list_namespaced_pod, namespace=namespace)
    annotated: list[str] = []
    zones: dict[str, str] = {}
    for pod in (listed or {}).get("items") or []:
        meta = pod.get("metadata") or {}
        node = (pod.get("spec") or {}).get("nodeName")
        name = str(meta.get("name", ""))
        if not name.startswith(f"{STATEFULSET_NAME}-") or not node:
            continue
        if ZONE_KEY in (meta.get("annotations") or {}) or meta.get("deletionTimestamp"):
            continue
        zone = (meta.get("labels") or {}).get(ZONE_KEY) or await _zone_of(kube, node, zones)
        try:
            await kube.call_json(
                kube.core.patch_namespaced_pod,
                name=name,
                namespace=namespace,
                body={"metadata": {"annotations": {ZONE_KEY: zone}}},
            )
        except KubeError as exc:
            if exc.status != 404:  # gone meanwhile (a rolling restart took it): its
                raise  # replacement is annotated at the next look
            continue
        annotated.append(name)
    return annotated


async def _zone_of(kube: KubeClient, node: str, known: dict[str, str]) -> str:
    if node not in known:
        found: dict[str, Any] | None = await kube.call_json(kube.core.read_node, name=node)
        labels = ((found or {}).get("metadata") or {}).get("labels") or {}
        known[node] = str(labels.get(ZONE_KEY) or UNKNOWN_ZONE)
    return known[node]
