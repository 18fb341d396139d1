"""An `es-serverless serve` of its own, in a subprocess on loopback, for the benchmarks
(the sandbox cluster inside it, pods ready at once, the rate limit out of the way)."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent  # where `python -m app.cli` runs


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Started:
    url: str
    admin: str  # the admin token
    pid: int


@asynccontextmanager
async def serve_process(data_dir: Path, **settings: str) -> AsyncIterator[Started]:
    """The server, once `/readyz` answers; stopped (SIGTERM, then kill) afterwards.
    ``settings``: more environment (ESS_*) on top of the benchmark defaults."""
    port, admin = free_port(), secrets.token_urlsafe(24)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESS_")}
    env.update(
        ESS_DATA_DIR=str(data_dir),
        ESS_KUBE_MODE="sandbox",
        ESS_SANDBOX_READY_SECONDS="0",
        ESS_ADMIN_TOKEN=admin,
        # Only the benchmark's own load counts, not the per-caller rate limit.
        ESS_RATE_LIMIT_PER_MINUTE="100000000",
        ESS_LOG_LEVEL="WARNING",
        HOME=str(data_dir),
    )
    env.update(settings)
    log_path = data_dir / "server.log"
    with log_path.open("ab") as log:
        process = await asyncio.create_subprocess_exec(
            *[sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    started = Started(url=f"http://127.0.0.1:{port}", admin=admin, pid=process.pid)
    try:
        async with httpx.AsyncClient(base_url=started.url, timeout=1) as http:
            for _ in range(1200):
                if process.returncode is not None:
                    raise RuntimeError(f"server exited:\n{log_path.read_text()[-3000:]}")
                try:
                    if (await http.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError(f"server did not start; see {log_path}")
        yield started
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 60)
        except TimeoutError:
            process.kill()
            await process.wait()
