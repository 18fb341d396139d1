"""Shared fixtures: the real server (``es-serverless serve`` in a subprocess, uvicorn,
SQLite, its embedded sandbox cluster) spoken to over real HTTP."""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

STARTUP_SECONDS = 60
ADMIN_TOKEN = "test-admin-token-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
    def headers(self) -> dict[str, str]:
        """What an administrator sends with every request."""
        token = self.env.get("ESS_ADMIN_TOKEN")
        return {"Authorization": f"Bearer {token}"} if token else {}

    def client(self, **kwargs: Any) -> httpx.Client:
        """An HTTP client speaking to this server as the administrator."""
        return httpx.Client(base_url=self.url, headers=self.headers, timeout=30, **kwargs)

    @property
    def kubeconfig(self) -> Path:
        return self.data_dir / "sandbox.kubeconfig"

    @property
    def sandbox_url(self) -> str:
        config = yaml.safe_load(self.kubeconfig.read_text())
        return str(config["clusters"][0]["cluster"]["server"])

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
    env.update(overrides)
    return env


@pytest.fixture
def make_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Start extra servers with their own settings; all are stopped afterwards."""
    started: list[ServerProcess] = []

    def make(**overrides: str) -> ServerProcess:
        data_dir = tmp_path_factory.mktemp("server")
        server = ServerProcess(data_dir=data_dir, env=server_env(data_dir, **overrides))
        started.append(server)
        return server.start()

    yield make
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server shared by the tests that only add tenants (each under its own org)."""
    data_dir = tmp_path_factory.mktemp("shared-server")
    process = ServerProcess(data_dir=data_dir, env=server_env(data_dir)).start()
    yield process
    process.stop()


@pytest.fixture
def client(server: ServerProcess) -> Iterator[httpx.Client]:
    with server.client() as http:
        yield http


_org_numbers = itertools.count(1)


@pytest.fixture
def org() -> str:
    """A fresh organisation id, so tests sharing a server never see each other's rows."""
    return f"org-t{os.getpid()}-{next(_org_numbers)}"


@dataclass
class StandaloneSandbox:
    """``es-serverless sandbox`` in its own process, so it outlives a server killed with
    SIGKILL (the embedded one dies with its server)."""

    kubeconfig: Path

    @property
    def url(self) -> str:
        config = yaml.safe_load(self.kubeconfig.read_text())
        return str(config["clusters"][0]["cluster"]["server"])

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = httpx.request(method, f"{self.url}/_sandbox/{path}", timeout=10, **kwargs)
        assert response.is_success, response.text
        return response.json() if response.content else None


@pytest.fixture
def standalone_sandbox(tmp_path: Path) -> Iterator[StandaloneSandbox]:
    kubeconfig = tmp_path / "standalone.kubeconfig"
    env = server_env(tmp_path, ESS_SANDBOX_READY_SECONDS="0.2")
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "sandbox", "--kubeconfig", str(kubeconfig)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_until(kubeconfig.exists, what="the sandbox kubeconfig")
    yield StandaloneSandbox(kubeconfig)
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture
def postgres_url() -> str:
    """An empty PostgreSQL database for the tests that check behaviour only several
    server processes sharing one database show. Set ``TEST_POSTGRES_URL``
    (``postgresql+asyncpg://user:pw@host/db``, a database the tests may wipe) to run
    them; they are skipped otherwise."""
    url = os.environ.get("TEST_POSTGRES_URL")
    if not url:
        pytest.skip("TEST_POSTGRES_URL is not set")

    async def wipe() -> None:
        from sqlalchemy import text

        from app.store.db import make_engine

        engine = make_engine(url)
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
        await engine.dispose()

    # In a thread of its own: the fixture may be requested from inside a running loop.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, wipe()).result()
    return url


def graphql(
    http: httpx.Client, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = http.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


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
    deadline = time.monotonic() + timeout
    params = {"tenant_org_id": tenant_org_id, "include_deleted": str(include_deleted).lower()}
    while True:
        response = http.get(f"/tenant/containers/{user}/{service_name}", params=params)
        assert response.status_code == 200, response.text
        container: dict[str, Any] = response.json()
        if container["status"] in wanted:
            return container
        if time.monotonic() > deadline:
            raise AssertionError(f"status stayed {container['status']}: {container}")
        time.sleep(0.1)


def wait_until(
    condition: Callable[[], bool], *, timeout: float = 30, what: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not hold within {timeout}s")
        time.sleep(0.1)


def kubectl_path() -> str:
    path = shutil.which("kubectl")
    if path is None:
        pytest.skip("kubectl is not installed (.ci/run installs it)")
    return path


def kubectl(kubeconfig: Path, *args: str) -> str:
    cache = kubeconfig.parent / "kubectl-cache"
    result = subprocess.run(
        [kubectl_path(), "--kubeconfig", str(kubeconfig), "--cache-dir", str(cache), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout
