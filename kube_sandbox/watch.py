"""Watch semantics: which events a ``?watch=true`` request receives, in order.

* no resourceVersion (or "0"): synthetic ADDED events for the current objects, then
  every later change ("get state and start at most recent");
* resourceVersion=N: every change after N from the bounded history; if N is no longer
  retained the stream carries a single ERROR event with a 410 Expired Status, which is
  what a real apiserver (with its watch cache) sends, and what clients such as
  client-go and kubernetes_asyncio's ``Watch`` turn into "relist";
* ``sendInitialEvents=true`` (streaming lists): the current state as ADDED events, then
  a BOOKMARK annotated ``k8s.io/initial-events-end`` when bookmarks are allowed;
* selectors filter like the watch cache does: an object that stops matching is
  reported as DELETED, one that starts matching as ADDED.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

from . import errors
from .registry import with_type
from .resources import ResourceType
from .selectors import FieldSelector, LabelSelector
from .store import HistoryExpired, ObjectStore, StoreEvent

Obj = dict[str, Any]
WatchEvent = tuple[str, Obj]

INITIAL_EVENTS_END = "k8s.io/initial-events-end"


@dataclass(frozen=True)
class WatchRequest:
    resource: ResourceType
    namespace: str | None  # None: all namespaces
    labels: LabelSelector
    fields: FieldSelector
    resource_version: int | None = None  # parsed with parse_resource_version()
    send_initial_events: bool = False
    allow_bookmarks: bool = False

    def matches(self, obj: Obj | None) -> bool:
        if obj is None:
            return False
        meta = obj.get("metadata", {})
        if self.namespace and meta.get("namespace", "") != self.namespace:
            return False
        return self.labels.matches(meta.get("labels")) and self.fields.matches(obj)

    def translate(self, event: StoreEvent) -> WatchEvent | None:
        """The event as this watcher sees it through its selectors (or None)."""
        now_matches = event.type != "DELETED" and self.matches(event.object)
        was_matching = (
            self.matches(event.old) if event.type != "DELETED" else self.matches(event.object)
        )
        obj = with_type(self.resource, event.object)
        if event.type == "DELETED":
            return ("DELETED", obj) if was_matching else None
        if now_matches:
            return ("MODIFIED" if was_matching else "ADDED", obj)
        if was_matching:
            # Left the selection: a DELETED carrying the previous state at the new version.
            previous = with_type(self.resource, event.old or {})
            previous.setdefault("metadata", {})["resourceVersion"] = str(event.revision)
            return ("DELETED", previous)
        return None


def parse_resource_version(value: str | None) -> int | None:
    """The ``resourceVersion`` query value; "" and "0" both mean "start from now"."""
    if not value:
        return None
    try:
        version = int(value)
    except ValueError:
        raise errors.ApiError(
            400, f'resourceVersion: Invalid value: "{value}": must be a non-negative integer'
        ) from None
    if version < 0:
        raise errors.ApiError(400, f'resourceVersion: Invalid value: "{value}": must be >= 0')
    return version


async def watch_events(
    store: ObjectStore, request: WatchRequest
) -> AsyncGenerator[WatchEvent, None]:
    """Yield (type, object) pairs until the store closes; the caller applies timeouts."""
    since = request.resource_version or 0
    # Subscribing and reading the starting state happen in one synchronous step, so no
    # write can fall between them.
    subscription = store.subscribe([request.resource])
    try:
        initial: list[WatchEvent] = []
        if request.send_initial_events or since == 0:
            since = store.revision
            initial = [
                ("ADDED", with_type(request.resource, obj))
                for obj in store.list(request.resource, request.namespace)
                if request.matches(obj)
            ]
            if request.send_initial_events and request.allow_bookmarks:
                initial.append(("BOOKMARK", _bookmark(request.resource, since)))
        else:
            try:
                history = store.events_since(since, request.resource)
            except HistoryExpired as exc:
                yield ("ERROR", errors.expired(str(exc)).status())
                return
            initial = [e for e in (request.translate(ev) for ev in history) if e is not None]
            since = max([since, *(ev.revision for ev in history)])
        for event in initial:
            yield event
        while True:
            store_event = await subscription.next()
            if store_event is None:
                return
            if store_event.revision <= since:
                continue
            translated = request.translate(store_event)
            if translated is not None:
                yield translated
    finally:
        store.unsubscribe(subscription)


def _bookmark(resource: ResourceType, revision: int) -> Obj:
    return {
        "kind": resource.kind,
        "apiVersion": resource.api_version,
        "metadata": {"resourceVersion": str(revision), "annotations": {INITIAL_EVENTS_END: "true"}},
    }
