"""The bill arithmetic (app.tenancy.billing), pure: exact resource-hours, cuts at the
period and at price changes, rounding per line half to even, lines that add up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from app.models.billing import LedgerSegment
from app.tenancy.billing import (
    Period,
    Prices,
    PriceSchedule,
    compute_bill,
    parse_instant,
    round_exact,
    segment_hours,
)
from app.tenancy.errors import InvalidInput

T0 = datetime(2026, 11, 10, 10, 0, tzinfo=UTC)
USD = Prices(
    cpu_core_hour=Decimal("0.04"),
    memory_gib_hour=Decimal("0.005"),
    disk_gib_hour=Decimal("0.0001"),
    gpu_hour=Decimal("2.50"),
    currency="USD",
)
NOVEMBER = Period.of_month("2026-11")


def _segment(**fields: Any) -> LedgerSegment:
    values: dict[str, Any] = {
        "container_id": "c1", "tenant_org_id": "org", "user": "alice",
        "service_name": "search", "namespace": "org-alice-search", "replicas": 1,
        "cpu_limit": "2", "mem_limit": "2Gi", "disk_size": "10Gi", "gpu_count": 0,
        "started_at": T0, "ended_at": None,
    }  # fmt: skip
    return LedgerSegment.model_construct(**{**values, **fields})


@pytest.mark.parametrize(
    ("value", "places", "rounded"),
    [
        (Fraction(12185, 1000), 2, "12.18"),  # half: to the even neighbour
        (Fraction(12195, 1000), 2, "12.20"),
        (Fraction(121851, 10000), 2, "12.19"),  # just over half
        (Fraction(1, 3), 6, "0.333333"),
        (Fraction(2, 3), 6, "0.666667"),
        (Fraction(0), 6, "0.000000"),
        (Fraction(5, 2), 0, "2"),
        (Fraction(7, 2), 0, "4"),
    ],
)
def test_rounding_is_half_to_even_and_exact(value: Fraction, places: int, rounded: str) -> None:
    assert str(round_exact(value, places)) == rounded


def test_resource_hours_with_mixed_units_are_exact() -> None:
    segment = _segment(
        replicas=3, cpu_limit="500m", mem_limit="512Mi", disk_size="1Ti", gpu_count=2
    )
    hours = segment_hours(segment, T0, T0 + timedelta(minutes=20))
    # 3 nodes x 1/3 h = 1 node-hour of 0.5 cores, 0.5 GiB, 1024 GiB, 2 GPUs.
    assert hours.cpu_core_hours == Fraction(1, 2)
    assert hours.memory_gib_hours == Fraction(1, 2)
    assert hours.disk_gib_hours == 1024
    assert hours.gpu_hours == 2
    # Decimal (not binary) units are exact too: 1G is 10**9 / 2**30 GiB.
    one_g = segment_hours(_segment(mem_limit="1G"), T0, T0 + timedelta(hours=1))
    assert one_g.memory_gib_hours == Fraction(10**9, 2**30)
    assert one_g.shown()["memory_gib_hours"] == Decimal("0.931323")


def test_segments_are_cut_at_the_period_and_open_ones_end_now() -> None:
    before = _segment(container_id="a", started_at=datetime(2026, 10, 31, 23, tzinfo=UTC),
                      ended_at=datetime(2026, 11, 1, 1, tzinfo=UTC))  # fmt: skip
    after = _segment(container_id="b", started_at=datetime(2026, 11, 30, 22, tzinfo=UTC))
    bill = compute_bill(
        tenant_org_id="org",
        segments=[before, after],
        schedule=PriceSchedule(USD),
        period=NOVEMBER,
        now=datetime(2026, 12, 5, tzinfo=UTC),
    )
    assert bill.billed_until == NOVEMBER.end
    # a: 1 h of November; b: 2 h up to the period's end although it still runs.
    assert [line.hours.cpu_core_hours for line in bill.lines] == [2, 4]
    early = compute_bill(
        tenant_org_id="org",
        segments=[after],
        schedule=PriceSchedule(USD),
        period=NOVEMBER,
        now=datetime(2026, 11, 30, 23, 30, tzinfo=UTC),
    )
    assert early.billed_until == datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    assert early.lines[0].hours.cpu_core_hours == 3  # 1.5 h x 2 cores


def test_a_segment_spanning_a_price_change_is_split_at_it() -> None:
    dearer = Prices(**{**vars(USD), "cpu_core_hour": Decimal("0.10")})
    schedule = PriceSchedule(USD, [(T0 + timedelta(hours=1), dearer)])
    segment = _segment(ended_at=T0 + timedelta(hours=3))
    bill = compute_bill(
        tenant_org_id="org",
        segments=[segment],
        schedule=schedule,
        period=NOVEMBER,
        now=T0 + timedelta(days=30),
    )
    # cpu 2 x (0.04 + 2 x 0.10) = 0.48; memory 6 GiB-h x 0.005 = 0.03; disk 30 x 0.0001.
    assert bill.lines[0].cost == Decimal("0.51")
    assert bill.total == Decimal("0.51")


def test_lines_are_rounded_each_and_the_total_is_their_sum() -> None:
    # Each line costs just over half a cent: 0.125 GiB-h of memory at 0.04 = 0.005, plus
    # 0.001 core-h at 0.04 and a trifle of disk: 0.01 each. The total is the lines' sum,
    # 0.03, not the exact 3 x 0.00504... rounded on its own (0.02).
    prices = Prices(**{**vars(USD), "memory_gib_hour": Decimal("0.04")})
    segments = [
        _segment(container_id=f"c{n}", user=user, service_name=service, cpu_limit="1m",
                 mem_limit="128Mi", disk_size="1Ki", ended_at=T0 + timedelta(hours=1))
        for n, (user, service) in enumerate([("alice", "a"), ("alice", "b"), ("bob", "a")])
    ]  # fmt: skip
    bill = compute_bill(
        tenant_org_id="org",
        segments=segments,
        schedule=PriceSchedule(prices),
        period=NOVEMBER,
        now=T0 + timedelta(days=1),
    )
    assert [line.cost for line in bill.lines] == [Decimal("0.01")] * 3
    assert bill.total == Decimal("0.03")
    assert [(a.name, a.lines, a.cost) for a in bill.by_user] == [
        ("alice", 2, Decimal("0.02")),
        ("bob", 1, Decimal("0.01")),
    ]
    assert [(a.name, a.lines, a.cost) for a in bill.by_service] == [
        ("a", 2, Decimal("0.02")),
        ("b", 1, Decimal("0.01")),
    ]


def test_a_half_cent_line_rounds_to_even() -> None:
    # 0.125 GiB-h at 0.04 = 0.005 exactly (cpu, disk and gpu free): 0.00, not 0.01.
    free = Prices(cpu_core_hour=Decimal(0), memory_gib_hour=Decimal("0.04"),
                  disk_gib_hour=Decimal(0), gpu_hour=Decimal(0), currency="USD")  # fmt: skip
    segment = _segment(mem_limit="128Mi", ended_at=T0 + timedelta(hours=1))
    bill = compute_bill(
        tenant_org_id="org", segments=[segment], schedule=PriceSchedule(free),
        period=NOVEMBER, now=T0 + timedelta(days=1),
    )  # fmt: skip
    assert bill.lines[0].cost == Decimal("0.00")


def test_the_currency_decides_the_minor_unit_and_one_currency_per_bill() -> None:
    yen = Prices(**{**vars(USD), "cpu_core_hour": Decimal("6.5"), "currency": "JPY"})
    segment = _segment(mem_limit="1Ki", disk_size="1Ki", ended_at=T0 + timedelta(hours=1))
    bill = compute_bill(
        tenant_org_id="org", segments=[segment], schedule=PriceSchedule(yen),
        period=NOVEMBER, now=T0 + timedelta(days=1),
    )  # fmt: skip
    assert (bill.currency, bill.total) == ("JPY", Decimal("13"))
    mixed = PriceSchedule(USD, [(T0, yen)])
    with pytest.raises(InvalidInput, match="several currencies"):
        later = T0 + timedelta(days=1)
        compute_bill(tenant_org_id="org", segments=[], schedule=mixed, period=NOVEMBER, now=later)


def test_periods() -> None:
    february = Period.of_month("2028-02")
    assert february.end - february.start == timedelta(days=29)
    december = Period.of_month("2026-12")
    assert december.end == datetime(2027, 1, 1, tzinfo=UTC)
    assert Period.asked(month=None, start=None, end=None, now=T0) == NOVEMBER
    span = Period.between(T0, T0 + timedelta(days=366))
    assert span.month is None
    for bad in (
        "2026-00",
        "2026-13",
        "26-11",
        "2026-1",
        "2026-11-01",
        "\uff12\uff10\uff12\uff16-11",
        "",
        "1969-12",
        "9999-12",
    ):
        with pytest.raises(InvalidInput):
            Period.of_month(bad)
    with pytest.raises(InvalidInput):
        Period.between(T0, T0 + timedelta(days=366, seconds=1))
    with pytest.raises(InvalidInput):
        Period.between(T0, T0)
    with pytest.raises(InvalidInput):
        Period.asked(month=None, start=T0, end=None, now=T0)
    assert parse_instant("from", "2026-11-10T11:00:00+01:00") == T0
    for bad in ("2026-11-10", "2026-11-10T10:00:00", "yesterday", "9999-12-31T23:59:59-23:59",
                "0001-01-01T00:00:00+01:00"):  # fmt: skip
        with pytest.raises(InvalidInput):
            parse_instant("from", bad)
