"""Elasticsearch versions end to end, against the sandbox: a cluster runs the image of
its version; an upgrade is a rolling restart, one pod at a time, highest ordinal first
(the sandbox's StatefulSet controller shows the order in its pods' watch), with status
upgrading, its progress in REST and GraphQL and an event per pod; refusals are 400 /
BAD_USER_INPUT with words that say what is allowed."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.support.inprocess import (
    InProcessServer,
    create,
    create_and_wait,
    events,
    graphql,
    wait_for_status,
)

REPOSITORY = "docker.elastic.co/elasticsearch/elasticsearch"
OFFERED = ["8.17.10", "8.18.8", "8.19.5", "9.0.8", "9.1.5", "9.2.0"]


def images(pods: list[dict[str, Any]]) -> dict[str, str]:
    return {p["metadata"]["name"]: p["spec"]["containers"][0]["image"] for p in pods}


async def pods_of(app: InProcessServer, namespace: str) -> list[dict[str, Any]]:
    listed = await app.sandbox.get(f"/api/v1/namespaces/{namespace}/pods")
    return [p for p in listed["items"] if p["metadata"]["name"].startswith("elasticsearch-")]


async def test_a_cluster_runs_the_image_of_its_version(
    app_server: InProcessServer, admin_client: httpx.AsyncClient, org: str
) -> None:
    default = await create_and_wait(admin_client, org, "alice", "plain")
    assert default["version"] == "9.1.5"
    chosen = await create_and_wait(admin_client, org, "alice", "older", version="8.19.5")
    assert chosen["version"] == "8.19.5"
    sts = await app_server.sandbox.statefulset(chosen["namespace"])
    assert sts["spec"]["template"]["spec"]["containers"][0]["image"] == f"{REPOSITORY}:8.19.5"
    assert sts["spec"]["updateStrategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 1, "partition": 0},
    }
    assert set(images(await pods_of(app_server, default["namespace"])).values()) == {
        f"{REPOSITORY}:9.1.5"
    }
    deployment = (await admin_client.get(f"/deployments/{chosen['namespace']}")).json()
    assert deployment["version"] == "8.19.5" and "upgrade" not in deployment

    # GraphQL takes and shows the same field.
    made = await graphql(
        admin_client,
        "mutation($i: CreateClusterInput!) { createCluster(input: $i) { namespace version } }",
        {"i": {"tenantOrgId": org, "user": "bob", "serviceName": "gql", "version": "9.2.0"}},
    )
    assert made["data"]["createCluster"]["version"] == "9.2.0", made
    await wait_for_status(
        admin_client, user="bob", service_name="gql", tenant_org_id=org, wanted={"created"}
    )
    sts = await app_server.sandbox.statefulset(made["data"]["createCluster"]["namespace"])
    assert sts["spec"]["template"]["spec"]["containers"][0]["image"] == f"{REPOSITORY}:9.2.0"


async def test_what_may_be_chosen_and_upgraded_to(
    app_server: InProcessServer, admin_client: httpx.AsyncClient, org: str
) -> None:
    assert (await admin_client.get("/versions")).json() == {
        "versions": OFFERED,
        "default": "9.1.5",
    }
    on_918 = await create_and_wait(admin_client, org, "alice", "a", version="8.18.8")
    on_919 = await create_and_wait(admin_client, org, "alice", "b", version="8.19.5")
    rest = (await admin_client.get(f"/clusters/{on_918['namespace']}/versions")).json()
    # A major upgrade starts from the newest 8.x offered.
    assert rest == {"namespace": on_918["namespace"], "version": "8.18.8", "upgrades": ["8.19.5"]}
    answer = await graphql(
        admin_client,
        "query($a: String!, $b: String!) { all: availableVersions defaultVersion"
        " a: availableVersions(namespace: $a) b: availableVersions(namespace: $b) }",
        {"a": on_918["namespace"], "b": on_919["namespace"]},
    )
    assert answer["data"] == {
        "all": OFFERED,
        "defaultVersion": "9.1.5",
        "a": ["8.19.5"],
        "b": ["9.0.8", "9.1.5", "9.2.0"],
    }
    missing = await admin_client.get("/clusters/no-such-namespace/versions")
    assert missing.status_code == 404
    unseen = await graphql(admin_client, '{ availableVersions(namespace: "no-such-namespace") }')
    assert unseen["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def watch_pods(app: InProcessServer, namespace: str, seen: list[tuple[str, str]]) -> None:
    """(event, pod) in order: DELETED when the controller takes a pod away, READY when
    a pod of the new image becomes ready."""
    async for event in app.sandbox.watch(f"/api/v1/namespaces/{namespace}/pods"):
        pod = event["object"]
        name = pod["metadata"]["name"]
        ready = any(
            c["type"] == "Ready" and c["status"] == "True"
            for c in (pod.get("status") or {}).get("conditions") or []
        )
        if event["type"] == "DELETED":
            seen.append(("DELETED", name))
        elif (
            ready
            and pod["spec"]["containers"][0]["image"].endswith(":9.2.0")
            and ("READY", name) not in seen
        ):
            seen.append(("READY", name))


async def test_upgrade_rolls_one_pod_at_a_time_highest_ordinal_first(
    app_server: InProcessServer, admin_client: httpx.AsyncClient, org: str
) -> None:
    created = await create_and_wait(admin_client, org, "alice", "roll", replicas=3)
    namespace = created["namespace"]
    # Each new pod takes a while to be ready, so the upgrade can be watched under way.
    await app_server.sandbox.set_readiness(namespace, hold=False, ready_seconds=1.0)
    seen: list[tuple[str, str]] = []
    watcher = asyncio.create_task(watch_pods(app_server, namespace, seen))
    await asyncio.sleep(0.2)  # the watch is open

    response = await admin_client.patch(f"/clusters/{namespace}", json={"version": "9.2.0"})
    assert response.status_code == 202, response.text
    assert (response.json()["status"], response.json()["version"]) == ("upgrading", "9.2.0")
    progress: list[dict[str, Any]] = []
    statuses: set[str] = set()
    for _ in range(600):
        deployment = (await admin_client.get(f"/deployments/{namespace}")).json()
        statuses.add(deployment["status"])
        if "upgrade" in deployment and deployment["upgrade"] not in progress:
            progress.append(deployment["upgrade"])
        if deployment["status"] != "upgrading":
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    watcher.cancel()

    assert deployment["status"] == "created", deployment
    assert "upgrade" not in deployment and deployment["version"] == "9.2.0"
    assert "upgrading" in statuses
    assert progress[0] == {"from_version": "9.1.5", "to_version": "9.2.0", "updated": 0, "total": 3}
    counts = [p["updated"] for p in progress]
    assert counts == sorted(counts) and all(p["total"] == 3 for p in progress), progress
    # The controller's order: a pod goes, its replacement on the new image becomes
    # ready, and only then does the next one go; highest ordinal first.
    assert seen == [
        ("DELETED", "elasticsearch-2"),
        ("READY", "elasticsearch-2"),
        ("DELETED", "elasticsearch-1"),
        ("READY", "elasticsearch-1"),
        ("DELETED", "elasticsearch-0"),
        ("READY", "elasticsearch-0"),
    ]
    assert set(images(await pods_of(app_server, namespace)).values()) == {f"{REPOSITORY}:9.2.0"}

    history = await events(admin_client, org, "alice", "roll")
    upgrade = [(e["from"], e["to"], e["reason"]) for e in history][-5:]
    assert upgrade == [
        ("created", "upgrading", "upgrade requested: 9.1.5 → 9.2.0"),
        ("upgrading", "upgrading", "elasticsearch-2 runs 9.2.0 (1/3)"),
        ("upgrading", "upgrading", "elasticsearch-1 runs 9.2.0 (2/3)"),
        ("upgrading", "upgrading", "elasticsearch-0 runs 9.2.0 (3/3)"),
        ("upgrading", "created", "upgrade to 9.2.0 rolled out; all replicas ready"),
    ]
    tree = await graphql(
        admin_client,
        "query($o: String!) { organization(id: $o) { containers { version status"
        " deployment { version upgrade { updated } } } } }",
        {"o": org},
    )
    assert tree["data"]["organization"]["containers"] == [
        {
            "version": "9.2.0",
            "status": "created",
            "deployment": {"version": "9.2.0", "upgrade": None},
        }
    ]


async def test_graphql_shows_an_upgrade_under_way(
    app_server: InProcessServer, admin_client: httpx.AsyncClient, org: str
) -> None:
    created = await create_and_wait(admin_client, org, "alice", "held", replicas=2)
    namespace = created["namespace"]
    await app_server.sandbox.hold_readiness(namespace)
    answer = await graphql(
        admin_client,
        'mutation($n: String!) { updateCluster(namespace: $n, input: {version: "9.2.0"})'
        " { status version } }",
        {"n": namespace},
    )
    assert answer["data"]["updateCluster"] == {"status": "upgrading", "version": "9.2.0"}
    query = (
        "query($n: String!) { deploymentStatus(namespace: $n) { status version"
        " upgrade { fromVersion toVersion updated total } } }"
    )
    under_way = await graphql(admin_client, query, {"n": namespace})
    assert under_way["data"]["deploymentStatus"] == {
        "status": "upgrading",
        "version": "9.2.0",
        "upgrade": {"fromVersion": "9.1.5", "toVersion": "9.2.0", "updated": 0, "total": 2},
    }
    # Another change meanwhile is refused as for an update under way.
    busy = await admin_client.patch(f"/clusters/{namespace}", json={"replicas": 3})
    assert busy.status_code == 409 and "upgrading" in busy.json()["error"], busy.text
    await app_server.sandbox.hold_readiness(namespace, hold=False)
    await wait_for_status(
        admin_client, user="alice", service_name="held", tenant_org_id=org, wanted={"created"}
    )
    done = await graphql(admin_client, query, {"n": namespace})
    assert done["data"]["deploymentStatus"]["upgrade"] is None


UNKNOWN = (
    'version "9.9.9" is not available; available versions: '
    "8.17.10, 8.18.8, 8.19.5, 9.0.8, 9.1.5, 9.2.0"
)
DOWNGRADE = (
    "version 8.19.5 is older than the cluster's 9.1.5: Elasticsearch cannot be downgraded "
    "(upgrades available: 9.2.0)"
)
MIXED = (
    "an upgrade changes only the version: replicas cannot change in the same update; "
    "upgrade first, then send the other changes as another update"
)


async def test_refused_upgrades_say_what_is_allowed(
    admin_client: httpx.AsyncClient, org: str
) -> None:
    created = await create_and_wait(admin_client, org, "alice", "stay")
    namespace = created["namespace"]
    for body, message in (
        ({"version": "8.19.5"}, DOWNGRADE),
        ({"version": "9.9.9"}, UNKNOWN),
        ({"version": "9.2.0", "replicas": 2}, MIXED),
        ({"version": 9.2}, "version must be a string"),
    ):
        response = await admin_client.patch(f"/clusters/{namespace}", json=body)
        assert (response.status_code, response.json()) == (400, {"error": message}), body
    refused = await graphql(
        admin_client,
        'mutation($n: String!) { updateCluster(namespace: $n, input: {version: "8.19.5"})'
        " { status } }",
        {"n": namespace},
    )
    assert refused["errors"][0]["message"] == DOWNGRADE
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    unknown = await create(admin_client, org, "alice", "new", version="9.9.9")
    assert (unknown.status_code, unknown.json()) == (400, {"error": UNKNOWN})
    # Nothing was recorded by the refusals: the cluster is as it was.
    after = (await admin_client.get(f"/deployments/{namespace}")).json()
    assert (after["status"], after["version"], after["replicas"]) == ("created", "9.1.5", 1)
    history = await events(admin_client, org, "alice", "stay")
    assert [e["to"] for e in history] == ["pending", "creating", "created"]
    # The same version is no upgrade: an update like any other.
    same = await admin_client.patch(f"/clusters/{namespace}", json={"version": "9.1.5"})
    assert same.json()["status"] == "updating", same.text


async def test_majors_one_at_a_time_from_the_newest_minor(make_app: Any, org: str) -> None:
    app = await make_app(es_versions=["7.17.29", *OFFERED])
    async with app.client() as http:
        seven = await create_and_wait(http, org, "alice", "seven", version="7.17.29")
        skip = await http.patch(f"/clusters/{seven['namespace']}", json={"version": "9.2.0"})
        assert (skip.status_code, skip.json()) == (
            400,
            {
                "error": "version 9.2.0 is more than one major version above the cluster's "
                "7.17.29: upgrade one major version at a time (upgrades available: "
                "8.17.10, 8.18.8, 8.19.5)"
            },
        )
        old_minor = await create_and_wait(http, org, "alice", "eight", version="8.18.8")
        early = await http.patch(f"/clusters/{old_minor['namespace']}", json={"version": "9.0.8"})
        assert early.status_code == 400
        assert early.json()["error"] == (
            "version 9.0.8 is a major upgrade, which starts from the newest 8.x (8.19.5): "
            "upgrade the cluster to 8.19.5 first (upgrades available: 8.19.5)"
        )
        to_eight = await http.patch(f"/clusters/{seven['namespace']}", json={"version": "8.19.5"})
        assert to_eight.status_code == 202, to_eight.text
        done = await wait_for_status(
            http, user="alice", service_name="seven", tenant_org_id=org, wanted={"created"}
        )
        assert done["version"] == "8.19.5"
        sts = await app.sandbox.statefulset(seven["namespace"])
        assert sts["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":8.19.5")


async def test_a_failed_upgrade_is_resumed_by_a_re_apply(make_app: Any, org: str) -> None:
    app = await make_app(ready_timeout_seconds=3)
    async with app.client() as http:
        created = await create_and_wait(http, org, "alice", "stuck", replicas=2)
        namespace = created["namespace"]
        await app.sandbox.hold_readiness(namespace)  # the new pods never get ready
        response = await http.patch(f"/clusters/{namespace}", json={"version": "9.2.0"})
        assert response.status_code == 202, response.text
        failed = await wait_for_status(
            http, user="alice", service_name="stuck", tenant_org_id=org, wanted={"failed"}
        )
        assert "was not ready after 3s" in failed["error"], failed
        stopped = (await http.get(f"/deployments/{namespace}")).json()
        # How far it came stays shown; the version is the one it is going to.
        assert stopped["upgrade"] == {
            "from_version": "9.1.5",
            "to_version": "9.2.0",
            "updated": 0,
            "total": 2,
        }
        # An upgrade starts from created only; the repair resumes this one.
        again = await http.patch(f"/clusters/{namespace}", json={"version": "9.2.0"})
        assert again.status_code == 202, again.text
        assert again.json()["status"] == "upgrading"
        await app.sandbox.hold_readiness(namespace, hold=False)
        await wait_for_status(
            http, user="alice", service_name="stuck", tenant_org_id=org, wanted={"created"}
        )
        history = await events(http, org, "alice", "stuck")
        assert [(e["to"], e["reason"]) for e in history][-4:] == [
            ("upgrading", "re-apply requested: upgrade to 9.2.0 resumed"),
            ("upgrading", "elasticsearch-1 runs 9.2.0 (1/2)"),
            ("upgrading", "elasticsearch-0 runs 9.2.0 (2/2)"),
            ("created", "upgrade to 9.2.0 rolled out; all replicas ready"),
        ]
