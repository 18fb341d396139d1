"""Reliability: a killed server loses and duplicates nothing, transient Kubernetes
failures are retried, and a burst of creates is provisioned with bounded pressure on
the API server."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support.http import create_accepted
from tests.support.servers import ServerProcess, StandaloneSandbox
from tests.support.waiting import wait_until


def _org_statuses(client: httpx.Client, org: str) -> list[str]:
    return [c["status"] for c in client.get(f"/tenant/containers/org/{org}").json()]


def _all_created(client: httpx.Client, org: str, count: int) -> Callable[[], bool]:
    def check() -> bool:
        statuses = _org_statuses(client, org)
        assert "failed" not in statuses, statuses
        return statuses.count("created") == count

    return check


def test_kill_9_mid_provisioning_then_restart_finishes_every_cluster_once(
    standalone_sandbox: StandaloneSandbox, make_server: Callable[..., ServerProcess], org: str
) -> None:
    services = [f"svc{n}" for n in range(6)]
    for service in services:
        standalone_sandbox.api.hold_readiness(f"{org}-kim-{service}")
    standalone_sandbox.api.reset_stats()
    server = make_server(
        ESS_KUBE_MODE="kubeconfig",
        KUBECONFIG=str(standalone_sandbox.kubeconfig),
        ESS_PROVISION_CONCURRENCY="3",
    )
    with server.client() as client:
        for service in services:
            create_accepted(client, org, "kim", service)
        # Three are being created (objects applied, waiting for readiness), three wait.
        wait_until(lambda: _org_statuses(client, org).count("creating") == 3, what="three creating")
    server.stop(kill=True)
    for service in services:
        standalone_sandbox.api.hold_readiness(f"{org}-kim-{service}", hold=False)

    server.restart()
    with server.client() as client:
        wait_until(_all_created(client, org, len(services)), timeout=60, what="all created")
    stats = standalone_sandbox.api.stats()
    assert stats["responses"]["POST statefulsets 201"] == len(services)
    assert stats["responses"]["POST namespaces 201"] == len(services)
    namespaces = standalone_sandbox.api.get(
        f"/api/v1/namespaces?labelSelector=tenant-org-id%3D{org}"
    )["items"]
    assert len(namespaces) == len(services)


@pytest.mark.slow
def test_a_burst_of_200_creates_is_provisioned_with_bounded_pressure(
    make_server: Callable[..., ServerProcess], org: str
) -> None:
    count, in_flight_limit = 200, 4
    server = make_server(
        ESS_PROVISION_CONCURRENCY="16",
        ESS_KUBE_MAX_IN_FLIGHT=str(in_flight_limit),
        ESS_SANDBOX_READY_SECONDS="0.1",
    )
    server.sandbox.reset_stats()

    def create(n: int) -> int:
        body = {"tenant_org_id": org, "user": f"u{n % 10}", "service_name": f"s{n}"}
        return httpx.post(
            f"{server.url}/clusters", json=body, headers=server.headers, timeout=60
        ).status_code

    with ThreadPoolExecutor(max_workers=32) as pool:
        codes = list(pool.map(create, range(count)))
    assert codes == [202] * count
    with server.client() as client:
        wait_until(_all_created(client, org, count), timeout=180, what=f"{count} clusters created")

    stats = server.sandbox.stats()
    assert stats["responses"]["POST statefulsets 201"] == count
    assert stats["responses"]["POST namespaces 201"] == count
    assert 1 <= stats["max_in_flight"] <= in_flight_limit
