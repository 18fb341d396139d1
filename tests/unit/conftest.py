"""Fixtures of the tests of the Kubernetes client and what is built on it, against a
sandbox cluster of the test's own (``sandbox_cluster``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kube_sandbox import SandboxCluster
from tests.support.kube_clients import Connect, kube_clients
from tests.support.sandbox import AsyncSandboxAPI


@pytest.fixture
async def connect(sandbox_cluster: SandboxCluster, tmp_path: Path) -> AsyncIterator[Connect]:
    """KubeClients of the sandbox with the policy a test asks for; closed afterwards."""
    async with kube_clients(sandbox_cluster, tmp_path) as make:
        yield make


@pytest.fixture
def sandbox(sandbox_cluster: SandboxCluster) -> AsyncSandboxAPI:
    """The sandbox's API (and its fault and statistics controls) over HTTP."""
    return AsyncSandboxAPI(sandbox_cluster.url)
