"""The ClusterRole of deploy/ against what the control plane really asks of Kubernetes.

Recorded: one run through every path that calls the API (create, a rolling update that grows the
disk, a scale-down, a reconciler pass with usage collection, /readyz, a delete, and a
delete from a namespace that lost its ownership mark, which removes the objects one
by one), with the sandbox counting each request by its RBAC attributes (group,
resource, verb). Every one must be granted, and nothing granted may go unused.

Read from the code: every Kubernetes API method the control plane names directly (not
through the by-kind table of app/kube/verbs.py, which the recorded run covers), mapped
to its request by kubernetes-asyncio's own path and HTTP method, must be granted, so a
call on a path the run does not take is caught too."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

from kubernetes_asyncio import client

from tests.conftest import MakeApp
from tests.support.deploy import Grant, cluster_role_grants
from tests.support.inprocess import InProcessServer, create_and_wait, wait_for_status
from tests.support.sandbox import namespace_path

MARK = "es-serverless.io/cluster-id"
APP = Path(__file__).resolve().parents[2] / "app"
# KubeClient's attributes: the kubernetes-asyncio API classes.
APIS = {
    "core": client.CoreV1Api,
    "apps": client.AppsV1Api,
    "networking": client.NetworkingV1Api,
    "policy": client.PolicyV1Api,
    "custom": client.CustomObjectsApi,
}
_CALL = re.compile(r"call_api\(\s*'([^']+)', '([A-Z]+)'")
_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


def grant_of(api: type, method: str, keywords: dict[str, str]) -> Grant:
    """What RBAC is asked for a call of ``api.method``, from the path and HTTP method
    kubernetes-asyncio sends (``keywords``: the call's constant arguments, which fill
    in a custom object's group and plural)."""
    found = _CALL.search(inspect.getsource(getattr(api, f"{method}_with_http_info")))
    assert found is not None, method
    path, http_method = found.groups()
    path = re.sub(r"\{(group|plural)\}", lambda m: keywords[m.group(1)], path)
    parts = path.strip("/").split("/")
    # /api/v1/... (the core group) or /apis/<group>/<version>/...
    group, parts = ("", parts[2:]) if parts[0] == "api" else (parts[1], parts[3:])
    if parts[0] == "namespaces" and len(parts) > 2:
        parts = parts[2:]
    resource, *rest = parts
    item = bool(rest)  # {name}, perhaps a subresource after it
    if len(rest) == 2:
        resource = f"{resource}/{rest[1]}"
    if http_method == "GET":
        verb = "get" if item else ("watch" if keywords.get("watch") else "list")
    else:
        verb = _VERBS[http_method] if item or http_method != "DELETE" else "deletecollection"
    return group, resource, verb


def direct_calls() -> set[Grant]:
    """The grants of every API method referenced as ``<...>.core.<method>`` (and apps,
    networking, policy, custom) in app/, outside app/kube/verbs.py."""
    grants: set[Grant] = set()
    for path in APP.rglob("*.py"):
        if path == APP / "kube" / "verbs.py":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            keywords = {
                k.arg: k.value.value
                for k in node.keywords
                if k.arg and isinstance(k.value, ast.Constant)
            }
            for argument in [node.func, *node.args]:
                if (
                    isinstance(argument, ast.Attribute)
                    and isinstance(argument.value, ast.Attribute)
                    and argument.value.attr in APIS
                    and hasattr(APIS[argument.value.attr], argument.attr)
                ):
                    api = APIS[argument.value.attr]
                    grants.add(grant_of(api, argument.attr, keywords))
    return grants


def test_every_api_method_the_code_names_is_granted() -> None:
    called = direct_calls()
    # The mapping itself, on calls whose grants are known.
    assert {
        ("", "namespaces", "list"),
        ("apps", "statefulsets/scale", "patch"),
        ("apps", "statefulsets/status", "get"),
        ("metrics.k8s.io", "pods", "list"),
    } <= called
    assert sorted(called - cluster_role_grants()) == []


ZONE_LABEL = "topology.kubernetes.io/zone"


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
    # A node with a zone: the control plane then lists nodes, reads a pod's node and
    # annotates the pod with its zone (shard allocation awareness).
    await app.sandbox.merge_patch(
        "/api/v1/nodes/sandbox-node", {"metadata": {"labels": {ZONE_LABEL: "zone-a"}}}
    )
    app.runtime.sandbox.reset_stats()
    # The namespace informer listed and watched at the start: started again, it does so
    # now, while this test's calls are recorded.
    await app.runtime.tasks.cancel("namespace-informer")
    app.runtime.tasks.start("namespace-informer", app.runtime.namespaces.run_forever())
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
