"""Whose a namespace is: the ownership mark the control plane sets on every Namespace it
creates (``OWNER_ANNOTATION``, naming the cluster), and the one way a cluster takes a
namespace: create it, or replace it only when it already carries that cluster's mark.

A namespace without the mark was made by someone else (or by an earlier version of the
control plane; see ``ownership``), so its content is not ours to replace or delete.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from app.kube.apply import Manifest, apply_manifest
from app.kube.client import KubeClient
from app.kube.errors import KubeError
from app.kube.manifests import OWNER_ANNOTATION

# Versions before the mark created namespaces without it. Such a namespace is adopted
# only if it was created after its cluster was recorded (give or take this much clock
# skew between the control plane and the API server): one that existed before was not
# created for the cluster but taken over, and stays someone else's.
LEGACY_CLOCK_SKEW = timedelta(seconds=60)


def unavailable_message(namespace: str) -> str:
    """The one refusal for a namespace that exists and is not the cluster's, whoever
    holds it (Kubernetes, another tenant, another cluster record), so the answer never
    tells a caller who owns it."""
    return f'namespace "{namespace}" is not available: it already exists; choose another namespace'


class NamespaceUnavailable(KubeError):
    """The namespace exists and is not the cluster's: nothing in it may be touched."""

    def __init__(self, namespace: str) -> None:
        super().__init__(unavailable_message(namespace), status=409, reason="AlreadyExists")


class Ownership(enum.Enum):
    ABSENT = "absent"
    OWNED = "owned"  # carries the cluster's mark
    LEGACY = "legacy"  # unmarked, but created for the cluster by an earlier version
    FOREIGN = "foreign"

    @property
    def ours(self) -> bool:
        return self in (Ownership.OWNED, Ownership.LEGACY)


def ownership(
    current: Mapping[str, Any] | None, *, manifest: Manifest, recorded_at: datetime
) -> Ownership:
    """Whose the namespace ``current`` (its JSON as read, or None) is, for the cluster
    whose Namespace ``manifest`` is and which was recorded at ``recorded_at``.

    Ours when it carries the manifest's mark. Legacy (ours too, and given the mark at the
    next apply) when it carries no mark at all but every label of the manifest (tenant
    labels and managed-by) and was created after the cluster was recorded. Anything
    else, another cluster's mark above all, is foreign.
    """
    if current is None:
        return Ownership.ABSENT
    meta = current.get("metadata") or {}
    annotations: Mapping[str, str] = meta.get("annotations") or {}
    wanted = manifest["metadata"]
    if OWNER_ANNOTATION in annotations:
        mine = annotations[OWNER_ANNOTATION] == wanted["annotations"][OWNER_ANNOTATION]
        return Ownership.OWNED if mine else Ownership.FOREIGN
    labels: Mapping[str, str] = meta.get("labels") or {}
    labelled = wanted["labels"].items() <= labels.items()
    created = _timestamp(meta.get("creationTimestamp"))
    if labelled and created is not None and created >= _utc(recorded_at) - LEGACY_CLOCK_SKEW:
        return Ownership.LEGACY
    return Ownership.FOREIGN


def _timestamp(value: Any) -> datetime | None:
    """An API server timestamp (RFC 3339, ``2025-01-01T12:00:00Z``) in UTC."""
    if not isinstance(value, str):
        return None
    try:
        return _utc(datetime.fromisoformat(value))
    except ValueError:
        return None


def _utc(moment: datetime) -> datetime:
    # SQLite hands back timestamps without a zone; they are stored in UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def read_namespace(kube: KubeClient, *, name: str) -> dict[str, Any] | None:
    """The namespace as the API server has it (its JSON), or None when there is none."""
    try:
        return await kube.call_json(kube.core.read_namespace, name=name)
    except KubeError as exc:
        if exc.status == 404:
            return None
        raise


async def namespace_exists(kube: KubeClient, *, name: str, timeout: float) -> bool | None:
    """One quick look, for a caller answering a user: None when the API server could
    not say, in time or at all (the worker looks again before it touches anything)."""
    try:
        # Its JSON, not read into objects: only whether there is one counts (a create's
        # check, on the hot path).
        await kube.call_once_json(kube.core.read_namespace, name=name, timeout=timeout)
    except KubeError as exc:
        return False if exc.status == 404 else None
    return True


async def claim_namespace(kube: KubeClient, manifest: Manifest, *, recorded_at: datetime) -> bool:
    """Create the cluster's Namespace, or replace it when it already exists and is the
    cluster's (a resumed or re-applied cluster; a legacy one thereby gets the mark).
    Raises ``NamespaceUnavailable`` when it exists and is not: then nothing is changed.
    True when the namespace was created now (so nothing is in it yet)."""
    name = manifest["metadata"]["name"]

    def only_ours(current: Manifest) -> None:
        if not ownership(current, manifest=manifest, recorded_at=recorded_at).ours:
            raise NamespaceUnavailable(name)

    return await apply_manifest(kube, manifest, may_replace=only_ours)
