"""Views of a TenantContainer record as the shapes other parts work with: the one
place that maps record fields onto them."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from app.kube.manifests import ClusterShape
from app.store.tables import TenantContainerRow
from app.tenancy.requests import ClusterUpdate

T = TypeVar("T")

# The spec's DeploymentStatus.details, in its order.
DETAIL_FIELDS = (
    "cpu_request",
    "cpu_limit",
    "mem_request",
    "mem_limit",
    "disk_size",
    "gpu_count",
    "dimension",
    "vector_count",
    "index_limit",
)


def _project(cls: type[T], container: TenantContainerRow) -> T:
    """A dataclass built from the record's fields of the same names."""
    names = [field.name for field in dataclasses.fields(cls)]  # type: ignore[arg-type]
    return cls(**{name: getattr(container, name) for name in names})


def kube_shape(container: TenantContainerRow) -> ClusterShape:
    return _project(ClusterShape, container)


def resource_shape(container: TenantContainerRow) -> ClusterUpdate:
    return _project(ClusterUpdate, container)


def deployment_details(container: TenantContainerRow) -> dict[str, Any]:
    return {name: getattr(container, name) for name in DETAIL_FIELDS}
