"""Which database the suite runs on. By default every server process, in-process app
and runtime a test starts keeps its records in the SQLite file of its data dir. With
``TEST_DATABASE=postgresql`` (and ``TEST_POSTGRES_URL`` naming a PostgreSQL server the
tests may create databases on) each data dir gets a fresh PostgreSQL database of its
own instead: created on first use, the same one again for the same data dir (a server
restarted on its data dir finds its records, as it does in its SQLite file), dropped
when the test (or the fixture that owns the data dir) is done."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.support.database import run_blocking

ON_POSTGRESQL = os.environ.get("TEST_DATABASE", "sqlite") == "postgresql"

_numbers = itertools.count(1)
# Data dir -> the URL of its database, in the order they were created.
_databases: dict[Path, str] = {}


def sqlite_only(reason: str) -> pytest.MarkDecorator:
    """Mark a test that is about SQLite itself (its file, its locking): it runs in the
    SQLite pass only, ``reason`` says why."""
    return pytest.mark.skipif(ON_POSTGRESQL, reason=f"SQLite only: {reason}")


def postgres_server_url() -> str:
    url = os.environ.get("TEST_POSTGRES_URL")
    if not url:
        raise RuntimeError("TEST_DATABASE=postgresql needs TEST_POSTGRES_URL (a server to use)")
    return url


def database_url_for(data_dir: Path) -> str:
    """The ``database_url`` setting of a server on ``data_dir``: empty on SQLite (the
    default: a file in the data dir), a PostgreSQL database of its own otherwise."""
    if not ON_POSTGRESQL:
        return ""
    key = data_dir.resolve()
    if key not in _databases:
        name = f"ess_t{os.getpid()}_{next(_numbers)}"
        url = make_url(postgres_server_url()).set(database=name)
        run_blocking(_execute(f'CREATE DATABASE "{name}"'))
        _databases[key] = url.render_as_string(hide_password=False)
    return _databases[key]


def resolved_database_url(data_dir: Path) -> str:
    """The database URL a server on ``data_dir`` ends up with: its SQLite file, or its
    PostgreSQL database in the PostgreSQL pass."""
    return database_url_for(data_dir) or f"sqlite+aiosqlite:///{data_dir / 'es-serverless.db'}"


def databases_made() -> int:
    """How many databases were made so far (a mark for ``drop_databases_since``)."""
    return len(_databases)


def drop_databases_since(mark: int) -> None:
    """Drop the databases made after ``mark``, connections and all (a server a test
    killed may still hold some)."""
    for data_dir in list(_databases)[mark:]:
        name = make_url(_databases.pop(data_dir)).database
        run_blocking(_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _execute(statement: str) -> None:
    """``statement`` on the server's maintenance database, outside a transaction (as
    CREATE/DROP DATABASE must be)."""
    import asyncpg

    url = make_url(postgres_server_url()).set(drivername="postgresql", database="postgres")
    connection = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()
