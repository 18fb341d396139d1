"""Object storage with etcd-like resource versions and a bounded event history.

Like etcd behind the apiserver, the store keeps one global revision counter that every
write bumps; an object's ``metadata.resourceVersion`` is the revision of its last write
and a list's is the current revision. Every write is also appended to a bounded history
so watches can resume "after resourceVersion N"; once N has fallen out of the history
(or was compacted away), resuming is answered with 410 Expired, exactly the situation
clients must already handle against a real cluster.

All methods are synchronous: the sandbox runs on one asyncio loop, so each call is
atomic with respect to every other request and controller.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from .jsoncopy import clone
from .resources import ResourceType

EventType = Literal["ADDED", "MODIFIED", "DELETED"]

DEFAULT_HISTORY = 5000

# Aliases so annotations inside ObjectStore do not resolve to its ``list`` method.
Objects = list[dict[str, Any]]


@dataclass(frozen=True)
class StoreEvent:
    """One write. ``old`` is the previous state (None for ADDED)."""

    type: EventType
    resource: ResourceType
    object: dict[str, Any]
    old: dict[str, Any] | None
    revision: int

    @property
    def namespace(self) -> str:
        return str(self.object.get("metadata", {}).get("namespace", ""))


Events = list[StoreEvent]


class HistoryExpired(Exception):
    """The requested revision is older than the retained history."""

    def __init__(self, requested: int, oldest: int) -> None:
        super().__init__(f"too old resource version: {requested} ({oldest})")
        self.requested = requested
        self.oldest = oldest


class Subscription:
    """A queue of store events for one consumer (a watch or a controller)."""

    def __init__(self, resources: frozenset[str] | None) -> None:
        self._resources = resources
        self._queue: asyncio.Queue[StoreEvent | None] = asyncio.Queue()

    def wants(self, event: StoreEvent) -> bool:
        return self._resources is None or event.resource.storage_key in self._resources

    def push(self, event: StoreEvent | None) -> None:
        self._queue.put_nowait(event)

    async def next(self) -> StoreEvent | None:
        """The next event, or None once the store is closed."""
        return await self._queue.get()

    def drain(self) -> list[StoreEvent | None]:
        """Events already queued, without waiting (lets consumers batch their work)."""
        items: list[StoreEvent | None] = []
        while not self._queue.empty():
            items.append(self._queue.get_nowait())
        return items


def _key(obj: dict[str, Any]) -> tuple[str, str]:
    meta = obj["metadata"]
    return meta.get("namespace", ""), meta["name"]


# Stored objects by resource (storage key), then namespace ("" for cluster-scoped ones),
# then name: listing one namespace never visits the others, so a request's cost does
# not grow with the number of tenants.
Buckets = dict[str, dict[str, dict[str, dict[str, Any]]]]


class ObjectStore:
    def __init__(self, history: int = DEFAULT_HISTORY) -> None:
        self._objects: Buckets = {}
        self._uids: dict[str, tuple[str, str, str]] = {}
        self._revision = 0
        self._history: deque[StoreEvent] = deque(maxlen=history)
        # Revisions up to and including this one can no longer be replayed.
        self._compacted = 0
        self._subscriptions: set[Subscription] = set()

    # --- reads ------------------------------------------------------------------------

    @property
    def revision(self) -> int:
        return self._revision

    def get(self, resource: ResourceType, namespace: str, name: str) -> dict[str, Any] | None:
        obj = self._objects.get(resource.storage_key, {}).get(namespace, {}).get(name)
        return clone(obj) if obj is not None else None

    def list(self, resource: ResourceType, namespace: str | None = None) -> Objects:
        """Objects sorted by (namespace, name), like etcd's key order; None = everywhere."""
        return [clone(obj) for obj in self.scan(resource, namespace)]

    def scan(
        self, resource: ResourceType, namespace: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """The stored objects themselves, in ``list``'s order, without copying them: for
        reads inside the sandbox that only look (allocating a free cluster IP, summing a
        quota's usage). The caller must not change them nor keep them past its call."""
        bucket = self._objects.get(resource.storage_key, {})
        spaces = [namespace] if namespace is not None else sorted(bucket)
        for space in spaces:
            names = bucket.get(space, {})
            for name in sorted(names):
                yield names[name]

    def uid_exists(self, uid: str) -> bool:
        return uid in self._uids

    # --- writes -----------------------------------------------------------------------

    def put(self, resource: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        """Create or replace; stamps the new resourceVersion and emits ADDED/MODIFIED.
        Returns ``obj`` itself, stamped: the store keeps a copy, so the caller's object is
        already apart from it (callers hand over objects they own: decoded bodies, lists'
        copies), and a second copy of every write would cost as much as the first."""
        key = _key(obj)
        names = self._objects.setdefault(resource.storage_key, {}).setdefault(key[0], {})
        old = names.get(key[1])
        self._revision += 1
        stored = clone(obj)
        stored["metadata"]["resourceVersion"] = str(self._revision)
        names[key[1]] = stored
        uid = stored["metadata"].get("uid")
        if uid:
            self._uids[uid] = (resource.storage_key, *key)
        self._emit(
            StoreEvent("MODIFIED" if old else "ADDED", resource, stored, old, self._revision)
        )
        obj["metadata"]["resourceVersion"] = stored["metadata"]["resourceVersion"]
        return obj

    def remove(self, resource: ResourceType, namespace: str, name: str) -> dict[str, Any] | None:
        """Delete; the DELETED event carries the object at the deletion's revision."""
        bucket = self._objects.get(resource.storage_key, {})
        names = bucket.get(namespace, {})
        old = names.pop(name, None)
        if old is None:
            return None
        if not names:
            del bucket[namespace]  # a deleted namespace leaves no empty index behind
        self._uids.pop(old["metadata"].get("uid", ""), None)
        self._revision += 1
        final = clone(old)
        final["metadata"]["resourceVersion"] = str(self._revision)
        self._emit(StoreEvent("DELETED", resource, final, old, self._revision))
        return clone(final)

    def compact(self) -> int:
        """Forget all history, like an etcd compaction at the current revision."""
        self._history.clear()
        self._compacted = self._revision
        return self._compacted

    # --- history and subscriptions ----------------------------------------------------

    def events_since(self, revision: int, resource: ResourceType) -> Events:
        """Events for ``resource`` after ``revision``; HistoryExpired if not retained."""
        # Every event after ``revision`` is retained unless something newer than it was
        # dropped from the deque or compacted away.
        if revision < self._compacted:
            raise HistoryExpired(revision, self._compacted + 1)
        return [e for e in self._history if e.revision > revision and e.resource == resource]

    def subscribe(self, resources: Iterable[ResourceType] | None = None) -> Subscription:
        """Receive every future write (optionally only for some resources)."""
        wanted = frozenset(r.storage_key for r in resources) if resources is not None else None
        subscription = Subscription(wanted)
        self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)

    def close(self) -> None:
        """Wake every subscriber with end-of-stream so watches and controllers finish."""
        for subscription in self._subscriptions:
            subscription.push(None)
        self._subscriptions.clear()

    def _emit(self, event: StoreEvent) -> None:
        if len(self._history) == self._history.maxlen:
            self._compacted = max(self._compacted, self._history[0].revision)
        self._history.append(event)
        for subscription in self._subscriptions:
            if subscription.wants(event):
                subscription.push(event)
