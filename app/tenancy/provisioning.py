"""Background provisioning: steps 5-9 of the create flow.

Everything it needs is in the database, so it can start (or resume after a crash or
restart) from a cluster id alone. Applying is idempotent, so resuming a cluster that
was half-provisioned just finishes the job.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from kubernetes_asyncio.client import ApiClient
from sqlmodel.ext.asyncio.session import AsyncSession

from app.kube.apply import apply_manifests
from app.kube.errors import KubeError
from app.kube.manifests import STATEFULSET_NAME, ClusterShape, cluster_manifests
from app.kube.readiness import wait_until_ready
from app.store.db import SessionFactory, session_scope
from app.store.tables import ClusterStatus, DeploymentStatusRow, TenantContainerRow
from app.tasks import TaskSupervisor
from app.tenancy import service
from app.tenancy.lifecycle import record_transition

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class ProvisioningSettings:
    image: str
    ready_timeout: float
    concurrency: int


def shape_of(container: TenantContainerRow) -> ClusterShape:
    return ClusterShape(
        namespace=container.namespace,
        tenant_org_id=container.tenant_org_id,
        user=container.user,
        service_name=container.service_name,
        replicas=container.replicas,
        cpu_request=container.cpu_request,
        cpu_limit=container.cpu_limit,
        mem_request=container.mem_request,
        mem_limit=container.mem_limit,
        disk_size=container.disk_size,
        gpu_count=container.gpu_count,
        dimension=container.dimension,
        vector_count=container.vector_count,
        index_limit=container.index_limit,
        gitlab_url=container.gitlab_url,
    )


class Provisioner:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        api: ApiClient,
        settings: ProvisioningSettings,
        tasks: TaskSupervisor,
    ) -> None:
        self._sessions = sessions
        self._api = api
        self._settings = settings
        self._tasks = tasks
        self._slots = asyncio.Semaphore(settings.concurrency)

    def submit(self, container_id: str) -> None:
        async def record_crash(exc: BaseException) -> None:
            await self._finish(container_id, ClusterStatus.FAILED, f"internal error: {exc}")

        self._tasks.start(
            f"provision:{container_id}", self._provision(container_id), on_error=record_crash
        )

    async def resume_unfinished(self) -> int:
        """Pick up every cluster a previous run left pending or creating."""
        async with self._sessions() as session:
            unfinished = await service.containers_in_progress(session=session)
        for container in unfinished:
            self.submit(container.id)
        if unfinished:
            log.info("resuming provisioning of %d cluster(s)", len(unfinished))
        return len(unfinished)

    async def _provision(self, container_id: str) -> None:
        async with self._slots:
            container = await self._start(container_id)
            if container is None:
                return
            try:
                await apply_manifests(
                    self._api, cluster_manifests(shape_of(container), image=self._settings.image)
                )
                await wait_until_ready(
                    self._api,
                    namespace=container.namespace,
                    name=STATEFULSET_NAME,
                    timeout=self._settings.ready_timeout,
                )
            except KubeError as exc:
                log.warning("cluster %s failed: %s", container_id, exc.message)
                await self._finish(container_id, ClusterStatus.FAILED, exc.message)
                return
            await self._finish(
                container_id, ClusterStatus.CREATED, "all replicas ready; metadata synced"
            )

    async def _start(self, container_id: str) -> TenantContainerRow | None:
        """Move a pending cluster to creating; a cluster already creating (resumed after
        a restart) carries on; anything else has nothing left to do."""
        async with session_scope(self._sessions) as session:
            container, deployment = await _load(session, container_id)
            if container is None or deployment is None:
                return None
            status = ClusterStatus(container.status)
            if status is ClusterStatus.PENDING:
                record_transition(
                    session=session,
                    container=container,
                    deployment=deployment,
                    to=ClusterStatus.CREATING,
                    reason="applying Namespace, Services and StatefulSet",
                )
            elif status is not ClusterStatus.CREATING:
                return None
            return container

    async def _finish(self, container_id: str, to: ClusterStatus, reason: str) -> None:
        async with session_scope(self._sessions) as session:
            container, deployment = await _load(session, container_id)
            if container is None or deployment is None:
                return
            if not ClusterStatus(container.status).in_progress:
                return
            if container.status == ClusterStatus.PENDING and to is ClusterStatus.CREATED:
                return
            record_transition(
                session=session, container=container, deployment=deployment, to=to, reason=reason
            )


async def _load(
    session: AsyncSession, container_id: str
) -> tuple[TenantContainerRow | None, DeploymentStatusRow | None]:
    container = await service.get_container(session=session, container_id=container_id)
    if container is None:
        return None, None
    deployments = await service.deployments_of_containers(
        session=session, container_ids=[container.id]
    )
    return container, deployments.get(container.id)
