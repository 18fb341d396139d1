"""How a tenant cluster's StatefulSet and volumes differ from what its record wants:
the replica count, the Elasticsearch container's requests and limits (cpu, memory,
GPUs), the size of the volume claim template and of every claim in use; and the
namespace's ResourceQuota and LimitRange (gone, or edited by hand).

Pure: takes the objects as the API server returns them (JSON) and the wanted shape;
the wanted values come from the builders the manifests are applied with, so "what an
apply would make" and "what drift is measured against" cannot disagree. Quantities are
compared by value (``1000m`` is ``1``), as Kubernetes may normalise them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from app.kube.manifests import (
    DATA_VOLUME,
    ELASTICSEARCH_CONTAINER,
    ClusterShape,
    elasticsearch_resources,
)
from app.kube.names import LIMIT_RANGE_NAME, QUOTA_NAME
from app.kube.namespace_limits import limit_range_manifest, quota_hard
from app.kube.quantity import InvalidQuantity, parse_quantity

Manifest = Mapping[str, Any]
_SECTIONS = {"requests": "request", "limits": "limit"}


def spec_drift(
    *, statefulset: Manifest, claims: Sequence[Manifest], wanted: ClusterShape
) -> list[str]:
    """Every way the live objects differ from ``wanted``, in words; empty when none."""
    name = statefulset["metadata"]["name"]
    spec = statefulset.get("spec") or {}
    problems = []
    replicas = spec.get("replicas", 1)
    if replicas != wanted.replicas:
        problems.append(
            f"StatefulSet {name} has {replicas} replica(s), the record wants {wanted.replicas}"
        )
    problems += _resource_drift(name, spec, wanted)
    problems += _storage_drift(name, spec, claims, wanted)
    return problems


def namespace_limits_drift(
    *, quota: Manifest | None, limit_range: Manifest | None, wanted: ClusterShape
) -> list[str]:
    """How the namespace's ResourceQuota (its ``spec.hard``) and LimitRange (its
    Container defaults) differ from the granted cluster; None means the object is gone."""
    problems = []
    if quota is None:
        problems.append(f"ResourceQuota {QUOTA_NAME} no longer exists")
    else:
        have = ((quota.get("spec") or {}).get("hard")) or {}
        want = quota_hard(wanted)
        for resource in sorted(set(want) | set(have)):
            if resource not in have or not _same(str(have[resource]), want.get(resource)):
                problems.append(
                    f"ResourceQuota {QUOTA_NAME}: hard {resource} is "
                    f"{have.get(resource, 'none')}, the record wants {want.get(resource, 'none')}"
                )
    if limit_range is None:
        problems.append(f"LimitRange {LIMIT_RANGE_NAME} no longer exists")
    else:
        [want_item] = limit_range_manifest(wanted)["spec"]["limits"]
        items = (limit_range.get("spec") or {}).get("limits") or []
        have_item: Mapping[str, Any] = next((i for i in items if i.get("type") == "Container"), {})
        for section in ("default", "defaultRequest"):
            want_values, have_values = want_item[section], have_item.get(section) or {}
            if any(not _same(have_values.get(k), v) for k, v in want_values.items()):
                problems.append(
                    f"LimitRange {LIMIT_RANGE_NAME}: Container {section} is "
                    f"{_listed(have_values)}, the record wants {_listed(want_values)}"
                )
    return problems


def _listed(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(values.items())) or "none"


def _resource_drift(name: str, spec: Manifest, wanted: ClusterShape) -> list[str]:
    pod = (spec.get("template") or {}).get("spec") or {}
    containers = [
        c for c in pod.get("containers") or [] if c.get("name") == ELASTICSEARCH_CONTAINER
    ]
    if not containers:
        return [f"StatefulSet {name} has no container {ELASTICSEARCH_CONTAINER}"]
    live = containers[0].get("resources") or {}
    problems = []
    for section, singular in _SECTIONS.items():
        want = elasticsearch_resources(wanted).get(section) or {}
        have = live.get(section) or {}
        for resource in sorted(set(want) | set(have)):
            if not _same(have.get(resource), want.get(resource)):
                problems.append(
                    f"StatefulSet {name}: {resource} {singular} of container "
                    f"{ELASTICSEARCH_CONTAINER} is {have.get(resource, 'none')}, "
                    f"the record wants {want.get(resource, 'none')}"
                )
    return problems


def _storage_drift(
    name: str, spec: Manifest, claims: Sequence[Manifest], wanted: ClusterShape
) -> list[str]:
    templates = [
        t
        for t in spec.get("volumeClaimTemplates") or []
        if (t.get("metadata") or {}).get("name") == DATA_VOLUME
    ]
    if not templates:
        return [f"StatefulSet {name} has no volume claim template {DATA_VOLUME}"]
    problems = []
    size = _storage(templates[0])
    if not _same(size, wanted.disk_size):
        problems.append(
            f"StatefulSet {name} claims volumes of {size or 'no size'}, "
            f"the record wants {wanted.disk_size}"
        )
    # Only the claims of the replicas the record wants: a scale-down leaves the others
    # behind (Kubernetes keeps them), unused.
    in_use = {f"{DATA_VOLUME}-{name}-{ordinal}" for ordinal in range(wanted.replicas)}
    for claim in sorted(claims, key=lambda c: str(c["metadata"]["name"])):
        claim_name = claim["metadata"]["name"]
        size = _storage(claim)
        if claim_name in in_use and not _same(size, wanted.disk_size):
            problems.append(
                f"PVC {claim_name} has {size or 'no size'}, the record wants {wanted.disk_size}"
            )
    return problems


def _storage(claim: Manifest) -> str | None:
    requests = ((claim.get("spec") or {}).get("resources") or {}).get("requests") or {}
    storage = requests.get("storage")
    return str(storage) if storage is not None else None


def _same(have: str | None, want: str | None) -> bool:
    return _amount(have) == _amount(want)


def _amount(text: str | None) -> Decimal | str:
    if text is None:
        return Decimal(0)
    try:
        return parse_quantity(str(text))
    except InvalidQuantity:
        return str(text)  # not a quantity: equal only to the same text
