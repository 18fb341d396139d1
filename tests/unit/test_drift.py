"""Spec drift: the StatefulSet and claims the manifests describe show none; every way
of changing them behind the control plane's back is named."""

from __future__ import annotations

import copy
from typing import Any

from app.kube.drift import spec_drift
from app.kube.manifests import statefulset_manifest
from tests.unit.test_manifests import BASE, IMAGE


def _claims(size: str, count: int) -> list[dict[str, Any]]:
    return [
        {
            "metadata": {"name": f"data-elasticsearch-{n}"},
            "spec": {"resources": {"requests": {"storage": size}}},
        }
        for n in range(count)
    ]


def _live() -> dict[str, Any]:
    return statefulset_manifest(BASE, image=IMAGE)


def _container(sts: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = sts["spec"]["template"]["spec"]["containers"][0]
    return container


def test_what_the_manifests_describe_has_no_drift() -> None:
    assert spec_drift(statefulset=_live(), claims=_claims("50Gi", 2), wanted=BASE) == []


def test_quantities_compare_by_value_and_unused_claims_are_ignored() -> None:
    sts = _live()
    _container(sts)["resources"]["requests"]["cpu"] = "1000m"  # Kubernetes may write 1 so
    _container(sts)["resources"]["limits"]["memory"] = "8192Mi"
    # A scale-down leaves data-elasticsearch-2 behind, smaller: not in use, not drift.
    claims = [*_claims("51200Mi", 2), *_claims("10Gi", 3)[2:]]
    assert spec_drift(statefulset=sts, claims=claims, wanted=BASE) == []


def test_every_difference_is_named() -> None:
    sts = _live()
    sts["spec"]["replicas"] = 1
    resources = _container(sts)["resources"]
    resources["limits"]["cpu"] = "3"
    del resources["limits"]["nvidia.com/gpu"]
    resources["requests"]["ephemeral-storage"] = "1Gi"
    sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] = "40Gi"
    problems = spec_drift(statefulset=sts, claims=_claims("40Gi", 2), wanted=BASE)
    assert problems == [
        "StatefulSet elasticsearch has 1 replica(s), the record wants 2",
        "StatefulSet elasticsearch: ephemeral-storage request of container elasticsearch "
        "is 1Gi, the record wants none",
        "StatefulSet elasticsearch: cpu limit of container elasticsearch is 3, the record wants 4",
        "StatefulSet elasticsearch: nvidia.com/gpu limit of container elasticsearch "
        "is none, the record wants 1",
        "StatefulSet elasticsearch claims volumes of 40Gi, the record wants 50Gi",
        "PVC data-elasticsearch-0 has 40Gi, the record wants 50Gi",
        "PVC data-elasticsearch-1 has 40Gi, the record wants 50Gi",
    ]


def test_a_missing_container_or_claim_template_is_drift() -> None:
    sts = _live()
    bare = copy.deepcopy(sts)
    bare["spec"]["template"]["spec"]["containers"] = []
    bare["spec"]["volumeClaimTemplates"] = []
    assert spec_drift(statefulset=bare, claims=[], wanted=BASE) == [
        "StatefulSet elasticsearch has no container elasticsearch",
        "StatefulSet elasticsearch has no volume claim template data",
    ]
    no_gpu = BASE.model_copy(update={"gpu_count": 0})
    assert "nvidia.com/gpu limit of container elasticsearch is 1" in " ".join(
        spec_drift(statefulset=sts, claims=_claims("50Gi", 2), wanted=no_gpu)
    )
