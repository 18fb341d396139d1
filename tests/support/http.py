"""What a client of a server in another process does often (blocking httpx): create a
cluster, wait for a status, read its events, send a GraphQL operation. The in-process
counterparts, awaiting, are methods of ``tests.support.inprocess.InProcessServer``."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import httpx

from tests.support.factories import cluster_body

if TYPE_CHECKING:
    from tests.support.servers import ServerProcess


def graphql(
    http: httpx.Client, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = http.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def create(http: httpx.Client, org: str, user: str, service: str, **extra: Any) -> httpx.Response:
    """``POST /clusters``, answer unchecked (for tests of refusals)."""
    return http.post("/clusters", json=cluster_body(org, user, service, **extra))


def create_accepted(
    http: httpx.Client, org: str, user: str, service: str, **extra: Any
) -> dict[str, Any]:
    """``POST /clusters`` that must be accepted (202): the recorded container."""
    response = create(http, org, user, service, **extra)
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


def create_and_wait(
    http: httpx.Client, org: str, user: str, service: str, **extra: Any
) -> dict[str, Any]:
    """A cluster created and provisioned (``created``)."""
    create_accepted(http, org, user, service, **extra)
    return wait_for_status(
        http, user=user, service_name=service, tenant_org_id=org, wanted={"created"}
    )


def container_params(tenant_org_id: str, *, include_deleted: bool) -> dict[str, str]:
    return {"tenant_org_id": tenant_org_id, "include_deleted": str(include_deleted).lower()}


def wait_for_status(
    http: httpx.Client,
    *,
    user: str,
    service_name: str,
    tenant_org_id: str,
    wanted: set[str],
    timeout: float = 30,
    include_deleted: bool = False,
) -> dict[str, Any]:
    """The container once its status is one of ``wanted``."""
    deadline = time.monotonic() + timeout
    params = container_params(tenant_org_id, include_deleted=include_deleted)
    while True:
        response = http.get(f"/tenant/containers/{user}/{service_name}", params=params)
        assert response.status_code == 200, response.text
        container: dict[str, Any] = response.json()
        if container["status"] in wanted:
            return container
        if time.monotonic() > deadline:
            raise AssertionError(f"status stayed {container['status']}: {container}")
        time.sleep(0.1)


def events(http: httpx.Client, org: str, user: str, service: str) -> list[dict[str, Any]]:
    """A cluster's status events, oldest first (deleted clusters included)."""
    response = http.get(
        f"/tenant/containers/{user}/{service}/events",
        params=container_params(org, include_deleted=True),
    )
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


Call = tuple[str, str, Any]  # method, path, JSON body


def all_at_once(
    servers: ServerProcess | list[ServerProcess], calls: list[Call]
) -> list[httpx.Response]:
    """Send every call at the same moment, each on its own connection (with several
    servers, to each in turn)."""
    start = threading.Barrier(len(calls))
    targets = servers if isinstance(servers, list) else [servers]

    def send(numbered: tuple[int, Call]) -> httpx.Response:
        n, (method, path, body) = numbered
        server = targets[n % len(targets)]
        start.wait()
        return httpx.request(
            method, f"{server.url}{path}", json=body, headers=server.headers, timeout=60
        )

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(send, enumerate(calls)))
