"""Concurrent changes of one cluster: exactly one is accepted, a delete always wins, and
whatever happens in between (a restart included) the records and the Kubernetes
objects end up agreeing. The reconciler notices when they stop agreeing."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from app.kube.quantity import parse_quantity
from tests.support.http import Call, all_at_once, create_accepted, wait_for_status
from tests.support.kubectl import run_kubectl
from tests.support.servers import ServerProcess, StandaloneSandbox
from tests.support.waiting import wait_until

IN_PROGRESS = {"pending", "creating", "updating", "deleting"}
_FOUR_CHANGES: list[dict[str, Any]] = [
    {"replicas": 3},
    {"cpu_limit": "3"},
    {"disk_size": "30Gi"},
    {"mem_limit": "4Gi"},
]


def _records(client: httpx.Client, org: str) -> list[dict[str, Any]]:
    response = client.get(f"/tenant/containers/org/{org}", params={"include_deleted": "true"})
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()
    return rows


def _settled(client: httpx.Client, org: str) -> Callable[[], bool]:
    def check() -> bool:
        return not {r["status"] for r in _records(client, org)} & IN_PROGRESS

    return check


def _kubernetes(kubeconfig: Path, org: str) -> dict[str, dict[str, Any]]:
    """What Kubernetes holds for the organisation, per namespace, as kubectl reads it."""
    namespaces = json.loads(
        run_kubectl(kubeconfig, "get", "namespaces", "-l", f"tenant-org-id={org}", "-o", "json")
    )["items"]
    held: dict[str, dict[str, Any]] = {
        ns["metadata"]["name"]: {"statefulset": None, "claims": {}} for ns in namespaces
    }
    for name in held:
        objects = json.loads(
            run_kubectl(kubeconfig, "-n", name, "get", "statefulsets,pvc", "-o", "json")
        )["items"]
        for obj in objects:
            if obj["kind"] == "StatefulSet" and obj["metadata"]["name"] == "elasticsearch":
                held[name]["statefulset"] = obj
            elif obj["kind"] == "PersistentVolumeClaim":
                size = obj["spec"]["resources"]["requests"]["storage"]
                held[name]["claims"][obj["metadata"]["name"]] = size
    return held


def _q(text: str) -> Decimal:
    return parse_quantity(text)


def _assert_runs_as_recorded(
    client: httpx.Client, namespace: str, kube: dict[str, dict[str, Any]]
) -> None:
    deployment = client.get(f"/deployments/{namespace}").json()
    details, replicas = deployment["details"], deployment["replicas"]
    assert namespace in kube, f"{namespace} is {deployment['status']} but has no namespace"
    sts = kube[namespace]["statefulset"]
    assert sts is not None, f"{namespace}: no StatefulSet"
    assert sts["spec"]["replicas"] == replicas, (namespace, sts["spec"]["replicas"], replicas)
    (container,) = [
        c for c in sts["spec"]["template"]["spec"]["containers"] if c["name"] == "elasticsearch"
    ]
    resources = container["resources"]
    seen = {
        "cpu_request": resources["requests"]["cpu"],
        "cpu_limit": resources["limits"]["cpu"],
        "mem_request": resources["requests"]["memory"],
        "mem_limit": resources["limits"]["memory"],
        "disk_size": sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"][
            "storage"
        ],
    }
    assert {k: _q(v) for k, v in seen.items()} == {k: _q(details[k]) for k in seen}, (
        namespace,
        seen,
        details,
    )
    claims = kube[namespace]["claims"]
    for ordinal in range(replicas):
        claim = f"data-elasticsearch-{ordinal}"
        assert _q(claims[claim]) == _q(details["disk_size"]), (namespace, claims, details)


def test_four_parallel_updates_one_is_accepted_and_it_is_what_runs(
    server: ServerProcess, client: httpx.Client, org: str
) -> None:
    ns = create_accepted(client, org, "ulla", "fourway")["namespace"]
    wait_for_status(
        client, user="ulla", service_name="fourway", tenant_org_id=org, wanted={"created"}
    )
    changes = _FOUR_CHANGES
    responses = all_at_once(server, [("PATCH", f"/clusters/{ns}", c) for c in changes])

    codes = sorted(r.status_code for r in responses)
    assert codes == [202, 409, 409, 409], [r.text for r in responses]
    for refused in (r for r in responses if r.status_code == 409):
        message = refused.json()["error"]
        assert "updating" in message and ns in message, message
    (winner,) = [c for c, r in zip(changes, responses, strict=True) if r.status_code == 202]

    done = wait_for_status(
        client,
        user="ulla",
        service_name="fourway",
        tenant_org_id=org,
        wanted={"created", "failed", "degraded"},
    )
    assert done["status"] == "created", done
    details = client.get(f"/deployments/{ns}").json()["details"]
    defaults = {"replicas": 1, "cpu_limit": "2", "disk_size": "10Gi", "mem_limit": "2Gi"}
    recorded = {k: done["replicas"] if k == "replicas" else details[k] for k in defaults}
    assert recorded == defaults | winner
    _assert_runs_as_recorded(client, ns, _kubernetes(server.kubeconfig, org))
    events = client.get(
        "/tenant/containers/ulla/fourway/events", params={"tenant_org_id": org}
    ).json()
    assert [e["to"] for e in events] == ["pending", "creating", "created", "updating", "created"]


def test_a_delete_overtakes_an_update_in_progress(
    server: ServerProcess, client: httpx.Client, org: str
) -> None:
    ns = create_accepted(client, org, "vera", "overtaken")["namespace"]
    wait_for_status(
        client, user="vera", service_name="overtaken", tenant_org_id=org, wanted={"created"}
    )
    server.sandbox.hold_readiness(ns)
    assert client.patch(f"/clusters/{ns}", json={"replicas": 2}).status_code == 202
    # While the update waits for readiness, nothing else may change the cluster but a delete.
    again = client.patch(f"/clusters/{ns}", json={"replicas": 3})
    assert again.status_code == 409
    assert "is updating" in again.json()["error"]
    assert client.delete(f"/clusters/{ns}").status_code == 202
    deleted = wait_for_status(
        client,
        user="vera",
        service_name="overtaken",
        tenant_org_id=org,
        wanted={"deleted"},
        include_deleted=True,
    )
    assert deleted["replicas"] == 2
    events = client.get(
        "/tenant/containers/vera/overtaken/events",
        params={"tenant_org_id": org, "include_deleted": "true"},
    ).json()
    assert [e["to"] for e in events][-3:] == ["updating", "deleting", "deleted"]
    assert _kubernetes(server.kubeconfig, org) == {}


def test_update_delete_update_races_and_a_restart_converge(
    standalone_sandbox: StandaloneSandbox, make_server: Callable[..., ServerProcess], org: str
) -> None:
    server = make_server(ESS_KUBE_MODE="kubeconfig", KUBECONFIG=str(standalone_sandbox.kubeconfig))
    raced = [f"race{n}" for n in range(8)]
    updated_only = ["keep0", "keep1"]
    with server.client() as client:
        namespaces = {
            svc: create_accepted(client, org, "wes", svc)["namespace"]
            for svc in raced + updated_only
        }
        wait_until(
            lambda: [r["status"] for r in _records(client, org)] == ["created"] * len(namespaces),
            timeout=60,
            what="all created",
        )
    standalone_sandbox.api.reset_stats()

    calls: list[Call] = []
    for svc in raced:
        path = f"/clusters/{namespaces[svc]}"
        calls += [
            ("PATCH", path, {"replicas": 2}),
            ("DELETE", path, None),
            ("PATCH", path, {"disk_size": "20Gi"}),
        ]
    for svc in updated_only:
        path = f"/clusters/{namespaces[svc]}"
        calls += [("PATCH", path, {"replicas": 2}), ("PATCH", path, {"cpu_limit": "3"})]
    # The updated clusters' new pods cannot get ready until after the restart, so the
    # restart always comes mid-work (without the hold, a fast machine may finish first).
    for svc in updated_only:
        standalone_sandbox.api.hold_readiness(namespaces[svc])
    responses = all_at_once(server, calls)
    server.stop()  # right after the burst, with the work in flight
    for svc in updated_only:
        standalone_sandbox.api.hold_readiness(namespaces[svc], hold=False)

    by_call = list(zip(calls, responses, strict=True))
    # A raced cluster's update may also come after its delete has finished (404: the
    # cluster is gone); the others' updates only win or lose the compare-and-set.
    raced_paths = {f"/clusters/{namespaces[svc]}" for svc in raced}
    assert all(
        r.status_code in ((202, 409, 404) if path in raced_paths else (202, 409))
        for (_, path, _), r in by_call
    ), [r.text for _, r in by_call]
    assert all(r.status_code == 202 for (method, _, _), r in by_call if method == "DELETE")
    for svc in raced + updated_only:
        path = f"/clusters/{namespaces[svc]}"
        accepted = [
            r
            for (method, p, _), r in by_call
            if p == path and method == "PATCH" and r.status_code == 202
        ]
        # One change at a time: a raced cluster's delete may come before both updates,
        # and an unheld one may finish its first update before the second is taken
        # (checked in its history after the restart: the second began from created).
        assert len(accepted) in ({0, 1, 2} if svc in raced else {1}), (svc, accepted)

    server.restart()
    with server.client() as client:
        wait_until(_settled(client, org), timeout=90, what="every cluster settled")
        assert "resuming work on" in server.log()  # the restart did come mid-work
        records = {r["service_name"]: r for r in _records(client, org)}
        assert {svc: records[svc]["status"] for svc in raced} == dict.fromkeys(raced, "deleted")
        for svc in raced:
            steps = [
                (e["from"], e["to"])
                for e in client.get(
                    f"/tenant/containers/wes/{svc}/events",
                    params={"tenant_org_id": org, "include_deleted": "true"},
                ).json()
            ]
            # Never an update taken while another was under way (progress events of a
            # scale-down, from updating to updating, are no new update).
            changes = [(before, to) for before, to in steps if before != to]
            assert all(before != "updating" for before, to in changes if to == "updating"), steps
        assert {svc: records[svc]["status"] for svc in updated_only} == dict.fromkeys(
            updated_only, "created"
        )
        kube = _kubernetes(standalone_sandbox.kubeconfig, org)
        assert sorted(kube) == sorted(namespaces[svc] for svc in updated_only)
        for svc in updated_only:
            _assert_runs_as_recorded(client, namespaces[svc], kube)
        # No deleted cluster comes back, and none was ever re-created.
        time.sleep(2)
        assert sorted(_kubernetes(standalone_sandbox.kubeconfig, org)) == sorted(kube)
        assert {r["service_name"]: r["status"] for r in _records(client, org)} == {
            svc: records[svc]["status"] for svc in records
        }
    stats = standalone_sandbox.api.stats()
    assert stats["responses"].get("POST namespaces 201", 0) == 0, stats["responses"]


def test_two_server_processes_on_postgresql_accept_one_change_at_a_time(
    postgres_replicas: list[ServerProcess], standalone_sandbox: StandaloneSandbox, org: str
) -> None:
    servers = postgres_replicas
    services = ["pg0", "pg1", "pg2"]
    with servers[0].client() as client:
        namespaces = {
            svc: create_accepted(client, org, "yves", svc)["namespace"] for svc in services
        }
        wait_until(
            lambda: [r["status"] for r in _records(client, org)] == ["created"] * len(services),
            timeout=60,
            what="all created",
        )
    four = [("PATCH", f"/clusters/{namespaces['pg0']}", c) for c in _FOUR_CHANGES]
    raced = [
        call
        for svc in services[1:]
        for call in [
            ("PATCH", f"/clusters/{namespaces[svc]}", {"replicas": 2}),
            ("DELETE", f"/clusters/{namespaces[svc]}", None),
            ("PATCH", f"/clusters/{namespaces[svc]}", {"disk_size": "20Gi"}),
        ]
    ]
    responses = all_at_once(servers, four + raced)
    assert sorted(r.status_code for r in responses[:4]) == [202, 409, 409, 409]
    deletes = [
        r for (method, _, _), r in zip(raced, responses[4:], strict=True) if method == "DELETE"
    ]
    assert [r.status_code for r in deletes] == [202, 202]
    with servers[1].client() as client:
        wait_until(_settled(client, org), timeout=90, what="every cluster settled")
        statuses = {r["service_name"]: r["status"] for r in _records(client, org)}
        history = {
            svc: [
                e["to"]
                for e in client.get(
                    f"/tenant/containers/yves/{svc}/events",
                    params={"tenant_org_id": org, "include_deleted": "true"},
                ).json()
            ]
            for svc in services
        }
        assert statuses == {"pg0": "created", "pg1": "deleted", "pg2": "deleted"}, history
        kube = _kubernetes(standalone_sandbox.kubeconfig, org)
        assert sorted(kube) == [namespaces["pg0"]]
        _assert_runs_as_recorded(client, namespaces["pg0"], kube)
