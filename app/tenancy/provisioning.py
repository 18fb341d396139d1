"""The background worker: carries out in Kubernetes what the records say a cluster
should be (spec section 4, steps 5-9, and the lifecycle operations).

Everything it needs is in the database, so it can start, or resume after a crash or
restart, from a cluster id alone: the status says what is owed (pending/creating:
provision; updating: apply the new shape; deleting: remove the namespace), and every
step is idempotent, so repeating a half-done one just finishes it.

A task works from the version of the record it began with: it carries out the spec
recorded at that version, checks before every step that changes Kubernetes that the
version is still current, and records its outcome as a compare-and-set against it.
So a task overtaken by a newer change (a delete, or work recorded by another server
process) stops and drops its stale outcome; the database, not this process's task
list, is the guard.

With several replicas, each cluster's work runs on the one holding its lease
(app.tenancy.leases): the replica that recorded the change, or the one that took the
work over after its holder's lease ran out. A task works only under this replica's
lease; the heartbeat renews the leases of every cluster this process has work for and
then looks for work left behind by a replica that stopped.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any

from app.kube.apply import Manifest, apply_manifests
from app.kube.client import KubeClient
from app.kube.errors import KubeError
from app.kube.manifests import (
    OWNER_ANNOTATION,
    ClusterSecrets,
    ClusterShape,
    claim_labels,
    cluster_manifests,
    config_manifest,
    namespace_manifest,
)
from app.kube.rollout import roll_out_cluster
from app.kube.teardown import Removal, remove_cluster
from app.kube.zones import NodeZones, annotate_zones
from app.logs import bound
from app.secrets import SecretDeriver
from app.store.db import SessionFactory, session_scope
from app.store.tables import IN_PROGRESS, ClusterStatus, TenantContainerRow
from app.tasks import TaskSupervisor
from app.telemetry import WORK_SECONDS
from app.tenancy import leases, queries, upgrades
from app.tenancy.errors import ClusterChanged
from app.tenancy.leases import LeaseTerms
from app.tenancy.lifecycle import ClusterRecord, record_progress
from app.tenancy.shapes import kube_shape

log = logging.getLogger(__name__)
S = ClusterStatus
# No bound: at start, all the work no live replica holds is resumed (queued for slots).
_ALL = 1_000_000


@dataclass(frozen=True, kw_only=True)
class WorkerSettings:
    image_repository: str  # a cluster runs <image_repository>:<its version>
    ready_timeout: float
    concurrency: int
    platform_namespace: str
    public_url: str  # how tenant clusters reach the control plane
    lease: LeaseTerms
    heartbeat_seconds: float

    def image_of(self, version: str) -> str:
        return f"{self.image_repository}:{version}"


def task_name(container_id: str) -> str:
    return f"cluster:{container_id}"


class ClusterWorker:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        kube: KubeClient,
        settings: WorkerSettings,
        tasks: TaskSupervisor,
        secrets: SecretDeriver,
    ) -> None:
        self._sessions = sessions
        self._kube = kube
        self._secrets = secrets
        self._settings = settings
        self._tasks = tasks
        # Bounds clusters worked on at once: a burst of creates queues here.
        self._slots = asyncio.Semaphore(settings.concurrency)
        # The record version each running task works from (the one it began with, then
        # each it recorded itself): its outcomes are compare-and-sets against it.
        self._held: dict[str, int] = {}
        # Clusters submitted while their task was still running: the task reads the
        # records once more before it ends, so owed work never waits for a restart.
        self._again: set[str] = set()
        # Whether the nodes carry zones (shard allocation awareness), looked up now and
        # then rather than for every cluster.
        self._zones = NodeZones()

    @property
    def lease(self) -> LeaseTerms:
        """This replica's lease terms: the records it writes for a request take the
        cluster's work with them, so it starts here at once."""
        return self._settings.lease

    def busy(self, container_id: str) -> bool:
        return self._tasks.running(task_name(container_id))

    def queued(self) -> int:
        """Clusters this process has work for: being worked on or waiting for a slot."""
        return self._tasks.count(prefix=task_name(""))

    def _local(self) -> set[str]:
        prefix = task_name("")
        return {name[len(prefix) :] for name in self._tasks.names(prefix=prefix)}

    def submit(self, container_id: str) -> None:
        """Work on the cluster until its records and Kubernetes agree (a task already
        running for it looks at the records again before it ends)."""
        if not self._tasks.start(task_name(container_id), self._work(container_id)):
            self._again.add(container_id)

    async def resubmit(self, container_id: str) -> None:
        """Stop what is being done for the cluster and start over from its records
        (a delete overtakes a create still in progress)."""
        await self._tasks.cancel(task_name(container_id))
        self.submit(container_id)

    async def resume_unfinished(self) -> int:
        """At start: claim every cluster with work owed that no live replica holds
        (never leased, this replica's own from its previous run, or run out)."""
        async with session_scope(self._sessions, background=True) as session:
            claimed = await leases.claim_work(
                session, terms=self.lease, limit=_ALL, unleased=True
            )
        for container_id in claimed:
            self.submit(container_id)
        if claimed:
            log.info("resuming work on %d cluster(s)", len(claimed))
        return len(claimed)

    async def keep_leases(self) -> None:
        """The heartbeat, for the life of the process."""
        while True:
            await asyncio.sleep(self._settings.heartbeat_seconds)
            try:
                await self.heartbeat()
            except Exception:
                # A database hiccup: the leases last several heartbeats.
                log.exception("lease heartbeat failed; trying again next heartbeat")

    async def heartbeat(self) -> list[str]:
        """Renew the leases of the clusters this process has work for (one statement),
        then, with slots free, claim work whose lease ran out; returns what it claimed."""
        local = self._local()
        if local:
            async with session_scope(self._sessions, background=True) as session:
                held = await leases.renew(session, terms=self.lease, container_ids=local)
                # Not renewed: finished (released), or taken over by another replica.
                lost = await leases.held_by_others(
                    session, owner=self.lease.owner, container_ids=local - held
                )
            for container_id in lost:
                # The version moved on with the lease: this work is fenced; stop it.
                log.warning("cluster %s: its lease was taken over; stopping here", container_id)
                await self._tasks.cancel(task_name(container_id))
        free = self._settings.concurrency - self.queued()
        if free <= 0:
            return []
        async with session_scope(self._sessions, background=True) as session:
            claimed = await leases.claim_work(
                session, terms=self.lease, limit=free, skip=self._local()
            )
        for container_id in claimed:
            log.info("cluster %s: took over work whose lease ran out", container_id)
            self.submit(container_id)
        return claimed

    async def release_all(self) -> None:
        """At shutdown, after the work stopped: the leases run out now, so another
        replica's next heartbeat takes the work over."""
        try:
            async with session_scope(self._sessions, background=True) as session:
                await leases.expire_all(session, owner=self.lease.owner)
        except Exception:
            # Nothing is lost: the leases run out by themselves.
            log.exception("could not give up the leases at shutdown")

    async def _work(self, container_id: str) -> None:
        async with self._slots:
            try:
                while True:
                    self._again.discard(container_id)
                    begun = await self._begin(container_id)
                    if begun is not None:
                        await self._carry_out(begun)
                    if container_id not in self._again:
                        return
            except Exception as exc:
                # Lands on the cluster's record (against the version held), not only in
                # the log; a crash before any version was held leaves the work owed.
                log.exception("work on cluster %s failed unexpectedly", container_id)
                await self._finish(container_id, IN_PROGRESS, S.FAILED, f"internal error: {exc}")
            finally:
                self._held.pop(container_id, None)

    async def _carry_out(self, record: ClusterRecord) -> None:
        container = record.container
        with bound(namespace=container.namespace):  # on every log line of this work
            await self._carry_out_logged(record)

    async def _carry_out_logged(self, record: ClusterRecord) -> None:
        container = record.container
        status = S(container.status)
        operations = {S.DELETING: "delete", S.UPDATING: "update", S.UPGRADING: "upgrade"}
        operation = operations.get(status, "create")
        log.info("%s of cluster %s began", operation, container.id)
        started, outcome = time.monotonic(), "error"
        try:
            if status is S.DELETING:
                await self._delete(container)
            else:
                await self._converge(record, status)
            outcome = "done"
        except ClusterChanged as exc:
            outcome = "overtaken"
            log.info("cluster %s moved on; dropping this work: %s", container.id, exc.message)
        except KubeError as exc:
            outcome = "failed"
            log.warning("cluster %s failed: %s", container.id, exc.message)
            await self._finish(container.id, {status}, S.FAILED, exc.message)
        finally:
            elapsed = time.monotonic() - started
            WORK_SECONDS.labels(operation, outcome).observe(elapsed)
            log.info("%s of cluster %s: %s in %.1fs", operation, container.id, outcome, elapsed)

    async def _begin(self, container_id: str) -> ClusterRecord | None:
        """The cluster as recorded, a pending one moved to creating; None when no work
        is owed. The task holds the version read (or just set) from here on."""
        try:
            async with session_scope(self._sessions, background=True) as session:
                record = await queries.container_pair(session=session, container_id=container_id)
                if record is None:
                    return None
                container = record.container
                if S(container.status) not in IN_PROGRESS:
                    return None
                if leases.held_elsewhere(container, owner=self.lease.owner):
                    return None  # the work is that replica's
                taken = container.lease_owner != self.lease.owner
                if taken:  # nobody's, or run out: written with the compare-and-set below
                    await leases.take(session, container, self.lease)
                if container.status == S.PENDING:
                    await record.transition(
                        session=session,
                        to=S.CREATING,
                        reason="applying Namespace, Services and StatefulSet",
                    )
                elif taken:
                    await leases.write(session, container)
        except ClusterChanged:
            # A delete, or another server process's worker, moved it first; the work
            # owed now belongs to whoever recorded that change.
            return None
        self._held[container_id] = container.row_version
        return record

    async def _ensure_current(self, container_id: str) -> None:
        """Raise ``ClusterChanged`` unless the record still has the version this task
        works from: called before every step that changes Kubernetes, so an overtaken
        task never re-creates what a newer change (a delete) removes."""
        async with self._sessions() as session:
            version = await queries.container_version(session=session, container_id=container_id)
        held = self._held.get(container_id)
        if version is None or version != held:
            raise ClusterChanged(
                f"cluster {container_id} is at version {version}; this work began from {held}"
            )

    async def _progress(self, container_id: str, status: ClusterStatus, reason: str) -> None:
        async with session_scope(self._sessions, background=True) as session:
            await record_progress(
                session=session, container_id=container_id, status=status, reason=reason
            )

    async def _converge(self, record: ClusterRecord, status: ClusterStatus) -> None:
        container = record.container
        shape = kube_shape(container)
        # A cluster that was never created has never formed: its nodes get the list of
        # masters to bootstrap from, and lose it once they are ready (no restart).
        bootstrap = container.sync_time is None
        zones = await self._zones.known(self._kube)
        await roll_out_cluster(
            self._kube,
            shape=shape,
            manifests=self._manifests(shape, record, bootstrap=bootstrap, zones=zones),
            recorded_at=container.created_at,
            update=status in (S.UPDATING, S.UPGRADING),
            timeout=self._settings.ready_timeout,
            # Every step that changes Kubernetes first makes sure this work is still the
            # newest recorded: an overtaken task never re-creates what a delete removes.
            before_each_step=functools.partial(self._ensure_current, container.id),
            on_progress=functools.partial(self._progress, container.id, status),
            on_rollout_poll=self._rollout_follower(record, status, zones=zones),
        )
        if bootstrap:
            await self._ensure_current(container.id)
            await apply_manifests(
                self._kube, [config_manifest(shape, bootstrap=False, zones=zones)]
            )
        reason = {
            S.CREATING: "all replicas ready; metadata synced",
            S.UPGRADING: f"upgrade to {container.version} rolled out; all replicas ready",
        }.get(status, "update rolled out; all replicas ready")
        await self._finish(container.id, {status}, S.CREATED, reason)

    def _rollout_follower(
        self, record: ClusterRecord, status: ClusterStatus, *, zones: bool
    ) -> Callable[[], Awaitable[None]] | None:
        """What to do at each look while the rollout is awaited: give new pods their
        zone (they wait for it), and follow an upgrade's pods."""
        steps: list[Callable[[], Awaitable[Any]]] = []
        container = record.container
        if zones:
            steps.append(
                functools.partial(annotate_zones, self._kube, namespace=container.namespace)
            )
        upgrade = record.deployment.upgrade if status is S.UPGRADING else None
        if upgrade is not None:
            steps.append(
                upgrades.UpgradeReporter(
                    kube=self._kube,
                    sessions=self._sessions,
                    container_id=container.id,
                    namespace=container.namespace,
                    recorded=int(upgrade.get("updated") or 0),
                    before_write=functools.partial(self._ensure_current, container.id),
                )
            )
        if not steps:
            return None

        async def follow() -> None:
            for step in steps:
                await step()

        return follow

    def _manifests(
        self, shape: ClusterShape, record: ClusterRecord, *, bootstrap: bool, zones: bool
    ) -> list[Manifest]:
        settings = self._settings
        return cluster_manifests(
            shape,
            cluster_id=record.container.id,
            image=settings.image_of(record.container.version),
            secrets=ClusterSecrets(
                elastic_password=self._secrets.elastic_password(
                    record.container.id, record.container.credentials_generation
                ),
                report_token=self._secrets.report_token(record.deployment.id),
                credentials_generation=record.container.credentials_generation,
            ),
            report_url=f"{settings.public_url.rstrip('/')}/deployments/{shape.namespace}/report",
            platform_namespace=settings.platform_namespace,
            bootstrap=bootstrap,
            zones=zones,
        )

    async def _delete(self, container: TenantContainerRow) -> None:
        shape = kube_shape(container)
        removal = await remove_cluster(
            self._kube,
            namespace=namespace_manifest(shape, cluster_id=container.id),
            recorded_at=container.created_at,
            claim_labels=claim_labels(shape),
            timeout=self._settings.ready_timeout,
        )
        await self._finish(container.id, {S.DELETING}, S.DELETED, _removal_reason(shape, removal))

    async def _finish(
        self,
        container_id: str,
        expected: Collection[ClusterStatus],
        to: ClusterStatus,
        reason: str,
    ) -> None:
        """Record the outcome as a compare-and-set against the version this task works
        from, unless the cluster moved on meanwhile (for example a delete overtook the
        create or update): then this outcome is stale and dropped."""
        held = self._held.get(container_id)
        if held is None:
            log.warning("cluster %s: no version held; %s not recorded", container_id, to.value)
            return
        try:
            async with session_scope(self._sessions, background=True) as session:
                record = await queries.container_pair(session=session, container_id=container_id)
                if record is None or record.container.status not in expected:
                    return
                # The work is done: its lease goes in the same write as the outcome.
                leases.release(record.container)
                await record.transition(session=session, to=to, reason=reason, read_version=held)
        except ClusterChanged:
            log.info("cluster %s moved on; its %s outcome is dropped", container_id, to.value)
            return
        self._held[container_id] = record.container.row_version


def _removal_reason(shape: ClusterShape, removal: Removal) -> str:
    if removal.already_gone:
        return f"namespace {shape.namespace} was already gone"
    if not removal.namespace_kept:
        return f"namespace {shape.namespace} removed"
    removed = ", ".join(removal.objects) or "none were left"
    return (
        f"namespace {shape.namespace} kept: it does not carry this cluster's ownership mark "
        f"({OWNER_ANNOTATION}), so only the cluster's own objects in it were removed: {removed}"
    )
