"""What a server process leaves behind when it stops, however it stops, and what the
next process does with it: the tests that need a process to die or restart, so they
drive ``es-serverless serve`` in subprocesses."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

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
        done = wait_for_status(
            client,
            user="alice",
            service_name="resume",
            tenant_org_id=org,
            wanted={"created", "failed"},
        )
    assert done["status"] == "created"


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
