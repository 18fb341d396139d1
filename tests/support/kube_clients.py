"""The control plane's Kubernetes client (``KubeClient``) of a sandbox cluster, made
the way the server makes it (a kubeconfig, kubernetes-asyncio's ApiClient), with the
retry policy and bound a test asks for."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from app.kube.client import KubeClient, RetryPolicy
from app.kube.connection import KubeTarget, open_api_client
from app.settings import KubeMode
from kube_sandbox import SandboxCluster

# connect(deadline=..., max_in_flight=..., server=...) -> a KubeClient
Connect = Callable[..., Awaitable[KubeClient]]


@asynccontextmanager
async def kube_clients(cluster: SandboxCluster, directory: Path) -> AsyncIterator[Connect]:
    """Clients of ``cluster`` (their kubeconfigs written in ``directory``), each closed
    at the end. ``server``: the same kubeconfig, pointed at another address."""
    opened: list[KubeClient] = []

    async def connect(
        *, deadline: float = 10.0, max_in_flight: int = 32, server: str | None = None
    ) -> KubeClient:
        kubeconfig = cluster.write_kubeconfig(directory / f"kubeconfig-{len(opened)}")
        if server is not None:
            kubeconfig.write_text(kubeconfig.read_text().replace(cluster.url, server))
        api = await open_api_client(KubeTarget(KubeMode.KUBECONFIG, kubeconfig))
        retry = RetryPolicy(deadline=deadline, first_delay=0.05, max_delay=0.5)
        client = KubeClient(api, retry=retry, max_in_flight=max_in_flight)
        opened.append(client)
        return client

    try:
        yield connect
    finally:
        for client in opened:
            await client.close()
