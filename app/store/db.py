"""Database engine, sessions and schema migrations."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from importlib import resources
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession


def make_engine(url: str) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        # Background provisioning and requests write concurrently: wait for the
        # lock instead of failing with "database is locked".
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _write_ahead_log)
        return engine
    return create_async_engine(url, pool_pre_ping=True)


def _write_ahead_log(dbapi_connection: Any, _: Any) -> None:
    """SQLite in WAL mode: readers never block the writer nor the writer them, so one
    request reading (a cursor not yet drained, a long listing) cannot hold up every
    write behind it until the lock timeout, as the default rollback journal does.
    The mode is kept in the database file; asking again is cheap."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


SessionFactory = async_sessionmaker[AsyncSession]


def make_session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


# One writer at a time per SQLite database in this process. SQLite lets one
# transaction write at a time anyway; without this queue, the others wait inside
# SQLite's busy handler, which sleeps and polls (up to 100 ms a turn) rather than
# queueing: under a burst of writes a transaction could wait seconds while the lock
# was free most of the time. Waiting here is first come, first served and costs no
# polling. (Other processes on the same file still meet the busy handler.)
_WRITERS: WeakKeyDictionary[SessionFactory, asyncio.Lock] = WeakKeyDictionary()


def _writer_lock(factory: SessionFactory) -> asyncio.Lock | None:
    bind = factory.kw.get("bind")
    if bind is None or bind.dialect.name != "sqlite":
        return None
    lock = _WRITERS.get(factory)
    if lock is None:
        lock = _WRITERS[factory] = asyncio.Lock()
    return lock


@asynccontextmanager
async def session_scope(factory: SessionFactory) -> AsyncIterator[AsyncSession]:
    """A session whose transaction is committed on success and rolled back on error:
    every write of the control plane goes through one. Never nest them (on SQLite
    they queue for one lock)."""
    lock = _writer_lock(factory)
    async with lock if lock is not None else nullcontext(), factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("migrations")))
    # ConfigParser interpolation would choke on a '%' in a password.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str) -> None:
    """Bring the database schema to the newest revision (blocking)."""
    make_engine(url)  # creates the SQLite data directory when needed
    command.upgrade(alembic_config(url), "head")


async def migrate_async(url: str) -> None:
    # Alembic's async env runs its own event loop, so it must not run on ours.
    await asyncio.to_thread(migrate, url)
