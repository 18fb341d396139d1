"""The periodic reconciler: notices when Kubernetes drifts from the records behind the
control plane's back (namespace or StatefulSet removed, replicas, resources or volume
sizes other than the record wants, readiness lost) and says so on the cluster
(``degraded`` with the reason), and notices when it heals (``created`` again). Repair
is an explicit update (``updateCluster`` with no changes re-applies every object).

Each transition it records is a compare-and-set against the version it observed, so
a change recorded meanwhile (an update, a delete) is never overwritten.

Each pass also fills every running cluster's usage (DeploymentStatus cpu, memory and
disk) from what Kubernetes measures (app.kube.measured_usage), so usage is live
without the cluster reporting it; qps is only ever what the cluster reports.

With several replicas, each running cluster is checked by one of them: a pass claims
the clusters it checks, in batches, through their leases (app.tenancy.leases), and
keeps them pass after pass; a stopped replica's clusters are claimed by another once
its claims run out."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from app.kube.client import KubeClient
from app.kube.errors import KubeError
from app.kube.manifests import STATEFULSET_NAME, claim_labels, tenant_labels
from app.kube.measured_usage import measure_usage
from app.kube.observe import cluster_problem
from app.kube.zones import annotate_zones, zones_known
from app.logs import bound, new_request_id
from app.store.db import SessionFactory, session_scope
from app.store.tables import ClusterStatus, TenantContainerRow, utcnow
from app.tenancy import commands, leases, queries
from app.tenancy.errors import ClusterChanged, DomainError
from app.tenancy.leases import LeaseTerms
from app.tenancy.provisioning import ClusterWorker
from app.tenancy.scope import Scope
from app.tenancy.shapes import kube_shape

log = logging.getLogger(__name__)
WATCHED = (ClusterStatus.CREATED.value, ClusterStatus.DEGRADED.value)
# Clusters claimed per statement during a pass.
CLAIM_BATCH = 100


class Reconciler:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        kube: KubeClient,
        worker: ClusterWorker,
        interval: float,
        usage_retention: timedelta,
        lease: LeaseTerms,
    ) -> None:
        self._sessions = sessions
        self._lease = lease
        self.checks = 0  # clusters observed so far
        self._kube = kube
        self._worker = worker
        self._interval = interval
        self._usage_retention = usage_retention

    async def run_forever(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                with bound(request_id=new_request_id()):  # each pass's lines, told apart
                    await self.pass_once()
            except Exception:
                # One bad pass (a database hiccup, say) must not end reconciling.
                log.exception("reconciler pass failed; trying again next interval")

    async def pass_once(self) -> int:
        """Check once every running cluster this replica holds or can claim; returns
        how many changed status."""
        started, changed = utcnow(), 0
        # A pod restarted since the last rollout (a node drained, say) waits for its
        # zone until it is annotated: once a pass, when the nodes have zones.
        zones: bool | None = None
        while True:
            async with session_scope(self._sessions, background=True) as session:
                batch = await leases.claim_checks(
                    session,
                    terms=self._lease,
                    statuses=WATCHED,
                    pass_started=started,
                    limit=CLAIM_BATCH,
                )
            if not batch:
                return changed
            if zones is None:
                zones = await self._zones_known()
            for container in batch:
                changed += await self._visit(container, zones=zones)

    async def _visit(self, container: TenantContainerRow, *, zones: bool) -> int:
        """Observe one cluster, say what changed, measure its usage."""
        if self._worker.busy(container.id):
            return 0
        self.checks += 1
        with bound(namespace=container.namespace):  # on every log line about it
            changed = await self._check(container, zones=zones)
            await self._measure(container)
        return changed

    async def _zones_known(self) -> bool:
        try:
            return await zones_known(self._kube)
        except KubeError as exc:
            log.warning("reconciler could not list the nodes' zones: %s", exc)
            return False

    async def _measure(self, container: TenantContainerRow) -> None:
        """Record what the cluster uses now; a measurement that fails changes nothing."""
        shape = kube_shape(container)
        try:
            measured = await measure_usage(
                self._kube,
                namespace=container.namespace,
                pod_labels=tenant_labels(shape),
                claim_labels=claim_labels(shape),
            )
            await commands.record_usage(
                sessions=self._sessions,
                scope=Scope.everything(),
                namespace=container.namespace,
                values=measured.as_report(),
                retention=self._usage_retention,
                only_changes=True,
                background=True,
            )
        except (KubeError, DomainError) as exc:  # a cluster deleted meanwhile, say
            log.info("usage of %s not measured: %s", container.namespace, exc)

    async def _check(self, container: TenantContainerRow, *, zones: bool) -> int:
        """Observe the cluster (and copy its pods' node zones onto them when nodes
        have zones) and record what is seen; 1 when its status changed."""
        try:
            if zones:
                await annotate_zones(self._kube, namespace=container.namespace)
            problem = await cluster_problem(
                self._kube,
                namespace=container.namespace,
                statefulset=STATEFULSET_NAME,
                wanted=kube_shape(container),
            )
        except KubeError as exc:
            log.warning("reconciler could not observe %s: %s", container.namespace, exc)
            return 0
        return await self._record(container, problem)

    async def _record(self, seen: TenantContainerRow, problem: str | None) -> int:
        if seen.status == ClusterStatus.CREATED and problem is not None:
            to, reason = ClusterStatus.DEGRADED, problem
        elif seen.status == ClusterStatus.DEGRADED and problem is None:
            to, reason = ClusterStatus.CREATED, "as its record wants again; all replicas ready"
        else:
            return 0
        try:
            async with session_scope(self._sessions, background=True) as session:
                record = await queries.container_pair(session=session, container_id=seen.id)
                if record is None:
                    return 0
                # Only if nothing else moved the cluster since we looked.
                await record.transition(
                    session=session, to=to, reason=reason, read_version=seen.row_version
                )
        except ClusterChanged:
            return 0
        log.info("cluster %s is %s: %s", seen.namespace, to.value, reason)
        return 1
