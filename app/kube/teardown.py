"""Removing a tenant cluster: deleting its namespace removes everything in it."""

from __future__ import annotations

from app.kube.client import KubeClient
from app.kube.errors import KubeError
from app.kube.waiting import wait_gone


async def delete_namespace(kube: KubeClient, *, name: str, timeout: float) -> None:
    """Delete the namespace and wait until Kubernetes has finished removing it. A
    namespace that is already gone, or already being removed, is success: deleting is
    idempotent (a delete resumed after a restart, or carried out by two server
    processes at once, finds it Terminating)."""
    try:
        await kube.call(kube.core.delete_namespace, name=name)
    except KubeError as exc:
        # 409: Kubernetes refuses to delete a Terminating namespace a second time.
        if exc.status not in (404, 409):
            raise
    await wait_gone(
        kube, kube.core.read_namespace, what=f"namespace {name}", timeout=timeout, name=name
    )
