"""The kubernetes-asyncio methods for each kind of object the control plane manages,
so applying and removing objects work by kind rather than by hand-picked method."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from app.kube.client import KubeClient


@dataclass(frozen=True)
class Verbs:
    create: Callable[..., Awaitable[Any]]
    read: Callable[..., Awaitable[Any]]
    replace: Callable[..., Awaitable[Any]]
    delete: Callable[..., Awaitable[Any]]
    namespaced: bool


def verbs(kube: KubeClient, kind: str) -> Verbs:
    core, apps, networking, policy = kube.core, kube.apps, kube.networking, kube.policy
    table = {
        "Namespace": Verbs(
            core.create_namespace,
            core.read_namespace,
            core.replace_namespace,
            core.delete_namespace,
            False,
        ),
        "Service": Verbs(
            core.create_namespaced_service,
            core.read_namespaced_service,
            core.replace_namespaced_service,
            core.delete_namespaced_service,
            True,
        ),
        "StatefulSet": Verbs(
            apps.create_namespaced_stateful_set,
            apps.read_namespaced_stateful_set,
            apps.replace_namespaced_stateful_set,
            apps.delete_namespaced_stateful_set,
            True,
        ),
        "NetworkPolicy": Verbs(
            networking.create_namespaced_network_policy,
            networking.read_namespaced_network_policy,
            networking.replace_namespaced_network_policy,
            networking.delete_namespaced_network_policy,
            True,
        ),
        "ConfigMap": Verbs(
            core.create_namespaced_config_map,
            core.read_namespaced_config_map,
            core.replace_namespaced_config_map,
            core.delete_namespaced_config_map,
            True,
        ),
        "PodDisruptionBudget": Verbs(
            policy.create_namespaced_pod_disruption_budget,
            policy.read_namespaced_pod_disruption_budget,
            policy.replace_namespaced_pod_disruption_budget,
            policy.delete_namespaced_pod_disruption_budget,
            True,
        ),
        "Secret": Verbs(
            core.create_namespaced_secret,
            core.read_namespaced_secret,
            core.replace_namespaced_secret,
            core.delete_namespaced_secret,
            True,
        ),
        "ResourceQuota": Verbs(
            core.create_namespaced_resource_quota,
            core.read_namespaced_resource_quota,
            core.replace_namespaced_resource_quota,
            core.delete_namespaced_resource_quota,
            True,
        ),
        "LimitRange": Verbs(
            core.create_namespaced_limit_range,
            core.read_namespaced_limit_range,
            core.replace_namespaced_limit_range,
            core.delete_namespaced_limit_range,
            True,
        ),
        "PersistentVolumeClaim": Verbs(
            core.create_namespaced_persistent_volume_claim,
            core.read_namespaced_persistent_volume_claim,
            core.replace_namespaced_persistent_volume_claim,
            core.delete_namespaced_persistent_volume_claim,
            True,
        ),
    }
    try:
        return table[kind]
    except KeyError:
        raise ValueError(f"no support for kind {kind}") from None
