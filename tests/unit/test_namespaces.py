"""Whose a namespace is (the ownership mark and the legacy rule), and the operator's
reserved list as read from the environment; without any server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from app.kube.manifests import OWNER_ANNOTATION, namespace_manifest
from app.kube.namespaces import NamespaceUnavailable, Ownership, ownership, unavailable_message
from app.settings import Settings
from app.tenancy.naming import ReservedNamespaces
from tests.support.factories import cluster_request

CLUSTER_ID = "tenant_alice_search_1700000000000000"
RECORDED = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
# The defaults of a create request, as a shape.
SHAPE = cluster_request("orga", "alice", "search")
MANIFEST = namespace_manifest(SHAPE, cluster_id=CLUSTER_ID)
LABELS = dict(MANIFEST["metadata"]["labels"])


def seen(
    *,
    annotations: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
    created: datetime | None = RECORDED + timedelta(seconds=1),
) -> dict[str, Any]:
    """A namespace's JSON as the API server answers a read (fields left out are unset)."""
    metadata: dict[str, Any] = {"name": SHAPE.namespace}
    if annotations is not None:
        metadata["annotations"] = annotations
    if labels is not None:
        metadata["labels"] = labels
    if created is not None:
        stamp = created.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
        metadata["creationTimestamp"] = stamp + "Z"
    return {"metadata": metadata}


def whose(namespace: Any, recorded_at: datetime = RECORDED) -> Ownership:
    return ownership(namespace, manifest=MANIFEST, recorded_at=recorded_at)


def test_absent() -> None:
    assert whose(None) is Ownership.ABSENT


def test_the_clusters_own_mark_is_ours_whatever_the_labels() -> None:
    assert whose(seen(annotations={OWNER_ANNOTATION: CLUSTER_ID})) is Ownership.OWNED
    assert whose(seen(annotations={OWNER_ANNOTATION: CLUSTER_ID}, labels=LABELS)).ours


def test_another_clusters_mark_is_never_adopted() -> None:
    other = seen(annotations={OWNER_ANNOTATION: "tenant_alice_search_1"}, labels=LABELS)
    assert whose(other) is Ownership.FOREIGN
    assert whose(seen(annotations={OWNER_ANNOTATION: ""}, labels=LABELS)) is Ownership.FOREIGN


def test_an_unmarked_namespace_is_foreign() -> None:
    assert whose(seen()) is Ownership.FOREIGN
    assert whose(seen(annotations={"other": "x"}, labels={"team": "x"})) is Ownership.FOREIGN


def test_legacy_namespace_with_every_label_made_after_the_record_is_adopted() -> None:
    assert whose(seen(labels=LABELS)) is Ownership.LEGACY
    assert whose(seen(labels={**LABELS, "extra": "kept"})) is Ownership.LEGACY
    # The API server stamps whole seconds, and its clock may be a little behind.
    assert whose(seen(labels=LABELS, created=RECORDED - timedelta(seconds=30))).ours
    # A record read back from SQLite has no time zone; it is UTC.
    assert whose(seen(labels=LABELS), RECORDED.replace(tzinfo=None)) is Ownership.LEGACY


@pytest.mark.parametrize("missing", sorted(LABELS))
def test_legacy_needs_every_label(missing: str) -> None:
    labels = {k: v for k, v in LABELS.items() if k != missing}
    assert whose(seen(labels=labels)) is Ownership.FOREIGN
    assert whose(seen(labels={**LABELS, missing: "other"})) is Ownership.FOREIGN


def test_a_namespace_older_than_the_cluster_was_taken_over_not_made() -> None:
    # An earlier version relabelled an existing namespace as the cluster's (the hole
    # this closes): it existed before the cluster was recorded, so it stays foreign.
    older = seen(labels=LABELS, created=RECORDED - timedelta(hours=1))
    assert whose(older) is Ownership.FOREIGN
    assert whose(seen(labels=LABELS, created=None)) is Ownership.FOREIGN


def test_one_refusal_message() -> None:
    message = unavailable_message("victim")
    assert (
        message
        == 'namespace "victim" is not available: it already exists; choose another namespace'
    )
    error = NamespaceUnavailable("victim")
    assert (error.message, error.status, error.transient) == (message, 409, False)


def settings_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str) -> Settings:
    monkeypatch.setenv("ESS_RESERVED_NAMESPACES", value)
    return Settings(data_dir=tmp_path)


def test_reserved_namespaces_from_a_comma_separated_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = settings_from_env(monkeypatch, tmp_path, " monitoring, team-* ,,ops")
    assert settings.reserved_namespaces == ["monitoring", "team-*", "ops"]
    reserved = ReservedNamespaces.of(platform_namespace="plat", extra=settings.reserved_namespaces)
    for name in ("monitoring", "team-a", "ops", "plat", "default", "kube-system"):
        assert name in reserved
    assert "team" not in reserved
    assert settings_from_env(monkeypatch, tmp_path, "").reserved_namespaces == []


@pytest.mark.parametrize("value", ["Bad", "*", "a*b", "-a", "a_b", "x" * 64])
def test_bad_reserved_patterns_stop_the_server_at_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str
) -> None:
    with pytest.raises(ValidationError, match="namespace prefix ending in"):
        settings_from_env(monkeypatch, tmp_path, f"ok,{value}")
