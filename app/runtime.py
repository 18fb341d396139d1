"""The composition root: builds the database, the Kubernetes connection (starting the
sandbox cluster when that is the target), the worker and the reconciler from one
Settings, and takes them down again in reverse order.

The sandbox cluster (the kube_sandbox package) is imported only when it is the
target: a control plane on a real cluster never loads the emulator."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from app.access.authenticate import Authenticator
from app.access.rate_limit import RateLimiter
from app.access.server_key import agree_on_server_key
from app.kube.client import KubeClient, RetryPolicy
from app.kube.connection import KubeTarget, open_api_client, resolve_target
from app.kube.namespace_informer import NamespaceInformer
from app.kube.sandbox_process import sandbox_process
from app.models.billing import PriceList
from app.secrets import SecretDeriver, load_or_create_secret
from app.settings import AuthMode, KubeMode, Settings
from app.store.db import SessionFactory, make_engine, make_session_factory, migrate_async
from app.store.replica import replica_identity
from app.tasks import TaskSupervisor
from app.tenancy.clock import SYSTEM_CLOCK, Clock
from app.tenancy.event_feed import EventFeed
from app.tenancy.leases import LeaseTerms
from app.tenancy.naming import IdSequence, ReservedNamespaces
from app.tenancy.provisioning import ClusterWorker, WorkerSettings
from app.tenancy.quota import QuotaDefaults
from app.tenancy.reconciler import Reconciler

if TYPE_CHECKING:
    from kube_sandbox import SandboxCluster

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Runtime:
    settings: Settings
    sessions: SessionFactory
    ids: IdSequence
    kube: KubeClient
    # Which namespaces exist, kept by a watch: a create's first check.
    namespaces: NamespaceInformer
    reserved_namespaces: ReservedNamespaces
    worker: ClusterWorker
    reconciler: Reconciler
    tasks: TaskSupervisor
    kube_target: KubeTarget
    # The sandbox cluster when it runs in this process (ESS_SANDBOX_IN_PROCESS), else None.
    sandbox: SandboxCluster | None
    authenticator: Authenticator
    secrets: SecretDeriver
    # One per process, shared by the HTTP middleware and WebSocket operations.
    rate_limiter: RateLimiter
    event_feed: EventFeed
    # Configuration that cannot work as meant (shown by /readyz too).
    warnings: tuple[str, ...] = ()
    # The time the records' changes and the usage ledger are written with, and bills
    # are computed at: the real UTC clock, or a test's.
    clock: Clock = SYSTEM_CLOCK

    @property
    def usage_retention(self) -> timedelta:
        return timedelta(hours=self.settings.usage_retention_hours)

    @property
    def quota_defaults(self) -> QuotaDefaults:
        return QuotaDefaults(
            organization=self.settings.default_org_quota,
            user=self.settings.default_user_quota,
            service=self.settings.default_service_quota,
        )

    @property
    def default_prices(self) -> PriceList:
        """The prices in force before the first the admin records (the settings')."""
        s = self.settings
        return PriceList(
            cpu_core_hour=s.price_cpu_core_hour,
            memory_gib_hour=s.price_memory_gib_hour,
            disk_gib_hour=s.price_disk_gib_hour,
            gpu_hour=s.price_gpu_hour,
            currency=s.currency,
        )


async def _start_sandbox(
    stack: AsyncExitStack, settings: Settings, target: KubeTarget
) -> SandboxCluster:
    from kube_sandbox import SandboxCluster

    sandbox = SandboxCluster(ready_seconds=settings.sandbox_ready_seconds)
    await sandbox.start()
    stack.push_async_callback(sandbox.stop)
    assert target.kubeconfig is not None
    sandbox.write_kubeconfig(target.kubeconfig)
    _warn_emulated(target, f"at {sandbox.url}")
    return sandbox


async def _start_sandbox_process(
    stack: AsyncExitStack, settings: Settings, target: KubeTarget
) -> None:
    assert target.kubeconfig is not None
    pid = await stack.enter_async_context(
        sandbox_process(kubeconfig=target.kubeconfig, ready_seconds=settings.sandbox_ready_seconds)
    )
    _warn_emulated(target, f"in process {pid}")


def _warn_emulated(target: KubeTarget, where: str) -> None:
    # A warning, so nobody mistakes the emulator for a cluster where Elasticsearch runs.
    log.warning(
        "Kubernetes target: the built-in SANDBOX cluster (emulated; no real workloads run)"
        " %s; kubectl --kubeconfig %s get namespaces",
        where,
        target.kubeconfig,
    )


_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def configuration_warnings(settings: Settings, target: KubeTarget) -> tuple[str, ...]:
    """What is configured in a way that cannot work, said at start and in /readyz: a
    real cluster's pods cannot reach the control plane at a loopback address (inside a
    pod that is the pod itself), so their usage reports would never arrive."""
    if target.mode is KubeMode.SANDBOX:
        return ()
    host = urlsplit(settings.public_url_resolved).hostname or ""
    if host in _LOOPBACK_HOSTS or host.startswith("127."):
        return (
            f"ESS_PUBLIC_URL is {settings.public_url_resolved}, a loopback address the "
            "tenant clusters' pods cannot reach: set it to the control plane's address "
            "in the cluster (e.g. http://es-serverless.es-serverless.svc:8080)",
        )
    return ()


def _secret(settings: Settings, name: str, *, what: str) -> str:
    configured = getattr(settings, name)
    if configured is not None:
        return str(configured.get_secret_value())
    return load_or_create_secret(settings.data_dir / name.replace("_", "-"), what=what)


@asynccontextmanager
async def open_runtime(
    settings: Settings, *, clock: Clock = SYSTEM_CLOCK
) -> AsyncIterator[Runtime]:
    # First, so a rate-limit storage that cannot be used stops the start at once.
    rate_limiter = RateLimiter(
        limit=settings.rate_limit_per_minute, storage=settings.rate_limit_storage
    )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.database_url_resolved
    for deprecation in settings.deprecations:
        log.warning("DEPRECATED: %s", deprecation)
    await migrate_async(url, legacy_es_version=settings.legacy_es_version)
    async with AsyncExitStack() as stack:
        engine = make_engine(url)
        stack.push_async_callback(engine.dispose)

        target = resolve_target(settings)
        log.info("Kubernetes target: %s", target.mode.value)
        warnings = configuration_warnings(settings, target)
        for warning in warnings:
            log.warning("CONFIGURATION: %s", warning)
        sandbox = None
        if target.mode is KubeMode.SANDBOX and settings.sandbox_in_process:
            sandbox = await _start_sandbox(stack, settings, target)
        elif target.mode is KubeMode.SANDBOX:
            await _start_sandbox_process(stack, settings, target)
        kube = KubeClient(
            await open_api_client(target),
            retry=RetryPolicy(deadline=settings.kube_retry_seconds),
            max_in_flight=settings.kube_max_in_flight,
        )
        stack.push_async_callback(kube.close)

        secrets = SecretDeriver(_secret(settings, "secret_key", what="server secret key"))
        await agree_on_server_key(sessions=make_session_factory(engine), secrets=secrets)
        authenticator = Authenticator(
            sessions=make_session_factory(engine),
            admin_token=_secret(settings, "admin_token", what="admin token"),
            secrets=secrets,
            enabled=settings.auth is AuthMode.ENABLED,
        )
        replica = replica_identity(settings.data_dir)
        stack.callback(replica.close)
        log.info("replica %s", replica.name)
        tasks = TaskSupervisor()
        sessions = make_session_factory(engine)
        worker = ClusterWorker(
            sessions=sessions,
            kube=kube,
            tasks=tasks,
            secrets=secrets,
            settings=WorkerSettings(
                image_repository=settings.es_image_repository,
                ready_timeout=settings.ready_timeout_seconds,
                concurrency=settings.provision_concurrency,
                platform_namespace=settings.platform_namespace,
                public_url=settings.public_url_resolved,
                lease=LeaseTerms(owner=replica.name, seconds=settings.lease_seconds),
                heartbeat_seconds=settings.lease_heartbeat_seconds,
            ),
        )
        # After the work stopped (below): the leases left run out now, for the others.
        stack.push_async_callback(worker.release_all)
        # Registered last, so it runs first: in-flight work stops before its
        # connections close, leaving clusters in a state the next start resumes.
        stack.push_async_callback(tasks.stop)
        reconciler = Reconciler(
            sessions=sessions,
            kube=kube,
            worker=worker,
            interval=settings.reconcile_interval_seconds,
            usage_retention=timedelta(hours=settings.usage_retention_hours),
            # A claim outlasts the next pass, so a replica keeps the clusters it checks.
            lease=LeaseTerms(
                owner=replica.name, seconds=2 * settings.reconcile_interval_seconds
            ),
        )
        namespaces = NamespaceInformer(kube)
        tasks.start("namespace-informer", namespaces.run_forever())
        await worker.resume_unfinished()
        tasks.start("leases", worker.keep_leases())
        tasks.start("reconciler", reconciler.run_forever())
        yield Runtime(
            warnings=warnings,
            settings=settings,
            sessions=sessions,
            ids=IdSequence(),
            kube=kube,
            namespaces=namespaces,
            reserved_namespaces=ReservedNamespaces.of(
                platform_namespace=settings.platform_namespace,
                extra=settings.reserved_namespaces,
            ),
            worker=worker,
            reconciler=reconciler,
            tasks=tasks,
            kube_target=target,
            sandbox=sandbox,
            authenticator=authenticator,
            secrets=secrets,
            rate_limiter=rate_limiter,
            event_feed=EventFeed(
                sessions=sessions,
                tasks=tasks,
                live_credentials=authenticator.live_keys,
                database_url=url,
            ),
            clock=clock,
        )
