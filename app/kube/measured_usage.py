"""What a tenant cluster uses now, measured by Kubernetes: cpu and memory from the
resource metrics API (``metrics.k8s.io/v1beta1`` PodMetrics, as metrics-server serves
it), summed over the cluster's pods; disk as its volume claims' capacity. A cluster
without the metrics API (404: no metrics-server) is measured on disk only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.kube.client import KubeClient
from app.kube.errors import KubeError
from app.kube.quantity import parse_quantity


@dataclass(frozen=True)
class MeasuredUsage:
    cpu_usage: float | None  # cores; None: the metrics API is not there
    memory_usage: float | None  # bytes
    disk_usage: float  # bytes

    def as_report(self) -> dict[str, float]:
        """The fields measured, as a usage report has them."""
        values = {
            "cpu_usage": self.cpu_usage,
            "memory_usage": self.memory_usage,
            "disk_usage": self.disk_usage,
        }
        return {field: value for field, value in values.items() if value is not None}


def _selector(labels: Mapping[str, str]) -> str:
    return ",".join(f"{key}={value}" for key, value in sorted(labels.items()))


async def measure_usage(
    kube: KubeClient,
    *,
    namespace: str,
    pod_labels: Mapping[str, str],
    claim_labels: Mapping[str, str],
) -> MeasuredUsage:
    try:
        metrics = await kube.call(
            kube.custom.list_namespaced_custom_object,
            group="metrics.k8s.io",
            version="v1beta1",
            namespace=namespace,
            plural="pods",
            label_selector=_selector(pod_labels),
        )
    except KubeError as exc:
        if exc.status != 404:
            raise
        cpu = memory = None
    else:
        cpu, memory = (float(total) for total in _summed(metrics.get("items") or []))
    claims = await kube.call(
        kube.core.list_namespaced_persistent_volume_claim,
        namespace=namespace,
        label_selector=_selector(claim_labels),
    )
    disk = sum((_capacity(claim) for claim in claims.items), Decimal(0))
    return MeasuredUsage(cpu_usage=cpu, memory_usage=memory, disk_usage=float(disk))


def _summed(pods: list[Any]) -> tuple[Decimal, Decimal]:
    """Cores and bytes used by every container of ``pods`` (PodMetrics)."""
    cpu = memory = Decimal(0)
    for pod in pods:
        for container in pod.get("containers") or []:
            usage = container.get("usage") or {}
            cpu += parse_quantity(str(usage.get("cpu", "0")))
            memory += parse_quantity(str(usage.get("memory", "0")))
    return cpu, memory


def _capacity(claim: Any) -> Decimal:
    capacity = (claim.status.capacity if claim.status else None) or {}
    return parse_quantity(str(capacity.get("storage", "0")))
