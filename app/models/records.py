"""The records of a cluster as the API shows them: the TenantContainer and
DeploymentStatus of the specification. The tables (app.store.tables) add what only
storage needs (the version counter, the foreign key, indexes); GraphQL types derive
from these, so nothing storage-only is ever exposed by accident."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import ConfigDict, computed_field
from sqlmodel import Field

from app.models.cluster import ClusterShape, ClusterSpec, Placement
from app.models.fields import MAX_ID_LENGTH, Dimension, GpuCount, Replicas, VectorCount
from app.models.status import ClusterStatus, StatusColumn
from app.models.usage import Usage
from app.models.versions import MAX_VERSION_LENGTH, UpgradeProgress

ERROR_DESCRIPTION = "Why the cluster is failed or degraded; null otherwise."


def timestamp(*, index: bool = False, description: str | None = None) -> Any:
    return Field(sa_type=sa.DateTime(timezone=True), index=index, description=description)


def optional_timestamp(*, description: str | None = None) -> Any:
    return Field(default=None, sa_type=sa.DateTime(timezone=True), description=description)


def record_id() -> Any:
    return Field(primary_key=True, max_length=MAX_ID_LENGTH)


class ClusterRecord(ClusterShape):
    """A tenant's cluster as recorded (the specification's TenantContainer)."""

    model_config = ConfigDict(frozen=False)

    id: str = record_id()
    status: ClusterStatus = Field(sa_type=StatusColumn, index=True)
    error: str | None = Field(default=None, sa_type=sa.Text, description=ERROR_DESCRIPTION)
    created_at: datetime = timestamp(description="When the cluster was asked for")
    updated_at: datetime = timestamp(description="Last change")
    sync_time: datetime | None = optional_timestamp(description="When it last became created")
    deleted_at: datetime | None = optional_timestamp(description="When it was deleted")

    @computed_field(description="cpu request/limit, e.g. 1/4")  # type: ignore[prop-decorator]
    @property
    def cpu(self) -> str:
        return f"{self.cpu_request}/{self.cpu_limit}"

    @computed_field(description="memory request/limit, e.g. 2Gi/8Gi")  # type: ignore[prop-decorator]
    @property
    def memory(self) -> str:
        return f"{self.mem_request}/{self.mem_limit}"

    @computed_field(description="disk per node (disk_size)")  # type: ignore[prop-decorator]
    @property
    def disk(self) -> str:
        return self.disk_size


def _as_specified(name: str, **column: Any) -> Any:
    """A sizing field as recorded beside the spec (its type repeats the spec's rule)."""
    return Field(description=ClusterSpec.model_fields[name].description, **column)


class DeploymentRecord(Usage, Placement):
    """A cluster's deployment as recorded (the specification's DeploymentStatus): its
    live state, the usage it last reported, and the sizing it runs with."""

    id: str = record_id()
    status: ClusterStatus = Field(sa_type=StatusColumn)
    error: str | None = Field(default=None, sa_type=sa.Text, description=ERROR_DESCRIPTION)
    gpu_count: GpuCount = _as_specified("gpu_count")
    dimension: Dimension = _as_specified("dimension")
    vector_count: VectorCount = _as_specified("vector_count", sa_type=sa.BigInteger)
    replicas: Replicas = _as_specified("replicas")
    version: str | None = _as_specified("version", sa_type=sa.String(MAX_VERSION_LENGTH))
    # Set while an upgrade rolls out (an UpgradeProgress), and cleared once the cluster
    # is created again; kept when it failed, to show how far it came.
    upgrade: dict[str, Any] | None = Field(
        default=None, sa_type=sa.JSON, description=UpgradeProgress.__doc__
    )
    created_at: datetime = timestamp(description="When the cluster was asked for")
    updated_at: datetime = timestamp(description="Last change")
    # The cluster's ClusterDetails, as recorded.
    details: dict[str, Any] = Field(sa_type=sa.JSON)
    deleted_at: datetime | None = optional_timestamp(description="When it was deleted")
