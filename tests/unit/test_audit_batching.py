"""Audit entries of operations ending together share a transaction (group commit),
and every one of them is written before its ``record`` returns; on a real SQLite file."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import event

from app.access.audit import list_entries, record
from app.access.principals import Principal
from app.store.db import make_engine, make_session_factory, migrate, session_scope


async def test_entries_ending_together_share_a_commit_and_none_is_lost(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    await asyncio.to_thread(migrate, url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    commits = 0

    def count(*_: Any) -> None:
        nonlocal commits
        commits += 1

    event.listen(engine.sync_engine, "commit", count)
    written: list[int] = []

    async def operation(n: int) -> None:
        await record(
            sessions=sessions,
            principal=Principal.admin(),
            action="createCluster",
            tenant_org_id=f"org{n}",
            target=f"/clusters/{n}",
            outcome="ok",
        )
        async with sessions() as session:  # written by the time record returns
            mine = await list_entries(session=session, tenant_org_id=f"org{n}")
        written.append(len(mine))

    try:
        # Hold the write lock while the 30 operations end, as a busy writer would.
        async with session_scope(sessions):
            tasks = [asyncio.create_task(operation(n)) for n in range(30)]
            await asyncio.sleep(0.05)
        await asyncio.gather(*tasks)
        async with sessions() as session:
            entries = await list_entries(session=session, limit=100)
    finally:
        await engine.dispose()
    assert written == [1] * 30
    assert sorted(e.target for e in entries) == sorted(f"/clusters/{n}" for n in range(30))
    assert commits <= 3  # the held one, then one for all that queued behind it
