"""ResourceQuota: the admission plugin and the quota controller's status.

Admission (pods and claims on create, a claim's storage growing on update): the new
usage, masked to what the object adds, must stay within ``status.hard`` of every quota
of the namespace; otherwise 403 with the apiserver's words (``exceeded quota: q,
requested: limits.cpu=2, used: limits.cpu=4, limited: limits.cpu=4``). A quota on
cpu or memory also makes every container state it (``failed quota: q: must specify
limits.cpu for: app``).

Status: ``status.hard`` mirrors ``spec.hard`` and ``status.used`` sums what the
namespace's live pods and claims count, rewritten on every change of them (the quota
controller of a real cluster does this moments later; here it is at once). Lowering
``spec.hard`` below the usage is allowed: nothing is evicted, only growth is refused.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from . import errors
from .quantity import format_quantity, parse_quantity
from .resources import PODS, PVCS, RESOURCE_QUOTAS, ResourceType
from .store import ObjectStore
from .usage import Usage, claim_usage, missing_constraints, pod_usage, total_usage

Obj = dict[str, Any]
QUOTA_INPUTS = (PODS, PVCS, RESOURCE_QUOTAS)


def _usage_of(resource: ResourceType, obj: Obj) -> Usage:
    return pod_usage(obj) if resource == PODS else claim_usage(obj)


def _hard(quota: Obj) -> dict[str, Decimal]:
    hard = (quota.get("status") or {}).get("hard") or (quota.get("spec") or {}).get("hard") or {}
    parsed = {}
    for name, value in hard.items():
        try:
            parsed[name] = parse_quantity(str(value))
        except ValueError:
            continue
    return parsed


def _pretty(values: dict[str, tuple[Decimal, bool]]) -> str:
    return ",".join(
        f"{name}={format_quantity(amount, binary=binary)}"
        for name, (amount, binary) in sorted(values.items())
    )


def _text(amount: tuple[Decimal, bool] | None) -> str:
    return "0" if amount is None else format_quantity(amount[0], binary=amount[1])


def namespace_usage(store: ObjectStore, namespace: str) -> Usage:
    return total_usage(
        [pod_usage(p) for p in store.list(PODS, namespace)]
        + [claim_usage(c) for c in store.list(PVCS, namespace)]
    )


def admit(resource: ResourceType, obj: Obj, old: Obj | None, store: ObjectStore) -> None:
    """Refuse ``obj`` (created, or updated from ``old``) if it takes a quota over."""
    if resource not in (PODS, PVCS) or (resource == PODS and old is not None):
        return
    namespace = obj["metadata"].get("namespace", "")
    quotas = store.list(RESOURCE_QUOTAS, namespace)
    if not quotas:
        return
    name = str(obj["metadata"].get("name", ""))
    delta = _usage_of(resource, obj)
    if old is not None:
        before = _usage_of(resource, old)
        delta = {
            key: (max(amount - before.get(key, (Decimal(0), False))[0], Decimal(0)), binary)
            for key, (amount, binary) in delta.items()
        }
    delta = {key: value for key, value in delta.items() if value[0] != 0}
    if not delta:
        return
    used = namespace_usage(store, namespace)
    for quota in quotas:
        quota_name = quota["metadata"]["name"]
        hard = _hard(quota)
        if resource == PODS:
            missing = missing_constraints(obj, hard)
            if missing:
                listed = "; ".join(
                    f"{key} for: {','.join(sorted(names))}"
                    for key, names in sorted(missing.items())
                )
                raise errors.forbidden(
                    resource, name, f"failed quota: {quota_name}: must specify {listed}"
                )
        requested = {key: value for key, value in delta.items() if key in hard}
        exceeded = sorted(
            key
            for key, (amount, _) in requested.items()
            if used.get(key, (Decimal(0), False))[0] + amount > hard[key]
        )
        if exceeded:
            hard_text = (quota.get("status") or {}).get("hard") or quota["spec"]["hard"]
            limited = {k: (hard[k], str(hard_text[k]).endswith("i")) for k in exceeded}
            raise errors.forbidden(
                resource,
                name,
                f"exceeded quota: {quota_name}, "
                f"requested: {_pretty({k: requested[k] for k in exceeded})}, "
                f"used: {_pretty({k: used.get(k, (Decimal(0), False)) for k in exceeded})}, "
                f"limited: {_pretty(limited)}",
            )


def refresh_status(store: ObjectStore, namespace: str) -> None:
    """Write every quota's status of the namespace where it changed."""
    quotas = store.list(RESOURCE_QUOTAS, namespace)
    if not quotas:
        return
    used = namespace_usage(store, namespace)
    for quota in quotas:
        hard = dict((quota.get("spec") or {}).get("hard") or {})
        status = {
            "hard": hard,
            "used": {key: _text(used.get(key)) for key in hard},
        }
        if quota.get("status") != status:
            quota["status"] = status
            store.put(RESOURCE_QUOTAS, quota)
