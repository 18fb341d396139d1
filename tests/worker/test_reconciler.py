"""The reconciler in process: each pass (``Reconciler.pass_once``, called directly, so
no test waits for an interval) notices what changed in Kubernetes behind the control
plane's back (namespace gone, readiness lost, spec drift), says so once (``degraded``
with the reason), and notices when it is over. Kubernetes is changed through the
sandbox's API and kubectl, as an operator would."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from app.store.db import session_scope
from app.store.tables import TenantContainerRow
from app.tenancy import leases
from app.tenancy.leases import LeaseTerms
from app.tenancy.reconciler import Reconciler
from tests.conftest import MakeApp
from tests.support.inprocess import (
    InProcessServer,
    create_and_wait,
    events,
    wait_for_status,
)
from tests.support.kubectl import Kubectl, kubectl_path
from tests.support.sandbox import namespace_path, statefulset_path
from tests.support.waiting import wait_for


@pytest.fixture
async def app(make_app: MakeApp) -> InProcessServer:
    # No passes of its own: the tests run each pass themselves.
    return await make_app(reconcile_interval_seconds=3600, kube_retry_seconds=2)


@pytest.fixture
async def admin(app: InProcessServer) -> Any:
    async with app.client() as http:
        yield http


async def _status(admin: httpx.AsyncClient, org: str, user: str, service: str) -> dict[str, Any]:
    response = await admin.get(
        f"/tenant/containers/{user}/{service}", params={"tenant_org_id": org}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _pass_until_changed(app: InProcessServer) -> None:
    """Passes until one records a change (Kubernetes takes a moment to show some)."""

    async def changed() -> bool:
        return await app.runtime.reconciler.pass_once() > 0

    await wait_for(changed, timeout=20, interval=0.1, what="a reconciler pass to record a change")


async def _repair(admin: httpx.AsyncClient, org: str, user: str, service: str, ns: str) -> None:
    response = await admin.patch(f"/clusters/{ns}", json={})
    assert response.status_code == 202, response.text
    healed = await wait_for_status(
        admin, user=user, service_name=service, tenant_org_id=org, wanted={"created", "failed"}
    )
    assert healed["status"] == "created", healed


async def test_a_removed_namespace_is_degraded_once_and_an_empty_update_heals_it(
    app: InProcessServer, admin: httpx.AsyncClient, org: str
) -> None:
    ns = (await create_and_wait(admin, org, "hank", "drift"))["namespace"]
    assert await app.runtime.reconciler.pass_once() == 0  # nothing to say yet
    await app.sandbox.delete(namespace_path(ns))
    await _pass_until_changed(app)
    degraded = await _status(admin, org, "hank", "drift")
    assert degraded["status"] == "degraded"
    assert ns in degraded["error"]
    assert await app.runtime.reconciler.pass_once() == 0  # said once, not every pass

    async def gone() -> bool:
        return await app.sandbox.status(namespace_path(ns)) == 404

    await wait_for(gone, timeout=20, what="the namespace gone")
    await _repair(admin, org, "hank", "drift", ns)
    assert await app.sandbox.status(namespace_path(ns)) == 200
    assert await app.runtime.reconciler.pass_once() == 0
    history = [e["to"] for e in await events(admin, org, "hank", "drift")]
    assert history == ["pending", "creating", "created", "degraded", "updating", "created"]


async def test_lost_readiness_is_degraded_and_regained_readiness_heals_by_itself(
    app: InProcessServer, admin: httpx.AsyncClient, org: str
) -> None:
    ns = (await create_and_wait(admin, org, "iris", "flap"))["namespace"]
    # A pod dies and its replacement cannot become ready.
    await app.sandbox.hold_readiness(ns)
    await app.sandbox.delete(f"/api/v1/namespaces/{ns}/pods/elasticsearch-0")
    await _pass_until_changed(app)
    degraded = await _status(admin, org, "iris", "flap")
    assert degraded["status"] == "degraded"
    assert degraded["error"] == "only 0/1 replicas of elasticsearch are ready"

    await app.sandbox.hold_readiness(ns, hold=False)
    await _pass_until_changed(app)
    healed = await _status(admin, org, "iris", "flap")
    assert healed["status"] == "created"
    assert "error" not in healed
    history = await events(admin, org, "iris", "flap")
    assert [e["to"] for e in history][-2:] == ["degraded", "created"]
    assert history[-1]["reason"] == "as its record wants again; all replicas ready"


async def test_spec_drift_is_degraded_and_an_empty_update_repairs_it(
    app: InProcessServer, admin: httpx.AsyncClient, org: str, tmp_path: Any
) -> None:
    ns = (await create_and_wait(admin, org, "xena", "drifty"))["namespace"]
    kubectl = Kubectl(kubectl_path(), app.kubeconfig, tmp_path)
    await kubectl("-n", ns, "scale", "statefulset", "elasticsearch", "--replicas=2")
    await _pass_until_changed(app)
    degraded = await _status(admin, org, "xena", "drifty")
    assert degraded["status"] == "degraded"
    assert "StatefulSet elasticsearch has 2 replica(s), the record wants 1" in degraded["error"]
    await _repair(admin, org, "xena", "drifty", ns)
    assert (await app.sandbox.statefulset(ns))["spec"]["replicas"] == 1

    sts = await app.sandbox.statefulset(ns)
    containers = sts["spec"]["template"]["spec"]["containers"]
    containers[0]["resources"]["limits"]["cpu"] = "3"
    await app.sandbox.merge_patch(
        statefulset_path(ns), {"spec": {"template": {"spec": {"containers": containers}}}}
    )
    await _pass_until_changed(app)
    degraded = await _status(admin, org, "xena", "drifty")
    assert "cpu limit of container elasticsearch is 3, the record wants 2" in degraded["error"]
    await _repair(admin, org, "xena", "drifty", ns)
    # Repaired for good: later passes find nothing.
    for _ in range(3):
        assert await app.runtime.reconciler.pass_once() == 0
    assert (await _status(admin, org, "xena", "drifty"))["status"] == "created"
    recorded = await events(admin, org, "xena", "drifty")
    history = [e["to"] for e in recorded if e["from"] != e["to"]][3:]
    assert history == ["degraded", "updating", "created", "degraded", "updating", "created"]
    # The first repair brought the replicas scaled by hand down one step at a time.
    assert [e["reason"] for e in recorded if e["from"] == e["to"]] == ["replicas 2 → 1"]


async def test_a_pass_that_cannot_observe_a_cluster_changes_nothing(
    app: InProcessServer, admin: httpx.AsyncClient, org: str
) -> None:
    ns = (await create_and_wait(admin, org, "ivo", "blind"))["namespace"]
    before = await events(admin, org, "ivo", "blind")
    await app.sandbox.merge_patch(statefulset_path(ns), {"spec": {"replicas": 2}})
    # The drift would be degraded, if the StatefulSet could be read...
    await app.sandbox.inject_fault(
        method="GET", resource="statefulsets", namespace=ns, status=403, count=1
    )
    assert await app.runtime.reconciler.pass_once() == 0
    assert await events(admin, org, "ivo", "blind") == before
    # ...as it is by the next pass that can.
    await _pass_until_changed(app)
    assert (await _status(admin, org, "ivo", "blind"))["status"] == "degraded"


async def test_the_reconciler_runs_by_itself_on_its_interval(make_app: MakeApp, org: str) -> None:
    app = await make_app(reconcile_interval_seconds=0.2)
    async with app.client() as admin:
        ns = (await create_and_wait(admin, org, "jo", "watched"))["namespace"]
        await app.sandbox.delete(namespace_path(ns))
        degraded = await wait_for_status(
            admin, user="jo", service_name="watched", tenant_org_id=org, wanted={"degraded"}
        )
    assert ns in degraded["error"]


async def test_two_replicas_check_each_cluster_once_and_take_over_a_stopped_ones(
    app: InProcessServer, admin: httpx.AsyncClient, org: str
) -> None:
    for n in range(4):
        await create_and_wait(admin, org, "u", f"s{n}")
    runtime = app.runtime
    mine = runtime.reconciler
    other = Reconciler(
        sessions=runtime.sessions,
        kube=runtime.kube,
        worker=runtime.worker,
        interval=3600,
        usage_retention=runtime.usage_retention,
        lease=LeaseTerms(owner="another-replica", seconds=7200),
    )
    for _ in range(2):  # each keeps the clusters it claimed, pass after pass
        before = (mine.checks, other.checks)
        await asyncio.gather(mine.pass_once(), other.pass_once())
        checked = (mine.checks - before[0], other.checks - before[1])
        assert sum(checked) == 4, checked
    owners = await _check_owners(app)
    assert set(owners) <= {runtime.worker.lease.owner, "another-replica"}
    # The other replica stops: once its claims ran out, this one checks everything.
    async with session_scope(runtime.sessions) as session:
        await leases.expire_all(session, owner="another-replica")
    before = mine.checks
    await mine.pass_once()
    assert mine.checks - before == 4
    assert set(await _check_owners(app)) == {runtime.worker.lease.owner}


async def _check_owners(app: InProcessServer) -> list[str]:
    async with app.runtime.sessions() as session:
        owner = col(TenantContainerRow.lease_owner)
        found = await session.exec(select(TenantContainerRow.lease_owner).where(owner.is_not(None)))
        return [owner for owner in found.all() if owner is not None]
