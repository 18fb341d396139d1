"""Removing a tenant cluster: its namespace, which removes everything in it, when the
namespace is the cluster's; otherwise only the objects the control plane created in
it, so nobody else's content is ever deleted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.kube.apply import Manifest
from app.kube.client import KubeClient
from app.kube.errors import KubeError
from app.kube.manifests import CLUSTER_OBJECTS
from app.kube.namespaces import Ownership, ownership, read_namespace
from app.kube.verbs import verbs
from app.kube.waiting import wait_gone

# Looks again this often when the object changed between the look and the delete.
_ATTEMPTS = 5


@dataclass(frozen=True, kw_only=True)
class Removal:
    """What removing a cluster did."""

    namespace_kept: bool  # the namespace is not the cluster's, so it stays
    already_gone: bool = False  # there was no namespace to remove
    objects: tuple[str, ...] = ()  # "Kind name" removed from a kept namespace


async def remove_cluster(
    kube: KubeClient,
    *,
    namespace: Manifest,
    recorded_at: datetime,
    claim_labels: Mapping[str, str],
    timeout: float,
) -> Removal:
    """Remove the cluster whose Namespace is ``namespace`` (the manifest: its name, mark
    and labels say what is the cluster's). A namespace already gone is success."""
    name = namespace["metadata"]["name"]
    for _ in range(_ATTEMPTS):
        current = await read_namespace(kube, name=name)
        whose = ownership(current, manifest=namespace, recorded_at=recorded_at)
        if whose is Ownership.ABSENT:
            return Removal(namespace_kept=False, already_gone=True)
        if not whose.ours:
            removed = await remove_cluster_objects(
                kube,
                namespace=name,
                labels=namespace["metadata"]["labels"],
                claim_labels=claim_labels,
            )
            return Removal(namespace_kept=True, objects=tuple(removed))
        meta = (current or {}).get("metadata") or {}
        if meta.get("deletionTimestamp") is None:
            try:
                # At the version judged ours: a mark changed since makes this a 409.
                body = _preconditions(uid=meta.get("uid"), version=meta.get("resourceVersion"))
                await kube.call(kube.core.delete_namespace, name=name, body=body)
            except KubeError as exc:
                if exc.status in (404, 409):
                    continue  # gone or changed meanwhile: look again
                raise
        await wait_gone(
            kube, kube.core.read_namespace, what=f"namespace {name}", timeout=timeout, name=name
        )
        return Removal(namespace_kept=False)
    raise KubeError(f"namespace {name} kept changing while it was being removed; try again")


async def remove_cluster_objects(
    kube: KubeClient,
    *,
    namespace: str,
    labels: Mapping[str, str],
    claim_labels: Mapping[str, str],
) -> list[str]:
    """Delete the objects the control plane creates in a namespace (``CLUSTER_OBJECTS``,
    each only when it carries ``labels``) and the StatefulSet's claims (selected by
    ``claim_labels``); says which it deleted. An object of the same name without the
    labels is someone else's and stays."""
    removed = []
    for kind, name in CLUSTER_OBJECTS:
        deleted = await delete_if_labelled(
            kube, kind=kind, name=name, namespace=namespace, labels=labels
        )
        if deleted:
            removed.append(f"{kind} {name}")
    claims = await kube.call(
        kube.core.list_namespaced_persistent_volume_claim,
        namespace=namespace,
        label_selector=",".join(f"{key}={value}" for key, value in sorted(claim_labels.items())),
    )
    for claim in claims.items:
        kind, name = "PersistentVolumeClaim", claim.metadata.name
        if await delete_if_labelled(
            kube, kind=kind, name=name, namespace=namespace, labels=claim_labels
        ):
            removed.append(f"{kind} {name}")
    return removed


async def delete_if_labelled(
    kube: KubeClient, *, kind: str, name: str, namespace: str, labels: Mapping[str, str]
) -> bool:
    """Delete the object if it carries ``labels``, at the version seen carrying them."""
    kind_verbs = verbs(kube, kind)
    for _ in range(_ATTEMPTS):
        try:
            current = await kube.call(kind_verbs.read, name=name, namespace=namespace)
        except KubeError as exc:
            if exc.status == 404:
                return False
            raise
        if not labels.items() <= (current.metadata.labels or {}).items():
            return False
        # Background: the StatefulSet's pods go with it (the default for apps/v1 too).
        meta = current.metadata
        preconditions = _preconditions(uid=meta.uid, version=meta.resource_version)
        body = {**preconditions, "propagationPolicy": "Background"}
        try:
            await kube.call(kind_verbs.delete, name=name, namespace=namespace, body=body)
            return True
        except KubeError as exc:
            if exc.status == 404:
                return False
            if exc.status != 409:
                raise
    raise KubeError(f"{kind} {name} in namespace {namespace} kept changing while being removed")


def _preconditions(*, uid: str | None, version: str | None) -> dict[str, Any]:
    return {"preconditions": {"uid": uid, "resourceVersion": version}}
