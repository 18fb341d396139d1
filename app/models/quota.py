"""Quotas (spec section 9): the limits an organisation, one of its users or one of its
services may use, and the usage they are held against.

A limit left out (or null) is no limit. ``max_cpu``, ``max_memory`` and ``max_disk`` are
Kubernetes quantities; ``max_clusters`` and ``max_gpu`` counts. Usage counts every
cluster that is not deleted: clusters, and for each of them replicas times its per-node
cpu limit, memory limit, disk size and GPUs.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Annotated, Protocol

import sqlalchemy as sa
from annotated_types import Ge, Le
from pydantic import ConfigDict, Strict
from sqlmodel import Field, SQLModel

from app.models.fields import INT32_MAX, MAX_QUANTITY_LENGTH, QuantityOrZero
from app.models.quantity import format_quantity, parse_quantity
from app.models.rules import Kind


class QuotaLevel(enum.StrEnum):
    """Whose use a quota bounds; the words an exceeded quota is reported with."""

    ORGANIZATION = "organization"
    USER = "user"
    SERVICE = "service"


# A count limit: an integer from 0 (nothing allowed) up, or null (none). The range is
# the field's own (outside the union), where error messages find it.
CountLimit = Annotated[Annotated[int, Strict()] | None, Ge(0), Le(INT32_MAX), Kind.NUMBER]
# A quantity limit, or null (none).
QuantityLimit = QuantityOrZero | None


class QuotaLimits(SQLModel):
    """The spec's ``quota`` object. Every limit may be null: no limit."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    max_clusters: CountLimit = Field(default=None, description="Clusters (not deleted)")
    max_cpu: QuantityLimit = Field(
        default=None,
        max_length=MAX_QUANTITY_LENGTH,
        sa_type=sa.String(MAX_QUANTITY_LENGTH),
        description="CPU cores: the sum of replicas x cpu_limit",
    )
    max_memory: QuantityLimit = Field(
        default=None,
        max_length=MAX_QUANTITY_LENGTH,
        sa_type=sa.String(MAX_QUANTITY_LENGTH),
        description="Memory: the sum of replicas x mem_limit",
    )
    max_disk: QuantityLimit = Field(
        default=None,
        max_length=MAX_QUANTITY_LENGTH,
        sa_type=sa.String(MAX_QUANTITY_LENGTH),
        description="Disk: the sum of replicas x disk_size",
    )
    max_gpu: CountLimit = Field(default=None, description="GPUs: the sum of replicas x gpu_count")
    enforce_sizing: Annotated[bool, Strict()] = Field(
        default=False,
        description="Refuse clusters too small to hold their vectors (400 with the "
        "memory limit that would); otherwise they are accepted with the verdict shown. "
        "Shown only when true.",
    )


class Sized(Protocol):
    """A cluster's sizes as quotas count them: a spec, a record, or a row of them."""

    replicas: int
    cpu_limit: str
    mem_limit: str
    disk_size: str
    gpu_count: int


@dataclass(frozen=True)
class QuotaUsage:
    """What some clusters hold, in the units quotas count: clusters, cpu cores, bytes
    of memory and disk, GPUs (each per node times replicas)."""

    clusters: int = 0
    cpu: Decimal = Decimal(0)
    memory: Decimal = Decimal(0)
    disk: Decimal = Decimal(0)
    gpu: int = 0

    @classmethod
    def of_cluster(cls, spec: Sized) -> QuotaUsage:
        nodes = spec.replicas
        return cls(
            clusters=1,
            cpu=nodes * parse_quantity(spec.cpu_limit),
            memory=nodes * parse_quantity(spec.mem_limit),
            disk=nodes * parse_quantity(spec.disk_size),
            gpu=nodes * spec.gpu_count,
        )

    # Field by field, not through ``fields()``: a create's quota check sums these for
    # every group of clusters its organisation holds.
    def __add__(self, other: QuotaUsage) -> QuotaUsage:
        return QuotaUsage(
            self.clusters + other.clusters,
            self.cpu + other.cpu,
            self.memory + other.memory,
            self.disk + other.disk,
            self.gpu + other.gpu,
        )

    def times(self, count: int) -> QuotaUsage:
        """What ``count`` clusters of this usage hold together."""
        return QuotaUsage(
            self.clusters * count,
            self.cpu * count,
            self.memory * count,
            self.disk * count,
            self.gpu * count,
        )

    def __sub__(self, other: QuotaUsage) -> QuotaUsage:
        return self + other.times(-1)

    def shown(self, resource: str) -> str | int:
        """One resource as the spec's current_usage shows it: counts as numbers,
        quantities as Kubernetes writes them ("5", "1500m", "10Gi")."""
        value = getattr(self, resource)
        if isinstance(value, int):
            return value
        return format_quantity(value, binary=resource in _BYTE_COUNTS)

    def as_shown(self) -> dict[str, str | int]:
        return {resource: self.shown(resource) for resource in RESOURCES}


# The resources in the order the spec lists them; each is limited by max_<resource>.
RESOURCES = tuple(field.name for field in fields(QuotaUsage))
_BYTE_COUNTS = frozenset({"memory", "disk"})


@dataclass(frozen=True)
class Excess:
    """The first resource a change would take over a limit."""

    resource: str
    would_be: str | int
    limit: str | int

    def __str__(self) -> str:
        return f"{self.resource} would be {self.would_be} > {self.limit}"


def excess(limits: QuotaLimits, *, before: QuotaUsage, after: QuotaUsage) -> Excess | None:
    """The first resource that grows from ``before`` to ``after`` past its limit, if
    any. A resource that does not grow is never refused, so a quota lowered below what
    is in use blocks only growth."""
    for resource in RESOURCES:
        limit = getattr(limits, f"max_{resource}")
        if limit is None:
            continue
        now, then = getattr(before, resource), getattr(after, resource)
        bound = limit if isinstance(limit, int) else parse_quantity(limit)
        if then > now and then > bound:
            return Excess(resource, after.shown(resource), limit)
    return None
