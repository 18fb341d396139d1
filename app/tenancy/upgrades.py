"""Upgrades of a cluster's Elasticsearch version: what an upgrade request may hold, and
its progress as recorded (DeploymentStatus.upgrade) while the worker rolls it out.

An upgrade is a rolling restart (app.kube.upgrade tells which pods run the new
version): the StatefulSet's pods restart one at a time, highest ordinal first, each
once the one before is ready. Each pod that comes back on the new version is one
event of the cluster (``elasticsearch-2 runs 9.2.0 (1/3)``, the status staying
``upgrading``) and raises ``updated``; the count is in the database, so a worker that
resumes the upgrade after a restart reports only the pods that moved since.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlmodel import select

from app.kube.client import KubeClient
from app.kube.names import STATEFULSET_NAME
from app.kube.upgrade import rollout_pods
from app.models.cluster import UPDATABLE, ClusterSpec
from app.models.versions import UpgradeProgress
from app.store.db import SessionFactory, session_scope
from app.store.tables import ClusterStatus, DeploymentStatusRow
from app.tenancy.errors import InvalidInput
from app.tenancy.lifecycle import record_progress


def progress(*, from_version: str | None, to_version: str | None, total: int) -> dict[str, Any]:
    """The progress of an upgrade just requested, as recorded."""
    return UpgradeProgress(
        from_version=str(from_version), to_version=str(to_version), updated=0, total=total
    ).model_dump()


def refuse_other_changes(*, current: ClusterSpec, wanted: ClusterSpec) -> None:
    """An upgrade changes the version and nothing else: a rolling restart onto a new
    version is a step of its own, and mixing a scale or a resize into it would leave no
    clear point to resume or report from."""
    others = [
        name
        for name in UPDATABLE
        if name != "version" and getattr(wanted, name) != getattr(current, name)
    ]
    if others:
        raise InvalidInput(
            f"an upgrade changes only the version: {', '.join(others)} cannot change in the "
            "same update; upgrade first, then send the other changes as another update"
        )


async def record_pods_updated(
    *, sessions: SessionFactory, container_id: str, pods: list[str], total: int
) -> UpgradeProgress | None:
    """Record that ``pods`` (highest ordinal first) run the new version and are ready:
    one event per pod not counted yet, and the new count. Returns the progress now
    recorded (None when the cluster has no upgrade under way)."""
    async with session_scope(sessions, background=True) as session:
        deployment = (
            await session.exec(
                select(DeploymentStatusRow).where(DeploymentStatusRow.container_id == container_id)
            )
        ).one()
        if deployment.upgrade is None:
            return None
        recorded = UpgradeProgress.model_validate(deployment.upgrade)
        if len(pods) <= recorded.updated and total == recorded.total:
            return recorded
        for position, pod in enumerate(pods[recorded.updated :], start=recorded.updated + 1):
            await record_progress(
                session=session,
                container_id=container_id,
                status=ClusterStatus.UPGRADING,
                reason=f"{pod} runs {recorded.to_version} ({position}/{total})",
            )
        updated = max(len(pods), recorded.updated)
        now = recorded.model_copy(update={"updated": updated, "total": total})
        deployment.upgrade = now.model_dump()
        session.add(deployment)
        return now


class UpgradeReporter:
    """Follows an upgrade's rolling restart while the worker waits for readiness: at
    each look, the pods that came back on the new version since the last are recorded
    (``record_pods_updated``). ``before_write`` may stop it (the work was overtaken)."""

    def __init__(
        self,
        *,
        kube: KubeClient,
        sessions: SessionFactory,
        container_id: str,
        namespace: str,
        recorded: int,
        before_write: Callable[[], Awaitable[None]],
    ) -> None:
        self._kube = kube
        self._sessions = sessions
        self._container_id = container_id
        self._namespace = namespace
        self._recorded = recorded
        self._before_write = before_write

    async def __call__(self) -> None:
        pods = await rollout_pods(self._kube, namespace=self._namespace, name=STATEFULSET_NAME)
        if pods is None or len(pods.updated) <= self._recorded:
            return
        await self._before_write()
        now = await record_pods_updated(
            sessions=self._sessions,
            container_id=self._container_id,
            pods=pods.updated,
            total=pods.total,
        )
        if now is not None:
            self._recorded = now.updated
