"""Idempotent apply of manifests: create, and when the object already exists, replace
it at the resourceVersion just read (so a concurrent writer makes us re-read instead
of clobbering its change). Every call here works on the API server's JSON
(``KubeClient.call_json``): the answers are checked or read for a few fields only."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from app.kube.client import KubeClient
from app.kube.errors import KubeError
from app.kube.verbs import verbs

Manifest = dict[str, Any]
# Replace races (409 Conflict on a stale resourceVersion) are retried this many times.
_REPLACE_ATTEMPTS = 5


async def apply_manifests(kube: KubeClient, manifests: list[Manifest]) -> None:
    for manifest in manifests:
        await apply_manifest(kube, manifest)


async def apply_manifest(
    kube: KubeClient, manifest: Manifest, *, may_replace: Callable[[Manifest], None] | None = None
) -> bool:
    """Create, or replace the existing object; True when it was created. ``may_replace``
    sees the existing object (its JSON) before every replace and raises to leave it
    alone; the replace happens at the resourceVersion it saw, so a change made after its
    look is caught, not clobbered."""
    kind = verbs(kube, manifest["kind"])
    name = manifest["metadata"]["name"]
    scope = {"namespace": manifest["metadata"]["namespace"]} if kind.namespaced else {}
    try:
        await kube.call_json(kind.create, body=manifest, **scope)
        return True
    except KubeError as exc:
        if exc.status != 409 or exc.reason != "AlreadyExists":
            raise
    for attempt in range(_REPLACE_ATTEMPTS):
        current = await kube.call_json(kind.read, name=name, **scope) or {}
        if may_replace is not None:
            may_replace(current)
        body = _with_server_fields(manifest, current)
        try:
            await kube.call_json(kind.replace, name=name, body=body, **scope)
            return False
        except KubeError as exc:
            if exc.status != 409 or attempt == _REPLACE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable: the last attempt returns or raises")


async def create_if_absent(
    kube: KubeClient,
    *,
    kind: str,
    name: str,
    namespace: str,
    build: Callable[[], Manifest],
    look_first: bool = True,
) -> bool:
    """Create the object unless it exists; never replace it. For objects whose content
    is generated afresh each time (certificates): replacing would change them under
    running pods. With ``look_first``, ``build`` runs only when the object is missing;
    without (the namespace was just created, so it surely is), the create is tried
    at once, a round trip fewer. True when created."""
    kind_verbs = verbs(kube, kind)
    if look_first:
        try:
            await kube.call_json(kind_verbs.read, name=name, namespace=namespace)
            return False
        except KubeError as exc:
            if exc.status != 404:
                raise
    try:
        await kube.call_json(kind_verbs.create, body=build(), namespace=namespace)
    except KubeError as exc:
        if exc.status != 409:  # created meanwhile by another worker: just as good
            raise
        return False
    return True


def _with_server_fields(manifest: Manifest, current: Manifest) -> Manifest:
    """The desired object plus what the server owns: the resourceVersion to replace at
    and, for Services, the allocated cluster IP (immutable once set)."""
    body = copy.deepcopy(manifest)
    body["metadata"]["resourceVersion"] = (current.get("metadata") or {}).get("resourceVersion")
    cluster_ip = (current.get("spec") or {}).get("clusterIP")
    if manifest["kind"] == "Service" and cluster_ip:
        body["spec"]["clusterIP"] = cluster_ip
    return body
