"""Reliability: a killed server loses and duplicates nothing, transient Kubernetes
failures are retried, and a burst of creates is provisioned with bounded pressure on
the API server."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.support.http import wait_for_status
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
        standalone_sandbox.control(
            "PUT", f"namespaces/{org}-kim-{service}/readiness", json={"hold": True}
        )
    standalone_sandbox.control("DELETE", "stats")
    server = make_server(
        ESS_KUBE_MODE="kubeconfig",
        KUBECONFIG=str(standalone_sandbox.kubeconfig),
        ESS_PROVISION_CONCURRENCY="3",
    )
    with server.client() as client:
        for service in services:
            client.post(
                "/clusters", json={"tenant_org_id": org, "user": "kim", "service_name": service}
            )
        # Three are being created (objects applied, waiting for readiness), three wait.
        wait_until(lambda: _org_statuses(client, org).count("creating") == 3, what="three creating")
    server.stop(kill=True)
    for service in services:
        standalone_sandbox.control(
            "PUT", f"namespaces/{org}-kim-{service}/readiness", json={"hold": False}
        )

    server.restart()
    with server.client() as client:
        wait_until(_all_created(client, org, len(services)), timeout=60, what="all created")
    stats = standalone_sandbox.control("GET", "stats")
    assert stats["responses"]["POST statefulsets 201"] == len(services)
    assert stats["responses"]["POST namespaces 201"] == len(services)
    namespaces = httpx.get(
        f"{standalone_sandbox.url}/api/v1/namespaces",
        params={"labelSelector": f"tenant-org-id={org}"},
    ).json()["items"]
    assert len(namespaces) == len(services)


def test_transient_api_failures_are_retried(
    server: ServerProcess, client: httpx.Client, org: str
) -> None:
    ns = f"{org}-lee-flaky"
    faults = f"{server.sandbox_url}/_sandbox/faults"
    for status in (500, 503, 429):
        response = httpx.post(
            faults,
            json={
                "method": "POST",
                "resource": "statefulsets",
                "namespace": ns,
                "status": status,
                "count": 1,
            },
        )
        assert response.is_success, response.text
    client.post("/clusters", json={"tenant_org_id": org, "user": "lee", "service_name": "flaky"})
    done = wait_for_status(
        client, user="lee", service_name="flaky", tenant_org_id=org, wanted={"created", "failed"}
    )
    assert done["status"] == "created", done
    remaining = httpx.get(faults).json()
    assert not [
        f
        for f in (remaining if isinstance(remaining, list) else remaining.get("faults", []))
        if f.get("namespace") == ns
    ]


def test_a_burst_of_200_creates_is_provisioned_with_bounded_pressure(
    make_server: Callable[..., ServerProcess], org: str
) -> None:
    count, in_flight_limit = 200, 4
    server = make_server(
        ESS_PROVISION_CONCURRENCY="16",
        ESS_KUBE_MAX_IN_FLIGHT=str(in_flight_limit),
        ESS_SANDBOX_READY_SECONDS="0.1",
    )
    httpx.delete(f"{server.sandbox_url}/_sandbox/stats")

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

    stats = httpx.get(f"{server.sandbox_url}/_sandbox/stats").json()
    assert stats["responses"]["POST statefulsets 201"] == count
    assert stats["responses"]["POST namespaces 201"] == count
    assert 1 <= stats["max_in_flight"] <= in_flight_limit
