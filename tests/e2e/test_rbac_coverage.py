"""The ClusterRole of deploy/ against what the control plane really asks of Kubernetes:
one run through every path that calls the API (create, a rolling update that grows the
disk, a scale-down, a reconciler pass with usage collection, /readyz, a delete, and a
delete from a namespace that lost its ownership mark, which removes the objects one
by one), with the sandbox counting each request by its RBAC attributes (group,
resource, verb). Every one must be granted, and nothing granted may go unused."""

from __future__ import annotations

from tests.conftest import MakeApp
from tests.support.deploy import Grant, cluster_role_grants
from tests.support.inprocess import InProcessServer, create_and_wait, wait_for_status
from tests.support.sandbox import namespace_path

MARK = "es-serverless.io/cluster-id"


def recorded(app: InProcessServer) -> set[Grant]:
    assert app.runtime.sandbox is not None
    return {
        (entry["group"], entry["resource"], entry["verb"])
        for entry in app.runtime.sandbox.stats()["access"]
    }


async def test_the_cluster_role_grants_exactly_what_the_control_plane_calls(
    make_app: MakeApp, org: str
) -> None:
    app = await make_app(reconcile_interval_seconds=3600)  # passes run when the test says
    assert app.runtime.sandbox is not None
    app.runtime.sandbox.reset_stats()
    async with app.client() as admin:

        async def settled(service: str, wanted: str = "created") -> None:
            done = await wait_for_status(
                admin,
                user="alice",
                service_name=service,
                tenant_org_id=org,
                wanted={wanted, "failed"},
                include_deleted=True,
            )
            assert done["status"] == wanted, done

        ns = (await create_and_wait(admin, org, "alice", "main", replicas=3, disk_size="10Gi"))[
            "namespace"
        ]
        grow = {"disk_size": "20Gi", "cpu_limit": "3"}
        assert (await admin.patch(f"/clusters/{ns}", json=grow)).status_code == 202
        await settled("main")
        assert (await admin.patch(f"/clusters/{ns}", json={"replicas": 2})).status_code == 202
        await settled("main")
        assert await app.runtime.reconciler.pass_once() == 0
        assert (await admin.get("/readyz")).status_code == 200
        assert (await admin.delete(f"/clusters/{ns}")).status_code == 202
        await settled("main", "deleted")

        # Two nodes: a single node has no disruption budget to remove.
        lost = (await create_and_wait(admin, org, "alice", "lost", replicas=2))["namespace"]
        # The test's own request (taking the mark away) is left out of the record.
        seen = recorded(app)
        taken = {"annotations": {MARK: None}, "labels": {"app.kubernetes.io/managed-by": None}}
        await app.sandbox.merge_patch(namespace_path(lost), {"metadata": taken})
        app.runtime.sandbox.reset_stats()
        assert (await admin.delete(f"/clusters/{lost}")).status_code == 202
        await settled("lost", "deleted")
    seen |= recorded(app)

    granted = cluster_role_grants()
    assert sorted(seen - granted) == [], "called without a grant"
    assert sorted(granted - seen) == [], "granted but never called"
