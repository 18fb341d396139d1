"""The bill arithmetic, pure: ledger segments, a price schedule and a period in, a bill
out. No I/O; app.tenancy.bills feeds it from the database.

What is billed: the resources a cluster's record reserves (replicas x cpu_limit,
mem_limit, disk_size and gpu_count per node, as in quotas) for as long as the ledger
says it reserved them: from the recorded create to the recorded delete.

How:
- each segment is cut at the period's boundaries, and an open one ends at the moment
  the bill is made (never after the period's end);
- a segment that spans a price change is cut there too, each piece at its own prices;
- resource-hours are exact (fractions: memory and disk in GiB of 2**30 bytes, times in
  microseconds), shown to ``HOURS_PLACES`` decimal places;
- a line's cost is the exact sum of its pieces' costs rounded once, half to even, to
  the currency's minor unit; the total and the allocations by user and by service
  (service name across users) are sums of the rounded lines, so they add up.
"""

from __future__ import annotations

import bisect
import calendar
import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from app.models.billing import LedgerSegment, minor_unit_places
from app.models.quantity import parse_quantity
from app.tenancy.errors import InvalidInput

HOURS_PLACES = 6
MAX_PERIOD = timedelta(days=366)
_GIB = 2**30
_MICROSECONDS_PER_HOUR = 3_600_000_000


def as_utc(moment: datetime) -> datetime:
    """SQLite hands timestamps back without a zone; they were written in UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# Moments a caller may name: far enough from datetime's limits that converting to UTC
# and adding a month cannot overflow, and that every year prints in four digits.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9998, 12, 31, tzinfo=UTC)


def checked_moment(name: str, moment: datetime) -> datetime:
    """``moment`` (with a time zone) in UTC, refused unless between 1970 and 9998."""
    if moment.tzinfo is None:
        raise InvalidInput(f"{name} must carry a time zone (2026-11-01T00:00:00Z)")
    try:
        utc = as_utc(moment)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc <= LATEST:
        raise InvalidInput(f"{name} must lie between 1970 and 9998")
    return utc


def round_exact(value: Fraction, places: int) -> Decimal:
    """``value`` rounded half to even to ``places`` decimal places, exactly (no
    intermediate rounding)."""
    scaled = value * 10**places
    whole, rest = divmod(scaled.numerator, scaled.denominator)
    twice = 2 * rest
    if twice > scaled.denominator or (twice == scaled.denominator and whole % 2 == 1):
        whole += 1
    return Decimal(whole).scaleb(-places).quantize(Decimal(1).scaleb(-places))


# -- prices ----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Prices:
    """One price list: per unit-hour, in ``currency``."""

    cpu_core_hour: Decimal
    memory_gib_hour: Decimal
    disk_gib_hour: Decimal
    gpu_hour: Decimal
    currency: str


@dataclass(frozen=True)
class PriceSchedule:
    """``base`` until the first change, then each change from its moment on."""

    base: Prices
    changes: Sequence[tuple[datetime, Prices]] = ()

    def __post_init__(self) -> None:
        ordered = sorted(((as_utc(at), prices) for at, prices in self.changes), key=_first)
        object.__setattr__(self, "changes", tuple(ordered))

    def at(self, moment: datetime) -> Prices:
        moments = [at for at, _ in self.changes]
        index = bisect.bisect_right(moments, moment)
        return self.base if index == 0 else self.changes[index - 1][1]

    def pieces(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime, Prices]]:
        """[start, end) cut at every change inside it, each piece with its prices."""
        cuts = [at for at, _ in self.changes if start < at < end]
        bounds = [start, *cuts, end]
        return [(a, b, self.at(a)) for a, b in itertools.pairwise(bounds)]


def _first(item: tuple[datetime, Prices]) -> datetime:
    return item[0]


# -- periods ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Period:
    """[start, end): a calendar month (``month`` "2026-11") or any span up to a year."""

    start: datetime
    end: datetime
    month: str | None = None

    @classmethod
    def of_month(cls, text: str) -> Period:
        year, dash, month = text.partition("-")
        if not (
            dash
            and len(year) == 4
            and len(month) == 2
            and (year + month).isascii()
            and (year + month).isdigit()
            and 1 <= int(month) <= 12
            and EARLIEST.year <= int(year) <= LATEST.year
        ):
            raise InvalidInput(
                f'period must be a calendar month YYYY-MM such as 2026-11, got "{text}"'
            )
        y, m = int(year), int(month)
        days = calendar.monthrange(y, m)[1]
        start = datetime(y, m, 1, tzinfo=UTC)
        return cls(start=start, end=start + timedelta(days=days), month=text)

    @classmethod
    def between(cls, start: datetime, end: datetime) -> Period:
        start, end = checked_moment("from", start), checked_moment("to", end)
        if start >= end:
            raise InvalidInput("from must be before to (to is exclusive)")
        if end - start > MAX_PERIOD:
            raise InvalidInput(f"a bill covers at most {MAX_PERIOD.days} days; ask for less")
        return cls(start=start, end=end)

    @classmethod
    def asked(
        cls,
        *,
        month: str | None,
        start: datetime | None,
        end: datetime | None,
        now: datetime,
    ) -> Period:
        """The period a request names: a month, or from and to; the current month when
        it names none."""
        if month is not None and (start is not None or end is not None):
            raise InvalidInput("give either period or from and to, not both")
        if month is not None:
            return cls.of_month(month)
        if start is None and end is None:
            return cls.of_month(f"{now.year:04d}-{now.month:02d}")
        if start is None or end is None:
            raise InvalidInput("give both from and to (or a period YYYY-MM)")
        return cls.between(start, end)


def parse_instant(name: str, text: str) -> datetime:
    """An RFC 3339 instant with a time zone, as a query parameter gives it."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None or "T" not in text.upper():
        raise InvalidInput(
            f"{name} must be an RFC 3339 instant with a time zone such as "
            f'2026-11-01T00:00:00Z, got "{text}"'
        )
    return checked_moment(name, moment)


# -- bills -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ResourceHours:
    """Exact unit-hours of each billed resource."""

    cpu_core_hours: Fraction = Fraction(0)
    memory_gib_hours: Fraction = Fraction(0)
    disk_gib_hours: Fraction = Fraction(0)
    gpu_hours: Fraction = Fraction(0)

    def __add__(self, other: ResourceHours) -> ResourceHours:
        return ResourceHours(
            self.cpu_core_hours + other.cpu_core_hours,
            self.memory_gib_hours + other.memory_gib_hours,
            self.disk_gib_hours + other.disk_gib_hours,
            self.gpu_hours + other.gpu_hours,
        )

    def cost(self, prices: Prices) -> Fraction:
        return (
            self.cpu_core_hours * Fraction(prices.cpu_core_hour)
            + self.memory_gib_hours * Fraction(prices.memory_gib_hour)
            + self.disk_gib_hours * Fraction(prices.disk_gib_hour)
            + self.gpu_hours * Fraction(prices.gpu_hour)
        )

    def shown(self) -> dict[str, Decimal]:
        """Each rounded to HOURS_PLACES decimal places, half to even."""
        return {
            "cpu_core_hours": round_exact(self.cpu_core_hours, HOURS_PLACES),
            "memory_gib_hours": round_exact(self.memory_gib_hours, HOURS_PLACES),
            "disk_gib_hours": round_exact(self.disk_gib_hours, HOURS_PLACES),
            "gpu_hours": round_exact(self.gpu_hours, HOURS_PLACES),
        }


def segment_hours(segment: LedgerSegment, start: datetime, end: datetime) -> ResourceHours:
    """What ``segment`` reserved over [start, end)."""
    hours = Fraction((end - start) // timedelta(microseconds=1), _MICROSECONDS_PER_HOUR)
    nodes = segment.replicas * hours
    return ResourceHours(
        cpu_core_hours=nodes * Fraction(parse_quantity(segment.cpu_limit)),
        memory_gib_hours=nodes * Fraction(parse_quantity(segment.mem_limit)) / _GIB,
        disk_gib_hours=nodes * Fraction(parse_quantity(segment.disk_size)) / _GIB,
        gpu_hours=nodes * segment.gpu_count,
    )


@dataclass(frozen=True, kw_only=True)
class BillLine:
    """One cluster's use in the period."""

    container_id: str
    user: str
    service_name: str
    namespace: str
    hours: ResourceHours
    cost: Decimal


@dataclass(frozen=True, kw_only=True)
class Allocation:
    """The lines of one user, or of one service name, summed."""

    name: str
    hours: ResourceHours
    cost: Decimal
    lines: int


@dataclass(frozen=True, kw_only=True)
class Bill:
    tenant_org_id: str
    period: Period
    billed_until: datetime  # the period's end, or now when that is earlier
    currency: str
    lines: list[BillLine]
    by_user: list[Allocation]
    by_service: list[Allocation]
    total: Decimal


@dataclass
class _Open:
    segment: LedgerSegment
    hours: ResourceHours = field(default_factory=ResourceHours)
    cost: Fraction = Fraction(0)


def compute_bill(
    *,
    tenant_org_id: str,
    segments: Iterable[LedgerSegment],
    schedule: PriceSchedule,
    period: Period,
    now: datetime,
) -> Bill:
    until = min(as_utc(now), period.end)
    currency = _currency(schedule, period.start, max(until, period.start))
    places = minor_unit_places(currency)
    running: dict[str, _Open] = {}
    for segment in segments:
        start = max(as_utc(segment.started_at), period.start)
        end = min(as_utc(segment.ended_at) if segment.ended_at else until, until)
        if end <= start:
            continue
        line = running.setdefault(segment.container_id, _Open(segment))
        for a, b, prices in schedule.pieces(start, end):
            hours = segment_hours(segment, a, b)
            line.hours += hours
            line.cost += hours.cost(prices)
    lines = [
        BillLine(
            container_id=container_id,
            user=line.segment.user,
            service_name=line.segment.service_name,
            namespace=line.segment.namespace,
            hours=line.hours,
            cost=round_exact(line.cost, places),
        )
        for container_id, line in running.items()
    ]
    lines.sort(key=lambda line: (line.user, line.service_name, line.container_id))
    zero = round_exact(Fraction(0), places)
    return Bill(
        tenant_org_id=tenant_org_id,
        period=period,
        billed_until=max(until, period.start),
        currency=currency,
        lines=lines,
        by_user=_allocate(lines, lambda line: line.user, zero),
        by_service=_allocate(lines, lambda line: line.service_name, zero),
        total=sum((line.cost for line in lines), zero),
    )


def _allocate(
    lines: list[BillLine], key: Callable[[BillLine], str], zero: Decimal
) -> list[Allocation]:
    groups: dict[str, list[BillLine]] = {}
    for line in lines:
        groups.setdefault(key(line), []).append(line)
    return [
        Allocation(
            name=name,
            hours=sum((line.hours for line in group), ResourceHours()),
            cost=sum((line.cost for line in group), zero),
            lines=len(group),
        )
        for name, group in sorted(groups.items())
    ]


def _currency(schedule: PriceSchedule, start: datetime, end: datetime) -> str:
    """The one currency of the prices in force over [start, end)."""
    if end <= start:
        return schedule.at(start).currency
    currencies = sorted({prices.currency for _, _, prices in schedule.pieces(start, end)})
    if len(currencies) > 1:
        raise InvalidInput(
            f"the period has prices in several currencies ({', '.join(currencies)}); "
            "ask for the bill of each part separately"
        )
    return currencies[0]
