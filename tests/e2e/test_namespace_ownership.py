"""Namespaces belong to exactly one cluster (issue 7, finding 1), through REST,
GraphQL and kubectl against the sandbox (the app in process): a custom namespace of an organisation's key
carries the organisation's prefix, reserved namespaces are refused for everyone, an
existing namespace is never taken over or relabelled, and a delete removes a namespace
only when it carries the cluster's ownership mark."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import pytest_asyncio

from tests.conftest import MakeApp
from tests.support.inprocess import (
    InProcessServer,
    create,
    create_and_wait,
    graphql,
    serve_in_process,
    wait_for_status,
)
from tests.support.waiting import wait_for

pytestmark = pytest.mark.asyncio(loop_scope="module")

MARK = "es-serverless.io/cluster-id"
OPERATOR_RESERVED = "ops-reserved"
CREATE = """
mutation($input: CreateClusterInput!) { createCluster(input: $input) { id namespace } }
"""


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def app(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[InProcessServer]:
    """A app with an operator's reserved list, and no reconciler passes to interfere
    with the namespaces the tests tamper with."""
    async with serve_in_process(
        tmp_path_factory.mktemp("ns-app"),
        reserved_namespaces=[OPERATOR_RESERVED, "team-*"],
        reconcile_interval_seconds=3600,
    ) as app:
        yield app


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def admin(app: InProcessServer) -> AsyncIterator[httpx.AsyncClient]:
    async with app.client() as http:
        yield http


@asynccontextmanager
async def key_client(
    app: InProcessServer, org: str, user: str | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """A client holding a fresh API key of ``org`` (bound to ``user`` when given)."""
    async with app.client() as admin:
        response = await admin.post(
            "/api-keys", json={"tenant_org_id": org, "user": user, "name": f"{org} {user}"}
        )
    assert response.status_code == 201, response.text
    async with app.client(token=response.json()["secret"]) as http:
        yield http


async def graphql_error(http: httpx.AsyncClient, org: str, namespace: str) -> dict[str, Any]:
    """The one error of a GraphQL createCluster in ``namespace``."""
    variables = {"tenantOrgId": org, "user": "alice", "serviceName": "s", "namespace": namespace}
    body = await graphql(http, CREATE, {"input": variables})
    assert body["data"] is None, body
    [error] = body["errors"]
    return dict(error)


async def status_of(
    http: httpx.AsyncClient, org: str, user: str, service: str, wanted: str
) -> dict[str, Any]:
    return await wait_for_status(
        http,
        user=user,
        service_name=service,
        tenant_org_id=org,
        wanted={wanted},
        include_deleted=wanted == "deleted",
    )


async def last_reason(http: httpx.AsyncClient, org: str, user: str, service: str) -> str:
    response = await http.get(
        f"/tenant/containers/{user}/{service}/events",
        params={"tenant_org_id": org, "include_deleted": "true"},
    )
    assert response.status_code == 200, response.text
    return str(response.json()[-1]["reason"])


async def foreign_namespace(app: InProcessServer, name: str) -> dict[str, Any]:
    """A namespace made outside the platform, holding a ConfigMap of its owner."""
    await app.kubectl("create", "namespace", name)
    await app.kubectl("-n", name, "create", "configmap", "theirs", "--from-literal=owner=them")
    await app.informed_of(name)
    return (await app.sandbox.namespace(name))["metadata"]


async def assert_untouched(app: InProcessServer, name: str, before: dict[str, Any]) -> None:
    """The namespace as its owner left it: labels, annotations, content; none of ours."""
    now = await app.sandbox.namespace(name)
    assert now["status"]["phase"] == "Active"
    meta = now["metadata"]
    assert (meta["uid"], meta.get("labels"), meta.get("annotations")) == (
        before["uid"],
        before.get("labels"),
        before.get("annotations"),
    )
    assert "tenant-org-id" not in (meta.get("labels") or {})
    theirs = await app.sandbox.request("GET", f"/api/v1/namespaces/{name}/configmaps/theirs")
    assert theirs.status_code == 200 and theirs.json()["data"] == {"owner": "them"}
    await assert_no_cluster_objects(app, name)


async def assert_no_cluster_objects(app: InProcessServer, name: str) -> None:
    for path in (
        f"/apis/apps/v1/namespaces/{name}/statefulsets/elasticsearch",
        f"/api/v1/namespaces/{name}/services/elasticsearch",
        f"/api/v1/namespaces/{name}/services/elasticsearch-headless",
        f"/api/v1/namespaces/{name}/secrets/elasticsearch-credentials",
        f"/api/v1/namespaces/{name}/secrets/es-serverless-reporter",
        f"/api/v1/namespaces/{name}/secrets/elasticsearch-transport-tls",
        f"/apis/networking.k8s.io/v1/namespaces/{name}/networkpolicies/elasticsearch",
    ):
        assert await app.sandbox.status(path) == 404, path
    claims = await app.sandbox.get(f"/api/v1/namespaces/{name}/persistentvolumeclaims")
    assert claims["items"] == []


def unavailable(name: str) -> str:
    return f'namespace "{name}" is not available: it already exists; choose another namespace'


# -- who may name which namespace ------------------------------------------------------


async def test_an_existing_foreign_namespace_is_never_taken(
    app: InProcessServer, admin: httpx.AsyncClient, org: str
) -> None:
    victim = f"victim-{org}"
    before = await foreign_namespace(app, victim)

    async with key_client(app, org) as orga:
        squat = await create(orga, org, "alice", "squat1", namespace=victim)
        assert squat.status_code == 400, squat.text
        assert squat.json()["error"].startswith(f'namespace "{victim}" must start with "{org}-": ')
        assert (await graphql_error(orga, org, victim))["extensions"]["code"] == "BAD_USER_INPUT"

    # The platform admin may name any namespace, but not one that exists.
    taken = await create(admin, org, "alice", "squat1", namespace=victim)
    assert taken.status_code == 409, taken.text
    assert taken.json() == {"error": unavailable(victim)}
    error = await graphql_error(admin, org, victim)
    assert (error["message"], error["extensions"]["code"]) == (unavailable(victim), "CONFLICT")

    assert (await admin.get(f"/tenant/containers/org/{org}")).json() == []
    await assert_untouched(app, victim, before)


async def test_an_org_key_cannot_squat_another_orgs_namespace(
    app: InProcessServer, org: str
) -> None:
    orgb = f"{org}x"  # not under "{org}-"
    async with key_client(app, org) as orga, key_client(app, org, "alice") as alice:
        for caller in (orga, alice):
            squat = await create(caller, org, "alice", "search", namespace=f"{orgb}-dave-search")
            assert squat.status_code == 400, squat.text
            assert f'must start with "{org}-"' in squat.json()["error"]
    async with key_client(app, orgb) as owner:
        mine = await create_and_wait(owner, orgb, "dave", "search")
    assert mine["namespace"] == f"{orgb}-dave-search"


@pytest.mark.parametrize(
    "reserved",
    ["es-serverless", "default", "kube-x", "kube-system", OPERATOR_RESERVED, "team-blue"],
)
async def test_reserved_namespaces_are_refused_even_for_the_admin(
    app: InProcessServer, admin: httpx.AsyncClient, org: str, reserved: str
) -> None:
    refused = await create(admin, org, "alice", "s", namespace=reserved)
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == (
        f'namespace "{reserved}" is reserved for Kubernetes or the platform; choose another'
    )
    error = await graphql_error(admin, org, reserved)
    assert (error["message"], error["extensions"]["code"]) == (
        refused.json()["error"],
        "BAD_USER_INPUT",
    )
    async with key_client(app, org) as orga:
        assert (await create(orga, org, "alice", "s", namespace=reserved)).status_code == 400
    assert (await admin.get(f"/tenant/containers/org/{org}")).json() == []


async def test_a_generated_namespace_under_a_reserved_prefix_is_refused(
    admin: httpx.AsyncClient,
) -> None:
    refused = await create(admin, "team", "alice", "search")  # would be team-alice-search
    assert refused.status_code == 400
    assert 'the generated namespace "team-alice-search" is reserved' in refused.json()["error"]


async def test_an_org_key_provisions_its_own_custom_namespace_with_the_mark(
    app: InProcessServer, org: str
) -> None:
    ns = f"{org}-custom"
    async with key_client(app, org) as orga:
        cluster = await create_and_wait(orga, org, "alice", "own", namespace=ns)
        assert cluster["namespace"] == ns
        meta = (await app.sandbox.namespace(ns))["metadata"]
        assert meta["annotations"][MARK] == cluster["id"]
        assert meta["labels"]["tenant-org-id"] == org
        assert (await orga.delete(f"/clusters/{ns}")).status_code == 202
        await status_of(orga, org, "alice", "own", "deleted")
        assert await last_reason(orga, org, "alice", "own") == f"namespace {ns} removed"
    assert await app.sandbox.status(f"/api/v1/namespaces/{ns}") == 404


async def test_an_existing_namespace_under_the_orgs_own_prefix_is_409_like_a_taken_one(
    app: InProcessServer, org: str
) -> None:
    ns = f"{org}-pre"
    await app.kubectl("create", "namespace", ns)
    await app.informed_of(ns)
    async with key_client(app, org) as orga:
        exists = await create(orga, org, "alice", "one", namespace=ns)
        assert exists.status_code == 409, exists.text
        await app.kubectl("delete", "namespace", ns)  # waits until it is gone

        await create_and_wait(orga, org, "alice", "one", namespace=ns)
        taken = await create(orga, org, "bob", "two", namespace=ns)
        assert taken.status_code == 409, taken.text
    # One message whoever holds it: nothing tells the caller who, or whether anyone does.
    assert exists.json()["error"] == taken.json()["error"] == unavailable(ns)


async def test_a_transient_failure_of_the_create_check_does_not_fail_the_create(
    app: InProcessServer, admin: httpx.AsyncClient, org: str
) -> None:
    # In step, the informer answers without asking; stopped, the API server is asked.
    runtime = app.runtime
    await runtime.tasks.cancel("namespace-informer")
    try:
        assert runtime.namespaces.seen(f"{org}-alice-flaky-check") is None
        await app.sandbox.reset_stats()
        await app.sandbox.inject_fault(method="GET", resource="namespaces", status=503, count=1)
        cluster = await create_and_wait(admin, org, "alice", "flaky-check")
    finally:
        runtime.tasks.start("namespace-informer", runtime.namespaces.run_forever())
    stats = await app.sandbox.stats()
    assert stats["responses"]["GET namespaces 503"] == 1  # the create's look failed
    assert (await app.sandbox.namespace(cluster["namespace"]))["metadata"]["annotations"][
        MARK
    ] == cluster["id"]


# -- the worker never takes a namespace that is not the cluster's ----------------------


@pytest.mark.asyncio(loop_scope="function")  # a server of its own
async def test_a_namespace_made_between_the_check_and_provisioning_fails_the_cluster(
    make_app: MakeApp, org: str
) -> None:
    app = await make_app(provision_concurrency=1, reconcile_interval_seconds=3600)
    blocker = f"{org}-alice-blocker"
    late = f"{org}-bob-late"
    async with app.client() as admin:
        # The only provisioning slot is held by a cluster that does not get ready.
        await app.sandbox.hold_readiness(blocker)
        assert (await create(admin, org, "alice", "blocker")).status_code == 202
        await status_of(admin, org, "alice", "blocker", "creating")
        assert (await create(admin, org, "bob", "late")).status_code == 202

        # Meanwhile: a clash with that record alone (Kubernetes has no such namespace)...
        assert await app.sandbox.status(f"/api/v1/namespaces/{late}") == 404
        clash = await create(admin, org, "carol", "other", namespace=late)
        assert clash.status_code == 409
        # ... and someone makes the namespace.
        before = await foreign_namespace(app, late)
        assert await status_of(admin, org, "bob", "late", "pending")

        await app.sandbox.hold_readiness(blocker, hold=False)
        failed = await status_of(admin, org, "bob", "late", "failed")
        assert failed["error"] == unavailable(late)
        await assert_untouched(app, late, before)

        assert (await admin.delete(f"/clusters/{late}")).status_code == 202
        await status_of(admin, org, "bob", "late", "deleted")
        reason = await last_reason(admin, org, "bob", "late")
        assert reason.startswith(f"namespace {late} kept: it does not carry this cluster's")
        assert reason.endswith("none were left")
        await assert_untouched(app, late, before)

        # With no record holding it any more, Kubernetes alone refuses it: same words.
        exists = await create(admin, org, "dave", "other", namespace=late)
        assert exists.status_code == 409
    assert clash.json()["error"] == exists.json()["error"] == failed["error"]


async def test_delete_keeps_a_namespace_that_lost_its_mark_and_removes_only_the_clusters_objects(
    app: InProcessServer, admin: httpx.AsyncClient, org: str
) -> None:
    ns = (await create_and_wait(admin, org, "alice", "lost"))["namespace"]
    await app.kubectl("-n", ns, "create", "configmap", "theirs", "--from-literal=owner=them")
    # Taken out of the platform's hands: the mark and managed-by removed.
    await app.kubectl("annotate", "namespace", ns, f"{MARK}-")
    await app.kubectl("label", "namespace", ns, "app.kubernetes.io/managed-by-")
    assert (await app.sandbox.get(f"/api/v1/namespaces/{ns}/persistentvolumeclaims"))["items"]

    assert (await admin.delete(f"/clusters/{ns}")).status_code == 202
    await status_of(admin, org, "alice", "lost", "deleted")
    assert (await app.sandbox.namespace(ns))["status"]["phase"] == "Active"
    theirs = await app.sandbox.request("GET", f"/api/v1/namespaces/{ns}/configmaps/theirs")
    assert theirs.status_code == 200 and theirs.json()["data"] == {"owner": "them"}
    await assert_no_cluster_objects(app, ns)

    async def no_pods() -> bool:
        return (await app.sandbox.get(f"/api/v1/namespaces/{ns}/pods"))["items"] == []

    await wait_for(no_pods, timeout=30, what="the StatefulSet's pods gone with it")
    reason = await last_reason(admin, org, "alice", "lost")
    assert reason.startswith(
        f"namespace {ns} kept: it does not carry this cluster's ownership mark ({MARK})"
    )
    for removed in (
        "StatefulSet elasticsearch",
        "Service elasticsearch-headless",
        "Secret elasticsearch-transport-tls",
        "NetworkPolicy elasticsearch",
        "PersistentVolumeClaim data-elasticsearch-0",
    ):
        assert removed in reason


async def test_another_clusters_mark_is_never_adopted(
    app: InProcessServer, admin: httpx.AsyncClient, org: str
) -> None:
    ns = (await create_and_wait(admin, org, "alice", "marked"))["namespace"]
    other = "tenant_someone_else_1"
    await app.kubectl("annotate", "--overwrite", "namespace", ns, f"{MARK}={other}")
    labels = (await app.sandbox.namespace(ns))["metadata"]["labels"]

    assert (await admin.patch(f"/clusters/{ns}", json={})).status_code == 202  # re-apply
    assert (await status_of(admin, org, "alice", "marked", "failed"))["error"] == unavailable(ns)
    meta = (await app.sandbox.namespace(ns))["metadata"]
    assert (meta["annotations"][MARK], meta["labels"]) == (other, labels)

    assert (await admin.delete(f"/clusters/{ns}")).status_code == 202
    await status_of(admin, org, "alice", "marked", "deleted")
    assert (await app.sandbox.namespace(ns))["metadata"]["annotations"][MARK] == other
    assert (await last_reason(admin, org, "alice", "marked")).startswith(f"namespace {ns} kept")


async def test_a_legacy_namespace_without_a_mark_is_adopted(
    app: InProcessServer, admin: httpx.AsyncClient, org: str
) -> None:
    """Earlier versions set no mark: a namespace with none, but managed-by and this
    cluster's tenant labels, created after the cluster was recorded, is the cluster's."""
    cluster = await create_and_wait(admin, org, "alice", "legacy")
    ns = cluster["namespace"]
    await app.kubectl("annotate", "namespace", ns, f"{MARK}-")

    assert (await admin.patch(f"/clusters/{ns}", json={})).status_code == 202

    async def reapplied() -> bool:
        return bool((await admin.get(f"/deployments/{ns}")).json()["status"] == "created")

    await wait_for(reapplied, timeout=30, what="the re-apply finished")
    assert (await app.sandbox.namespace(ns))["metadata"]["annotations"][MARK] == cluster["id"]

    await app.kubectl("annotate", "namespace", ns, f"{MARK}-")
    assert (await admin.delete(f"/clusters/{ns}")).status_code == 202
    await status_of(admin, org, "alice", "legacy", "deleted")
    assert await app.sandbox.status(f"/api/v1/namespaces/{ns}") == 404
    assert await last_reason(admin, org, "alice", "legacy") == f"namespace {ns} removed"
