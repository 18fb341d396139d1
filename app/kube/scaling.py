"""A safe scale-down: Elasticsearch nodes leave one at a time.

Every node of a tenant cluster is master-eligible, and the StatefulSet runs with
``podManagementPolicy: Parallel``, so one jump of ``spec.replicas`` from 5 to 2 would
take three masters away at once: the remaining two are no majority of the last voting
configuration, and shards whose copies sat on the removed nodes are gone. So the
replicas step down one at a time (the StatefulSet removes the highest ordinal), each
step waiting until the remaining nodes are ready, which lets Elasticsearch shrink its
voting configuration and recover replicas before the next node leaves. (Moving shards
off a leaving node first, with allocation filtering, needs Elasticsearch's own API and
is not done here.)

Scaling up needs no steps: new nodes join the running cluster.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from app.kube.client import KubeClient
from app.kube.errors import KubeError
from app.kube.readiness import wait_until_ready

__all__ = ["step_down"]


async def step_down(
    kube: KubeClient,
    *,
    namespace: str,
    name: str,
    replicas: int,
    timeout: float,
    before_each_step: Callable[[], Awaitable[None]],
    on_step: Callable[[str], Awaitable[None]],
) -> None:
    """Bring StatefulSet ``name`` down to ``replicas`` one node at a time. ``on_step``
    is told each step ("replicas 5 → 4") as it is taken; ``before_each_step`` may stop
    the steps (the work was overtaken). A StatefulSet that does not exist, or has no
    more replicas than wanted, is left as it is."""
    try:
        live = await kube.call(
            kube.apps.read_namespaced_stateful_set_scale, name=name, namespace=namespace
        )
    except KubeError as exc:
        if exc.status == 404:
            return
        raise
    current = live.spec.replicas or 0
    while current > replicas:
        await before_each_step()
        await kube.call(
            kube.apps.patch_namespaced_stateful_set_scale,
            name=name,
            namespace=namespace,
            body={"spec": {"replicas": current - 1}},
        )
        await on_step(f"replicas {current} → {current - 1}")
        current -= 1
        await wait_until_ready(kube, namespace=namespace, name=name, timeout=timeout)
