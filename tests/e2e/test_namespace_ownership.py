"""Namespaces belong to exactly one cluster (issue 7, finding 1), through real HTTP,
GraphQL and kubectl against the sandbox: a custom namespace of an organisation's key
carries the organisation's prefix, reserved namespaces are refused for everyone, an
existing namespace is never taken over or relabelled, and a delete removes a namespace
only when it carries the cluster's ownership mark."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.support.http import create, create_and_wait, graphql, wait_for_status
from tests.support.kubectl import run_kubectl
from tests.support.servers import ServerProcess, server_env
from tests.support.waiting import wait_until

MARK = "es-serverless.io/cluster-id"
OPERATOR_RESERVED = "ops-reserved"
CREATE = """
mutation($input: CreateClusterInput!) { createCluster(input: $input) { id namespace } }
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server with an operator's reserved list, and no reconciler passes to interfere
    with the namespaces the tests tamper with."""
    data_dir = tmp_path_factory.mktemp("ns-server")
    env = server_env(
        data_dir,
        ESS_RESERVED_NAMESPACES=f"{OPERATOR_RESERVED}, team-*",
        ESS_RECONCILE_INTERVAL_SECONDS="3600",
    )
    process = ServerProcess(data_dir=data_dir, env=env).start()
    yield process
    process.stop()


@pytest.fixture
def admin(server: ServerProcess) -> Iterator[httpx.Client]:
    with server.client() as http:
        yield http


def key_client(server: ServerProcess, org: str, user: str | None = None) -> httpx.Client:
    """A client holding a fresh API key of ``org`` (bound to ``user`` when given)."""
    with server.client() as admin:
        response = admin.post(
            "/api-keys", json={"tenant_org_id": org, "user": user, "name": f"{org} {user}"}
        )
    assert response.status_code == 201, response.text
    token = response.json()["secret"]
    return httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def graphql_error(http: httpx.Client, org: str, namespace: str) -> dict[str, Any]:
    """The one error of a GraphQL createCluster in ``namespace``."""
    variables = {"tenantOrgId": org, "user": "alice", "serviceName": "s", "namespace": namespace}
    body = graphql(http, CREATE, {"input": variables})
    assert body["data"] is None, body
    [error] = body["errors"]
    return dict(error)


def status_of(http: httpx.Client, org: str, user: str, service: str, wanted: str) -> dict[str, Any]:
    return wait_for_status(
        http,
        user=user,
        service_name=service,
        tenant_org_id=org,
        wanted={wanted},
        include_deleted=wanted == "deleted",
    )


def last_reason(http: httpx.Client, org: str, user: str, service: str) -> str:
    response = http.get(
        f"/tenant/containers/{user}/{service}/events",
        params={"tenant_org_id": org, "include_deleted": "true"},
    )
    assert response.status_code == 200, response.text
    return str(response.json()[-1]["reason"])


def foreign_namespace(server: ServerProcess, name: str) -> dict[str, Any]:
    """A namespace made outside the platform, holding a ConfigMap of its owner."""
    run_kubectl(server.kubeconfig, "create", "namespace", name)
    run_kubectl(
        server.kubeconfig, "-n", name, "create", "configmap", "theirs", "--from-literal=owner=them"
    )
    return server.sandbox.namespace(name)["metadata"]


def assert_untouched(server: ServerProcess, name: str, before: dict[str, Any]) -> None:
    """The namespace as its owner left it: labels, annotations, content; none of ours."""
    now = server.sandbox.namespace(name)
    assert now["status"]["phase"] == "Active"
    meta = now["metadata"]
    assert (meta["uid"], meta.get("labels"), meta.get("annotations")) == (
        before["uid"],
        before.get("labels"),
        before.get("annotations"),
    )
    assert "tenant-org-id" not in (meta.get("labels") or {})
    theirs = server.sandbox.request("GET", f"/api/v1/namespaces/{name}/configmaps/theirs")
    assert theirs.status_code == 200 and theirs.json()["data"] == {"owner": "them"}
    assert_no_cluster_objects(server, name)


def assert_no_cluster_objects(server: ServerProcess, name: str) -> None:
    for path in (
        f"/apis/apps/v1/namespaces/{name}/statefulsets/elasticsearch",
        f"/api/v1/namespaces/{name}/services/elasticsearch",
        f"/api/v1/namespaces/{name}/services/elasticsearch-headless",
        f"/api/v1/namespaces/{name}/secrets/elasticsearch-credentials",
        f"/api/v1/namespaces/{name}/secrets/es-serverless-reporter",
        f"/api/v1/namespaces/{name}/secrets/elasticsearch-transport-tls",
        f"/apis/networking.k8s.io/v1/namespaces/{name}/networkpolicies/elasticsearch",
    ):
        assert server.sandbox.status(path) == 404, path
    claims = server.sandbox.get(f"/api/v1/namespaces/{name}/persistentvolumeclaims")
    assert claims["items"] == []


def unavailable(name: str) -> str:
    return f'namespace "{name}" is not available: it already exists; choose another namespace'


# -- who may name which namespace ------------------------------------------------------


def test_an_existing_foreign_namespace_is_never_taken(
    server: ServerProcess, admin: httpx.Client, org: str
) -> None:
    victim = f"victim-{org}"
    before = foreign_namespace(server, victim)

    with key_client(server, org) as orga:
        squat = create(orga, org, "alice", "squat1", namespace=victim)
        assert squat.status_code == 400, squat.text
        assert squat.json()["error"].startswith(f'namespace "{victim}" must start with "{org}-": ')
        assert graphql_error(orga, org, victim)["extensions"]["code"] == "BAD_USER_INPUT"

    # The platform admin may name any namespace, but not one that exists.
    taken = create(admin, org, "alice", "squat1", namespace=victim)
    assert taken.status_code == 409, taken.text
    assert taken.json() == {"error": unavailable(victim)}
    error = graphql_error(admin, org, victim)
    assert (error["message"], error["extensions"]["code"]) == (unavailable(victim), "CONFLICT")

    assert admin.get(f"/tenant/containers/org/{org}").json() == []
    assert_untouched(server, victim, before)


def test_an_org_key_cannot_squat_another_orgs_namespace(server: ServerProcess, org: str) -> None:
    orgb = f"{org}x"  # not under "{org}-"
    with key_client(server, org) as orga, key_client(server, org, "alice") as alice:
        for caller in (orga, alice):
            squat = create(caller, org, "alice", "search", namespace=f"{orgb}-dave-search")
            assert squat.status_code == 400, squat.text
            assert f'must start with "{org}-"' in squat.json()["error"]
    with key_client(server, orgb) as owner:
        mine = create_and_wait(owner, orgb, "dave", "search")
    assert mine["namespace"] == f"{orgb}-dave-search"


@pytest.mark.parametrize(
    "reserved",
    ["es-serverless", "default", "kube-x", "kube-system", OPERATOR_RESERVED, "team-blue"],
)
def test_reserved_namespaces_are_refused_even_for_the_admin(
    server: ServerProcess, admin: httpx.Client, org: str, reserved: str
) -> None:
    refused = create(admin, org, "alice", "s", namespace=reserved)
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == (
        f'namespace "{reserved}" is reserved for Kubernetes or the platform; choose another'
    )
    error = graphql_error(admin, org, reserved)
    assert (error["message"], error["extensions"]["code"]) == (
        refused.json()["error"],
        "BAD_USER_INPUT",
    )
    with key_client(server, org) as orga:
        assert create(orga, org, "alice", "s", namespace=reserved).status_code == 400
    assert admin.get(f"/tenant/containers/org/{org}").json() == []


def test_a_generated_namespace_under_a_reserved_prefix_is_refused(admin: httpx.Client) -> None:
    refused = create(admin, "team", "alice", "search")  # would be team-alice-search
    assert refused.status_code == 400
    assert 'the generated namespace "team-alice-search" is reserved' in refused.json()["error"]


def test_an_org_key_provisions_its_own_custom_namespace_with_the_mark(
    server: ServerProcess, org: str
) -> None:
    ns = f"{org}-custom"
    with key_client(server, org) as orga:
        cluster = create_and_wait(orga, org, "alice", "own", namespace=ns)
        assert cluster["namespace"] == ns
        meta = server.sandbox.namespace(ns)["metadata"]
        assert meta["annotations"][MARK] == cluster["id"]
        assert meta["labels"]["tenant-org-id"] == org
        assert orga.delete(f"/clusters/{ns}").status_code == 202
        status_of(orga, org, "alice", "own", "deleted")
        assert last_reason(orga, org, "alice", "own") == f"namespace {ns} removed"
    assert server.sandbox.status(f"/api/v1/namespaces/{ns}") == 404


def test_an_existing_namespace_under_the_orgs_own_prefix_is_409_like_a_taken_one(
    server: ServerProcess, org: str
) -> None:
    ns = f"{org}-pre"
    run_kubectl(server.kubeconfig, "create", "namespace", ns)
    with key_client(server, org) as orga:
        exists = create(orga, org, "alice", "one", namespace=ns)
        assert exists.status_code == 409, exists.text
        run_kubectl(server.kubeconfig, "delete", "namespace", ns)  # waits until it is gone

        create_and_wait(orga, org, "alice", "one", namespace=ns)
        taken = create(orga, org, "bob", "two", namespace=ns)
        assert taken.status_code == 409, taken.text
    # One message whoever holds it: nothing tells the caller who, or whether anyone does.
    assert exists.json()["error"] == taken.json()["error"] == unavailable(ns)


def test_a_transient_failure_of_the_create_check_does_not_fail_the_create(
    server: ServerProcess, admin: httpx.Client, org: str
) -> None:
    server.sandbox.reset_stats()
    server.sandbox.inject_fault(method="GET", resource="namespaces", status=503, count=1)
    cluster = create_and_wait(admin, org, "alice", "flaky-check")
    stats = server.sandbox.stats()
    assert stats["responses"]["GET namespaces 503"] == 1  # the create's look failed
    assert (
        server.sandbox.namespace(cluster["namespace"])["metadata"]["annotations"][MARK]
        == cluster["id"]
    )


# -- the worker never takes a namespace that is not the cluster's ----------------------


def test_a_namespace_made_between_the_check_and_provisioning_fails_the_cluster(
    make_server: Callable[..., ServerProcess], org: str
) -> None:
    server = make_server(ESS_PROVISION_CONCURRENCY="1", ESS_RECONCILE_INTERVAL_SECONDS="3600")
    blocker = f"{org}-alice-blocker"
    late = f"{org}-bob-late"
    with server.client() as admin:
        # The only provisioning slot is held by a cluster that does not get ready.
        server.sandbox.hold_readiness(blocker)
        assert create(admin, org, "alice", "blocker").status_code == 202
        status_of(admin, org, "alice", "blocker", "creating")
        assert create(admin, org, "bob", "late").status_code == 202

        # Meanwhile: a clash with that record alone (Kubernetes has no such namespace)...
        assert server.sandbox.status(f"/api/v1/namespaces/{late}") == 404
        clash = create(admin, org, "carol", "other", namespace=late)
        assert clash.status_code == 409
        # ... and someone makes the namespace.
        before = foreign_namespace(server, late)
        assert status_of(admin, org, "bob", "late", "pending")

        server.sandbox.hold_readiness(blocker, hold=False)
        failed = status_of(admin, org, "bob", "late", "failed")
        assert failed["error"] == unavailable(late)
        assert_untouched(server, late, before)

        assert admin.delete(f"/clusters/{late}").status_code == 202
        status_of(admin, org, "bob", "late", "deleted")
        reason = last_reason(admin, org, "bob", "late")
        assert reason.startswith(f"namespace {late} kept: it does not carry this cluster's")
        assert reason.endswith("none were left")
        assert_untouched(server, late, before)

        # With no record holding it any more, Kubernetes alone refuses it: same words.
        exists = create(admin, org, "dave", "other", namespace=late)
        assert exists.status_code == 409
    assert clash.json()["error"] == exists.json()["error"] == failed["error"]


def test_delete_keeps_a_namespace_that_lost_its_mark_and_removes_only_the_clusters_objects(
    server: ServerProcess, admin: httpx.Client, org: str
) -> None:
    ns = create_and_wait(admin, org, "alice", "lost")["namespace"]
    config = server.kubeconfig
    run_kubectl(config, "-n", ns, "create", "configmap", "theirs", "--from-literal=owner=them")
    # Taken out of the platform's hands: the mark and managed-by removed.
    run_kubectl(config, "annotate", "namespace", ns, f"{MARK}-")
    run_kubectl(config, "label", "namespace", ns, "app.kubernetes.io/managed-by-")
    assert server.sandbox.get(f"/api/v1/namespaces/{ns}/persistentvolumeclaims")["items"]

    assert admin.delete(f"/clusters/{ns}").status_code == 202
    status_of(admin, org, "alice", "lost", "deleted")
    assert server.sandbox.namespace(ns)["status"]["phase"] == "Active"
    theirs = server.sandbox.request("GET", f"/api/v1/namespaces/{ns}/configmaps/theirs")
    assert theirs.status_code == 200 and theirs.json()["data"] == {"owner": "them"}
    assert_no_cluster_objects(server, ns)
    wait_until(
        lambda: server.sandbox.get(f"/api/v1/namespaces/{ns}/pods")["items"] == [],
        what="the StatefulSet's pods gone with it",
    )
    reason = last_reason(admin, org, "alice", "lost")
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


def test_another_clusters_mark_is_never_adopted(
    server: ServerProcess, admin: httpx.Client, org: str
) -> None:
    ns = create_and_wait(admin, org, "alice", "marked")["namespace"]
    other = "tenant_someone_else_1"
    run_kubectl(server.kubeconfig, "annotate", "--overwrite", "namespace", ns, f"{MARK}={other}")
    labels = server.sandbox.namespace(ns)["metadata"]["labels"]

    assert admin.patch(f"/clusters/{ns}", json={}).status_code == 202  # re-apply
    assert status_of(admin, org, "alice", "marked", "failed")["error"] == unavailable(ns)
    meta = server.sandbox.namespace(ns)["metadata"]
    assert (meta["annotations"][MARK], meta["labels"]) == (other, labels)

    assert admin.delete(f"/clusters/{ns}").status_code == 202
    status_of(admin, org, "alice", "marked", "deleted")
    assert server.sandbox.namespace(ns)["metadata"]["annotations"][MARK] == other
    assert last_reason(admin, org, "alice", "marked").startswith(f"namespace {ns} kept")


def test_a_legacy_namespace_without_a_mark_is_adopted(
    server: ServerProcess, admin: httpx.Client, org: str
) -> None:
    """Earlier versions set no mark: a namespace with none, but managed-by and this
    cluster's tenant labels, created after the cluster was recorded, is the cluster's."""
    cluster = create_and_wait(admin, org, "alice", "legacy")
    ns = cluster["namespace"]
    run_kubectl(server.kubeconfig, "annotate", "namespace", ns, f"{MARK}-")

    assert admin.patch(f"/clusters/{ns}", json={}).status_code == 202
    wait_until(
        lambda: admin.get(f"/deployments/{ns}").json()["status"] == "created",
        what="the re-apply finished",
    )
    assert server.sandbox.namespace(ns)["metadata"]["annotations"][MARK] == cluster["id"]

    run_kubectl(server.kubeconfig, "annotate", "namespace", ns, f"{MARK}-")
    assert admin.delete(f"/clusters/{ns}").status_code == 202
    status_of(admin, org, "alice", "legacy", "deleted")
    assert server.sandbox.status(f"/api/v1/namespaces/{ns}") == 404
    assert last_reason(admin, org, "alice", "legacy") == f"namespace {ns} removed"
