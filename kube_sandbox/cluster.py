"""``SandboxCluster``: the emulated Kubernetes API server, assembled and served."""

from __future__ import annotations

import asyncio
import logging
import pathlib
from collections.abc import Awaitable
from types import TracebackType
from typing import Any

from aiohttp import web

from .control import control_routes
from .controller import StatefulSetController
from .faults import Fault, FaultInjector
from .gc import GarbageCollector
from .kubeconfig import write_kubeconfig
from .kubelet import Kubelet, ReadinessPolicy
from .namespaces import NamespaceController
from .pods import NODE_NAME, node_manifest
from .provisioner import Provisioner
from .registry import SYSTEM_NAMESPACES, Registry
from .resources import NAMESPACES, NODES, PODS, ResourceTable
from .server import ApiServer, build_app
from .stats import RequestStats
from .store import ObjectStore
from .tasks import TaskSet

logger = logging.getLogger(__name__)

# Long-lived watch streams are ended by ``stop()`` itself; this only bounds how long
# aiohttp waits for any other in-flight request when shutting down.
_SHUTDOWN_TIMEOUT = 2.0


class SandboxCluster:
    """An in-process Kubernetes API server over real HTTP on loopback.

    Runs inside the current asyncio loop (next to uvicorn or a pytest test) and serves
    the core/apps/networking resources the control plane uses, with a simulated
    StatefulSet controller, kubelet, namespace controller and garbage collector.
    """

    def __init__(
        self, *, host: str = "127.0.0.1", port: int = 0, ready_seconds: float = 2.0
    ) -> None:
        self._host = host
        self._port = port
        self.resources = ResourceTable()
        self.store = ObjectStore()
        self.registry = Registry(self.store, self.resources)
        self._readiness = ReadinessPolicy(ready_seconds)
        self._faults = FaultInjector()
        self._stats = RequestStats()
        self._tasks: TaskSet | None = None
        self._kubelet: Kubelet | None = None
        self._runner: web.AppRunner | None = None
        self._url: str | None = None
        for name in SYSTEM_NAMESPACES:
            self.registry.create(NAMESPACES, "", {"metadata": {"name": name}})
        self.registry.create(NODES, "", node_manifest(NODE_NAME))

    # --- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("the sandbox cluster is already running")
        tasks = TaskSet()
        self._kubelet = Kubelet(self.registry, tasks, self._readiness)
        for component in (
            self._kubelet,
            StatefulSetController(self.registry, tasks),
            GarbageCollector(self.registry, tasks),
            NamespaceController(self.registry, tasks),
            Provisioner(self.registry, tasks),
        ):
            component.start()
        self._tasks = tasks
        # Pods that exist already (a restarted cluster) still need their kubelet timers.
        for namespace in {p["metadata"]["namespace"] for p in self.store.list(PODS)}:
            self._kubelet.readiness_changed(namespace)
        app = build_app(ApiServer(self.registry, self._faults, self._stats), control_routes(self))
        runner = web.AppRunner(
            app,
            access_log=None,
            handle_signals=False,
            shutdown_timeout=_SHUTDOWN_TIMEOUT,
            # Cancel a handler whose client disconnected, so idle watches end promptly.
            handler_cancellation=True,
        )
        await runner.setup()
        try:
            await web.TCPSite(runner, self._host, self._port).start()
        except BaseException:
            await runner.cleanup()
            await tasks.close()
            raise
        self._runner = runner
        port = runner.addresses[0][1]
        host = f"[{self._host}]" if ":" in self._host else self._host
        self._url = f"http://{host}:{port}"
        logger.info("sandbox cluster serving at %s", self._url)

    async def stop(self) -> None:
        if self._runner is None:
            return
        runner, tasks = self._runner, self._tasks
        self._runner = self._tasks = None
        self.store.close()  # ends watch streams and the controllers' event loops
        await runner.cleanup()
        if tasks is not None:
            await tasks.close()
        self._url = None

    async def __aenter__(self) -> SandboxCluster:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("the sandbox cluster is not running; call start() first")
        return self._url

    def write_kubeconfig(self, path: pathlib.Path) -> pathlib.Path:
        return write_kubeconfig(path, self.url)

    # --- test controls (also served under /_sandbox/) ---------------------------------

    def inject_fault(self, **spec: Any) -> dict[str, Any]:
        """Fail the next ``count`` matching requests; see ``faults.Fault`` for the fields
        (method, resource, namespace, status, reason, message, count)."""
        return self._faults.add(Fault.from_spec(spec))

    def clear_faults(self) -> None:
        self._faults.clear()

    def faults(self) -> list[dict[str, Any]]:
        return self._faults.pending()

    def stats(self) -> dict[str, Any]:
        """Requests and responses by kind, and per object how often it was created
        ("created") and how often a create found it already there ("already_existed")."""
        return {
            **self._stats.snapshot(),
            "created": dict(sorted(self.registry.creations.items())),
            "already_existed": dict(sorted(self.registry.refused_creations.items())),
        }

    def reset_stats(self) -> None:
        self._stats.reset()
        self.registry.creations.clear()
        self.registry.refused_creations.clear()

    def hold_readiness(
        self, namespace: str, hold: bool = True, ready_seconds: float | None = None
    ) -> dict[str, Any]:
        """Keep the namespace's pods not-ready (hold) or let them become ready."""
        setting = self._readiness.set(namespace, hold=hold, ready_seconds=ready_seconds)
        if self._kubelet is not None and self._tasks is not None:
            self._kubelet.readiness_changed(namespace)
        return setting

    def readiness(self, namespace: str) -> dict[str, Any]:
        return self._readiness.describe(namespace)

    def compact(self) -> int:
        """Drop the watch history, like an etcd compaction: older resourceVersions expire."""
        return self.store.compact()


async def serve_forever(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    ready_seconds: float = 2.0,
    kubeconfig_path: pathlib.Path,
    until: Awaitable[Any] | None = None,
) -> None:
    """Run a sandbox cluster until ``until`` is done, or cancelled (the
    ``es-serverless sandbox`` command). The kubeconfig is written once it listens."""
    async with SandboxCluster(host=host, port=port, ready_seconds=ready_seconds) as cluster:
        path = cluster.write_kubeconfig(pathlib.Path(kubeconfig_path))
        logger.info("sandbox cluster at %s; kubeconfig written to %s", cluster.url, path)
        await (until if until is not None else asyncio.Event().wait())
