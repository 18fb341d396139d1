"""What a server process leaves behind when it stops, however it stops, and what the
next process does with it: the tests that need a process to die or restart, so they
drive ``es-serverless serve`` in subprocesses."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.support.http import create_accepted, wait_for_status
from tests.support.servers import ServerProcess

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
