"""Shared fixtures (the helpers they are built from live in ``tests/support``).

In-process (``app_server``, ``make_app``): the real ASGI app with its lifespan, runtime
and sandbox cluster in the test's event loop, through httpx's ASGITransport; the
default for tests that need no process boundary. Subprocess (``server``, ``client``,
``make_server``, ``standalone_sandbox``): ``es-serverless serve`` over real HTTP, for
the tests where a process must die or restart, or that need uvicorn itself."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from app.store.db import SessionFactory, make_engine, make_session_factory, migrate_async
from kube_sandbox import SandboxCluster
from tests.support.database import run_blocking
from tests.support.databases import ON_POSTGRESQL, databases_made, drop_databases_since
from tests.support.inprocess import InProcessServer, serve_in_process
from tests.support.servers import ServerProcess, StandaloneSandbox, server_env
from tests.support.waiting import wait_until


@pytest.fixture(scope="session", autouse=True)
def _no_settings_from_outside() -> Iterator[None]:
    """In-process apps read their Settings from the environment, as the server does:
    none of the developer's ESS_* variables or KUBECONFIG may leak into them (servers
    in subprocesses get an environment without them too: ``server_env``)."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("ESS_") or name == "KUBECONFIG":
                patch.delenv(name)
        yield


@pytest.fixture(scope="session", autouse=True)
def _drop_session_databases() -> Iterator[None]:
    """The PostgreSQL pass: the databases of session- and module-wide servers are
    dropped when the run ends (``tests.support.databases``)."""
    yield
    drop_databases_since(0)


@pytest.fixture(autouse=True)
def _drop_test_databases() -> Iterator[None]:
    """The PostgreSQL pass: the databases a test's servers and runtimes were given are
    dropped when it ends (set up before, so torn down after, the test's own fixtures)."""
    mark = databases_made()
    yield
    drop_databases_since(mark)


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


MakeApp = Callable[..., Awaitable[InProcessServer]]


@pytest.fixture
async def make_app(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[MakeApp]:
    """Start in-process servers with their own settings (Settings fields as keywords);
    each is shut down, lifespan and sandbox, when the test ends."""
    async with AsyncExitStack() as stack:

        async def make(**settings: Any) -> InProcessServer:
            data_dir = tmp_path_factory.mktemp("app")
            return await stack.enter_async_context(serve_in_process(data_dir, **settings))

        yield make


@pytest.fixture
async def app_server(make_app: MakeApp) -> InProcessServer:
    """An in-process server of the test's own, on the test settings."""
    return await make_app()


@pytest.fixture
async def admin_client(app_server: InProcessServer) -> AsyncIterator[httpx.AsyncClient]:
    """The administrator's client of ``app_server``."""
    async with app_server.client() as http:
        yield http


@pytest.fixture
async def sandbox_cluster() -> AsyncIterator[SandboxCluster]:
    """A sandbox cluster of its own in the test's event loop, without a control plane
    (tests of the Kubernetes client and helpers)."""
    async with SandboxCluster(ready_seconds=0.2) as cluster:
        yield cluster


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_app(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[InProcessServer]:
    """One in-process server for a module whose tests only add tenants (each under its
    own org), as ``server`` is for the subprocess tests. Its tests run in the module's
    event loop: ``pytestmark = pytest.mark.asyncio(loop_scope="module")``."""
    async with serve_in_process(tmp_path_factory.mktemp("shared-app")) as app:
        yield app


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_admin(shared_app: InProcessServer) -> AsyncIterator[httpx.AsyncClient]:
    async with shared_app.client() as http:
        yield http


_org_numbers = itertools.count(1)


@pytest.fixture
def org() -> str:
    """A fresh organisation id, so tests sharing a server never see each other's rows."""
    return f"org-t{os.getpid()}-{next(_org_numbers)}"


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

    run_blocking(wipe())
    return url


@pytest.fixture
def postgres_replica_env(postgres_url: str, standalone_sandbox: StandaloneSandbox) -> dict[str, str]:
    """What control-plane replicas share: one PostgreSQL database, one secret key and
    one (stand-alone) sandbox cluster."""
    return {
        "ESS_KUBE_MODE": "kubeconfig",
        "KUBECONFIG": str(standalone_sandbox.kubeconfig),
        "ESS_DATABASE_URL": postgres_url,
        "ESS_SECRET_KEY": "a-key-all-replicas-share-0123456789",
    }


@pytest.fixture
def postgres_replicas(
    postgres_replica_env: dict[str, str], make_server: Callable[..., ServerProcess]
) -> list[ServerProcess]:
    """Two control-plane replicas: server processes sharing ``postgres_replica_env``."""
    return [make_server(**postgres_replica_env), make_server(**postgres_replica_env)]


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database on SQLite, and on PostgreSQL too when TEST_POSTGRES_URL is set
    (in the PostgreSQL pass, only the latter)."""
    if request.param == "sqlite":
        if ON_POSTGRESQL:
            pytest.skip("the SQLite pass runs it on SQLite")
        return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    url: str = request.getfixturevalue("postgres_url")  # skips unless TEST_POSTGRES_URL is set
    return url


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[SessionFactory]:
    """Sessions of ``database_url``, migrated: the domain on each database."""
    await migrate_async(database_url)
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    await engine.dispose()
