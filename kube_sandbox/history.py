"""A StatefulSet's ControllerRevisions, kept as pkg/controller/history and the
statefulset controller keep them.

Each distinct pod template is one ControllerRevision ``<set>-<hash>`` owned by the set,
labelled with the template's labels and ``controller.kubernetes.io/hash``, whose
``data`` is the strategic merge patch that restores the template (what ``kubectl
rollout undo`` sends back) and whose ``revision`` numbers the templates in the order
they were last used. A template used again (an undo) gets its old revision back,
renumbered; revisions no pod and no status refers to are trimmed to
``spec.revisionHistoryLimit``. Pods carry the revision's name in
``controller-revision-hash``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from .errors import ApiError
from .jsoncopy import clone
from .registry import Registry
from .resources import CONTROLLER_REVISIONS
from .selectors import label_selector_from_object

logger = logging.getLogger(__name__)

Obj = dict[str, Any]

HASH_LABEL = "controller.kubernetes.io/hash"
DEFAULT_HISTORY_LIMIT = 10
# rand.SafeEncodeString's alphabet: no vowels, so no words, and no look-alikes.
_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
# ControllerRevisionName keeps the name within 253 characters.
_MAX_PREFIX = 223


def _fnv32(data: bytes) -> int:
    """FNV-1 32-bit, as hash/fnv.New32."""
    value = 0x811C9DC5
    for byte in data:
        value = (value * 0x01000193) & 0xFFFFFFFF
        value ^= byte
    return value


def _safe_encode(text: str) -> str:
    return "".join(_SAFE_ALPHABET[byte % len(_SAFE_ALPHABET)] for byte in text.encode())


def revision_data(statefulset: Obj) -> Obj:
    """The patch that restores the set's template: ``{"spec": {"template": {"$patch":
    "replace", ...}}}`` with sorted keys, as the controller's getPatch marshals it."""
    template = clone(statefulset.get("spec", {}).get("template") or {})
    template["metadata"] = {**(template.get("metadata") or {}), "creationTimestamp": None}
    template["$patch"] = "replace"
    data: Obj = json.loads(json.dumps({"spec": {"template": template}}, sort_keys=True))
    return data


def revision_hash(data: Obj, collision_count: int) -> str:
    raw = json.dumps(data, sort_keys=True, separators=(",", ":")) + str(collision_count)
    return _safe_encode(str(_fnv32(raw.encode())))


def _order(revision: Obj) -> tuple[int, str, str]:
    meta = revision["metadata"]
    return int(revision.get("revision") or 0), meta.get("creationTimestamp", ""), meta["name"]


class History:
    """The revisions of StatefulSets, written through the registry."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    def owned(self, statefulset: Obj) -> list[Obj]:
        """The set's revisions, oldest first (revisions of no controller count too)."""
        meta = statefulset["metadata"]
        selector = label_selector_from_object(statefulset["spec"].get("selector"))
        revisions = []
        for revision in self._registry.store.list(CONTROLLER_REVISIONS, meta["namespace"]):
            if not selector.matches(revision["metadata"].get("labels")):
                continue
            refs = revision["metadata"].get("ownerReferences") or []
            controllers = [ref for ref in refs if ref.get("controller")]
            if controllers and controllers[0].get("uid") != meta["uid"]:
                continue
            revisions.append(revision)
        return sorted(revisions, key=_order)

    def update_revision(self, statefulset: Obj, owner_reference: Obj) -> str:
        """The name of the revision of the set's current template, created or
        renumbered as the newest when needed (getStatefulSetRevisions)."""
        meta = statefulset["metadata"]
        revisions = self.owned(statefulset)
        data = revision_data(statefulset)
        number = int(revisions[-1].get("revision") or 0) + 1 if revisions else 1
        equal = [r for r in revisions if r.get("data") == data]
        if equal and equal[-1] is revisions[-1]:
            return str(equal[-1]["metadata"]["name"])
        if equal:
            latest = equal[-1]
            latest["revision"] = number
            self._registry.replace(
                CONTROLLER_REVISIONS, meta["namespace"], latest["metadata"]["name"], latest
            )
            return str(latest["metadata"]["name"])
        return self._create(statefulset, owner_reference, data, number)

    def _create(self, statefulset: Obj, owner_reference: Obj, data: Obj, number: int) -> str:
        meta = statefulset["metadata"]
        collisions = int((statefulset.get("status") or {}).get("collisionCount") or 0)
        template_meta = statefulset["spec"].get("template", {}).get("metadata") or {}
        labels = dict(template_meta.get("labels") or {})
        while True:
            digest = revision_hash(data, collisions)
            name = f"{meta['name'][:_MAX_PREFIX]}-{digest}"
            existing = self._registry.store.get(CONTROLLER_REVISIONS, meta["namespace"], name)
            if existing is None:
                break
            if existing.get("data") == data:
                return name
            collisions += 1  # a hash collision: the real controller counts it in status
        body = {
            "metadata": {
                "name": name,
                "namespace": meta["namespace"],
                "labels": {**labels, HASH_LABEL: digest},
                "ownerReferences": [owner_reference],
            },
            "data": data,
            "revision": number,
        }
        self._registry.create(CONTROLLER_REVISIONS, meta["namespace"], body)
        return name

    def trim(self, statefulset: Obj, live: set[str]) -> None:
        """Delete the oldest revisions that nothing uses beyond revisionHistoryLimit."""
        limit = statefulset["spec"].get("revisionHistoryLimit")
        limit = DEFAULT_HISTORY_LIMIT if limit is None else int(limit)
        unused = [r for r in self.owned(statefulset) if r["metadata"]["name"] not in live]
        for revision in unused[: max(len(unused) - limit, 0)]:
            try:
                self._registry.delete(
                    CONTROLLER_REVISIONS, revision["metadata"]["namespace"],
                    revision["metadata"]["name"],
                )  # fmt: skip
            except ApiError as exc:
                if exc.code != 404:
                    raise

