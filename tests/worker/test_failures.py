"""The worker's failure paths, in process: a create or an update whose StatefulSet does
not get ready in ``ESS_READY_TIMEOUT_SECONDS``, or that Kubernetes refuses, ends
``failed`` with the reason (and in bounded time), never stuck in progress; transient
Kubernetes errors are retried through. Failures are injected with the sandbox's
readiness hold and fault API."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.conftest import MakeApp
from tests.support.inprocess import (
    InProcessServer,
    create_accepted,
    create_and_wait,
    events,
    wait_for_status,
)

READY_TIMEOUT = 1.0
# A failure must be recorded within a few readiness timeouts (the worker polls with
# backoff and the machine may be loaded), far below ten of them.
BOUND = 4 * READY_TIMEOUT + 2
UPDATE_FAULTS = [
    pytest.param("PUT", "statefulsets", 422, 'StatefulSet.apps "elasticsearch" is invalid: spec.replicas: Invalid value', id="sts-422"),
    pytest.param("PUT", "services", 403, 'services "elasticsearch" is forbidden: User cannot update', id="svc-403"),
    pytest.param("PUT", "secrets", 400, "the body of the request was in an unknown format", id="secret-400"),
]  # fmt: skip
TRANSIENT = [429, 500, 502, 503, 504]


@pytest.fixture
async def app(make_app: MakeApp) -> InProcessServer:
    # The reconciler's passes are left out: they would race the statuses under test.
    # Pods get ready in a tenth of the readiness timeout, so a loaded machine still
    # readies a second replica in time where a test expects the update to succeed.
    return await make_app(
        ready_timeout_seconds=READY_TIMEOUT,
        reconcile_interval_seconds=3600,
        kube_retry_seconds=10,
        sandbox_ready_seconds=READY_TIMEOUT / 10,
    )


@pytest.fixture
async def admin(app: InProcessServer) -> Any:
    async with app.client() as http:
        yield http


async def _ends(
    admin: httpx.AsyncClient, org: str, user: str, service: str, *, timeout: float = 3 * BOUND
) -> tuple[dict[str, Any], float]:
    """The container once its work is over (created or failed), and how long that took."""
    started = time.monotonic()
    done = await wait_for_status(
        admin,
        user=user,
        service_name=service,
        tenant_org_id=org,
        wanted={"created", "failed"},
        timeout=timeout,
    )
    return done, time.monotonic() - started


async def _assert_failed_everywhere(
    admin: httpx.AsyncClient, container: dict[str, Any], error: str
) -> None:
    """Failed with ``error`` on both records and as the last event's reason."""
    assert container["status"] == "failed", container
    assert container["error"] == error
    deployment = (await admin.get(f"/deployments/{container['namespace']}")).json()
    assert (deployment["status"], deployment["error"]) == ("failed", error)
    history = await events(
        admin, container["tenant_org_id"], container["user"], container["service_name"]
    )
    assert (history[-1]["to"], history[-1]["reason"]) == ("failed", error)


# -- create ------------------------------------------------------------------------------


async def test_a_create_that_never_gets_ready_fails_in_bounded_time(
    app: InProcessServer, admin: httpx.AsyncClient, org: str
) -> None:
    ns = f"{org}-alice-slow"
    await app.sandbox.hold_readiness(ns)
    await create_accepted(admin, org, "alice", "slow")
    failed, took = await _ends(admin, org, "alice", "slow")
    error = (
        f"StatefulSet elasticsearch in namespace {ns} was not ready after 1s: 0/1 replicas ready"
    )
    await _assert_failed_everywhere(admin, failed, error)
    assert failed["sync_time"] is None
    assert took < BOUND, took
    history = await events(admin, org, "alice", "slow")
    assert [e["to"] for e in history] == ["pending", "creating", "failed"]


async def test_a_create_kubernetes_refuses_fails_with_the_apis_message(
    app: InProcessServer, admin: httpx.AsyncClient, org: str
) -> None:
    ns = f"{org}-alice-broken"
    message = 'StatefulSet.apps "elasticsearch" is invalid: spec.replicas: Invalid value'
    await app.sandbox.inject_fault(
        method="POST", resource="statefulsets", namespace=ns, status=422, message=message
    )
    await create_accepted(admin, org, "alice", "broken")
    failed, took = await _ends(admin, org, "alice", "broken")
    await _assert_failed_everywhere(admin, failed, f"Kubernetes API error 422: {message}")
    assert took < BOUND, took
    # The worker is unharmed: the next cluster provisions normally.
    assert (await create_and_wait(admin, org, "alice", "fine"))["status"] == "created"


@pytest.mark.parametrize("status", TRANSIENT)
async def test_transient_errors_during_a_create_are_retried_through(
    app: InProcessServer, admin: httpx.AsyncClient, org: str, status: int
) -> None:
    ns = f"{org}-lee-flaky"
    for resource in ("namespaces", "statefulsets"):
        await app.sandbox.inject_fault(
            method="POST",
            resource=resource,
            namespace=ns if resource != "namespaces" else None,
            status=status,
            count=2,
        )
    await create_accepted(admin, org, "lee", "flaky")
    done, _ = await _ends(admin, org, "lee", "flaky")
    assert done["status"] == "created", done
    assert await app.sandbox.faults() == []  # every injected failure was met, and retried


# -- update ------------------------------------------------------------------------------


async def _created(admin: httpx.AsyncClient, org: str, user: str, service: str) -> str:
    return str((await create_and_wait(admin, org, user, service))["namespace"])


async def _update(admin: httpx.AsyncClient, ns: str, change: dict[str, Any]) -> None:
    response = await admin.patch(f"/clusters/{ns}", json=change)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "updating"


async def test_an_update_that_never_gets_ready_fails_in_bounded_time_and_can_be_repaired(
    app: InProcessServer, admin: httpx.AsyncClient, org: str
) -> None:
    ns = await _created(admin, org, "ann", "grow")
    await app.sandbox.hold_readiness(ns)
    await _update(admin, ns, {"replicas": 2})
    failed, took = await _ends(admin, org, "ann", "grow")
    assert failed["status"] == "failed", failed
    assert failed["error"].startswith(
        f"StatefulSet elasticsearch in namespace {ns} was not ready after 1s: "
    )
    assert failed["error"].endswith("/2 replicas ready")
    await _assert_failed_everywhere(admin, failed, failed["error"])
    assert took < BOUND, took
    assert failed["replicas"] == 2  # the update's shape stays recorded
    history = await events(admin, org, "ann", "grow")
    assert [e["to"] for e in history] == ["pending", "creating", "created", "updating", "failed"]

    # Once the pods can get ready, an update with no changes repairs it.
    await app.sandbox.hold_readiness(ns, hold=False)
    await _update(admin, ns, {})
    repaired, _ = await _ends(admin, org, "ann", "grow")
    assert (repaired["status"], repaired.get("error")) == ("created", None)
    assert (await app.sandbox.statefulset(ns))["status"]["readyReplicas"] == 2


@pytest.mark.parametrize(("method", "resource", "status", "message"), UPDATE_FAULTS)
async def test_an_update_kubernetes_refuses_fails_with_the_apis_message(
    app: InProcessServer,
    admin: httpx.AsyncClient,
    org: str,
    method: str,
    resource: str,
    status: int,
    message: str,
) -> None:
    ns = await _created(admin, org, "bo", "refused")
    await app.sandbox.inject_fault(
        method=method, resource=resource, namespace=ns, status=status, message=message
    )
    await _update(admin, ns, {"replicas": 2, "cpu_limit": "3"})
    failed, took = await _ends(admin, org, "bo", "refused")
    await _assert_failed_everywhere(admin, failed, f"Kubernetes API error {status}: {message}")
    assert took < BOUND, took
    assert await app.sandbox.faults() == []

    # Failed is not a dead end: a re-apply goes through.
    await _update(admin, ns, {})
    assert (await _ends(admin, org, "bo", "refused"))[0]["status"] == "created"


@pytest.mark.parametrize("status", TRANSIENT)
async def test_transient_errors_during_an_update_are_retried_through(
    app: InProcessServer, admin: httpx.AsyncClient, org: str, status: int
) -> None:
    ns = await _created(admin, org, "cy", "flaky")
    for resource in ("statefulsets", "services"):
        await app.sandbox.inject_fault(
            method="PUT", resource=resource, namespace=ns, status=status, count=2
        )
    await _update(admin, ns, {"replicas": 2})
    done, _ = await _ends(admin, org, "cy", "flaky")
    assert (done["status"], done["replicas"]) == ("created", 2), done
    assert await app.sandbox.faults() == []
    assert (await app.sandbox.statefulset(ns))["spec"]["replicas"] == 2
