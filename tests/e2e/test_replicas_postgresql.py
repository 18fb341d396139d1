"""Control-plane replicas on one PostgreSQL database and one sandbox cluster. Three, one
of them killed (SIGKILL) in the middle of a burst of creates: every cluster is created
exactly once, by one replica at a time, and the dead replica's work is taken over when
its leases run out. Two: a subscriber on one sees what the other does."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable

import pytest
from websockets.sync.client import connect
from websockets.typing import Subprotocol

from tests.support.database import rows
from tests.support.http import all_at_once, create_accepted
from tests.support.servers import ServerProcess, StandaloneSandbox
from tests.support.waiting import wait_until

CLUSTERS = 100
BEFORE_THE_KILL = 60  # creates spread over all three; the rest over the two left
HELD = 6  # the victim's clusters kept not ready, so it dies with work in progress
LEASES = {
    "ESS_LEASE_SECONDS": "3",
    "ESS_LEASE_HEARTBEAT_SECONDS": "0.5",
    # No reconciler pass: at the end no lease is held at all, not even a check's.
    "ESS_RECONCILE_INTERVAL_SECONDS": "3600",
}


def _creates(org: str, numbers: range) -> list[tuple[str, str, dict[str, object]]]:
    return [
        ("POST", "/clusters", {"tenant_org_id": org, "user": f"u{n % 7}", "service_name": f"s{n}"})
        for n in numbers
    ]


@pytest.mark.slow
def test_three_replicas_one_killed_midway_create_every_cluster_exactly_once(
    postgres_replica_env: dict[str, str],
    make_server: Callable[..., ServerProcess],
    standalone_sandbox: StandaloneSandbox,
    org: str,
) -> None:
    url = postgres_replica_env["ESS_DATABASE_URL"]
    servers = [make_server(**postgres_replica_env, **LEASES) for _ in range(3)]
    victim = servers[2]
    sandbox = standalone_sandbox.api
    first = _creates(org, range(BEFORE_THE_KILL))
    # all_at_once sends call n to servers[n % 3]: the victim's are n % 3 == 2.
    held = [first[n][2] for n in range(2, BEFORE_THE_KILL, 3)][:HELD]
    held_namespaces = {f"{org}-{body['user']}-{body['service_name']}" for body in held}
    for namespace in held_namespaces:
        sandbox.hold_readiness(namespace)
    sandbox.control("DELETE", "stats")

    answers = all_at_once(servers, first)
    assert [a.status_code for a in answers] == [202] * len(first), [a.text for a in answers]
    namespaces = {a.json()["namespace"] for a in answers}
    assert held_namespaces <= namespaces

    def victim_holds_its_held_clusters() -> bool:
        owners = rows(
            url,
            "SELECT status, lease_owner FROM tenant_containers WHERE namespace = ANY(:ns)",
            ns=sorted(held_namespaces),
        )
        return len(owners) == HELD and all(status == "creating" for status, _ in owners)

    wait_until(victim_holds_its_held_clusters, timeout=60, what="the victim working")
    (victim_name,) = {
        owner
        for (owner,) in rows(
            url,
            "SELECT lease_owner FROM tenant_containers WHERE namespace = ANY(:ns)",
            ns=sorted(held_namespaces),
        )
    }
    victim.stop(kill=True)
    killed_at = time.time()
    for namespace in held_namespaces:
        sandbox.hold_readiness(namespace, hold=False)

    survivors = servers[:2]
    rest = all_at_once(survivors, _creates(org, range(BEFORE_THE_KILL, CLUSTERS)))
    assert [a.status_code for a in rest] == [202] * len(rest), [a.text for a in rest]
    namespaces |= {a.json()["namespace"] for a in rest}
    assert len(namespaces) == CLUSTERS

    def statuses() -> Counter[str]:
        with survivors[0].client() as admin:
            listed = admin.get(f"/tenant/containers/org/{org}").json()
        return Counter(c["status"] for c in listed)

    wait_until(lambda: statuses() == {"created": CLUSTERS}, timeout=180, what="all created")

    # Each status change is one recorded transition: pending, creating, created, once.
    events = rows(
        url,
        "SELECT c.namespace, e.from_status, e.to_status, e.reason, e.at FROM cluster_events e"
        " JOIN tenant_containers c ON c.id = e.container_id WHERE c.tenant_org_id = :org"
        " ORDER BY e.id",
        org=org,
    )
    changes: dict[str, list[str]] = {ns: [] for ns in namespaces}
    taken_over: set[str] = set()
    for namespace, before, to, reason, at in events:
        if before != to:
            changes[namespace].append(to)
        elif reason.startswith("work taken over"):
            assert f"replica {victim_name}'s lease ran out" in reason, reason
            # Only once the dead replica's lease ran out (it was renewed until the kill).
            assert at.timestamp() >= killed_at, (namespace, reason)
            taken_over.add(namespace)
    assert all(steps == ["pending", "creating", "created"] for steps in changes.values()), changes
    assert held_namespaces <= taken_over, taken_over

    # Every Kubernetes object was created once. Where no work was taken over, the only
    # create that found its object there is the one work done once makes: the config
    # re-applied without the bootstrap list once the cluster formed (create, then
    # replace). Repeated steps happened only where the dead replica's work was resumed.
    stats = sandbox.stats()
    created = {key: n for key, n in stats["created"].items() if _namespace_of(key) in namespaces}
    assert set(map(_namespace_of, created)) == namespaces
    assert {key: n for key, n in created.items() if n != 1} == {}
    repeated: dict[str, dict[str, int]] = {}
    for key, n in stats["already_existed"].items():
        repeated.setdefault(_namespace_of(key), {})[key] = n
    for namespace in namespaces - taken_over:
        once = {f"configmaps {namespace}/elasticsearch-config": 1}
        assert repeated.get(namespace) == once, (namespace, repeated.get(namespace))

    # No lease is left behind: every piece of work released its lease with its outcome.
    assert rows(
        url,
        "SELECT namespace, lease_owner FROM tenant_containers WHERE lease_owner IS NOT NULL",
    ) == []


def _namespace_of(key: str) -> str:
    """The namespace of a sandbox object key: "statefulsets ns/name" or "namespaces ns"."""
    resource, where = key.split(" ", 1)
    return where if resource == "namespaces" else where.split("/", 1)[0]


EVENTS = """
subscription($org: String!) {
  clusterEvents(tenantOrgId: $org) { serviceName event { from to } }
}
"""


def test_a_subscriber_on_one_replica_sees_the_changes_another_replica_makes(
    postgres_replicas: list[ServerProcess], org: str
) -> None:
    writer, watched = postgres_replicas
    with connect(
        watched.ws_url, subprotocols=[Subprotocol("graphql-transport-ws")], open_timeout=10
    ) as socket:
        socket.send(json.dumps({"type": "connection_init", "payload": watched.headers}))
        assert json.loads(socket.recv(timeout=10))["type"] == "connection_ack"
        subscribe = {"query": EVENTS, "variables": {"org": org}}
        socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": subscribe}))
        time.sleep(0.5)  # subscribed: only what happens from then on is sent
        with writer.client() as client:
            create_accepted(client, org, "zoe", "remote")
        seen = []
        while [step["to"] for step in seen][-1:] != ["created"]:
            message = json.loads(socket.recv(timeout=30))
            assert message["type"] == "next", message
            update = message["payload"]["data"]["clusterEvents"]
            assert update["serviceName"] == "remote"
            seen.append(update["event"])
    assert [(step["from"], step["to"]) for step in seen] == [
        (None, "pending"),
        ("pending", "creating"),
        ("creating", "created"),
    ]
