"""Waiting for a StatefulSet to be ready, as the real controller reports it."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from kubernetes_asyncio.client import ApiClient, AppsV1Api

from app.kube.apply import call_api
from app.kube.errors import KubeError


@dataclass(frozen=True)
class Readiness:
    ready: int
    wanted: int
    observed: bool  # the controller has seen the newest spec

    @property
    def done(self) -> bool:
        return self.observed and self.ready >= self.wanted


class NotReadyInTime(KubeError):
    pass


async def statefulset_readiness(api: ApiClient, *, namespace: str, name: str) -> Readiness:
    sts = await call_api(
        api, AppsV1Api(api).read_namespaced_stateful_set_status, name=name, namespace=namespace
    )
    status = sts.status
    generation = sts.metadata.generation or 0
    observed = status is not None and (status.observed_generation or 0) >= generation
    return Readiness(
        ready=(status.ready_replicas or 0) if status else 0,
        wanted=sts.spec.replicas if sts.spec.replicas is not None else 1,
        observed=observed,
    )


async def wait_until_ready(
    api: ApiClient,
    *,
    namespace: str,
    name: str,
    timeout: float,
    first_delay: float = 0.2,
    max_delay: float = 2.0,
) -> Readiness:
    """Poll with exponential backoff until ``readyReplicas`` reaches ``spec.replicas``."""
    deadline = time.monotonic() + timeout
    delay = first_delay
    while True:
        readiness = await statefulset_readiness(api, namespace=namespace, name=name)
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
