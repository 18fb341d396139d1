"""Events the simulated controllers record, as client-go's event recorder writes them:
core/v1 Events named ``<object>.<hex nanoseconds>`` (so an object's events list in the
order they happened, which kubectl describe keeps for events of the same second), and
a repeat of the same event (same object and part, type, reason and message) counted on
the first one rather than written again."""

from __future__ import annotations

import logging
import time
from typing import Any

from .errors import ApiError
from .jsoncopy import clone
from .meta import timestamp
from .registry import Registry
from .resources import EVENTS, ResourceType

logger = logging.getLogger(__name__)

Obj = dict[str, Any]

_last_stamp = 0


def _stamp() -> int:
    """Nanoseconds since the epoch, strictly increasing within the process."""
    global _last_stamp
    _last_stamp = max(time.time_ns(), _last_stamp + 1)
    return _last_stamp


def record_event(
    registry: Registry,
    *,
    about: Obj,
    type: str,
    reason: str,
    message: str,
    component: str,
    host: str = "",
    field_path: str = "",
) -> None:
    """Record (or count again) an event about ``about`` (an object with kind and
    apiVersion); ``field_path`` names a part of it, e.g. "spec.containers{app}"."""
    meta = about["metadata"]
    namespace = meta.get("namespace", "")
    moment = timestamp()
    for stored in registry.store.scan(EVENTS, namespace):  # looked at, copied if a repeat
        involved = stored.get("involvedObject") or {}
        if (involved.get("uid"), involved.get("fieldPath", "")) == (
            meta.get("uid"),
            field_path,
        ) and (
            stored.get("type"),
            stored.get("reason"),
            stored.get("message"),
        ) == (type, reason, message):
            event = clone(stored)
            event["count"] = int(event.get("count") or 1) + 1
            event["lastTimestamp"] = moment
            _write(registry, EVENTS, namespace, event)
            return
    body = {
        "metadata": {"name": f"{meta['name']}.{_stamp():x}", "namespace": namespace},
        "involvedObject": {
            "kind": about.get("kind", ""),
            "namespace": namespace,
            "name": meta["name"],
            "uid": meta.get("uid", ""),
            "apiVersion": about.get("apiVersion", ""),
            "resourceVersion": meta.get("resourceVersion", ""),
            **({"fieldPath": field_path} if field_path else {}),
        },
        "reason": reason,
        "message": message,
        "source": {"component": component, **({"host": host} if host else {})},
        "firstTimestamp": moment,
        "lastTimestamp": moment,
        "count": 1,
        "type": type,
        "eventTime": None,
        "reportingComponent": component,
        "reportingInstance": host,
    }
    _write(registry, EVENTS, namespace, body)


def _write(registry: Registry, resource: ResourceType, namespace: str, event: Obj) -> None:
    """Create the event, or replace it when it is a repeat (it has a resourceVersion)."""
    try:
        if event["metadata"].get("resourceVersion"):
            registry.replace(resource, namespace, event["metadata"]["name"], event)
        else:
            registry.create(resource, namespace, event)
    except ApiError as exc:  # e.g. the namespace is terminating: events are best effort
        logger.debug("event not recorded: %s", exc.message)
