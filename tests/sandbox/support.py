"""Helpers shared by the sandbox tests (fixtures live in conftest.py)."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

# Short enough to keep the suite fast, long enough to observe the not-ready phase.
READY_SECONDS = 0.2

T = TypeVar("T")


async def wait_for(
    probe: Callable[[], Awaitable[T | bool | None]],
    *,
    timeout: float = 5.0,
    interval: float = 0.02,
    what: str = "condition",
) -> T:
    """Poll ``probe`` until it returns something truthy; fail the test on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if result:
            return result  # type: ignore[return-value]
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)


def statefulset_manifest(
    name: str = "es",
    *,
    replicas: int = 1,
    image: str = "elasticsearch:9.1.5",
    policy: str = "OrderedReady",
    claims: bool = True,
    retention: dict[str, str] | None = None,
) -> dict[str, Any]:
    labels = {"app": name, "tenant-org-id": "org-001"}
    spec: dict[str, Any] = {
        "replicas": replicas,
        "serviceName": name,
        "podManagementPolicy": policy,
        "selector": {"matchLabels": {"app": name}},
        "template": {
            "metadata": {"labels": labels, "annotations": {"example.com/note": "x"}},
            "spec": {
                "containers": [
                    {
                        "name": "elasticsearch",
                        "image": image,
                        "ports": [{"containerPort": 9200, "name": "http"}],
                        "resources": {"requests": {"cpu": "1", "memory": "2Gi"}},
                    }
                ]
            },
        },
    }
    if claims:
        spec["volumeClaimTemplates"] = [
            {
                "metadata": {"name": "data", "labels": {"volume": "data"}},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "10Gi"}},
                },
            }
        ]
    if retention:
        spec["persistentVolumeClaimRetentionPolicy"] = retention
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name},
        "spec": spec,
    }


@dataclass(frozen=True)
class KubectlResult:
    returncode: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class Kubectl:
    """Runs the real kubectl against the sandbox without blocking the event loop
    (the sandbox serves from this very loop) and with a private HOME and cache."""

    binary: str
    kubeconfig: Path
    home: Path

    async def __call__(self, *args: str, check: bool = True) -> KubectlResult:
        env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
        env.update(HOME=str(self.home), KUBECACHEDIR=str(self.home / "cache"))
        process = await asyncio.create_subprocess_exec(
            self.binary,
            "--kubeconfig", str(self.kubeconfig),
            "--cache-dir", str(self.home / "cache"),
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )  # fmt: skip
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
        result = KubectlResult(process.returncode or 0, stdout.decode(), stderr.decode())
        if check:
            assert result.returncode == 0, f"kubectl {' '.join(args)} failed: {result.stderr}"
        return result
