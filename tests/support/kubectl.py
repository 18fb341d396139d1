"""The real kubectl against a kubeconfig, with its own cache directory: ``run_kubectl``
blocks (the server is another process), ``Kubectl`` awaits (the sandbox serves from the
test's own event loop, which a blocking call would stop)."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest


def kubectl_path() -> str:
    path = shutil.which("kubectl")
    if path is None:
        pytest.skip("kubectl is not installed (.ci/run installs it)")
    return path


def _command(binary: str, kubeconfig: Path, cache: Path, args: tuple[str, ...]) -> list[str]:
    return [binary, "--kubeconfig", str(kubeconfig), "--cache-dir", str(cache), *args]


def run_kubectl(kubeconfig: Path, *args: str) -> str:
    """kubectl's standard output; a failing kubectl fails the test."""
    cache = kubeconfig.parent / "kubectl-cache"
    result = subprocess.run(
        _command(kubectl_path(), kubeconfig, cache, args),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@dataclass(frozen=True)
class KubectlResult:
    returncode: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class Kubectl:
    """Runs kubectl without blocking the event loop, with a private HOME and cache."""

    binary: str
    kubeconfig: Path
    home: Path

    async def __call__(self, *args: str, check: bool = True) -> KubectlResult:
        env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
        env.update(HOME=str(self.home), KUBECACHEDIR=str(self.home / "cache"))
        process = await asyncio.create_subprocess_exec(
            *_command(self.binary, self.kubeconfig, self.home / "cache", args),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
        result = KubectlResult(process.returncode or 0, stdout.decode(), stderr.decode())
        if check:
            assert result.returncode == 0, f"kubectl {' '.join(args)} failed: {result.stderr}"
        return result
