"""Removing a tenant cluster: deleting its namespace removes everything in it."""

from __future__ import annotations

import asyncio
import time

from app.kube.client import KubeClient
from app.kube.errors import KubeError


class NotGoneInTime(KubeError):
    pass


async def delete_namespace(kube: KubeClient, *, name: str, timeout: float) -> None:
    """Delete the namespace and wait until Kubernetes has finished removing it. A
    namespace that is already gone is success: deleting is idempotent."""
    try:
        await kube.call(kube.core.delete_namespace, name=name)
    except KubeError as exc:
        if exc.status != 404:
            raise
    deadline = time.monotonic() + timeout
    delay = 0.1
    while True:
        try:
            await kube.call(kube.core.read_namespace, name=name)
        except KubeError as exc:
            if exc.status == 404:
                return
            raise
        if time.monotonic() > deadline:
            raise NotGoneInTime(f"namespace {name} was still terminating after {timeout:g}s")
        await asyncio.sleep(delay)
        delay = min(delay * 2, 2.0)
