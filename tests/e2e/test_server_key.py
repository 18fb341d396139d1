"""Replicas must share the server key (the elastic passwords and report tokens are
derived from it): the first to start records its fingerprint in the database, and a
replica with another key refuses to start, saying why."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from app.access.server_key import ServerKeyMismatch
from tests.conftest import MakeApp
from tests.support.databases import resolved_database_url

KEY = SecretStr("a-key-every-replica-shares-0123")


async def test_a_replica_with_another_key_refuses_to_start(
    make_app: MakeApp, tmp_path: Path
) -> None:
    shared = resolved_database_url(tmp_path)  # one database, whichever the pass runs on
    await make_app(database_url=shared)  # its key is generated into its own data dir
    # Another data dir, so another generated key: refused, however it was given.
    with pytest.raises(ServerKeyMismatch, match="every replica must share one key"):
        await make_app(database_url=shared)
    with pytest.raises(ServerKeyMismatch, match="Set ESS_SECRET_KEY"):
        await make_app(database_url=shared, secret_key=KEY)


async def test_replicas_sharing_the_key_start_and_derive_alike(
    make_app: MakeApp, tmp_path: Path
) -> None:
    shared = resolved_database_url(tmp_path)
    first = await make_app(database_url=shared, secret_key=KEY)
    second = await make_app(database_url=shared, secret_key=KEY)
    assert first.runtime.secrets.elastic_password("c1") == second.runtime.secrets.elastic_password(
        "c1"
    )
