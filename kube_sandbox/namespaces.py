"""The namespace controller: empties a Terminating namespace, then removes it."""

from __future__ import annotations

import asyncio
import logging

from .errors import ApiError
from .registry import Registry
from .resources import NAMESPACES
from .store import StoreEvent
from .tasks import TaskSet, consume

logger = logging.getLogger(__name__)

# How long a deleted namespace stays visible as Terminating before it is emptied:
# long enough for clients to observe the phase, short enough to keep tests fast.
DEFAULT_FINALIZE_DELAY = 0.1
_MAX_ROUNDS = 50


class NamespaceController:
    def __init__(
        self, registry: Registry, tasks: TaskSet, delay: float = DEFAULT_FINALIZE_DELAY
    ) -> None:
        self._registry = registry
        self._tasks = tasks
        self._delay = delay
        self._finalizing: set[str] = set()

    def start(self) -> None:
        subscription = self._registry.store.subscribe([NAMESPACES])
        self._tasks.spawn(
            consume(subscription, self._handle, "namespace controller"),
            name="sandbox-namespace-controller",
        )

    def _handle(self, events: list[StoreEvent]) -> None:
        for event in events:
            meta = event.object["metadata"]
            uid = meta.get("uid", "")
            if event.type == "DELETED" or not meta.get("deletionTimestamp"):
                continue
            if uid in self._finalizing:
                continue
            self._finalizing.add(uid)
            self._tasks.spawn(
                self._finalize(meta["name"], uid), name=f"sandbox-namespace-finalize-{meta['name']}"
            )

    async def _finalize(self, name: str, uid: str) -> None:
        try:
            await asyncio.sleep(self._delay)
            for _ in range(_MAX_ROUNDS):
                # New content cannot appear (creation is forbidden while terminating), but
                # the garbage collector may still be deleting, so repeat until empty.
                if self._delete_contents(name) == 0:
                    break
                await asyncio.sleep(self._delay / 5)
            else:
                logger.error("namespace %s still has content after %d rounds", name, _MAX_ROUNDS)
                return
            current = self._registry.store.get(NAMESPACES, "", name)
            if current is not None and current["metadata"].get("uid") == uid:
                self._registry.finish_namespace(name)
        finally:
            self._finalizing.discard(uid)

    def _delete_contents(self, namespace: str) -> int:
        deleted = 0
        for resource in self._registry.resources.namespaced():
            for obj in self._registry.store.list(resource, namespace):
                try:
                    self._registry.delete(resource, namespace, obj["metadata"]["name"])
                except ApiError as exc:
                    if exc.code != 404:
                        raise
                deleted += 1
        return deleted
