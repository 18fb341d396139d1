"""The order in which a cluster's objects are applied (``roll_out_cluster``), against
the sandbox cluster over HTTP: the Namespace claimed first, volumes grown before
anything is re-applied, the TLS Secret created once and kept, and ``before_each_step``
awaited before every step that changes Kubernetes, so raising from it stops the
rollout there."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio

from app.kube.client import KubeClient, RetryPolicy
from app.kube.connection import KubeTarget, open_api_client
from app.kube.errors import KubeError
from app.kube.manifests import (
    CLUSTER_OBJECTS,
    STATEFULSET_NAME,
    TLS_SECRET_NAME,
    ClusterSecrets,
    ClusterShape,
    cluster_manifests,
)
from app.kube.names import LIMIT_RANGE_NAME, QUOTA_NAME
from app.kube.namespace_limits import resource_quota_manifest
from app.kube.namespaces import NamespaceUnavailable
from app.kube.rollout import roll_out_cluster
from app.kube.verbs import verbs
from app.settings import KubeMode
from tests.conftest import StandaloneSandbox
from tests.support.factories import SPEC_EXAMPLE

CLUSTER_ID = "tenant_alice_search_1700000000000001"
LIMITS = {("ResourceQuota", QUOTA_NAME), ("LimitRange", LIMIT_RANGE_NAME)}
SHAPE = SPEC_EXAMPLE.model_copy(
    update={
        "namespace": "org-roll-alice-search",
        "tenant_org_id": "org-roll",
        "service_name": "search",
        "cpu_request": "500m",
        "cpu_limit": "1",
        "mem_request": "1Gi",
        "mem_limit": "1Gi",
        "disk_size": "1Gi",
        "gpu_count": 0,
        "dimension": 128,
        "vector_count": 0,
        "index_limit": 1,
    }
)
TIMEOUT = 20.0


class Stop(Exception):
    """What the caller's check raises to stop the rollout."""


@pytest_asyncio.fixture
async def kube(standalone_sandbox: StandaloneSandbox) -> AsyncIterator[KubeClient]:
    api = await open_api_client(KubeTarget(KubeMode.KUBECONFIG, standalone_sandbox.kubeconfig))
    client = KubeClient(api, retry=RetryPolicy(deadline=10), max_in_flight=8)
    yield client
    await client.close()


def manifests(shape: ClusterShape) -> list[dict[str, Any]]:
    return cluster_manifests(
        shape,
        cluster_id=CLUSTER_ID,
        image="docker.elastic.co/elasticsearch/elasticsearch:8.15.0",
        secrets=ClusterSecrets(elastic_password="pw-rollout", report_token="tok-rollout"),
        report_url=f"http://control-plane/deployments/{shape.namespace}/report",
        platform_namespace="es-serverless",
        bootstrap=True,
    )


async def present(kube: KubeClient) -> set[tuple[str, str]]:
    """Which of the cluster's objects exist now (the Namespace as ("Namespace", name))."""
    found = set()
    for kind, name in [("Namespace", SHAPE.namespace), *CLUSTER_OBJECTS]:
        scope = {} if kind == "Namespace" else {"namespace": SHAPE.namespace}
        try:
            await kube.call(verbs(kube, kind).read, name=name, **scope)
        except KubeError as exc:
            if exc.status != 404:
                raise
        else:
            found.add((kind, name))
    return found


class Steps:
    """A ``before_each_step`` that notes what exists at each call and can stop at one."""

    def __init__(self, kube: KubeClient, *, stop_at: int | None = None) -> None:
        self.kube = kube
        self.stop_at = stop_at
        self.seen: list[set[tuple[str, str]]] = []

    async def __call__(self) -> None:
        self.seen.append(await present(self.kube))
        if len(self.seen) == self.stop_at:
            raise Stop


async def roll_out(
    kube: KubeClient, steps: Steps, shape: ClusterShape = SHAPE, *, update: bool = False
) -> None:
    await roll_out_cluster(
        kube,
        shape=shape,
        manifests=manifests(shape),
        recorded_at=datetime.now(UTC),
        update=update,
        timeout=TIMEOUT,
        before_each_step=steps,
    )


async def ca_of(kube: KubeClient) -> str:
    secret = await kube.call(
        kube.core.read_namespaced_secret, name=TLS_SECRET_NAME, namespace=SHAPE.namespace
    )
    return str(secret.data["ca.crt"])


async def test_a_create_claims_the_namespace_then_applies_everything_and_waits(
    kube: KubeClient,
) -> None:
    steps = Steps(kube)
    await roll_out(kube, steps)
    namespace = ("Namespace", SHAPE.namespace)
    # Before the claim nothing exists; before the quota and LimitRange, only the
    # Namespace; before the apply, those three. No step for the exact quota: in a new
    # namespace the quota of step 1 already is the exact one.
    assert steps.seen == [set(), {namespace}, {namespace, *LIMITS}]
    assert await present(kube) == {namespace, *CLUSTER_OBJECTS}
    quota = await kube.call_json(
        kube.core.read_namespaced_resource_quota, name=QUOTA_NAME, namespace=SHAPE.namespace
    )
    assert quota is not None
    assert quota["spec"]["hard"] == resource_quota_manifest(SHAPE)["spec"]["hard"]
    sts = await kube.call(
        kube.apps.read_namespaced_stateful_set_status,
        name=STATEFULSET_NAME,
        namespace=SHAPE.namespace,
    )
    assert sts.status.ready_replicas == SHAPE.replicas  # returned only once ready


async def test_an_update_grows_the_volumes_before_reapplying_and_keeps_the_certificates(
    kube: KubeClient,
) -> None:
    await roll_out(kube, Steps(kube))
    ca = await ca_of(kube)
    grown = SHAPE.model_copy(update={"disk_size": "2Gi"})
    steps = Steps(kube)
    await roll_out(kube, steps, grown, update=True)
    # No fifth step for the exact quota: only the disk grew, which the rollout's quota
    # (the larger of old and new) already states exactly.
    assert len(steps.seen) == 4
    # The fourth check comes after the resize: the StatefulSet was deleted (orphaning its
    # pods) and is re-created only by the apply that follows.
    assert ("StatefulSet", STATEFULSET_NAME) in steps.seen[2]
    assert ("StatefulSet", STATEFULSET_NAME) not in steps.seen[3]
    claims = await kube.call(
        kube.core.list_namespaced_persistent_volume_claim, namespace=SHAPE.namespace
    )
    sizes = sorted(c.spec.resources.requests["storage"] for c in claims.items)
    assert sizes == ["2Gi"] * SHAPE.replicas
    sts = await kube.call(
        kube.apps.read_namespaced_stateful_set, name=STATEFULSET_NAME, namespace=SHAPE.namespace
    )
    [template] = sts.spec.volume_claim_templates
    assert template.spec.resources.requests["storage"] == "2Gi"
    assert await ca_of(kube) == ca  # created once, never replaced


@pytest.mark.parametrize("stop_at", [1, 2, 3])
async def test_a_raising_check_stops_before_its_step(kube: KubeClient, stop_at: int) -> None:
    steps = Steps(kube, stop_at=stop_at)
    with pytest.raises(Stop):
        await roll_out(kube, steps)
    after = await present(kube)
    # Stopped before the claim: no namespace; before the quota: the namespace alone;
    # before the apply: the namespace, its quota and LimitRange.
    namespace = {("Namespace", SHAPE.namespace)}
    assert after == steps.seen[-1] == [set(), namespace, namespace | LIMITS][stop_at - 1]


async def test_an_update_stopped_before_the_resize_changes_nothing(kube: KubeClient) -> None:
    await roll_out(kube, Steps(kube))
    steps = Steps(kube, stop_at=3)
    with pytest.raises(Stop):
        await roll_out(kube, steps, SHAPE.model_copy(update={"disk_size": "2Gi"}), update=True)
    claims = await kube.call(
        kube.core.list_namespaced_persistent_volume_claim, namespace=SHAPE.namespace
    )
    assert sorted(c.spec.resources.requests["storage"] for c in claims.items) == ["1Gi"] * 2
    assert ("StatefulSet", STATEFULSET_NAME) in await present(kube)


async def test_a_namespace_that_is_not_the_clusters_is_left_untouched(kube: KubeClient) -> None:
    await kube.call(kube.core.create_namespace, body={"metadata": {"name": SHAPE.namespace}})
    steps = Steps(kube)
    with pytest.raises(NamespaceUnavailable):
        await roll_out(kube, steps, update=True)
    assert len(steps.seen) == 1  # no further step was reached
    assert await present(kube) == {("Namespace", SHAPE.namespace)}
    namespace = await kube.call(kube.core.read_namespace, name=SHAPE.namespace)
    assert not (namespace.metadata.annotations or {})  # not marked as the cluster's
