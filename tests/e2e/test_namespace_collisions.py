"""Namespaces are unique across organisations, not only within one: a namespace another
organisation's cluster holds is refused with the same words as one Kubernetes alone
holds (nothing tells who holds it), whether the other cluster is provisioned yet or
only recorded. In process, so the moment before provisioning can be held."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.kube.namespaces import unavailable_message
from app.tenancy import commands
from app.tenancy.errors import Conflict
from tests.conftest import MakeApp
from tests.support.factories import cluster_request
from tests.support.inprocess import (
    InProcessServer,
    create,
    create_accepted,
    graphql,
    wait_for_status,
)
from tests.support.sandbox import namespace_path

CREATE = """
mutation($input: CreateClusterInput!) { createCluster(input: $input) { id namespace } }
"""


async def _key(admin: httpx.AsyncClient, org: str) -> str:
    response = await admin.post("/api-keys", json={"tenant_org_id": org, "name": f"{org} key"})
    assert response.status_code == 201, response.text
    return str(response.json()["secret"])


async def _records(admin: httpx.AsyncClient, org: str) -> list[dict[str, Any]]:
    response = await admin.get(f"/tenant/containers/org/{org}", params={"include_deleted": "true"})
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()
    return rows


@pytest.fixture
async def app(make_app: MakeApp) -> InProcessServer:
    # One provisioning slot, so a cluster can be held recorded but not yet provisioned.
    return await make_app(provision_concurrency=1, reconcile_interval_seconds=3600)


async def test_another_orgs_namespace_is_refused_recorded_or_provisioned(
    app: InProcessServer, org: str
) -> None:
    org_b = f"{org}-x"
    # org "<org>" user "x-s" service "db" and org "<org>-x" user "s" service "db" both
    # generate "<org>-x-s-db".
    ns = f"{org}-x-s-db"
    async with app.client() as admin:
        key_a, key_b = await _key(admin, org), await _key(admin, org_b)
        # The only provisioning slot is taken by a cluster that does not get ready.
        await app.sandbox.hold_readiness(f"{org}-hold-blocker")
        await create_accepted(admin, org, "hold", "blocker")
        await wait_for_status(
            admin, user="hold", service_name="blocker", tenant_org_id=org, wanted={"creating"}
        )
        async with app.client(token=key_a) as owner:
            assert (await create_accepted(owner, org, "x-s", "db"))["namespace"] == ns
        assert await app.sandbox.status(namespace_path(ns)) == 404  # recorded only

        async with app.client(token=key_b) as other:
            generated = await create(other, org_b, "s", "db")
            body = await graphql(
                other, CREATE, {"input": {"tenantOrgId": org_b, "user": "s", "serviceName": "db"}}
            )
            custom = await create(other, org_b, "t", "db", namespace=ns.replace(org, org_b, 1))
        chosen = await create(admin, org_b, "u", "db", namespace=ns)  # the admin may name any
        for refused in (generated, chosen):
            assert (refused.status_code, refused.json()) == (
                409,
                {"error": unavailable_message(ns)},
            ), refused.text
        [error] = body["errors"]
        assert (error["message"], error["extensions"]["code"]) == (
            unavailable_message(ns),
            "CONFLICT",
        )
        assert custom.status_code == 202  # a namespace of its own is fine
        assert [r["namespace"] for r in await _records(admin, org_b)] == [
            custom.json()["namespace"]
        ]

        # Once provisioned, the same answer (now Kubernetes has it too).
        await app.sandbox.hold_readiness(f"{org}-hold-blocker", hold=False)
        done = await wait_for_status(
            admin, user="x-s", service_name="db", tenant_org_id=org, wanted={"created"}
        )
        assert done["namespace"] == ns
        again = await create(admin, org_b, "s", "db")
        assert (again.status_code, again.json()) == (409, {"error": unavailable_message(ns)})

        # A namespace only Kubernetes holds reads the same.
        outside = f"{org}-made-outside"
        response = await app.sandbox.request(
            "POST", "/api/v1/namespaces", json={"metadata": {"name": outside}}
        )
        assert response.status_code == 201, response.text
        await app.informed_of(outside)
        taken = await create(admin, org_b, "v", "db", namespace=outside)
        assert taken.json() == {"error": unavailable_message(outside)}
        assert [r["namespace"] for r in await _records(admin, org_b)] == [
            custom.json()["namespace"]
        ]


async def test_recording_refuses_a_namespace_another_org_holds(app: InProcessServer) -> None:
    sessions, ids = app.runtime.sessions, app.runtime.ids
    first = await commands.create_cluster(
        sessions=sessions, ids=ids, request=cluster_request("acme", "x-s", "db")
    )
    assert first.namespace == "acme-x-s-db"
    for request in (
        cluster_request("acme-x", "s", "db"),  # generated
        cluster_request("other", "u", "db", namespace="acme-x-s-db"),  # chosen
    ):
        with pytest.raises(Conflict) as refused:
            await commands.create_cluster(sessions=sessions, ids=ids, request=request)
        assert refused.value.message == unavailable_message("acme-x-s-db")
