"""The garbage collector: dependents go when all their owners are gone.

Deleting a StatefulSet removes its pods this way (they carry an ownerReference to it),
exactly as on a real cluster with the default background propagation.
"""

from __future__ import annotations

import logging

from .errors import ApiError
from .registry import Registry
from .store import StoreEvent
from .tasks import TaskSet, consume

logger = logging.getLogger(__name__)


class GarbageCollector:
    def __init__(self, registry: Registry, tasks: TaskSet) -> None:
        self._registry = registry
        self._tasks = tasks

    def start(self) -> None:
        subscription = self._registry.store.subscribe()
        self._tasks.spawn(
            consume(subscription, self._handle, "garbage collector"),
            name="sandbox-garbage-collector",
        )

    def _handle(self, events: list[StoreEvent]) -> None:
        gone: dict[str, set[str]] = {}
        for event in events:
            if event.type == "DELETED" and event.resource.namespaced:
                uid = event.object["metadata"].get("uid")
                if uid:
                    gone.setdefault(event.namespace, set()).add(uid)
        for namespace, uids in gone.items():
            self._collect(namespace, uids)

    def _collect(self, namespace: str, deleted_owners: set[str]) -> None:
        store = self._registry.store
        for resource in self._registry.resources.namespaced():
            for obj in store.list(resource, namespace):
                refs = obj["metadata"].get("ownerReferences") or []
                owner_uids = {ref.get("uid") for ref in refs}
                if not owner_uids & deleted_owners:
                    continue
                if any(store.uid_exists(uid) for uid in owner_uids if uid):
                    continue  # another owner still holds it
                try:
                    self._registry.delete(resource, namespace, obj["metadata"]["name"])
                except ApiError as exc:
                    if exc.code != 404:
                        raise
                logger.debug(
                    "garbage-collected %s %s/%s",
                    resource.plural,
                    namespace,
                    obj["metadata"]["name"],
                )
