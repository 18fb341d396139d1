"""The ``scale`` subresource: an autoscaling/v1 Scale view of a workload's replicas."""

from __future__ import annotations

from typing import Any

from .resources import ResourceType
from .selectors import label_selector_from_object

SCALE_API_VERSION = "autoscaling/v1"


def to_scale(workload: dict[str, Any]) -> dict[str, Any]:
    meta = workload.get("metadata", {})
    return {
        "kind": "Scale",
        "apiVersion": SCALE_API_VERSION,
        "metadata": {
            key: meta[key]
            for key in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            if key in meta
        },
        "spec": {"replicas": workload.get("spec", {}).get("replicas", 0)},
        "status": {
            "replicas": workload.get("status", {}).get("replicas", 0),
            "selector": str(label_selector_from_object(workload.get("spec", {}).get("selector"))),
        },
    }


def replicas_from_scale(scale: Any) -> Any:
    """spec.replicas of a Scale body (unvalidated: the caller reports bad values)."""
    if not isinstance(scale, dict):
        return None
    return (scale.get("spec") or {}).get("replicas", 0)


# Scale is served only as a subresource; this describes it for error messages.
SCALE = ResourceType("autoscaling", "v1", "Scale", "scale", namespaced=True)
