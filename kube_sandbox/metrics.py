"""The resource metrics API (``metrics.k8s.io/v1beta1`` PodMetrics), as metrics-server
serves it: what each running container of a pod uses now. Nothing really runs in the
sandbox, so the numbers are made up, plausibly and steadily: a container uses a
quarter of its cpu request and three fifths of its memory limit (an Elasticsearch
node's heap is half of it, and the rest fills with page cache), or small constants
when it states none. Read-only; never stored.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .pods import is_running_and_ready
from .quantity import format_quantity, parse_quantity
from .resources import PODS
from .store import ObjectStore

Obj = dict[str, Any]

_CPU_SHARE = Decimal("0.25")
_MEMORY_SHARE = Decimal("0.6")
_IDLE_CPU = Decimal("0.001")  # 1m
_IDLE_MEMORY = Decimal(16 * 2**20)  # 16Mi
_WINDOW = "30s"  # metrics-server's default resolution


def _amount(resources: Obj, kind: str, name: str) -> Decimal | None:
    text = (resources.get(kind) or {}).get(name)
    return parse_quantity(str(text)) if text is not None else None


def _usage(container: Obj) -> Obj:
    resources = container.get("resources") or {}
    cpu = _amount(resources, "requests", "cpu") or _amount(resources, "limits", "cpu")
    memory = _amount(resources, "limits", "memory") or _amount(resources, "requests", "memory")
    used_cpu = cpu * _CPU_SHARE if cpu is not None else _IDLE_CPU
    used_memory = memory * _MEMORY_SHARE if memory is not None else _IDLE_MEMORY
    # metrics-server writes cpu in nanocores and memory in Ki.
    nanocores = (used_cpu * 10**9).to_integral_value()
    kibibytes = (used_memory / 1024).to_integral_value()
    return {
        "cpu": f"{nanocores}n",
        "memory": format_quantity(kibibytes * 1024, binary=True),
    }


def pod_metrics(store: ObjectStore, namespace: str | None) -> list[Obj]:
    """The PodMetrics of every running pod (of one namespace, or all), in list order."""
    found = []
    for pod in store.scan(PODS, namespace):
        if not is_running_and_ready(pod):
            continue
        meta = pod["metadata"]
        found.append(
            {
                "metadata": {
                    "name": meta["name"],
                    "namespace": meta.get("namespace", ""),
                    "labels": dict(meta.get("labels") or {}),
                    "creationTimestamp": meta.get("creationTimestamp"),
                },
                "timestamp": (pod.get("status") or {}).get("startTime")
                or meta.get("creationTimestamp"),
                "window": _WINDOW,
                "containers": [
                    {"name": container["name"], "usage": _usage(container)}
                    for container in (pod.get("spec") or {}).get("containers") or []
                ],
            }
        )
    return found
