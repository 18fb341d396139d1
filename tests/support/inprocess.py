"""The control plane in the test's own event loop: the real Starlette app (REST,
GraphQL, the security middleware) with its lifespan run here, so the runtime (database,
worker, reconciler) and the sandbox cluster it starts live in this process, spoken to
through httpx's ASGITransport. No process boundary, so tests can also reach the worker,
the reconciler and the sandbox's own objects, and failure paths are cheap to set up.

The sandbox still answers over real HTTP on loopback: the control plane's Kubernetes
client talks to it exactly as to a real cluster."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette

from app.runtime import Runtime
from app.server import create_app
from app.settings import KubeMode, Settings
from app.tenancy.clock import SYSTEM_CLOCK, Clock
from tests.support.databases import database_url_for
from tests.support.factories import cluster_body
from tests.support.http import container_params
from tests.support.kubectl import Kubectl, kubectl_path
from tests.support.sandbox import AsyncSandboxAPI
from tests.support.servers import ADMIN_TOKEN, free_port
from tests.support.waiting import wait_for

# What ``tests.support.servers.server_env`` gives a subprocess, as Settings fields.
TEST_SETTINGS: dict[str, Any] = {
    "kube_mode": KubeMode.SANDBOX,
    "kubeconfig": None,
    "sandbox_ready_seconds": 0.3,
    "sandbox_in_process": True,  # tests reach it as runtime.sandbox
    "ready_timeout_seconds": 60,
    "admin_token": ADMIN_TOKEN,
    "rate_limit_per_minute": 1_000_000,
}


@dataclass(frozen=True)
class InProcessServer:
    app: Starlette
    settings: Settings

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    @property
    def sandbox(self) -> AsyncSandboxAPI:
        assert self.runtime.sandbox is not None, "this server has no sandbox cluster"
        return AsyncSandboxAPI(self.runtime.sandbox.url)

    @property
    def kubeconfig(self) -> Path:
        return self.settings.sandbox_kubeconfig_path

    async def kubectl(self, *args: str) -> str:
        """kubectl against this server's sandbox; its standard output (a failing
        kubectl fails the test). Awaited: the sandbox serves from this event loop."""
        home = self.settings.data_dir / "kubectl-home"
        home.mkdir(exist_ok=True)
        result = await Kubectl(kubectl_path(), self.kubeconfig, home)(*args)
        return result.stdout

    async def informed_of(self, namespace: str, *, timeout: float = 10.0) -> None:
        """Wait until the control plane's namespace informer has seen ``namespace``
        (made outside the platform a moment ago): from then on a create refuses it at
        once instead of the worker refusing it (app/kube/namespace_informer.py)."""

        async def seen() -> bool:
            return bool(self.runtime.namespaces.seen(namespace))

        await wait_for(
            seen, timeout=timeout, interval=0.01, what=f"the informer to see {namespace}"
        )

    def client(self, *, token: str | None = ADMIN_TOKEN) -> httpx.AsyncClient:
        """A client of the app as the administrator (or with ``token``; None: none)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url="http://testserver",
            headers=headers,
            timeout=30,
        )


@asynccontextmanager
async def serve_in_process(
    data_dir: Path, *, clock: Clock = SYSTEM_CLOCK, **settings: Any
) -> AsyncIterator[InProcessServer]:
    """The app on ``TEST_SETTINGS`` (with ``settings`` on top), its lifespan open; its
    records and ledger written at ``clock``'s time."""
    database = {"database_url": database_url_for(data_dir)}  # SQLite, or PostgreSQL's pass
    app = create_app(
        Settings(data_dir=data_dir, **{**TEST_SETTINGS, **database, **settings}), clock=clock
    )
    async with app.router.lifespan_context(app):
        yield InProcessServer(app=app, settings=app.state.runtime.settings)


@asynccontextmanager
async def listening(server: InProcessServer) -> AsyncIterator[str]:
    """The in-process app on a real socket too (uvicorn in this event loop; the lifespan
    is already open), for clients that need one: its base URL."""
    port = free_port()
    config = uvicorn.Config(server.app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    listener = uvicorn.Server(config)
    task = asyncio.create_task(listener.serve())
    try:
        while not listener.started:
            if task.done():
                task.result()  # it failed to start: raise why
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        listener.should_exit = True
        await task


async def graphql(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def create(
    http: httpx.AsyncClient, org: str, user: str, service: str, **extra: Any
) -> httpx.Response:
    """``POST /clusters``, answer unchecked (for tests of refusals)."""
    return await http.post("/clusters", json=cluster_body(org, user, service, **extra))


async def create_accepted(
    http: httpx.AsyncClient, org: str, user: str, service: str, **extra: Any
) -> dict[str, Any]:
    response = await create(http, org, user, service, **extra)
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


async def create_and_wait(
    http: httpx.AsyncClient, org: str, user: str, service: str, **extra: Any
) -> dict[str, Any]:
    await create_accepted(http, org, user, service, **extra)
    return await wait_for_status(
        http, user=user, service_name=service, tenant_org_id=org, wanted={"created"}
    )


async def wait_for_status(
    http: httpx.AsyncClient,
    *,
    user: str,
    service_name: str,
    tenant_org_id: str,
    wanted: set[str],
    timeout: float = 30,
    include_deleted: bool = False,
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    params = container_params(tenant_org_id, include_deleted=include_deleted)
    while True:
        response = await http.get(f"/tenant/containers/{user}/{service_name}", params=params)
        assert response.status_code == 200, response.text
        container: dict[str, Any] = response.json()
        if container["status"] in wanted:
            return container
        if time.monotonic() > deadline:
            raise AssertionError(f"status stayed {container['status']}: {container}")
        await asyncio.sleep(0.05)


async def events(
    http: httpx.AsyncClient, org: str, user: str, service: str
) -> list[dict[str, Any]]:
    response = await http.get(
        f"/tenant/containers/{user}/{service}/events",
        params=container_params(org, include_deleted=True),
    )
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found
