"""The simulated kubelet: pods become Running and Ready after a delay.

It records the events a pod's life shows on a real node: the scheduler's ``Scheduled``
when the pod appears (the sandbox binds every pod to its one node as it is created), and
the kubelet's ``Pulled``, ``Created`` and ``Started`` per container once it runs, and
``Killing`` when a running pod is deleted.

Tests steer it per namespace through ``ReadinessPolicy``: hold pods not-ready for as
long as they like, or change how long pods take to become ready.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from .errors import ApiError
from .events import record_event
from .pods import NODE_NAME, is_running_and_ready, running_status
from .registry import Registry, with_type
from .resources import PODS
from .store import StoreEvent
from .tasks import TaskSet, consume

logger = logging.getLogger(__name__)


# What the kubelet records as it starts each container (the image is always "present").
_STARTING = (
    ("Pulled", 'Container image "{image}" already present on machine'),
    ("Created", "Created container: {name}"),
    ("Started", "Started container {name}"),
)
_STOPPING = (("Killing", "Stopping container {name}"),)


@dataclass
class NamespaceReadiness:
    hold: bool = False
    ready_seconds: float | None = None  # None: the cluster-wide default


class ReadinessPolicy:
    """Per-namespace readiness settings; namespaces need not exist yet."""

    def __init__(self, default_seconds: float) -> None:
        if default_seconds < 0:
            raise ValueError("ready_seconds must be >= 0")
        self.default_seconds = default_seconds
        self._namespaces: dict[str, NamespaceReadiness] = {}

    def set(
        self, namespace: str, *, hold: bool, ready_seconds: float | None = None
    ) -> dict[str, Any]:
        if ready_seconds is not None and ready_seconds < 0:
            raise ValueError("ready_seconds must be >= 0")
        setting = self._namespaces.setdefault(namespace, NamespaceReadiness())
        setting.hold = hold
        if ready_seconds is not None:
            setting.ready_seconds = ready_seconds
        return self.describe(namespace)

    def held(self, namespace: str) -> bool:
        return self._namespaces.get(namespace, NamespaceReadiness()).hold

    def delay(self, namespace: str) -> float:
        override = self._namespaces.get(namespace, NamespaceReadiness()).ready_seconds
        return self.default_seconds if override is None else override

    def describe(self, namespace: str) -> dict[str, Any]:
        return {
            "namespace": namespace,
            "hold": self.held(namespace),
            "ready_seconds": self.delay(namespace),
        }


class Kubelet:
    def __init__(self, registry: Registry, tasks: TaskSet, policy: ReadinessPolicy) -> None:
        self._registry = registry
        self._tasks = tasks
        self._policy = policy
        # One pending "become ready" timer per pod uid.
        self._timers: dict[str, asyncio.Task[Any]] = {}

    def start(self) -> None:
        subscription = self._registry.store.subscribe([PODS])
        self._tasks.spawn(consume(subscription, self._handle, "kubelet"), name="sandbox-kubelet")

    def _handle(self, events: list[StoreEvent]) -> None:
        for event in events:
            if event.type == "ADDED":
                self._scheduled(event.object)
                self._schedule(event.object)
            elif event.type == "DELETED":
                timer = self._timers.pop(event.object["metadata"].get("uid", ""), None)
                if timer is not None:
                    timer.cancel()
                if event.object.get("status", {}).get("phase") == "Running":
                    self._container_events(event.object, _STOPPING)

    def _scheduled(self, pod: dict[str, Any]) -> None:
        meta = pod["metadata"]
        record_event(
            self._registry,
            about=with_type(PODS, pod),
            type="Normal",
            reason="Scheduled",
            message=f"Successfully assigned {meta['namespace']}/{meta['name']} to "
            f"{pod.get('spec', {}).get('nodeName') or NODE_NAME}",
            component="default-scheduler",
        )

    def _container_events(self, pod: dict[str, Any], events: tuple[tuple[str, str], ...]) -> None:
        """kuberuntime's events about each container, in order (messages name the
        container's ``{name}`` and ``{image}``)."""
        for container in pod.get("spec", {}).get("containers") or []:
            name = container.get("name", "")
            for reason, message in events:
                record_event(
                    self._registry,
                    about=with_type(PODS, pod),
                    type="Normal",
                    reason=reason,
                    message=message.format(name=name, image=container.get("image", "")),
                    component="kubelet",
                    host=NODE_NAME,
                    field_path=f"spec.containers{{{name}}}",
                )

    def readiness_changed(self, namespace: str) -> None:
        """Restart the clock for the namespace's not-ready pods under the new setting."""
        for pod in self._registry.store.list(PODS, namespace):
            if not is_running_and_ready(pod):
                self._schedule(pod)

    def _schedule(self, pod: dict[str, Any]) -> None:
        meta = pod["metadata"]
        uid = meta.get("uid", "")
        previous = self._timers.pop(uid, None)
        if previous is not None:
            previous.cancel()
        if self._policy.held(meta["namespace"]):
            return  # readiness_changed() reschedules once the hold is released
        task = self._tasks.spawn(
            self._become_ready(
                meta["namespace"], meta["name"], uid, self._policy.delay(meta["namespace"])
            ),
            name=f"sandbox-kubelet-ready-{meta['namespace']}/{meta['name']}",
        )
        if task is not None:
            self._timers[uid] = task

    async def _become_ready(self, namespace: str, name: str, uid: str, delay: float) -> None:
        await asyncio.sleep(delay)
        if self._timers.get(uid) is asyncio.current_task():
            del self._timers[uid]
        if self._policy.held(namespace):
            return
        pod = self._registry.store.get(PODS, namespace, name)
        if pod is None or pod["metadata"].get("uid") != uid or is_running_and_ready(pod):
            return
        starting = pod.get("status", {}).get("phase") == "Pending"
        pod["status"] = running_status(pod)
        try:
            self._registry.replace(PODS, namespace, name, pod, subresource="status")
            if starting:
                self._container_events(pod, _STARTING)
        except ApiError as exc:
            # e.g. the pod was deleted and re-created in between: the new one has its own timer.
            logger.debug("pod %s/%s did not become ready: %s", namespace, name, exc.message)
