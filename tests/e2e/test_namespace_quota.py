"""Every tenant namespace holds a ResourceQuota and a LimitRange of exactly what the
cluster was granted; updates of every kind still converge under them; the sandbox
refuses what goes beyond; the reconciler notices a quota changed by hand."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.kube.names import LIMIT_RANGE_NAME, QUOTA_NAME
from app.kube.quantity import parse_quantity
from app.models.quantity import format_quantity
from tests.conftest import MakeApp
from tests.support.inprocess import InProcessServer, create_and_wait, wait_for_status

pytestmark = pytest.mark.asyncio(loop_scope="module")

SIZING = {
    "replicas": 2,
    "cpu_request": "500m",
    "cpu_limit": "2",
    "mem_request": "1Gi",
    "mem_limit": "2Gi",
    "disk_size": "1Gi",
}


def quota_path(ns: str) -> str:
    return f"/api/v1/namespaces/{ns}/resourcequotas/{QUOTA_NAME}"


def hard(
    *, replicas: int, cpu_request: str, cpu_limit: str, mem_request: str, mem_limit: str,
    disk_size: str, gpus: str = "0",
) -> dict[str, str]:  # fmt: skip
    """The hard values written out by hand for the test's shapes."""
    return {
        "requests.cpu": cpu_request,
        "limits.cpu": cpu_limit,
        "requests.memory": mem_request,
        "limits.memory": mem_limit,
        "requests.nvidia.com/gpu": gpus,
        "pods": str(replicas),
        "requests.storage": disk_size,
        "persistentvolumeclaims": str(replicas),
    }


async def quota_of(app: InProcessServer, ns: str) -> dict[str, Any]:
    body: dict[str, Any] = await app.sandbox.get(quota_path(ns))
    return body


async def failed_creates(app: InProcessServer, ns: str) -> list[str]:
    events = await app.sandbox.get(f"/api/v1/namespaces/{ns}/events")
    return [e["message"] for e in events["items"] if e["reason"] == "FailedCreate"]


async def test_a_created_clusters_namespace_holds_its_exact_quota_and_limit_range(
    shared_app: InProcessServer, shared_admin: httpx.AsyncClient, org: str
) -> None:
    created = await create_and_wait(shared_admin, org, "alice", "granted", **SIZING)
    ns = created["namespace"]
    quota = await quota_of(shared_app, ns)
    want = hard(replicas=2, cpu_request="1", cpu_limit="4", mem_request="2Gi",
                mem_limit="4Gi", disk_size="2Gi")  # fmt: skip
    assert quota["spec"]["hard"] == want
    assert quota["status"]["hard"] == want
    # Two pods of the cluster fill it exactly: the sysctl init container adds nothing.
    assert quota["status"]["used"] == want
    assert quota["metadata"]["labels"]["tenant-org-id"] == org
    limits = await shared_app.sandbox.get(f"/api/v1/namespaces/{ns}/limitranges/{LIMIT_RANGE_NAME}")
    assert limits["spec"]["limits"] == [
        {
            "type": "Container",
            "default": {"cpu": "2", "memory": "2Gi"},
            "defaultRequest": {"cpu": "500m", "memory": "1Gi"},
        }
    ]
    table = await shared_app.kubectl("-n", ns, "get", "quota")
    assert "pods: 2/2" in table and "limits.cpu: 4/4" in table


async def test_a_pod_started_by_hand_beyond_the_quota_is_refused(
    shared_app: InProcessServer, shared_admin: httpx.AsyncClient, org: str
) -> None:
    ns = (await create_and_wait(shared_admin, org, "alice", "full", **SIZING))["namespace"]
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "intruder"},
        "spec": {"containers": [{"name": "miner", "image": "busybox"}]},
    }
    response = await shared_app.sandbox.request("POST", f"/api/v1/namespaces/{ns}/pods", json=pod)
    assert response.status_code == 403
    status = response.json()
    assert (status["kind"], status["reason"]) == ("Status", "Forbidden")
    # The LimitRange gave it the cluster's per-node requests and limits; the quota,
    # already filled by the cluster, refuses them all.
    assert status["message"] == (
        'pods "intruder" is forbidden: exceeded quota: tenant-quota, requested: '
        "limits.cpu=2,limits.memory=2Gi,pods=1,requests.cpu=500m,requests.memory=1Gi, "
        "used: limits.cpu=4,limits.memory=4Gi,pods=2,requests.cpu=1,requests.memory=2Gi, "
        "limited: limits.cpu=4,limits.memory=4Gi,pods=2,requests.cpu=1,requests.memory=2Gi"
    )
    assert await shared_app.sandbox.status(f"/api/v1/namespaces/{ns}/pods/intruder") == 404


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"replicas": 3}, {"replicas": 3}),
        ({"replicas": 1}, {"replicas": 1}),
        ({"cpu_limit": "1"}, {"cpu_limit": "1"}),
        ({"mem_request": "2Gi", "mem_limit": "3Gi"}, {"mem_request": "2Gi", "mem_limit": "3Gi"}),
        ({"disk_size": "2Gi"}, {"disk_size": "2Gi"}),
        ({"replicas": 3, "cpu_request": "250m", "cpu_limit": "1"}, {"replicas": 3, "cpu_limit": "1", "cpu_request": "250m"}),
    ],
    ids=["scale-up", "scale-down", "cpu-lowered", "memory-raised", "disk-grown", "up-and-lowered"],
)  # fmt: skip
async def test_every_kind_of_update_converges_under_the_quota(
    shared_app: InProcessServer,
    shared_admin: httpx.AsyncClient,
    org: str,
    change: dict[str, Any],
    expected: dict[str, Any],
) -> None:
    service = "upd-" + "-".join(sorted(change)).replace("_", "")
    service = f"{service[:30]}-{len(change)}{change.get('replicas', 0)}"
    ns = (await create_and_wait(shared_admin, org, "bob", service, **SIZING))["namespace"]
    response = await shared_admin.patch(f"/clusters/{ns}", json=change)
    assert response.status_code == 202, response.text
    done = await wait_for_status(
        shared_admin, user="bob", service_name=service, tenant_org_id=org,
        wanted={"created", "failed", "degraded"}, timeout=60,
    )  # fmt: skip
    assert done["status"] == "created", done
    shape = {**SIZING, **expected}
    replicas = shape["replicas"]

    def times(text: str) -> str:
        return format_quantity(parse_quantity(text) * replicas, binary=text.endswith("i"))

    want = hard(
        replicas=replicas,
        cpu_request=times(shape["cpu_request"]),
        cpu_limit=times(shape["cpu_limit"]),
        mem_request=times(shape["mem_request"]),
        mem_limit=times(shape["mem_limit"]),
        disk_size=times(shape["disk_size"]),
    )
    quota = await quota_of(shared_app, ns)
    assert quota["spec"]["hard"] == want  # the exact quota, once the rollout is ready
    sts = await shared_app.sandbox.statefulset(ns)
    assert sts["status"]["readyReplicas"] == replicas
    # No pod was ever refused on the way: the rollout's quota admitted every mix.
    assert await failed_creates(shared_app, ns) == []


@pytest.mark.asyncio(loop_scope="function")  # a server of its own, reconciling often
async def test_the_reconciler_notices_a_quota_edited_or_deleted_by_hand(
    make_app: MakeApp, org: str
) -> None:
    app = await make_app(reconcile_interval_seconds=0.3)
    async with app.client() as admin:
        ns = (await create_and_wait(admin, org, "carol", "drifty", **SIZING))["namespace"]
        patched = await app.sandbox.request(
            "PATCH",
            quota_path(ns),
            json={"spec": {"hard": {"limits.cpu": "64"}}},
            headers={"Content-Type": "application/merge-patch+json"},
        )
        assert patched.status_code == 200, patched.text
        degraded = await wait_for_status(
            admin, user="carol", service_name="drifty", tenant_org_id=org, wanted={"degraded"}
        )
        assert (
            f"ResourceQuota {QUOTA_NAME}: hard limits.cpu is 64, the record wants 4"
            in degraded["error"]
        ), degraded
        # An update with no changes re-applies the quota: the way to repair drift.
        assert (await admin.patch(f"/clusters/{ns}", json={})).status_code == 202
        await wait_for_status(
            admin, user="carol", service_name="drifty", tenant_org_id=org, wanted={"created"}
        )
        assert (await quota_of(app, ns))["spec"]["hard"]["limits.cpu"] == "4"

        assert (await app.sandbox.request("DELETE", quota_path(ns))).status_code == 200
        gone = await wait_for_status(
            admin, user="carol", service_name="drifty", tenant_org_id=org, wanted={"degraded"}
        )
        assert f"ResourceQuota {QUOTA_NAME} no longer exists" in gone["error"], gone
