"""Idempotent apply of manifests: create, and when the object already exists, replace
it at the resourceVersion just read (so a concurrent writer makes us re-read instead
of clobbering its change)."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from app.kube.client import KubeClient
from app.kube.errors import KubeError

Manifest = dict[str, Any]
# Replace races (409 Conflict on a stale resourceVersion) are retried this many times.
_REPLACE_ATTEMPTS = 5


@dataclass(frozen=True)
class _Verbs:
    create: Callable[..., Awaitable[Any]]
    read: Callable[..., Awaitable[Any]]
    replace: Callable[..., Awaitable[Any]]
    namespaced: bool


def _verbs(kube: KubeClient, kind: str) -> _Verbs:
    core, apps, networking = kube.core, kube.apps, kube.networking
    table = {
        "Namespace": _Verbs(
            core.create_namespace, core.read_namespace, core.replace_namespace, False
        ),
        "Service": _Verbs(
            core.create_namespaced_service,
            core.read_namespaced_service,
            core.replace_namespaced_service,
            True,
        ),
        "StatefulSet": _Verbs(
            apps.create_namespaced_stateful_set,
            apps.read_namespaced_stateful_set,
            apps.replace_namespaced_stateful_set,
            True,
        ),
        "NetworkPolicy": _Verbs(
            networking.create_namespaced_network_policy,
            networking.read_namespaced_network_policy,
            networking.replace_namespaced_network_policy,
            True,
        ),
        "Secret": _Verbs(
            core.create_namespaced_secret,
            core.read_namespaced_secret,
            core.replace_namespaced_secret,
            True,
        ),
    }
    try:
        return table[kind]
    except KeyError:
        raise ValueError(f"no apply support for kind {kind}") from None


async def apply_manifests(kube: KubeClient, manifests: list[Manifest]) -> None:
    for manifest in manifests:
        await apply_manifest(kube, manifest)


async def apply_manifest(kube: KubeClient, manifest: Manifest) -> None:
    verbs = _verbs(kube, manifest["kind"])
    name = manifest["metadata"]["name"]
    scope = {"namespace": manifest["metadata"]["namespace"]} if verbs.namespaced else {}
    try:
        await kube.call(verbs.create, body=manifest, **scope)
        return
    except KubeError as exc:
        if exc.status != 409 or exc.reason != "AlreadyExists":
            raise
    for attempt in range(_REPLACE_ATTEMPTS):
        current = await kube.call(verbs.read, name=name, **scope)
        body = _with_server_fields(manifest, current)
        try:
            await kube.call(verbs.replace, name=name, body=body, **scope)
            return
        except KubeError as exc:
            if exc.status != 409 or attempt == _REPLACE_ATTEMPTS - 1:
                raise


async def create_if_absent(
    kube: KubeClient, *, kind: str, name: str, namespace: str, build: Callable[[], Manifest]
) -> bool:
    """Create the object unless it exists; never replace it. For objects whose content
    is generated afresh each time (certificates): replacing would change them under
    running pods. ``build`` runs only when the object is missing. True when created."""
    verbs = _verbs(kube, kind)
    try:
        await kube.call(verbs.read, name=name, namespace=namespace)
        return False
    except KubeError as exc:
        if exc.status != 404:
            raise
    try:
        await kube.call(verbs.create, body=build(), namespace=namespace)
    except KubeError as exc:
        if exc.status != 409:  # created meanwhile by another worker: just as good
            raise
        return False
    return True


def _with_server_fields(manifest: Manifest, current: Any) -> Manifest:
    """The desired object plus what the server owns: the resourceVersion to replace at
    and, for Services, the allocated cluster IP (immutable once set)."""
    body = copy.deepcopy(manifest)
    body["metadata"]["resourceVersion"] = current.metadata.resource_version
    spec = getattr(current, "spec", None)
    if manifest["kind"] == "Service" and spec is not None and spec.cluster_ip:
        body["spec"]["clusterIP"] = spec.cluster_ip
    return body
