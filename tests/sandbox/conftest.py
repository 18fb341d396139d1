"""Fixtures for the sandbox cluster tests.

Every integration test talks to a real ``SandboxCluster`` over loopback HTTP, through
the real kubernetes_asyncio client, plain aiohttp, or the real kubectl binary.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from kubernetes_asyncio import client, config

from kube_sandbox import SandboxCluster
from tests.sandbox.support import READY_SECONDS, Kubectl


@pytest_asyncio.fixture
async def sandbox() -> AsyncIterator[SandboxCluster]:
    cluster = SandboxCluster(ready_seconds=READY_SECONDS)
    await cluster.start()
    try:
        yield cluster
    finally:
        await cluster.stop()


@pytest.fixture
def kubeconfig(sandbox: SandboxCluster, tmp_path: Path) -> Path:
    return sandbox.write_kubeconfig(tmp_path / "kube" / "config")


@pytest_asyncio.fixture
async def api(kubeconfig: Path) -> AsyncIterator[client.ApiClient]:
    configuration = client.Configuration()
    await config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
    async with client.ApiClient(configuration) as api_client:
        yield api_client


@pytest.fixture
def core(api: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api)


@pytest.fixture
def apps(api: client.ApiClient) -> client.AppsV1Api:
    return client.AppsV1Api(api)


@pytest_asyncio.fixture
async def http(sandbox: SandboxCluster) -> AsyncIterator[aiohttp.ClientSession]:
    """A plain HTTP client for raw protocol checks (discovery, Tables, /_sandbox)."""
    async with aiohttp.ClientSession(base_url=sandbox.url) as session:
        yield session


@pytest_asyncio.fixture
async def namespace(core: client.CoreV1Api) -> str:
    name = "team-a"
    await core.create_namespace({"metadata": {"name": name}})
    return name


@pytest.fixture
def kubectl(kubeconfig: Path, tmp_path: Path) -> Kubectl:
    binary = shutil.which("kubectl")
    if binary is None:
        pytest.skip("kubectl is not installed (.ci/run installs it)")
    home = tmp_path / "home"
    home.mkdir()
    return Kubectl(binary, kubeconfig, home)
