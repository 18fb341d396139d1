"""Rolling out one tenant cluster: the order in which its objects are applied, then
the wait until it is ready.

1. The Namespace, taken only when it is new or already the cluster's (otherwise
   ``NamespaceUnavailable`` is raised): nothing in a namespace that is not the
   cluster's is ever touched, not even the volumes an update would grow.
   Then its LimitRange and a ResourceQuota wide enough for every step of the rollout
   (``app.kube.namespace_limits``), before anything grows: a bigger disk or more pods
   must be admitted.
2. On an update, a scale-down taken one node at a time (``app.kube.scaling``), then
   the volumes grown (see ``app.kube.volumes``: the StatefulSet is deleted, its pods
   orphaned, and step 4 re-creates it with the larger template).
3. The TLS Secret, created when missing and otherwise kept: its certificates are
   generated at random, so replacing it would hand running nodes a CA they do not
   trust. One kept from before HTTPS gets the HTTP certificate added
   (``app.kube.http_tls``).
4. The rest, created or replaced in the order ``cluster_manifests`` gives them: the
   StatefulSet last, as its pods cannot start without the Secrets.
5. The wait until every replica of the newest generation is ready: a changed pod
   template (an upgrade's new image) is rolled out by the StatefulSet's RollingUpdate,
   one pod at a time, highest ordinal first.
6. The ResourceQuota of exactly what was granted (unless step 1 applied exactly that,
   as on a create: nothing of another shape ran).

In a namespace step 1 created, nothing is looked up that cannot be there yet (what
runs in it, the TLS Secret): a create makes no read it knows the answer of.

``before_each_step`` is awaited before each of steps 1 to 4 and 6 (those that change
Kubernetes); the caller raises from it to stop the rollout there. The worker uses it
to check that its work is still the newest recorded for the cluster, so an overtaken
rollout never changes Kubernetes again (never re-creates what a delete removes).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from app.kube.apply import Manifest, apply_manifests, create_if_absent
from app.kube.certificates import generate_transport_tls
from app.kube.client import KubeClient
from app.kube.http_tls import add_missing_http_certificate
from app.kube.manifests import (
    DISRUPTION_BUDGET_NAME,
    STATEFULSET_NAME,
    TLS_SECRET_NAME,
    ClusterShape,
    needs_disruption_budget,
    tenant_labels,
    transport_tls_secret_manifest,
)
from app.kube.namespace_limits_apply import apply_exact_quota, apply_rollout_limits
from app.kube.namespaces import claim_namespace
from app.kube.readiness import wait_until_ready
from app.kube.scaling import step_down
from app.kube.teardown import delete_if_labelled
from app.kube.volumes import grow_volumes

__all__ = ["roll_out_cluster"]


async def roll_out_cluster(
    kube: KubeClient,
    *,
    shape: ClusterShape,
    manifests: Sequence[Manifest],
    recorded_at: datetime,
    update: bool,
    timeout: float,
    before_each_step: Callable[[], Awaitable[None]],
    on_progress: Callable[[str], Awaitable[None]] | None = None,
    on_rollout_poll: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Apply the cluster's ``manifests`` (as ``cluster_manifests`` builds them for
    ``shape``) in the order above and wait until it is ready.

    ``recorded_at`` is when the cluster was recorded (it decides whether an unmarked
    namespace is a legacy one of this cluster); ``update`` grows the volumes to the
    shape's disk size first; ``timeout`` bounds each wait (a StatefulSet deleted for a
    resize to be gone, the replicas to be ready). Raises ``KubeError`` (among them
    ``NamespaceUnavailable`` and ``NotReadyInTime``) and whatever
    ``before_each_step`` raises. ``on_progress`` hears of the steps of a scale-down;
    ``on_rollout_poll`` is awaited at every look while waiting for readiness (an
    upgrade follows its rolling restart from it).
    """
    namespace = next(m for m in manifests if m["kind"] == "Namespace")
    await before_each_step()
    fresh = await claim_namespace(kube, namespace, recorded_at=recorded_at)
    await before_each_step()
    # In a namespace created just now nothing runs yet: nothing to look at.
    exact = await apply_rollout_limits(kube, shape=shape, empty=fresh)
    if update:
        await step_down(
            kube,
            namespace=shape.namespace,
            name=STATEFULSET_NAME,
            replicas=shape.replicas,
            timeout=timeout,
            before_each_step=before_each_step,
            on_step=on_progress or _unheard,
        )
        await before_each_step()
        await grow_volumes(
            kube,
            namespace=shape.namespace,
            statefulset=STATEFULSET_NAME,
            size=shape.disk_size,
            timeout=timeout,
        )
    await before_each_step()
    created = await create_if_absent(
        kube,
        kind="Secret",
        name=TLS_SECRET_NAME,
        namespace=shape.namespace,
        build=lambda: transport_tls_secret_manifest(
            shape, tls=generate_transport_tls(namespace=shape.namespace)
        ),
        look_first=not fresh,
    )
    if not created:  # kept: it may be one made before HTTPS
        await add_missing_http_certificate(kube, namespace=shape.namespace)
    await apply_manifests(kube, [m for m in manifests if m is not namespace])
    if not fresh and not needs_disruption_budget(shape):  # scaled down to one node
        await delete_if_labelled(
            kube,
            kind="PodDisruptionBudget",
            name=DISRUPTION_BUDGET_NAME,
            namespace=shape.namespace,
            labels=tenant_labels(shape),
        )
    await wait_until_ready(
        kube,
        namespace=shape.namespace,
        name=STATEFULSET_NAME,
        timeout=timeout,
        on_poll=on_rollout_poll,
    )
    if not exact:  # else it is in force since step 1
        await before_each_step()
        await apply_exact_quota(kube, shape=shape)


async def _unheard(_: str) -> None:
    pass
