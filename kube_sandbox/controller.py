"""The simulated StatefulSet controller.

Follows the real controller's algorithm (pkg/controller/statefulset), simplified where
the difference is invisible to clients:

* pods ``<set>-<ordinal>`` with the template's labels and spec, an ownerReference to the
  set, the ``statefulset.kubernetes.io/pod-name`` / ``controller-revision-hash`` labels,
  and one PVC ``<claim>-<set>-<ordinal>`` per volumeClaimTemplate (kept on scale-down
  and on deletion unless persistentVolumeClaimRetentionPolicy says Delete);
* ``OrderedReady`` creates pods one at a time, each after its predecessor is Running and
  Ready, and removes them highest ordinal first; ``Parallel`` does both at once;
* one ControllerRevision per distinct template (``history.py``), whose name the pods
  carry in ``controller-revision-hash``;
* events on the set for each pod and claim it creates or deletes, worded as upstream's
  (``SuccessfulCreate`` "create Pod es-0 in StatefulSet es successful");
* a template change is rolled out by deleting the highest-ordinal outdated pod, waiting
  for its replacement to be ready, and so on (``OnDelete`` leaves pods alone);
* ``status`` reports replicas/readyReplicas/currentReplicas/updatedReplicas/
  availableReplicas/currentRevision/updateRevision/observedGeneration like the real one.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from typing import Any

from .errors import ApiError
from .events import record_event
from .history import History
from .pods import is_running_and_ready
from .registry import Registry, with_type
from .resources import PODS, PVCS, STATEFULSETS
from .selectors import label_selector_from_object
from .store import StoreEvent
from .tasks import TaskSet, consume

logger = logging.getLogger(__name__)

Obj = dict[str, Any]

# A refused pod create is retried after this long, doubling up to the maximum, like
# the real controller's rate-limited work queue (which starts lower and ends higher).
RETRY_FIRST_SECONDS = 0.5
RETRY_MAX_SECONDS = 8.0
COMPONENT = "statefulset-controller"

POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
REVISION_LABEL = "controller-revision-hash"


def owner_reference(owner: Obj) -> Obj:
    return {
        "apiVersion": STATEFULSETS.api_version,
        "kind": STATEFULSETS.kind,
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def controller_of(obj: Obj, *, any_kind: bool = False) -> Obj | None:
    """The controlling owner reference (only a StatefulSet's unless ``any_kind``)."""
    for ref in obj.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("controller") and (any_kind or ref.get("kind") == STATEFULSETS.kind):
            return dict(ref)
    return None


def claim_name(template: Obj, set_name: str, ordinal: int) -> str:
    return f"{template['metadata']['name']}-{set_name}-{ordinal}"


class _Refused(Exception):
    """The API server refused a pod or claim the controller creates; the message is
    the event's, as the real controller words it."""

    def __init__(self, message: str, cause: ApiError) -> None:
        super().__init__(message)
        self.cause = cause


class StatefulSetController:
    def __init__(self, registry: Registry, tasks: TaskSet) -> None:
        self._registry = registry
        self._store = registry.store
        self._tasks = tasks
        self._history = History(registry)
        # (namespace, name) -> the delay before the next retry of a refused create.
        self._backoff: dict[tuple[str, str], float] = {}
        self._retries: dict[tuple[str, str], asyncio.Task[Any]] = {}

    def start(self) -> None:
        subscription = self._store.subscribe([STATEFULSETS, PODS])
        self._tasks.spawn(
            consume(subscription, self._handle, "statefulset controller"),
            name="sandbox-statefulset-controller",
        )

    def _handle(self, events: list[StoreEvent]) -> None:
        keys: set[tuple[str, str]] = set()
        for event in events:
            if event.resource == STATEFULSETS:
                if event.type != "DELETED":
                    keys.add((event.namespace, event.object["metadata"]["name"]))
            else:
                owner = controller_of(event.object)
                if owner is not None:
                    keys.add((event.namespace, owner["name"]))
        for namespace, name in sorted(keys):
            self.reconcile(namespace, name)

    # --- reconcile --------------------------------------------------------------------

    def reconcile(self, namespace: str, name: str) -> None:
        statefulset = self._store.get(STATEFULSETS, namespace, name)
        if statefulset is None or statefulset["metadata"].get("deletionTimestamp"):
            return
        try:
            revision = self._history.update_revision(statefulset, owner_reference(statefulset))
        except ApiError as exc:  # e.g. 403 while the namespace terminates
            logger.debug("statefulset %s/%s history: %s", namespace, name, exc.message)
            return
        try:
            self._sync_pods(statefulset, self._owned_pods(statefulset), revision)
        except ApiError as exc:
            # e.g. 403 while the namespace terminates; the next event retries.
            logger.debug("statefulset %s/%s: %s", namespace, name, exc.message)
        self._sync_status(namespace, name, revision)

    def _owned_pods(self, statefulset: Obj) -> dict[int, Obj]:
        """The set's pods by ordinal, adopting orphans like the real controller does.

        An orphan is a pod named ``<set>-<ordinal>`` that matches the selector and has no
        controller (e.g. left behind by ``propagationPolicy=Orphan``); the new owner
        takes it over instead of failing to create a pod of the same name.
        """
        meta = statefulset["metadata"]
        selector = label_selector_from_object(statefulset["spec"].get("selector"))
        prefix = f"{meta['name']}-"
        owned: dict[int, Obj] = {}
        for pod in self._store.list(PODS, meta["namespace"]):
            name = pod["metadata"]["name"]
            suffix = name.removeprefix(prefix)
            if not name.startswith(prefix) or not suffix.isdigit():
                continue
            owner = controller_of(pod, any_kind=True)
            if owner is None and selector.matches(pod["metadata"].get("labels")):
                pod["metadata"]["ownerReferences"] = [
                    *(pod["metadata"].get("ownerReferences") or []),
                    owner_reference(statefulset),
                ]
                pod = self._registry.replace(PODS, meta["namespace"], name, pod)
            elif owner is None or owner.get("uid") != meta["uid"]:
                continue
            owned[int(suffix)] = pod
        return owned

    def _sync_pods(self, statefulset: Obj, pods: dict[int, Obj], revision: str) -> None:
        spec = statefulset["spec"]
        start = int((spec.get("ordinals") or {}).get("start", 0))
        wanted = range(start, start + int(spec.get("replicas", 1)))
        monotonic = spec.get("podManagementPolicy", "OrderedReady") != "Parallel"

        refused = False
        for ordinal in wanted:
            pod = pods.get(ordinal)
            if pod is None:
                refused |= not self._create_pod(statefulset, ordinal, revision)
                if monotonic:
                    return
                continue
            if pod.get("status", {}).get("phase") == "Failed":
                self._delete_pod(statefulset, pod)  # recreated by the next reconcile
                if monotonic:
                    return
                continue
            if monotonic and not is_running_and_ready(pod):
                return
        if refused:
            return  # as the real controller: no deletions or updates in a failed sync

        for ordinal in sorted((o for o in pods if o not in wanted), reverse=True):
            self._condemn(statefulset, pods[ordinal], ordinal)
            if monotonic:
                return

        update = spec.get("updateStrategy") or {}
        if update.get("type") == "OnDelete":
            return
        partition = int((update.get("rollingUpdate") or {}).get("partition", 0))
        for ordinal in reversed(wanted):
            if ordinal - start < partition:
                return
            pod = pods.get(ordinal)
            if pod is None:
                return
            if pod["metadata"].get("labels", {}).get(REVISION_LABEL) != revision:
                self._delete_pod(statefulset, pod)
                return
            if not is_running_and_ready(pod):
                return

    def _create_pod(self, statefulset: Obj, ordinal: int, revision: str) -> bool:
        """Create the pod (and its claims); False when the API server refused it (a
        quota, a LimitRange): a Warning event FailedCreate, and a retry later."""
        try:
            self._create_pod_and_claims(statefulset, ordinal, revision)
        except _Refused as refusal:
            cause = refusal.cause
            if cause.code != 403 or "is being terminated" in cause.message:
                raise cause from None  # not an admission refusal: reconcile logs it
            self._refused(statefulset, str(refusal))
            return False
        self._backoff.pop(
            (statefulset["metadata"]["namespace"], statefulset["metadata"]["name"]), None
        )
        return True

    def _record(self, statefulset: Obj, reason: str, message: str, type: str = "Normal") -> None:
        record_event(
            self._registry,
            about=with_type(STATEFULSETS, statefulset),
            type=type,
            reason=reason,
            message=message,
            component=COMPONENT,
        )

    def _refused(self, statefulset: Obj, message: str) -> None:
        meta = statefulset["metadata"]
        self._record(statefulset, "FailedCreate", message, type="Warning")
        key = (meta["namespace"], meta["name"])
        if key in self._retries:
            return
        delay = self._backoff.get(key, RETRY_FIRST_SECONDS)
        self._backoff[key] = min(delay * 2, RETRY_MAX_SECONDS)
        task = self._tasks.spawn(
            self._retry(key, delay), name=f"sandbox-statefulset-retry-{key[0]}/{key[1]}"
        )
        if task is not None:
            self._retries[key] = task

    async def _retry(self, key: tuple[str, str], delay: float) -> None:
        try:
            await asyncio.sleep(delay)
        finally:
            self._retries.pop(key, None)
        self.reconcile(*key)

    def _create_pod_and_claims(self, statefulset: Obj, ordinal: int, revision: str) -> None:
        meta, spec = statefulset["metadata"], statefulset["spec"]
        namespace, set_name = meta["namespace"], meta["name"]
        pod_name = f"{set_name}-{ordinal}"
        for template in spec.get("volumeClaimTemplates") or []:
            claim = claim_name(template, set_name, ordinal)
            try:
                created = self._ensure_claim(statefulset, template, ordinal)
            except ApiError as exc:
                raise _Refused(
                    f"create Claim {claim} for Pod {pod_name} in StatefulSet {set_name} "
                    f"failed error: {exc.message}",
                    exc,
                ) from exc
            if created:
                self._record(
                    statefulset,
                    "SuccessfulCreate",
                    f"create Claim {claim} Pod {pod_name} in StatefulSet {set_name} success",
                )
        template = copy.deepcopy(spec.get("template", {}))
        template_meta = template.get("metadata") or {}
        pod_spec = template.get("spec") or {}
        pod_spec["hostname"] = pod_name
        if spec.get("serviceName"):
            pod_spec["subdomain"] = spec["serviceName"]
        volumes = [
            v
            for v in pod_spec.get("volumes") or []
            if v.get("name")
            not in {t["metadata"]["name"] for t in spec.get("volumeClaimTemplates") or []}
        ]
        volumes.extend(
            {
                "name": t["metadata"]["name"],
                "persistentVolumeClaim": {"claimName": claim_name(t, set_name, ordinal)},
            }
            for t in spec.get("volumeClaimTemplates") or []
        )
        if volumes:
            pod_spec["volumes"] = volumes
        pod_meta: Obj = {
            "name": pod_name,
            "namespace": namespace,
            "labels": {
                **(template_meta.get("labels") or {}),
                REVISION_LABEL: revision,
                POD_NAME_LABEL: pod_name,
                POD_INDEX_LABEL: str(ordinal),
            },
            "ownerReferences": [owner_reference(statefulset)],
        }
        if template_meta.get("annotations"):
            pod_meta["annotations"] = dict(template_meta["annotations"])
        try:
            self._registry.create(PODS, namespace, {"metadata": pod_meta, "spec": pod_spec})
        except ApiError as exc:
            if exc.code != 409:
                raise _Refused(
                    f"create Pod {pod_name} in StatefulSet {set_name} failed error: {exc.message}",
                    exc,
                ) from exc
            logger.warning(
                "statefulset %s/%s: pod %s exists but is not ours", namespace, set_name, pod_name
            )
            return
        self._record(
            statefulset,
            "SuccessfulCreate",
            f"create Pod {pod_name} in StatefulSet {set_name} successful",
        )

    def _ensure_claim(self, statefulset: Obj, template: Obj, ordinal: int) -> bool:
        """Create the claim unless it exists; whether it was created."""
        meta, spec = statefulset["metadata"], statefulset["spec"]
        name = claim_name(template, meta["name"], ordinal)
        if self._store.get(PVCS, meta["namespace"], name) is not None:
            return False  # claims outlive their pods, so a re-created pod reuses its data
        claim_meta: Obj = {
            "name": name,
            "namespace": meta["namespace"],
            "labels": {
                **(template["metadata"].get("labels") or {}),
                **((spec.get("selector") or {}).get("matchLabels") or {}),
            },
        }
        if template["metadata"].get("annotations"):
            claim_meta["annotations"] = dict(template["metadata"]["annotations"])
        retention = spec.get("persistentVolumeClaimRetentionPolicy") or {}
        if retention.get("whenDeleted") == "Delete":
            claim_meta["ownerReferences"] = [owner_reference(statefulset)]
        claim = {"metadata": claim_meta, "spec": copy.deepcopy(template.get("spec") or {})}
        self._registry.create(PVCS, meta["namespace"], claim)
        return True

    def _condemn(self, statefulset: Obj, pod: Obj, ordinal: int) -> None:
        """Scale-down of one ordinal; its claims stay unless whenScaled is Delete."""
        self._delete_pod(statefulset, pod)
        spec = statefulset["spec"]
        if (spec.get("persistentVolumeClaimRetentionPolicy") or {}).get("whenScaled") != "Delete":
            return
        for template in spec.get("volumeClaimTemplates") or []:
            name = claim_name(template, statefulset["metadata"]["name"], ordinal)
            claim = self._store.get(PVCS, statefulset["metadata"]["namespace"], name)
            if claim is not None:
                self._delete(PVCS, claim)

    def _delete_pod(self, statefulset: Obj, pod: Obj) -> None:
        if self._delete(PODS, pod):
            self._record(
                statefulset,
                "SuccessfulDelete",
                f"delete Pod {pod['metadata']['name']} in StatefulSet "
                f"{statefulset['metadata']['name']} successful",
            )

    def _delete(self, resource: Any, obj: Obj) -> bool:
        """Delete; whether this call deleted it (False when it was gone already)."""
        try:
            self._registry.delete(resource, obj["metadata"]["namespace"], obj["metadata"]["name"])
        except ApiError as exc:
            if exc.code != 404:
                raise
            return False
        return True

    # --- status -----------------------------------------------------------------------

    def _sync_status(self, namespace: str, name: str, revision: str) -> None:
        statefulset = self._store.get(STATEFULSETS, namespace, name)
        if statefulset is None:
            return
        pods = list(self._owned_pods(statefulset).values())
        old = statefulset.get("status") or {}
        current_revision = old.get("currentRevision") or revision
        revisions = [p["metadata"].get("labels", {}).get(REVISION_LABEL) for p in pods]
        ready = sum(1 for p in pods if is_running_and_ready(p))
        status: Obj = {
            **old,
            "observedGeneration": statefulset["metadata"].get("generation", 1),
            "replicas": len(pods),
            "readyReplicas": ready,
            "currentReplicas": revisions.count(current_revision),
            "updatedReplicas": revisions.count(revision),
            "availableReplicas": ready,
            "currentRevision": current_revision,
            "updateRevision": revision,
            "collisionCount": old.get("collisionCount", 0),
        }
        rolling = (statefulset["spec"].get("updateStrategy") or {}).get("type") != "OnDelete"
        if rolling and status["updatedReplicas"] == len(pods) and ready == len(pods):
            status["currentRevision"] = revision
            status["currentReplicas"] = status["updatedReplicas"]
        # These are omitempty in the Go type: absent rather than 0 on a real cluster.
        for key in ("readyReplicas", "currentReplicas", "updatedReplicas"):
            if not status[key]:
                del status[key]
        live = {*revisions, status["currentRevision"], revision}
        try:
            self._history.trim(statefulset, {r for r in live if r})
        except ApiError as exc:
            logger.debug("statefulset %s/%s history: %s", namespace, name, exc.message)
        if status == old:
            return
        statefulset["status"] = status
        try:
            self._registry.replace(STATEFULSETS, namespace, name, statefulset, subresource="status")
        except ApiError as exc:
            logger.debug("statefulset %s/%s status: %s", namespace, name, exc.message)
