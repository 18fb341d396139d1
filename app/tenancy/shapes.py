"""Views of a TenantContainer record as the shapes other parts work with, taken from
the model family by field name (so no field list is written here). Snapshots, not
the rows: they outlive the session the row was read in."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

from app.models.cluster import DETAIL_FIELDS, ClusterShape, ClusterSpec

M = TypeVar("M", bound=BaseModel)


def project(model: type[M], source: object) -> M:
    """``model`` built from ``source``'s attributes of the same names, unchecked: the
    values were checked when they were recorded."""
    return model.model_construct(**{name: getattr(source, name) for name in model.model_fields})


def kube_shape(container: ClusterShape) -> ClusterShape:
    """What Kubernetes is to make of the cluster."""
    return project(ClusterShape, container)


def spec_of(container: ClusterSpec) -> ClusterSpec:
    """The cluster's sizing, as an update starts from."""
    return project(ClusterSpec, container)


def deployment_details(spec: ClusterSpec) -> dict[str, Any]:
    """The spec's DeploymentStatus.details, in its order."""
    return {name: getattr(spec, name) for name in DETAIL_FIELDS}
