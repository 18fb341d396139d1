"""Billing's models: what a ledger segment records of a cluster, and prices.

A segment is one stretch of a cluster's life with one set of billed resources: the
resources the record reserves per node (``replicas`` nodes of ``cpu_limit``,
``mem_limit``, ``disk_size`` and ``gpu_count`` each) and whose they are.

Prices are per CPU-core-hour, GiB-memory-hour, GiB-disk-hour and GPU-hour, in one
currency, as exact decimals (never floats): stored as text, sent as strings.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import sqlalchemy as sa
from annotated_types import Ge, Le
from pydantic import AfterValidator, ConfigDict, Strict
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel

from app.models.cluster import Placement
from app.models.fields import MAX_QUANTITY_LENGTH, GpuCount, Quantity, Replicas
from app.models.records import optional_timestamp, timestamp
from app.models.rules import RuleViolation

# The resources a segment records and a bill multiplies by time.
BILLED_RESOURCES = ("replicas", "cpu_limit", "mem_limit", "disk_size", "gpu_count")
PRICE_FIELDS = ("cpu_core_hour", "memory_gib_hour", "disk_gib_hour", "gpu_hour")

# A price is at most this much per unit-hour, to this many decimal places: generous
# bounds that keep every product of the bill arithmetic small and the column narrow.
MAX_PRICE = Decimal(1_000_000)
PRICE_PLACES = 10
MONEY_LENGTH = 40

# ISO 4217 currencies whose minor unit is not the cent (two decimals): costs are
# rounded to these many places; every other currency to two.
_MINOR_UNITS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
    "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0,
    "XPF": 0, "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    "CLF": 4, "UYW": 4,
}  # fmt: skip


def minor_unit_places(currency: str) -> int:
    """The decimal places of ``currency``'s minor unit (2 for USD, 0 for JPY)."""
    return _MINOR_UNITS.get(currency, 2)


def _price_places(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise RuleViolation("a price must be a finite number")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -PRICE_PLACES:
        raise RuleViolation(f"a price has at most {PRICE_PLACES} decimal places, got {value}")
    # "-0" is zero: never sent back with its sign.
    return value if value != 0 else abs(value)


def _currency_code(value: str) -> str:
    if len(value) != 3 or not value.isascii() or not value.isalpha() or not value.isupper():
        raise RuleViolation(f'currency must be an ISO 4217 code such as "USD", got "{value}"')
    return value


# A price per unit-hour: a decimal number from 0 up (a string "0.04" or a JSON number).
Price = Annotated[Decimal, Ge(0), Le(MAX_PRICE), AfterValidator(_price_places)]
Currency = Annotated[str, Strict(), AfterValidator(_currency_code)]


class MoneyColumn(sa.types.TypeDecorator[Decimal]):
    """A decimal amount kept exactly as text (SQLite has no exact decimal type)."""

    impl = sa.String(MONEY_LENGTH)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else str(Decimal(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


def _price(description: str) -> Any:
    return Field(sa_type=MoneyColumn, description=description)


class PriceList(SQLModel):
    """What one unit of each resource costs per hour, and in which currency."""

    cpu_core_hour: Price = _price("Price of one CPU core (of cpu_limit) for an hour")
    memory_gib_hour: Price = _price("Price of one GiB of memory (of mem_limit) for an hour")
    disk_gib_hour: Price = _price("Price of one GiB of disk (of disk_size) for an hour")
    gpu_hour: Price = _price("Price of one GPU for an hour")
    currency: Currency = Field(
        max_length=3, sa_type=sa.String(3), description="ISO 4217 currency code"
    )


class PriceChange(SQLModel):
    """A new price list (admin only), in force from ``effective_from`` (now when left
    out; never in the past, so closed periods keep their bills). A price left out keeps
    the one in force at that moment."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    effective_from: datetime | None = Field(
        default=None, description="RFC 3339 with a time zone; now when left out"
    )
    cpu_core_hour: Price | None = None
    memory_gib_hour: Price | None = None
    disk_gib_hour: Price | None = None
    gpu_hour: Price | None = None
    currency: Currency | None = None


class LedgerSegment(Placement):
    """One stretch of a cluster's life with one set of billed resources: whose it is,
    what it reserves per node, from when (inclusive) to when (exclusive; null while
    open)."""

    container_id: str = Field(description="The TenantContainer id")
    replicas: Replicas = Field(description="Elasticsearch nodes")
    cpu_limit: Quantity = Field(
        max_length=MAX_QUANTITY_LENGTH,
        sa_type=sa.String(MAX_QUANTITY_LENGTH),
        description="CPU limit per node",
    )
    mem_limit: Quantity = Field(
        max_length=MAX_QUANTITY_LENGTH,
        sa_type=sa.String(MAX_QUANTITY_LENGTH),
        description="Memory limit per node",
    )
    disk_size: Quantity = Field(
        max_length=MAX_QUANTITY_LENGTH,
        sa_type=sa.String(MAX_QUANTITY_LENGTH),
        description="Disk per node",
    )
    gpu_count: GpuCount = Field(description="GPUs per node")
    started_at: datetime = timestamp(description="Start of the segment (inclusive)")
    ended_at: datetime | None = optional_timestamp(
        description="End of the segment (exclusive); null while it is open"
    )
