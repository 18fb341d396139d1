"""The REST shapes are built by hand for speed (app/api/payloads.py); here they are held
to what pydantic's own serialization of the same shapes gives, over many generated rows
of every kind, so the contract (keys, order, the keys only sent when set, timestamps,
enums, the details object) cannot drift from the documented models."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import BaseModel

from app.api import payloads
from app.models.status import ClusterStatus
from app.store.tables import (
    ApiKeyRow,
    AuditEntryRow,
    ClusterEventRow,
    DeploymentStatusRow,
    TenantContainerRow,
    UsageSampleRow,
)


def by_pydantic(shape: type[BaseModel], row: object, **extra: Any) -> dict[str, Any]:
    """What pydantic sends for ``row`` as ``shape`` (the reference)."""
    values = {
        name: extra[name] if name in extra else getattr(row, name) for name in shape.model_fields
    }
    for name, field in shape.model_fields.items():
        model = field.annotation
        if (
            isinstance(values[name], dict)
            and isinstance(model, type)
            and issubclass(model, BaseModel)
        ):
            values[name] = model.model_construct(**values[name])
    return shape.model_construct(**values).model_dump(mode="json", by_alias=True)


def moment(rng: random.Random, *, optional: bool = False) -> datetime | None:
    if optional and rng.random() < 0.4:
        return None
    zone = rng.choice([UTC, timezone(timedelta(hours=-7)), None])  # None: as SQLite reads it
    base = datetime(2026, 1, 1) + timedelta(seconds=rng.randrange(10**8), microseconds=7)
    return base if zone is None else base.replace(tzinfo=zone)


def container(rng: random.Random) -> TenantContainerRow:
    status = rng.choice(list(ClusterStatus))
    return TenantContainerRow(
        id=f"tenant_u_s_{rng.randrange(10**9)}", tenant_org_id="org", user="u",
        service_name="s", namespace="org-u-s", replicas=rng.randint(1, 9),
        cpu_request="500m", cpu_limit=rng.choice(["2", "1500m"]), mem_request="1Gi",
        mem_limit="2Gi", disk_size="10Gi", gpu_count=rng.randint(0, 2),
        dimension=rng.randint(1, 4096), vector_count=rng.randrange(2**63), status=status,
        error=rng.choice([None, "", "readiness timed out"]), created_at=moment(rng),
        updated_at=moment(rng), sync_time=moment(rng, optional=True),
        deleted_at=moment(rng, optional=True),
    )  # fmt: skip


def deployment(rng: random.Random) -> DeploymentStatusRow:
    return DeploymentStatusRow(
        id="deploy_org-u-s_1", container_id="tenant_u_s_1", tenant_org_id="org",
        namespace="org-u-s", user="u", service_name="s", status=rng.choice(list(ClusterStatus)),
        error=rng.choice([None, "drift"]), cpu_usage=rng.random() * 4, memory_usage=rng.random(),
        disk_usage=0.0, qps=rng.choice([0.0, 1e30]), gpu_count=1, dimension=512,
        vector_count=10, replicas=2, created_at=moment(rng), updated_at=moment(rng),
        deleted_at=moment(rng, optional=True),
        details={"cpu_request": "1", "cpu_limit": "4", "mem_request": "2Gi", "mem_limit": "8Gi",
                 "disk_size": "50Gi", "gpu_count": 1, "dimension": 512,
                 "vector_count": 1000000, "index_limit": 10},
    )  # fmt: skip


def event(rng: random.Random) -> ClusterEventRow:
    return ClusterEventRow(
        id=rng.randrange(100), container_id="c", at=moment(rng),
        from_status=rng.choice([None, *ClusterStatus]), to_status=rng.choice(list(ClusterStatus)),
        reason="why",
    )  # fmt: skip


def sample(rng: random.Random) -> UsageSampleRow:
    return UsageSampleRow(
        deployment_id="d", at=moment(rng), cpu_usage=1.5, memory_usage=2.0, disk_usage=0.0,
        qps=rng.random(),
    )  # fmt: skip


def api_key(rng: random.Random) -> ApiKeyRow:
    return ApiKeyRow(
        id="k1", tenant_org_id="org", user=rng.choice([None, "u"]), name="ci",
        secret_sha256="0" * 64, created_at=moment(rng), last_used_at=moment(rng, optional=True),
        revoked_at=moment(rng, optional=True),
    )  # fmt: skip


def audit_entry(rng: random.Random) -> AuditEntryRow:
    return AuditEntryRow(
        id=rng.randrange(100), at=moment(rng), actor="admin",
        tenant_org_id=rng.choice([None, "org"]), action="createCluster", target="x",
        outcome="ok",
    )  # fmt: skip


CASES = [
    (payloads.TenantContainer, payloads.tenant_container, container),
    (payloads.DeploymentStatus, payloads.deployment_status, deployment),
    (payloads.ClusterEvent, payloads.cluster_event, event),
    (payloads.UsageSample, payloads.usage_sample, sample),
    (payloads.ApiKey, payloads.api_key, api_key),
    (payloads.AuditEntry, payloads.audit_entry, audit_entry),
]


@pytest.mark.filterwarnings("ignore::UserWarning")  # pydantic on constructed values
@pytest.mark.parametrize(("shape", "send", "make"), CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_sent_exactly_as_pydantic_would(shape: Any, send: Any, make: Any) -> None:
    rng = random.Random(shape.__name__)
    for _ in range(300):
        row = make(rng)
        sent = send(row)
        assert sent == by_pydantic(shape, row)
        assert list(sent) == list(by_pydantic(shape, row))  # the order is the contract's


def test_a_new_key_is_sent_with_its_secret() -> None:
    row = api_key(random.Random(1))
    sent = payloads.api_key(row, secret="essk_x")
    assert sent == by_pydantic(payloads.ApiKeyCreated, row, secret="essk_x")
