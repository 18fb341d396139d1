"""The REST shim's JSON shapes, built from table rows: exactly the specification's
TenantContainer and DeploymentStatus objects (plus ``error`` when a cluster failed)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.store.tables import (
    ApiKeyRow,
    AuditEntryRow,
    ClusterEventRow,
    DeploymentStatusRow,
    TenantContainerRow,
    UsageSampleRow,
)


def rfc3339(moment: datetime | None) -> str | None:
    """RFC 3339 in UTC with a ``Z``, to the second, like the spec's examples.
    SQLite hands timestamps back without a zone; they were written in UTC."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def tenant_container(row: TenantContainerRow) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": row.id,
        "tenant_org_id": row.tenant_org_id,
        "user": row.user,
        "service_name": row.service_name,
        "namespace": row.namespace,
        "replicas": row.replicas,
        "cpu": f"{row.cpu_request}/{row.cpu_limit}",
        "memory": f"{row.mem_request}/{row.mem_limit}",
        "disk": row.disk_size,
        "gpu_count": row.gpu_count,
        "dimension": row.dimension,
        "vector_count": row.vector_count,
        "status": row.status,
        "created_at": rfc3339(row.created_at),
        "sync_time": rfc3339(row.sync_time),
    }
    _optional_keys(payload, row)
    return payload


def _optional_keys(payload: dict[str, Any], row: TenantContainerRow | DeploymentStatusRow) -> None:
    """Keys beyond the spec's shape appear only when they say something."""
    if row.error:
        payload["error"] = row.error
    if row.deleted_at is not None:
        payload["deleted_at"] = rfc3339(row.deleted_at)


def deployment_status(row: DeploymentStatusRow) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": row.id,
        "tenant_org_id": row.tenant_org_id,
        "namespace": row.namespace,
        "user": row.user,
        "service_name": row.service_name,
        "status": row.status,
        "cpu_usage": row.cpu_usage,
        "memory_usage": row.memory_usage,
        "disk_usage": row.disk_usage,
        "qps": row.qps,
        "gpu_count": row.gpu_count,
        "dimension": row.dimension,
        "vector_count": row.vector_count,
        "replicas": row.replicas,
        "created_at": rfc3339(row.created_at),
        "updated_at": rfc3339(row.updated_at),
        "details": dict(row.details),
    }
    _optional_keys(payload, row)
    return payload


def cluster_event(row: ClusterEventRow) -> dict[str, Any]:
    return {
        "at": rfc3339(row.at),
        "from": row.from_status,
        "to": row.to_status,
        "reason": row.reason,
    }


def usage_sample(row: UsageSampleRow) -> dict[str, Any]:
    return {
        "at": rfc3339(row.at),
        "cpu_usage": row.cpu_usage,
        "memory_usage": row.memory_usage,
        "disk_usage": row.disk_usage,
        "qps": row.qps,
    }


def api_key(row: ApiKeyRow, *, secret: str | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": row.id,
        "tenant_org_id": row.tenant_org_id,
        "user": row.user,
        "name": row.name,
        "created_at": rfc3339(row.created_at),
        "last_used_at": rfc3339(row.last_used_at),
        "revoked_at": rfc3339(row.revoked_at),
    }
    if secret is not None:
        payload["secret"] = secret
    return payload


def audit_entry(row: AuditEntryRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "at": rfc3339(row.at),
        "actor": row.actor,
        "tenant_org_id": row.tenant_org_id,
        "action": row.action,
        "target": row.target,
        "outcome": row.outcome,
    }
