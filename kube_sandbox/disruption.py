"""The disruption controller's part of PodDisruptionBudgets: each budget's status
(the pods it covers, how many are healthy, how many may be disrupted now), kept
current after every write of a pod or a budget, as kube-controller-manager does.

Nothing in the sandbox evicts pods, so the budgets are only reported, as on a real
cluster where nothing drains a node.
"""

from __future__ import annotations

import math
from typing import Any

from .pods import is_running_and_ready
from .resources import DISRUPTION_BUDGETS, PODS
from .selectors import label_selector_from_object
from .store import ObjectStore

Obj = dict[str, Any]


def _count(value: Any, expected: int, *, round_up: bool) -> int:
    """An int-or-percent of ``expected`` pods (percentages round as the controller's)."""
    if isinstance(value, str) and value.endswith("%"):
        share = int(value[:-1]) * expected / 100
        return math.ceil(share) if round_up else math.floor(share)
    return int(value)


def budget_status(budget: Obj, pods: list[Obj]) -> Obj:
    spec = budget.get("spec") or {}
    selector = label_selector_from_object(spec.get("selector"))
    covered = [pod for pod in pods if selector.matches(pod["metadata"].get("labels"))]
    expected = len(covered)
    healthy = sum(1 for pod in covered if is_running_and_ready(pod))
    if spec.get("maxUnavailable") is not None:
        desired = max(0, expected - _count(spec["maxUnavailable"], expected, round_up=True))
    else:
        desired = _count(spec.get("minAvailable", 1), expected, round_up=True)
    return {
        "observedGeneration": budget["metadata"].get("generation", 1),
        "disruptionsAllowed": max(0, healthy - desired),
        "currentHealthy": healthy,
        "desiredHealthy": desired,
        "expectedPods": expected,
    }


def refresh_status(store: ObjectStore, namespace: str) -> None:
    """Write every budget's status of the namespace where it changed."""
    budgets = store.list(DISRUPTION_BUDGETS, namespace)
    if not budgets:
        return
    pods = [
        pod for pod in store.scan(PODS, namespace) if not pod["metadata"].get("deletionTimestamp")
    ]
    for budget in budgets:
        status = {**(budget.get("status") or {}), **budget_status(budget, pods)}
        if budget.get("status") != status:
            budget["status"] = status
            store.put(DISRUPTION_BUDGETS, budget)
