"""Whether a StatefulSet has rolled out: its newest spec observed, every replica
updated to it and ready, as the real controller reports it (the same test as
``kubectl rollout status``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from app.kube.client import KubeClient
from app.kube.errors import KubeError


@dataclass(frozen=True)
class Readiness:
    ready: int
    wanted: int
    updated: int
    observed: bool  # the controller has seen the newest generation
    revision_current: bool  # currentRevision == updateRevision

    @property
    def done(self) -> bool:
        return (
            self.observed
            and self.revision_current
            and self.ready >= self.wanted
            and self.updated >= self.wanted
        )


class NotReadyInTime(KubeError):
    pass


async def statefulset_readiness(kube: KubeClient, *, namespace: str, name: str) -> Readiness:
    sts = await kube.call_json(
        kube.apps.read_namespaced_stateful_set_status, name=name, namespace=namespace
    )
    return readiness_of(sts or {})


def readiness_of(sts: Mapping[str, Any]) -> Readiness:
    """The readiness a StatefulSet (its JSON as the API server answers) reports."""
    status = sts.get("status")
    replicas = (sts.get("spec") or {}).get("replicas")
    wanted = replicas if replicas is not None else 1
    if not status:
        return Readiness(ready=0, wanted=wanted, updated=0, observed=False, revision_current=False)
    revisions = (status.get("currentRevision"), status.get("updateRevision"))
    generation = (sts.get("metadata") or {}).get("generation") or 0
    return Readiness(
        ready=status.get("readyReplicas") or 0,
        wanted=wanted,
        updated=status.get("updatedReplicas") or 0,
        observed=(status.get("observedGeneration") or 0) >= generation,
        revision_current=None in revisions or revisions[0] == revisions[1],
    )


async def wait_until_ready(
    kube: KubeClient,
    *,
    namespace: str,
    name: str,
    timeout: float,
    first_delay: float = 0.2,
    max_delay: float = 2.0,
    on_poll: Callable[[], Awaitable[None]] | None = None,
) -> Readiness:
    """Poll with exponential backoff until the rollout is complete; ``on_poll`` is
    awaited after every look (an upgrade reports its pods' progress from it)."""
    deadline = time.monotonic() + timeout
    delay = first_delay
    while True:
        readiness = await statefulset_readiness(kube, namespace=namespace, name=name)
        if on_poll is not None:
            await on_poll()
        if readiness.done:
            return readiness
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise NotReadyInTime(
                f"StatefulSet {name} in namespace {namespace} was not ready after "
                f"{timeout:g}s: {readiness.ready}/{readiness.wanted} replicas ready"
            )
        await asyncio.sleep(min(delay, remaining))
        delay = min(delay * 2, max_delay)
