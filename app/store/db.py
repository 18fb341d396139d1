"""Database engine, sessions and schema migrations."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
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

from app.models.versions import LEGACY_VERSION


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
# was free most of the time. Waiting here costs no polling and is first come, first
# served, except that a request's transaction goes before the background worker's
# (see ``WriterQueue``). (Other processes on the same file still meet the busy handler.)


class WriterQueue:
    """A lock handed on in order of arrival, foreground waiters before background ones.

    Under a burst of creates, provisioning writes (two per cluster) and the creates
    themselves (the record and its audit entry) share the one SQLite writer, which is
    then busy all the time: first come, first served made every create wait behind the
    work of the clusters created before it. A request's transaction going first keeps
    answers quick; the worker's transactions wait for a gap, and since it records only
    outcomes of work already done, nothing is lost by the wait."""

    def __init__(self) -> None:
        self._held = False
        self._waiting: tuple[deque[asyncio.Future[None]], deque[asyncio.Future[None]]] = (
            deque(),
            deque(),
        )

    async def acquire(self, *, background: bool) -> None:
        if not self._held and not any(self._waiting):
            self._held = True
            return
        turn = asyncio.get_running_loop().create_future()
        queue = self._waiting[1 if background else 0]
        queue.append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.release()  # handed the lock just as we were cancelled: pass it on
            else:
                queue.remove(turn)
            raise

    def release(self) -> None:
        for queue in self._waiting:
            while queue:
                turn = queue.popleft()
                if not turn.done():
                    turn.set_result(None)  # the lock passes on, still held
                    return
        self._held = False


_WRITERS: WeakKeyDictionary[SessionFactory, WriterQueue] = WeakKeyDictionary()


def _writer_queue(factory: SessionFactory) -> WriterQueue | None:
    bind = factory.kw.get("bind")
    if bind is None or bind.dialect.name != "sqlite":
        return None
    queue = _WRITERS.get(factory)
    if queue is None:
        queue = _WRITERS[factory] = WriterQueue()
    return queue


@asynccontextmanager
async def writer_turn(factory: SessionFactory, *, background: bool = False) -> AsyncIterator[None]:
    """This process's turn to write (SQLite; nothing to wait for on PostgreSQL), for the
    transactions of ``session_scope(..., turn_held=True)`` inside it. ``background``:
    work no caller waits for (the worker), which lets requests' transactions go first."""
    queue = _writer_queue(factory)
    if queue is None:
        yield
        return
    await queue.acquire(background=background)
    try:
        yield
    finally:
        queue.release()


@asynccontextmanager
async def session_scope(
    factory: SessionFactory, *, background: bool = False, turn_held: bool = False
) -> AsyncIterator[AsyncSession]:
    """A session whose transaction is committed on success and rolled back on error:
    every write of the control plane goes through one. Never nest them (on SQLite
    they queue for one lock). ``background``: see ``writer_turn``. ``turn_held``: the
    caller already holds the turn (``writer_turn``) for several transactions in a row."""
    async with AsyncExitStack() as stack:
        if not turn_held:
            await stack.enter_async_context(writer_turn(factory, background=background))
        async with factory() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise


def alembic_config(url: str, *, legacy_es_version: str = LEGACY_VERSION) -> Config:
    """``legacy_es_version``: the Elasticsearch version the clusters recorded before
    clusters had versions are recorded with (the migration that adds them reads it)."""
    config = Config()
    config.attributes["legacy_es_version"] = legacy_es_version
    config.set_main_option("script_location", str(resources.files("migrations")))
    # ConfigParser interpolation would choke on a '%' in a password.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str, *, legacy_es_version: str = LEGACY_VERSION) -> None:
    """Bring the database schema to the newest revision (blocking)."""
    make_engine(url)  # creates the SQLite data directory when needed
    command.upgrade(alembic_config(url, legacy_es_version=legacy_es_version), "head")


async def migrate_async(url: str, *, legacy_es_version: str = LEGACY_VERSION) -> None:
    # Alembic's async env runs its own event loop, so it must not run on ours.
    await asyncio.to_thread(migrate, url, legacy_es_version=legacy_es_version)
