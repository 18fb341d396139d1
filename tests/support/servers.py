"""``es-serverless serve`` (and ``es-serverless sandbox``) in subprocesses, spoken to over
real HTTP: for the tests where a process must die or restart, where several processes
share a database or a sandbox, or that need the command line or uvicorn itself
(refusals at start, header timeouts, the fuzz over real sockets)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.support.databases import database_url_for
from tests.support.sandbox import SandboxAPI

STARTUP_SECONDS = 60
ADMIN_TOKEN = "test-admin-token-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def kubeconfig_server(kubeconfig: Path) -> str:
    config = yaml.safe_load(kubeconfig.read_text())
    return str(config["clusters"][0]["cluster"]["server"])


def server_env(data_dir: Path, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESS_") and k != "KUBECONFIG"}
    env.update(
        ESS_DATA_DIR=str(data_dir),
        ESS_KUBE_MODE="sandbox",
        ESS_SANDBOX_READY_SECONDS="0.3",
        ESS_READY_TIMEOUT_SECONDS="60",
        ESS_LOG_LEVEL="INFO",
        ESS_ADMIN_TOKEN=ADMIN_TOKEN,
        # Tests (the fuzz above all) send far more than a person would; the limit
        # itself is tested on a server of its own.
        ESS_RATE_LIMIT_PER_MINUTE="1000000",
        HOME=str(data_dir),  # no ~/.kube/config of the machine leaks in
    )
    if "ESS_DATABASE_URL" not in overrides and (database_url := database_url_for(data_dir)):
        env["ESS_DATABASE_URL"] = database_url  # the PostgreSQL pass: a database of its own
    env.update(overrides)
    return env


@dataclass
class ServerProcess:
    """One ``es-serverless serve`` process; ``restart()`` keeps its data dir."""

    data_dir: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/graphql"

    @property
    def headers(self) -> dict[str, str]:
        """What an administrator sends with every request."""
        token = self.env.get("ESS_ADMIN_TOKEN")
        return {"Authorization": f"Bearer {token}"} if token else {}

    def client(self, *, token: str | None = None, **kwargs: Any) -> httpx.Client:
        """An HTTP client speaking to this server as the administrator (or with
        ``token``)."""
        headers = {"Authorization": f"Bearer {token}"} if token else self.headers
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, **kwargs)

    @property
    def kubeconfig(self) -> Path:
        return self.data_dir / "sandbox.kubeconfig"

    @property
    def sandbox_url(self) -> str:
        return kubeconfig_server(self.kubeconfig)

    @property
    def sandbox(self) -> SandboxAPI:
        """The embedded sandbox cluster (or, in kubeconfig mode, none: use the
        standalone one)."""
        return SandboxAPI(self.sandbox_url)

    def start(self) -> ServerProcess:
        self.log_path = self.data_dir / f"server-{self.port}.log"
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(self.port)],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited at start:\n{self.log()}")
            try:
                httpx.get(f"{self.url}/openapi.json", timeout=1)
                return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start in {STARTUP_SECONDS}s:\n{self.log()}")

    def stop(self, *, kill: bool = False) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> ServerProcess:
        self.stop()
        self.port = free_port()
        return self.start()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""


@dataclass
class StandaloneSandbox:
    """``es-serverless sandbox`` in its own process, so it outlives a server killed with
    SIGKILL (the embedded one dies with its server)."""

    kubeconfig: Path

    @property
    def url(self) -> str:
        return kubeconfig_server(self.kubeconfig)

    @property
    def api(self) -> SandboxAPI:
        return SandboxAPI(self.url)
