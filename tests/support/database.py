"""Reading a server's database straight from a test (what no API shows: leases, say),
from blocking test code or from inside a running event loop alike."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import text

from app.store.db import SessionFactory, make_engine
from app.store.tables import TenantContainerRow
from app.tenancy import queries

T = TypeVar("T")


def run_blocking(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to its end in a loop of its own (in a thread: the caller may
    be inside a running loop)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def rows(url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """The rows ``sql`` reads from the database at ``url``."""

    async def read() -> list[tuple[Any, ...]]:
        engine = make_engine(url)
        try:
            async with engine.connect() as connection:
                result = await connection.execute(text(sql), params)
                return [tuple(row) for row in result.all()]
        finally:
            await engine.dispose()

    return run_blocking(read())


async def execute(url: str, sql: str) -> None:
    """Run ``sql`` on the database at ``url`` and commit: for tests that break a running
    server's database under it. Awaited, so a server in the same event loop keeps
    running (and releases its locks) meanwhile."""
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(sql))
    finally:
        await engine.dispose()


async def container_row(sessions: SessionFactory, container_id: str) -> TenantContainerRow:
    """A cluster's container record as committed now (it must exist)."""
    async with sessions() as session:
        row = await queries.get_container(session=session, container_id=container_id)
    assert row is not None
    return row
