"""Every replica of the control plane must hold the same server key: the elastic
passwords and report tokens are derived from it, so a replica with another key would
hand out passwords that do not work and refuse genuine report tokens. The first replica
to start records the key's fingerprint in the database; a replica whose key does not
match it refuses to start."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from app.secrets import SecretDeriver
from app.store.db import SessionFactory, session_scope
from app.store.tables import PlatformFactRow, utcnow

KEY_FINGERPRINT = "server-key-fingerprint"


class ServerKeyMismatch(RuntimeError):
    """This replica's server key is not the one the database was set up with."""


async def agree_on_server_key(*, sessions: SessionFactory, secrets: SecretDeriver) -> None:
    fingerprint = secrets.fingerprint()
    for _ in range(2):
        async with sessions() as session:
            recorded = await session.get(PlatformFactRow, KEY_FINGERPRINT)
        if recorded is not None:
            if recorded.value != fingerprint:
                raise ServerKeyMismatch(
                    "this server's key (ESS_SECRET_KEY, or data/secret-key when unset) is "
                    "not the one the database was set up with: every replica must share "
                    "one key, or the passwords and report tokens it derives would not "
                    "match. Set ESS_SECRET_KEY to the key of the replicas already running."
                )
            return
        try:
            async with session_scope(sessions) as session:
                session.add(
                    PlatformFactRow(name=KEY_FINGERPRINT, value=fingerprint, recorded_at=utcnow())
                )
            return
        except IntegrityError:
            continue  # another replica recorded its key first: compare with that one
    raise ServerKeyMismatch("could not record the server key's fingerprint")  # pragma: no cover
