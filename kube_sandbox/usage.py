"""What a pod or a claim counts against a ResourceQuota, as Kubernetes' quota
evaluators compute it (pkg/quota/v1/evaluator/core).

A pod's requests (and limits) are the larger of the sum over its containers and its
largest init container, resource by resource (init containers run one at a time,
before the others); a pod that has terminated (Succeeded or Failed) counts nothing.
A claim counts one claim and its storage request.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from .quantity import is_binary, parse_quantity

Obj = dict[str, Any]
# name -> (amount, written in binary suffixes): the format sums are shown in.
Usage = dict[str, tuple[Decimal, bool]]

# The compute resources whose quota makes every container state them (a rule
# Kubernetes keeps for backward compatibility; extended resources are exempt).
CONSTRAINED = ("cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory")
_COMPUTE = ("cpu", "memory", "ephemeral-storage")
TERMINAL_PHASES = ("Succeeded", "Failed")


def _amount(value: Any) -> tuple[Decimal, bool] | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return Decimal(str(value)), False
    try:
        return parse_quantity(str(value)), is_binary(str(value))
    except ValueError:
        return None


def add(total: Usage, name: str, amount: tuple[Decimal, bool]) -> None:
    before, binary = total.get(name, (Decimal(0), False))
    total[name] = (before + amount[0], binary or amount[1])


def _section(container: Obj, section: str) -> Obj:
    resources = container.get("resources") if isinstance(container, dict) else None
    values = (resources or {}).get(section) if isinstance(resources, dict) else None
    return values if isinstance(values, dict) else {}


def _pod_totals(spec: Obj, section: str) -> Usage:
    """max(sum over containers, each init container), resource by resource."""
    total: Usage = {}
    for container in spec.get("containers") or []:
        for name, value in _section(container, section).items():
            amount = _amount(value)
            if amount is not None:
                add(total, name, amount)
    for container in spec.get("initContainers") or []:
        for name, value in _section(container, section).items():
            amount = _amount(value)
            if amount is not None and amount[0] > total.get(name, (Decimal(0), False))[0]:
                total[name] = amount
    return total


def _is_extended(name: str) -> bool:
    # Extended resources are domain-qualified (nvidia.com/gpu) outside kubernetes.io.
    return "/" in name and not name.startswith(("kubernetes.io/", "requests.", "limits."))


def pod_usage(pod: Obj) -> Usage:
    """What a pod counts: pods, cpu/memory as requests.*, limits.*, the bare names,
    and requests.<extended resource>. Nothing once it has terminated."""
    if (pod.get("status") or {}).get("phase") in TERMINAL_PHASES:
        return {}
    spec = pod.get("spec") or {}
    usage: Usage = {"pods": (Decimal(1), False), "count/pods": (Decimal(1), False)}
    for name, amount in _pod_totals(spec, "requests").items():
        if name in _COMPUTE:
            usage[f"requests.{name}"] = amount
            usage[name] = amount
        elif _is_extended(name):
            usage[f"requests.{name}"] = amount
    for name, amount in _pod_totals(spec, "limits").items():
        if name in _COMPUTE:
            usage[f"limits.{name}"] = amount
    return usage


def claim_usage(claim: Obj) -> Usage:
    usage: Usage = {
        "persistentvolumeclaims": (Decimal(1), False),
        "count/persistentvolumeclaims": (Decimal(1), False),
    }
    storage = _amount(
        (((claim.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")
    )
    if storage is not None:
        usage["requests.storage"] = storage
        class_name = (claim.get("spec") or {}).get("storageClassName")
        if class_name:
            usage[f"{class_name}.storageclass.storage.k8s.io/requests.storage"] = storage
            usage[f"{class_name}.storageclass.storage.k8s.io/persistentvolumeclaims"] = (
                Decimal(1),
                False,
            )
    return usage


def total_usage(usages: Iterable[Usage]) -> Usage:
    total: Usage = {}
    for usage in usages:
        for name, amount in usage.items():
            add(total, name, amount)
    return total


def missing_constraints(pod: Obj, hard: Iterable[str]) -> dict[str, list[str]]:
    """The constrained resources a quota holds that some container does not state:
    resource -> the containers that leave it out (the podEvaluator's Constraints)."""
    required = set(CONSTRAINED) & set(hard)
    missing: dict[str, list[str]] = {}
    spec = pod.get("spec") or {}
    for container in [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]:
        stated = set()
        for section, prefix in (("requests", "requests."), ("limits", "limits.")):
            for name in _section(container, section):
                if name in ("cpu", "memory"):
                    stated.add(prefix + name)
                    if section == "requests":
                        stated.add(name)
        for name in sorted(required - stated):
            missing.setdefault(name, []).append(str(container.get("name", "")))
    return missing
