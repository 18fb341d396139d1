"""PodDisruptionBudgets (policy/v1): served, validated, and their status kept current
from the pods they cover, as a kube-apiserver with its disruption controller does."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes_asyncio import client
from kubernetes_asyncio.client.rest import ApiException

from tests.sandbox.support import Kubectl, statefulset_manifest, wait_for


def budget(name: str = "es", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name},
        "spec": {"selector": {"matchLabels": {"app": "es"}}, **spec},
    }


async def status_of(policy: client.PolicyV1Api, namespace: str, name: str = "es") -> Any:
    return (await policy.read_namespaced_pod_disruption_budget(name, namespace)).status


@pytest.fixture
def policy(api: client.ApiClient) -> client.PolicyV1Api:
    return client.PolicyV1Api(api)


async def test_status_follows_the_pods_it_covers(
    policy: client.PolicyV1Api, apps: client.AppsV1Api, namespace: str
) -> None:
    await policy.create_namespaced_pod_disruption_budget(namespace, budget(maxUnavailable=1))
    status = await status_of(policy, namespace)
    assert (status.expected_pods, status.current_healthy, status.disruptions_allowed) == (0, 0, 0)

    await apps.create_namespaced_stateful_set(
        namespace, statefulset_manifest(replicas=3, policy="Parallel", claims=False)
    )

    async def all_healthy() -> bool:
        found = await status_of(policy, namespace)
        return bool(found.current_healthy == 3)

    await wait_for(all_healthy, what="three healthy pods")
    status = await status_of(policy, namespace)
    assert (status.expected_pods, status.desired_healthy, status.disruptions_allowed) == (3, 2, 1)
    assert status.observed_generation == 1


async def test_a_percentage_of_min_available_rounds_up(
    policy: client.PolicyV1Api, apps: client.AppsV1Api, namespace: str
) -> None:
    await policy.create_namespaced_pod_disruption_budget(namespace, budget(minAvailable="50%"))
    await apps.create_namespaced_stateful_set(
        namespace, statefulset_manifest(replicas=3, policy="Parallel", claims=False)
    )

    async def healthy() -> bool:
        return bool((await status_of(policy, namespace)).current_healthy == 3)

    await wait_for(healthy, what="three healthy pods")
    status = await status_of(policy, namespace)
    assert (status.desired_healthy, status.disruptions_allowed) == (2, 1)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"minAvailable": 1, "maxUnavailable": 1},
            "minAvailable and maxUnavailable cannot be both set",
        ),
        ({"maxUnavailable": -1}, "must be a non-negative integer or a percentage"),
        ({"minAvailable": "half"}, "must be a non-negative integer or a percentage"),
    ],
)
async def test_invalid_budgets_are_refused(
    policy: client.PolicyV1Api, namespace: str, spec: dict[str, Any], message: str
) -> None:
    with pytest.raises(ApiException) as caught:
        await policy.create_namespaced_pod_disruption_budget(namespace, budget(**spec))
    body = json.loads(caught.value.body)
    assert (caught.value.status, body["reason"]) == (422, "Invalid")
    assert message in body["message"]
    assert body["message"].startswith('PodDisruptionBudget.policy "es" is invalid')


async def test_kubectl_lists_budgets(
    policy: client.PolicyV1Api, kubectl: Kubectl, namespace: str
) -> None:
    await policy.create_namespaced_pod_disruption_budget(namespace, budget(maxUnavailable=1))
    table = (await kubectl("-n", namespace, "get", "pdb")).stdout
    header, row = table.splitlines()[:2]
    assert header.split() == ["NAME", "MIN", "AVAILABLE", "MAX", "UNAVAILABLE", "ALLOWED",
                              "DISRUPTIONS", "AGE"]  # fmt: skip
    assert row.split()[:4] == ["es", "N/A", "1", "0"]
