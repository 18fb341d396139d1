"""Quotas (spec section 9): the limits an organisation, one of its users or one of its
services may use, and the usage they are held against.

A limit left out (or null) is no limit. ``max_cpu``, ``max_memory`` and ``max_disk`` are
Kubernetes quantities; ``max_clusters`` and ``max_gpu`` counts. Usage counts every
cluster that is not deleted: clusters, and for each of them replicas times its per-node
cpu limit, memory limit, disk size and GPUs.
"""

from __future__ import annotations

import enum
from typing import Annotated

import sqlalchemy as sa
from annotated_types import Ge, Le
from pydantic import BeforeValidator, ConfigDict, Strict
from sqlmodel import Field, SQLModel

from app.models.fields import INT32_MAX, MAX_QUANTITY_LENGTH, Quantity, empty_is_none
from app.models.rules import Kind


class QuotaLevel(enum.StrEnum):
    """Whose use a quota bounds; the words an exceeded quota is reported with."""

    ORGANIZATION = "organization"
    USER = "user"
    SERVICE = "service"


# A count limit: an integer from 0 (nothing allowed) up.
Count = Annotated[int, Strict(), Ge(0), Le(INT32_MAX), Kind.NUMBER]
# A quantity limit; "" is no limit, like null.
QuantityLimit = Annotated[Quantity | None, BeforeValidator(empty_is_none)]


class QuotaLimits(SQLModel):
    """The spec's ``quota`` object. Every limit may be null: no limit."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    max_clusters: Count | None = Field(default=None, description="Clusters (not deleted)")
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
    max_gpu: Count | None = Field(default=None, description="GPUs: the sum of replicas x gpu_count")
    enforce_sizing: Annotated[bool, Strict()] = Field(
        default=False,
        description="Refuse clusters too small to hold their vectors (400 with the "
        "memory limit that would); otherwise they are accepted with the verdict shown. "
        "Shown only when true.",
    )


LIMIT_FIELDS = tuple(name for name in QuotaLimits.model_fields if name.startswith("max_"))
