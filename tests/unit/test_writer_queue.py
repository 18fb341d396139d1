"""The SQLite writer queue: one holder at a time, requests' transactions before the
background worker's, each class in order of arrival, and a cancelled waiter never
keeps or loses the lock; then through ``session_scope`` on a real SQLite file."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from app.store.db import WriterQueue, make_engine, make_session_factory, migrate, session_scope
from tests.support.databases import sqlite_only


async def test_foreground_goes_before_background_and_each_in_order() -> None:
    queue = WriterQueue()
    order: list[str] = []

    async def writer(name: str, *, background: bool) -> None:
        await queue.acquire(background=background)
        order.append(name)
        await asyncio.sleep(0)  # hold it across a turn of the loop
        queue.release()

    await queue.acquire(background=False)  # held while everyone queues up
    tasks = [
        asyncio.create_task(writer("bg1", background=True)),
        asyncio.create_task(writer("fg1", background=False)),
        asyncio.create_task(writer("bg2", background=True)),
        asyncio.create_task(writer("fg2", background=False)),
    ]
    await asyncio.sleep(0.01)
    assert order == []  # nobody got in while it was held
    queue.release()
    await asyncio.gather(*tasks)
    assert order == ["fg1", "fg2", "bg1", "bg2"]


async def test_a_cancelled_waiter_neither_keeps_nor_loses_the_lock() -> None:
    queue = WriterQueue()
    await queue.acquire(background=False)
    cancelled = asyncio.create_task(queue.acquire(background=True))
    await asyncio.sleep(0)
    queue.release()  # handed to the waiter...
    cancelled.cancel()  # ...which is cancelled before it runs
    await asyncio.gather(cancelled, return_exceptions=True)
    # The lock went on (here: back to free), so the next writer gets it at once.
    await asyncio.wait_for(queue.acquire(background=False), 1)
    waiting = asyncio.create_task(queue.acquire(background=False))
    await asyncio.sleep(0)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    queue.release()
    await asyncio.wait_for(queue.acquire(background=True), 1)
    queue.release()


@sqlite_only("the writer queue serialises the writers of the one SQLite file")
async def test_session_scope_commits_one_writer_at_a_time(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    await asyncio.to_thread(migrate, url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    inside = 0
    most = 0

    async def write(n: int, *, background: bool) -> None:
        nonlocal inside, most
        async with session_scope(sessions, background=background) as session:
            inside += 1
            most = max(most, inside)
            await session.exec(
                text("INSERT INTO quota_guards (tenant_org_id, checks) VALUES (:org, 0)"),  # type: ignore[call-overload]
                params={"org": f"org{n}"},
            )
            await asyncio.sleep(0.001)
            inside -= 1

    try:
        await asyncio.gather(*(write(n, background=n % 2 == 0) for n in range(20)))
        async with sessions() as session:
            statement = text("SELECT count(*) FROM quota_guards")
            count = (await session.exec(statement)).one()[0]  # type: ignore[call-overload]
    finally:
        await engine.dispose()
    assert most == 1
    assert count == 20
