"""The LimitRanger admission plugin, for pods.

Mutating: a container (or init container) that leaves a request or limit out gets the
``defaultRequest`` / ``default`` of the namespace's LimitRanges of type Container, and
the pod is annotated ``kubernetes.io/limit-ranger`` saying what was set. Validating:
every container within the ranges' ``min`` and ``max``, refused with the plugin's
Forbidden wording otherwise.
"""

from __future__ import annotations

from typing import Any

from . import errors
from .quantity import parse_quantity
from .resources import LIMIT_RANGES, PODS, ResourceType
from .store import ObjectStore

Obj = dict[str, Any]
ANNOTATION = "kubernetes.io/limit-ranger"
_CONTAINER = "Container"


def _container_items(store: ObjectStore, namespace: str) -> list[Obj]:
    items = []
    for limit_range in store.list(LIMIT_RANGES, namespace):
        for item in (limit_range.get("spec") or {}).get("limits") or []:
            if isinstance(item, dict) and item.get("type") == _CONTAINER:
                items.append(item)
    return items


def _containers(spec: Obj) -> list[tuple[str, Obj]]:
    return [
        *(("container", c) for c in spec.get("containers") or [] if isinstance(c, dict)),
        *(("init container", c) for c in spec.get("initContainers") or [] if isinstance(c, dict)),
    ]


def default_pod(store: ObjectStore, resource: ResourceType, pod: Obj) -> None:
    """Fill in the defaults of the namespace's LimitRanges (mutating admission)."""
    if resource != PODS:
        return
    items = _container_items(store, pod["metadata"].get("namespace", ""))
    if not items:
        return
    notes: list[str] = []
    for what, container in _containers(pod.get("spec") or {}):
        resources = container.setdefault("resources", {})
        if not isinstance(resources, dict):
            continue
        for section, source, word in (
            ("requests", "defaultRequest", "request"),
            ("limits", "default", "limit"),
        ):
            current = resources.get(section)
            if current is None:
                current = {}
            if not isinstance(current, dict):
                continue
            set_here = []
            for item in items:
                for name, value in (item.get(source) or {}).items():
                    if name not in current:
                        current[name] = value
                        set_here.append(name)
            if current:
                resources[section] = current
            if set_here:
                notes.append(f"{', '.join(sorted(set_here))} {word} for {what} {container['name']}")
    if notes:
        annotations = pod["metadata"].setdefault("annotations", {})
        annotations[ANNOTATION] = "LimitRanger plugin set: " + "; ".join(notes)


def _amount(value: Any) -> Any:
    try:
        return parse_quantity(str(value))
    except ValueError:
        return None


def check_pod(store: ObjectStore, resource: ResourceType, pod: Obj) -> None:
    """Refuse a pod outside the ranges' min and max (validating admission)."""
    if resource != PODS:
        return
    items = _container_items(store, pod["metadata"].get("namespace", ""))
    problems: list[str] = []
    for _, container in _containers(pod.get("spec") or {}):
        resources = container.get("resources") or {}
        requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
        for item in items:
            for name, bound in sorted((item.get("min") or {}).items()):
                request = requests.get(name)
                if request is None:
                    problems.append(
                        f"minimum {name} usage per {_CONTAINER} is {bound}.  No request is "
                        "specified"
                    )
                elif _amount(request) is not None and _amount(request) < _amount(bound):
                    problems.append(
                        f"minimum {name} usage per {_CONTAINER} is {bound}, but request is "
                        f"{request}"
                    )
            for name, bound in sorted((item.get("max") or {}).items()):
                limit = limits.get(name)
                if limit is None:
                    problems.append(
                        f"maximum {name} usage per {_CONTAINER} is {bound}.  No limit is specified"
                    )
                elif _amount(limit) is not None and _amount(limit) > _amount(bound):
                    problems.append(
                        f"maximum {name} usage per {_CONTAINER} is {bound}, but limit is {limit}"
                    )
    if problems:
        # utilerrors.NewAggregate: one error alone, several in brackets.
        why = problems[0] if len(problems) == 1 else "[" + ", ".join(problems) + "]"
        raise errors.forbidden(PODS, str(pod["metadata"].get("name", "")), why)
