"""Events the simulated controllers record, as client-go's event recorder writes them:
core/v1 Events named ``<object>.<hex>``, and a repeat of the same event (same object,
type, reason and message) counted on the first one rather than written again."""

from __future__ import annotations

import logging
import secrets
from typing import Any

from .errors import ApiError
from .meta import timestamp
from .registry import Registry
from .resources import EVENTS, ResourceType

logger = logging.getLogger(__name__)

Obj = dict[str, Any]


def record_event(
    registry: Registry, *, about: Obj, type: str, reason: str, message: str, component: str
) -> None:
    meta = about["metadata"]
    namespace = meta.get("namespace", "")
    moment = timestamp()
    for event in registry.store.list(EVENTS, namespace):
        involved = event.get("involvedObject") or {}
        if involved.get("uid") == meta.get("uid") and (
            event.get("type"),
            event.get("reason"),
            event.get("message"),
        ) == (type, reason, message):
            event["count"] = int(event.get("count") or 1) + 1
            event["lastTimestamp"] = moment
            _write(registry, EVENTS, namespace, event)
            return
    body = {
        "metadata": {"name": f"{meta['name']}.{secrets.token_hex(8)}", "namespace": namespace},
        "involvedObject": {
            "kind": about.get("kind", ""),
            "namespace": namespace,
            "name": meta["name"],
            "uid": meta.get("uid", ""),
            "apiVersion": about.get("apiVersion", ""),
            "resourceVersion": meta.get("resourceVersion", ""),
        },
        "reason": reason,
        "message": message,
        "source": {"component": component},
        "firstTimestamp": moment,
        "lastTimestamp": moment,
        "count": 1,
        "type": type,
        "eventTime": None,
        "reportingComponent": component,
        "reportingInstance": "",
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
