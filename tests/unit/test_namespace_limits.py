"""The namespace's ResourceQuota and LimitRange builders, the rollout's wider quota,
their drift, and canonical quantity text. Pure: no server."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.kube.drift import namespace_limits_drift
from app.kube.manifests import ClusterShape, statefulset_manifest
from app.kube.namespace_limits import (
    LiveCluster,
    limit_range_manifest,
    pod_share,
    quota_hard,
    resource_quota_manifest,
    rollout_hard,
)
from app.kube.quantity import parse_quantity
from app.models.quantity import format_quantity
from tests.support.factories import SPEC_EXAMPLE

SHAPE = SPEC_EXAMPLE


@pytest.mark.parametrize(
    ("text", "binary", "canonical"),
    [("5", False, "5"), ("1.5", False, "1500m"), ("2000", False, "2k"), ("10Gi", True, "10Gi"),
     ("1024Gi", True, "1Ti"), ("1.5Gi", True, "1536Mi"), ("512", True, "512"),
     ("0.5", True, "500m"), ("0", True, "0"), ("3e3", False, "3k"), ("1025", True, "1025")],
)  # fmt: skip
def test_format_quantity_is_canonical_and_round_trips(
    text: str, binary: bool, canonical: str
) -> None:
    value = parse_quantity(text)
    assert format_quantity(value, binary=binary) == canonical
    assert parse_quantity(canonical) == value


def test_the_quota_is_the_granted_cluster_written_exactly() -> None:
    manifest = resource_quota_manifest(SHAPE)
    assert (manifest["apiVersion"], manifest["kind"]) == ("v1", "ResourceQuota")
    assert manifest["metadata"]["name"] == "tenant-quota"
    assert manifest["metadata"]["namespace"] == SHAPE.namespace
    assert manifest["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "es-serverless"
    assert manifest["spec"]["hard"] == {
        "requests.cpu": "2",
        "limits.cpu": "8",
        "requests.memory": "4Gi",
        "limits.memory": "16Gi",
        "requests.nvidia.com/gpu": "2",
        "pods": "2",
        "requests.storage": "100Gi",
        "persistentvolumeclaims": "2",
    }


def test_mixed_units_and_no_gpus() -> None:
    shape = SHAPE.model_copy(
        update={"replicas": 3, "cpu_request": "500m", "cpu_limit": "1.5", "mem_request": "512Mi",
                "mem_limit": "1G", "disk_size": "1Ti", "gpu_count": 0}
    )  # fmt: skip
    assert quota_hard(shape) == {
        "requests.cpu": "1500m",
        "limits.cpu": "4500m",
        "requests.memory": "1536Mi",
        "limits.memory": "3G",  # decimal in, decimal out
        "requests.nvidia.com/gpu": "0",  # none granted: no GPU pods in the namespace
        "pods": "3",
        "requests.storage": "3Ti",
        "persistentvolumeclaims": "3",
    }


def test_the_limit_range_defaults_containers_to_the_per_node_shape() -> None:
    manifest = limit_range_manifest(SHAPE)
    assert (manifest["kind"], manifest["metadata"]["name"]) == ("LimitRange", "tenant-limits")
    assert manifest["metadata"]["labels"]["tenant-org-id"] == "org-001"
    assert manifest["spec"]["limits"] == [
        {
            "type": "Container",
            "default": {"cpu": "4", "memory": "8Gi"},
            "defaultRequest": {"cpu": "1", "memory": "2Gi"},
        }
    ]


def _pod_usage(shape: ClusterShape) -> dict[str, Decimal]:
    """What Kubernetes counts for one pod: max(sum of containers, largest init one)."""
    spec = statefulset_manifest(shape, image="es")["spec"]["template"]["spec"]
    [main] = spec["containers"]
    ours = pod_share(main["resources"])
    for init in spec["initContainers"]:
        theirs = pod_share(init["resources"])
        ours = {k: max(ours[k], theirs[k]) for k in ours}
    return ours


@pytest.mark.parametrize(
    "update",
    [{}, {"cpu_request": "1m", "cpu_limit": "5m", "mem_request": "1Mi", "mem_limit": "8Mi"}],
)
def test_the_init_containers_never_inflate_the_pod(update: dict[str, str]) -> None:
    shape = SHAPE.model_copy(update=update)
    es = statefulset_manifest(shape, image="es")["spec"]["template"]["spec"]["containers"][0]
    assert _pod_usage(shape) == pod_share(es["resources"])


def test_the_rollout_quota_admits_every_mix_of_old_and_new_pods() -> None:
    old = SHAPE
    new = SHAPE.model_copy(update={"replicas": 3, "cpu_limit": "2", "mem_limit": "16Gi"})
    old_share = pod_share(statefulset_manifest(old, image="es")["spec"]["template"]["spec"]
                          ["containers"][0]["resources"])  # fmt: skip
    live = LiveCluster(
        replicas=2,
        template_share=old_share,
        pod_shares=(old_share, old_share),
        claim_sizes=(parse_quantity("50Gi"),) * 2,
    )
    wide = rollout_hard(new, live=live)
    # 3 pods may exist, each at most cpu 4 (old) and memory 16Gi (new).
    assert wide["limits.cpu"] == "12" and wide["limits.memory"] == "48Gi"
    assert wide["pods"] == "3" and wide["persistentvolumeclaims"] == "3"
    assert wide["requests.storage"] == "150Gi"
    # Nothing of another shape: exactly the granted quota (a create).
    assert rollout_hard(new, live=LiveCluster()) == quota_hard(new)
    # A scale-down leaves claims behind; growing their disk must still be admitted.
    down = SHAPE.model_copy(update={"replicas": 1, "disk_size": "80Gi"})
    left = LiveCluster(replicas=1, template_share=old_share, pod_shares=(old_share,),
                       claim_sizes=(parse_quantity("50Gi"),) * 3)  # fmt: skip
    assert rollout_hard(down, live=left)["requests.storage"] == "240Gi"


def test_quota_and_limit_range_drift() -> None:
    quota = resource_quota_manifest(SHAPE)
    limits = limit_range_manifest(SHAPE)
    assert namespace_limits_drift(quota=quota, limit_range=limits, wanted=SHAPE) == []
    # Equal by value is no drift (a server may write 8000m for 8).
    quota["spec"]["hard"]["limits.cpu"] = "8000m"
    assert namespace_limits_drift(quota=quota, limit_range=limits, wanted=SHAPE) == []
    quota["spec"]["hard"]["limits.cpu"] = "64"
    del quota["spec"]["hard"]["pods"]
    limits["spec"]["limits"][0]["default"]["memory"] = "1Gi"
    assert namespace_limits_drift(quota=quota, limit_range=limits, wanted=SHAPE) == [
        "ResourceQuota tenant-quota: hard limits.cpu is 64, the record wants 8",
        "ResourceQuota tenant-quota: hard pods is none, the record wants 2",
        "LimitRange tenant-limits: Container default is cpu=4, memory=1Gi, the record "
        "wants cpu=4, memory=8Gi",
    ]
    assert namespace_limits_drift(quota=None, limit_range=None, wanted=SHAPE) == [
        "ResourceQuota tenant-quota no longer exists",
        "LimitRange tenant-limits no longer exists",
    ]
