"""Pages of a container listing. Listings are ordered by creation time, then id
(queries._ordered); a position in that order travels to clients as an opaque cursor,
so a page starts right after the last row the client has seen, however many rows were
added or deleted in between (keyset paging, no offsets)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from app.store.tables import TenantContainerRow
from app.tenancy.errors import InvalidInput


@dataclass(frozen=True, order=True)
class Position:
    created_at: datetime
    id: str

    @classmethod
    def of(cls, row: TenantContainerRow) -> Position:
        return cls(created_at=_utc(row.created_at), id=row.id)

    @property
    def cursor(self) -> str:
        raw = json.dumps([self.created_at.isoformat(), self.id]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def from_cursor(cls, cursor: str) -> Position:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            at, row_id = json.loads(raw)
            return cls(created_at=_utc(datetime.fromisoformat(at)), id=str(row_id))
        except (binascii.Error, ValueError, TypeError) as error:
            raise InvalidInput(
                "after must be a cursor this API returned (a container's cursor field)"
            ) from error


def _utc(at: datetime) -> datetime:
    # SQLite hands timestamps back without their zone; every one is written in UTC.
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Page:
    """At most ``first`` rows (all when None) after ``after`` (from the start when None)."""

    first: int | None = None
    after: Position | None = None

    @classmethod
    def of(cls, *, first: int | None, after: str | None, max_rows: int) -> Page:
        if first is not None and not 1 <= first <= max_rows:
            raise InvalidInput(f"first must be between 1 and {max_rows}, not {first}")
        return cls(first=first, after=Position.from_cursor(after) if after is not None else None)

    def of_rows(self, rows: Sequence[TenantContainerRow]) -> list[TenantContainerRow]:
        """This page of rows already in the listing's order."""
        kept = [r for r in rows if self.after is None or Position.of(r) > self.after]
        return kept if self.first is None else kept[: self.first]
