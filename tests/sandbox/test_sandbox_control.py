"""The /_sandbox control API and its Python twin: faults, stats, readiness."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from kube_sandbox import SandboxCluster
from kube_sandbox.errors import ApiError
from kube_sandbox.resources import NAMESPACES
from kube_sandbox.stats import RequestStats
from tests.sandbox.support import READY_SECONDS, statefulset_manifest, wait_for


async def test_python_fault_fails_the_next_matching_requests(
    sandbox: SandboxCluster, apps: client.AppsV1Api, namespace: str
) -> None:
    sandbox.reset_stats()
    fault = sandbox.inject_fault(method="POST", resource="statefulsets", status=500, count=1)
    assert fault["reason"] is None and sandbox.faults() == [fault]
    with pytest.raises(ApiException) as failed:
        await apps.create_namespaced_stateful_set(namespace, statefulset_manifest())
    status = json.loads(failed.value.body)
    assert (failed.value.status, status["reason"], status["kind"]) == (
        500,
        "InternalError",
        "Status",
    )
    assert sandbox.faults() == []  # used up
    await apps.create_namespaced_stateful_set(namespace, statefulset_manifest())
    assert sandbox.stats()["requests"]["POST statefulsets"] == 2


async def test_http_fault_with_filters_defaults_and_listing(
    http: aiohttp.ClientSession, core: client.CoreV1Api, namespace: str
) -> None:
    spec = {
        "method": "*",
        "resource": "configmaps",
        "namespace": namespace,
        "status": 503,
        "message": "etcd is sad",
        "count": 2,
    }
    async with http.post("/_sandbox/faults", json=spec) as response:
        assert response.status == 201
    async with http.get("/_sandbox/faults") as response:
        [listed] = (await response.json())["faults"]
    assert listed["count"] == 2 and listed["namespace"] == namespace

    await core.create_namespace({"metadata": {"name": "elsewhere"}})
    await core.create_namespaced_config_map("elsewhere", {"metadata": {"name": "ok"}})  # no match
    with pytest.raises(ApiException) as failed:
        await core.list_namespaced_config_map(namespace)
    status = json.loads(failed.value.body)
    assert (failed.value.status, status["reason"], status["message"]) == (
        503,
        "ServiceUnavailable",
        "etcd is sad",
    )
    assert failed.value.headers["Retry-After"] == "1"
    async with http.delete("/_sandbox/faults") as response:
        assert (await response.json()) == {"faults": []}
    assert (await core.list_namespaced_config_map(namespace)).items == []


@pytest.mark.parametrize(
    ("code", "reason"),
    [(422, "Invalid"), (403, "Forbidden"), (409, "Conflict"), (429, "TooManyRequests")],
)
async def test_fault_reasons_default_from_the_code(
    sandbox: SandboxCluster, core: client.CoreV1Api, code: int, reason: str
) -> None:
    sandbox.inject_fault(method="POST", resource="namespaces", namespace="victim", status=code)
    await core.create_namespace({"metadata": {"name": "bystander"}})  # another namespace: fine
    with pytest.raises(ApiException) as failed:
        await core.create_namespace({"metadata": {"name": "victim"}})
    assert failed.value.status == code
    assert json.loads(failed.value.body)["reason"] == reason


async def test_explicit_reason_and_bad_fault_specs(
    sandbox: SandboxCluster, http: aiohttp.ClientSession
) -> None:
    fault = sandbox.inject_fault(method="delete", status=409, reason="AlreadyExists")
    assert fault["method"] == "DELETE"
    for bad in ({"status": 200}, {"method": "FETCH"}, {"count": 0}, {"colour": "red"}):
        async with http.post("/_sandbox/faults", json=bad) as response:
            assert response.status == 400, bad
    with pytest.raises(ValueError):
        sandbox.inject_fault(status=99)


async def test_stats_count_requests_and_responses(
    sandbox: SandboxCluster, http: aiohttp.ClientSession, apps: client.AppsV1Api, namespace: str
) -> None:
    async with http.delete("/_sandbox/stats") as response:
        assert (await response.json()) == {
            "requests": {},
            "access": [],
            "responses": {},
            "in_flight": 0,
            "max_in_flight": 0,
            "created": {},
            "already_existed": {},
        }
    await apps.create_namespaced_stateful_set(namespace, statefulset_manifest(claims=False))
    await apps.read_namespaced_stateful_set("es", namespace)
    await apps.list_namespaced_stateful_set(namespace)
    await apps.read_namespaced_stateful_set_status("es", namespace)
    await apps.read_namespaced_stateful_set_scale("es", namespace)
    with pytest.raises(ApiException):
        await apps.create_namespaced_stateful_set(namespace, statefulset_manifest(claims=False))
    sandbox.inject_fault(method="GET", resource="statefulsets", status=503)
    with pytest.raises(ApiException):
        await apps.read_namespaced_stateful_set("es", namespace)
    async with http.get("/_sandbox/stats") as response:
        stats = await response.json()
    assert stats["requests"] == {
        "GET statefulsets": 3,
        "GET statefulsets/scale": 1,
        "GET statefulsets/status": 1,
        "POST statefulsets": 2,
    }
    assert stats["responses"] == {
        "GET statefulsets 200": 2,
        "GET statefulsets 503": 1,
        "GET statefulsets/scale 200": 1,
        "GET statefulsets/status 200": 1,
        "POST statefulsets 201": 1,
        "POST statefulsets 409": 1,
    }
    # By authorization attributes, as RBAC sees them: a GET is a get, list or watch.
    assert stats["access"] == [
        {"group": "apps", "resource": resource, "verb": verb, "count": count}
        for resource, verb, count in [
            ("statefulsets", "create", 2),
            ("statefulsets", "get", 2),
            ("statefulsets", "list", 1),
            ("statefulsets/scale", "get", 1),
            ("statefulsets/status", "get", 1),
        ]
    ]
    assert stats["in_flight"] == 0 and stats["max_in_flight"] >= 1
    assert sandbox.stats() == stats  # both entrances see the same counters


async def test_in_flight_tracking_leaves_watches_out() -> None:
    stats = RequestStats()
    with stats.track("GET", "pods"), stats.track("POST", "pods") as outcome:
        outcome.status = 201
        with stats.track("GET", "pods", long_running=True):
            assert stats.snapshot()["in_flight"] == 2
    with pytest.raises(ApiError), stats.track("DELETE", "pods"):
        raise ApiError(404, "gone")
    snapshot = stats.snapshot()
    assert (snapshot["in_flight"], snapshot["max_in_flight"]) == (0, 2)
    # Requests whose handler set no status (the client went away) count no response.
    assert snapshot["responses"] == {"POST pods 201": 1, "DELETE pods 404": 1}
    stats.reset()
    assert stats.snapshot()["max_in_flight"] == 0


async def test_readiness_hold_via_http_before_the_namespace_exists(
    http: aiohttp.ClientSession, core: client.CoreV1Api, apps: client.AppsV1Api
) -> None:
    async with http.put("/_sandbox/namespaces/later/readiness", json={"hold": True}) as response:
        assert await response.json() == {
            "namespace": "later",
            "hold": True,
            "ready_seconds": READY_SECONDS,
        }
    await core.create_namespace({"metadata": {"name": "later"}})
    await apps.create_namespaced_stateful_set("later", statefulset_manifest(claims=False))
    await wait_for(lambda: core.list_namespaced_pod("later"), what="es-0")
    await asyncio.sleep(READY_SECONDS * 3)
    [pod] = (await core.list_namespaced_pod("later")).items
    assert pod.status.phase == "Pending"

    async with http.put("/_sandbox/namespaces/later/readiness", json={"hold": False}) as response:
        assert (await response.json())["hold"] is False

    async def ready() -> bool:
        sts = await apps.read_namespaced_stateful_set_status("es", "later")
        return sts.status.ready_replicas == 1

    await wait_for(ready, timeout=3, what="readiness after release")
    async with http.get("/_sandbox/namespaces/later/readiness") as response:
        assert (await response.json())["hold"] is False
    async with http.put("/_sandbox/namespaces/later/readiness", json={"hold": "yes"}) as response:
        assert response.status == 400


async def test_stats_count_each_objects_creations_and_creates_that_found_it(
    sandbox: SandboxCluster,
) -> None:
    sandbox.reset_stats()
    namespace = {"metadata": {"name": "counted"}}
    sandbox.registry.create(NAMESPACES, "", namespace)
    with pytest.raises(ApiError):
        sandbox.registry.create(NAMESPACES, "", namespace)
    sandbox.registry.delete(NAMESPACES, "", "counted")
    stats = sandbox.stats()
    assert stats["created"] == {"namespaces counted": 1}
    assert stats["already_existed"] == {"namespaces counted": 1}
    sandbox.reset_stats()
    assert sandbox.stats()["created"] == {}
