"""The sandbox cluster as a process of its own, started and stopped with the server.

In the server's process, the emulator shared the event loop that answers requests: its
API server, kubelet and controllers did their work for every cluster being provisioned
between the requests' steps, on the same core. As ``es-serverless sandbox`` in a child
process it works on the machine's other core, and the server reaches it as it reaches a
real cluster, over HTTP through its kubeconfig.

The child holds one end of a pipe on its standard input, the server the other: it
stops when the pipe closes, that is when the server stops, however it stops (a SIGKILL
included), so no sandbox outlives the server that started it."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

# Its start is an interpreter importing the emulator: about a second on a slow machine.
STARTUP_SECONDS = 60.0
STOP_SECONDS = 5.0


class SandboxDidNotStart(RuntimeError):
    pass


@contextlib.asynccontextmanager
async def sandbox_process(*, kubeconfig: Path, ready_seconds: float) -> AsyncIterator[int]:
    """Run ``es-serverless sandbox`` until the block ends; yields its process id once its
    kubeconfig (written whole, once it listens) is at ``kubeconfig``."""
    # A previous run's, pointing at a stopped sandbox.
    await asyncio.to_thread(kubeconfig.unlink, missing_ok=True)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app.cli",
        "sandbox",
        "--kubeconfig",
        str(kubeconfig),
        "--ready-seconds",
        str(ready_seconds),
        "--until-stdin-closes",
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,  # its one line says what the server's log says
    )
    try:
        await _started(process, kubeconfig)
        yield process.pid
    finally:
        await _stop(process)


async def _started(process: asyncio.subprocess.Process, kubeconfig: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while not await asyncio.to_thread(kubeconfig.exists):
        if process.returncode is not None:
            raise SandboxDidNotStart(
                f"the sandbox cluster exited at start (status {process.returncode}); "
                "its log lines above say why"
            )
        if time.monotonic() > deadline:
            raise SandboxDidNotStart(f"the sandbox cluster did not start in {STARTUP_SECONDS:.0f}s")
        await asyncio.sleep(0.02)


async def _stop(process: asyncio.subprocess.Process) -> None:
    """Close its standard input (it stops by itself), then terminate, then kill."""
    if process.stdin is not None:
        process.stdin.close()
    for stop in (None, process.terminate, process.kill):
        if process.returncode is not None:
            return
        if stop is not None:
            with contextlib.suppress(ProcessLookupError):
                stop()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), STOP_SECONDS)
