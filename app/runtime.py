"""The composition root: builds the database, the Kubernetes connection (starting the
sandbox cluster when that is the target) and the provisioner from one Settings, and
takes them down again in reverse order."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from app.kube.connection import KubeTarget, open_api_client, resolve_target
from app.kube.sandbox import SandboxCluster
from app.settings import KubeMode, Settings
from app.store.db import SessionFactory, make_engine, make_session_factory, migrate_async
from app.tasks import TaskSupervisor
from app.tenancy.naming import IdSequence
from app.tenancy.provisioning import Provisioner, ProvisioningSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Runtime:
    settings: Settings
    sessions: SessionFactory
    ids: IdSequence
    provisioner: Provisioner
    tasks: TaskSupervisor
    kube_target: KubeTarget
    sandbox: SandboxCluster | None


@asynccontextmanager
async def open_runtime(settings: Settings) -> AsyncIterator[Runtime]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.database_url_resolved
    await migrate_async(url)
    async with AsyncExitStack() as stack:
        engine = make_engine(url)
        stack.push_async_callback(engine.dispose)

        target = resolve_target(settings)
        log.info("Kubernetes target: %s", target.mode.value)
        sandbox = None
        if target.mode is KubeMode.SANDBOX:
            sandbox = SandboxCluster(ready_seconds=settings.sandbox_ready_seconds)
            await sandbox.start()
            stack.push_async_callback(sandbox.stop)
            assert target.kubeconfig is not None
            sandbox.write_kubeconfig(target.kubeconfig)
            log.info(
                "sandbox cluster at %s; kubectl --kubeconfig %s get namespaces",
                sandbox.url,
                target.kubeconfig,
            )
        api = await open_api_client(target)
        stack.push_async_callback(api.close)

        tasks = TaskSupervisor()
        # Registered last, so it runs first: in-flight work stops before its
        # connections close, leaving clusters in a state the next start resumes.
        stack.push_async_callback(tasks.stop)
        sessions = make_session_factory(engine)
        provisioner = Provisioner(
            sessions=sessions,
            api=api,
            tasks=tasks,
            settings=ProvisioningSettings(
                image=settings.es_image,
                ready_timeout=settings.ready_timeout_seconds,
                concurrency=settings.provision_concurrency,
            ),
        )
        await provisioner.resume_unfinished()
        yield Runtime(
            settings=settings,
            sessions=sessions,
            ids=IdSequence(),
            provisioner=provisioner,
            tasks=tasks,
            kube_target=target,
            sandbox=sandbox,
        )
