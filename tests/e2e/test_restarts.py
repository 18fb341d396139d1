"""What a server process leaves behind when it stops, however it stops, and what the
next process does with it: the tests that need a process to die or restart, so they
drive ``es-serverless serve`` in subprocesses."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.support.database import rows
from tests.support.databases import sqlite_only
from tests.support.http import create_accepted, create_and_wait, events, wait_for_status
from tests.support.servers import ServerProcess, StandaloneSandbox
from tests.support.waiting import wait_until

SEED = {
    "user": "alice", "service_name": "vector-search", "replicas": 2, "cpu_request": "1",
    "cpu_limit": "4", "mem_request": "2Gi", "mem_limit": "8Gi", "disk_size": "50Gi",
    "gpu_count": 1, "dimension": 512, "vector_count": 1000000, "index_limit": 10,
    "gitlab_url": "https://gitlab.example.com/search/config",
}  # fmt: skip


def test_records_survive_a_restart(make_server: Callable[..., ServerProcess], org: str) -> None:
    server = make_server()
    with server.client() as client:
        client.post("/clusters", json={"tenant_org_id": org, **SEED})
        before = wait_for_status(
            client,
            user="alice",
            service_name="vector-search",
            tenant_org_id=org,
            wanted={"created"},
        )
    server.restart()
    with server.client() as client:
        after = client.get(f"/tenant/containers/org/{org}").json()
        assert after == [before]
        # A fresh id sequence after the restart still refuses the duplicate.
        assert client.post("/clusters", json={"tenant_org_id": org, **SEED}).status_code == 409


@pytest.mark.parametrize("kill", [True, False], ids=["SIGKILL", "SIGTERM"])
def test_cluster_left_in_progress_by_a_stopped_server_is_finished_after_restart(
    make_server: Callable[..., ServerProcess], org: str, kill: bool
) -> None:
    server = make_server()
    server.sandbox.hold_readiness(f"{org}-alice-resume")
    with server.client() as client:
        create_accepted(client, org, "alice", "resume")
        wait_for_status(
            client, user="alice", service_name="resume", tenant_org_id=org, wanted={"creating"}
        )
    started = time.monotonic()
    server.stop(kill=kill)
    assert time.monotonic() - started < 20  # SIGTERM stops in-flight work promptly
    server.restart()  # a new process: a new, empty sandbox cluster too
    with server.client() as client:
        _finishes_created(client, org, "resume")


@sqlite_only("two processes sharing one SQLite file; the PostgreSQL replicas have tests of their own")
def test_work_of_a_dead_process_is_taken_over_once_its_lease_runs_out_on_sqlite(
    make_server: Callable[..., ServerProcess],
    standalone_sandbox: StandaloneSandbox,
    tmp_path: Path,
    org: str,
) -> None:
    database = tmp_path / "shared.db"
    url = f"sqlite+aiosqlite:///{database}"
    shared = {
        "ESS_KUBE_MODE": "kubeconfig",
        "KUBECONFIG": str(standalone_sandbox.kubeconfig),
        "ESS_DATABASE_URL": url,
        "ESS_SECRET_KEY": "a-key-both-processes-share-0123456789",
        "ESS_LEASE_SECONDS": "3",
        "ESS_LEASE_HEARTBEAT_SECONDS": "0.5",
    }
    namespace = f"{org}-alice-orphan"
    standalone_sandbox.api.hold_readiness(namespace)
    first = make_server(**shared)
    with first.client() as client:
        create_accepted(client, org, "alice", "orphan")
        wait_for_status(
            client, user="alice", service_name="orphan", tenant_org_id=org, wanted={"creating"}
        )
    first.stop(kill=True)
    ((dead, expires),) = rows(
        url, "SELECT lease_owner, lease_expires_at FROM tenant_containers"
    )
    # Another process (a data directory of its own, so another replica) on the same
    # database: it may take the work only once the dead one's lease ran out.
    second = make_server(**shared)
    assert second.data_dir != first.data_dir
    standalone_sandbox.api.hold_readiness(namespace, hold=False)
    with second.client() as client:
        _finishes_created(client, org, "orphan")
        history = client.get(
            "/tenant/containers/alice/orphan/events", params={"tenant_org_id": org}
        ).json()
    takeovers = [e for e in history if e["reason"].startswith("work taken over")]
    assert len(takeovers) == 1, history
    assert f"replica {dead}'s lease ran out" in takeovers[0]["reason"]
    # Read from the database: the API shows times to the second.
    ((taken_at,),) = rows(url, "SELECT at FROM cluster_events WHERE reason LIKE 'work taken%'")
    assert _utc(taken_at) >= _utc(expires)
    assert [e["to"] for e in history if e["from"] != e["to"]] == ["pending", "creating", "created"]
    assert rows(url, "SELECT lease_owner FROM tenant_containers") == [(None,)]


def test_an_upgrade_under_way_is_resumed_after_a_restart(
    standalone_sandbox: StandaloneSandbox, make_server: Callable[..., ServerProcess], org: str
) -> None:
    """The sandbox runs apart, so Kubernetes (and the rolling restart it carries out)
    outlives the server; the next server resumes the upgrade from the database and
    reports each pod once."""
    sandbox = standalone_sandbox.api
    server = make_server(ESS_KUBE_MODE="kubeconfig", KUBECONFIG=str(standalone_sandbox.kubeconfig))
    with server.client() as client:
        namespace = create_and_wait(client, org, "alice", "upgrade", replicas=3)["namespace"]
        sandbox.hold_readiness(namespace)  # the first new pod cannot get ready: mid-upgrade
        response = client.patch(f"/clusters/{namespace}", json={"version": "9.2.0"})
        assert response.status_code == 202, response.text

        def first_pod_replaced() -> bool:
            pod = sandbox.get(f"/api/v1/namespaces/{namespace}/pods/elasticsearch-2")
            return bool(pod["spec"]["containers"][0]["image"].endswith(":9.2.0"))

        wait_until(first_pod_replaced, what="elasticsearch-2 on the new image")
    server.stop(kill=True)
    sandbox.hold_readiness(namespace, hold=False)  # the rollout goes on without a server
    server.restart()
    with server.client() as client:
        done = wait_for_status(
            client,
            user="alice",
            service_name="upgrade",
            tenant_org_id=org,
            wanted={"created", "failed"},
            timeout=60,
        )
        assert (done["status"], done["version"]) == ("created", "9.2.0")
        history = events(client, org, "alice", "upgrade")
        deployment = client.get(f"/deployments/{namespace}").json()
    assert "upgrade" not in deployment
    assert [e["reason"] for e in history if e["from"] == e["to"] == "upgrading"] == [
        "elasticsearch-2 runs 9.2.0 (1/3)",
        "elasticsearch-1 runs 9.2.0 (2/3)",
        "elasticsearch-0 runs 9.2.0 (3/3)",
    ]
    assert [e["to"] for e in history][-2:] == ["upgrading", "created"]
    pods = sandbox.get(f"/api/v1/namespaces/{namespace}/pods")["items"]
    assert {p["spec"]["containers"][0]["image"].rsplit(":", 1)[1] for p in pods} == {"9.2.0"}


def _utc(value: datetime | str) -> datetime:
    """A time SQLite gave back (naive, or text), as the UTC time it is."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _finishes_created(client: httpx.Client, org: str, service: str) -> None:
    done = wait_for_status(
        client, user="alice", service_name=service, tenant_org_id=org, wanted={"created", "failed"}
    )
    assert done["status"] == "created", done
