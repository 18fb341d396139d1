"""Organisation API keys: created by the admin, the secret shown once and kept only as
a SHA-256 hash (the secret is 256 random bits, so a plain hash is enough), listed
without secrets, revoked, and their last use remembered."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from pydantic import BaseModel, Field
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.access.principals import Principal
from app.models.fields import OPTIONAL_NAME_SCHEMA
from app.models.names import NAME_SCHEMA
from app.models.rules import Described
from app.store.db import SessionFactory, session_scope
from app.store.tables import ApiKeyRow, utcnow
from app.tenancy.errors import InvalidInput, NotFound
from app.tenancy.naming import check_name

KEY_PREFIX = "ess_"
MAX_KEY_NAME = 200
# last_used_at is written at most this often per key: not one write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiKeyRequest(BaseModel):
    """What an API key is issued for (POST /api-keys, createApiKey); describes the
    request for the API's description, which create_api_key checks."""

    tenant_org_id: Annotated[str, Described(NAME_SCHEMA)] = Field(
        description="The organisation the key acts in"
    )
    user: Annotated[str | None, Described(OPTIONAL_NAME_SCHEMA)] = Field(
        default=None,
        description="The one user the key acts for; absent, empty or null: every user of "
        "the organisation",
    )
    name: str = Field(
        min_length=1,
        max_length=MAX_KEY_NAME,
        description="What the key is for (surrounding blanks are dropped)",
    )


@dataclass(frozen=True)
class IssuedKey:
    row: ApiKeyRow
    token: str  # shown once, never stored


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _split(token: str) -> tuple[str, str] | None:
    """``ess_<id>_<secret>`` into its id and secret."""
    if not token.startswith(KEY_PREFIX):
        return None
    key_id, _, secret = token[len(KEY_PREFIX) :].partition("_")
    return (key_id, secret) if key_id and secret else None


async def create_api_key(
    *, sessions: SessionFactory, tenant_org_id: str, user: str | None, name: str
) -> IssuedKey:
    check_name("tenant_org_id", tenant_org_id)
    if user is not None:
        check_name("user", user)
    name = name.strip()
    if not name or len(name) > MAX_KEY_NAME:
        raise InvalidInput(f"name is required, at most {MAX_KEY_NAME} characters")
    key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    row = ApiKeyRow(
        id=key_id,
        tenant_org_id=tenant_org_id,
        user=user,
        name=name,
        secret_sha256=_hash(secret),
        created_at=utcnow(),
    )
    async with session_scope(sessions) as session:
        session.add(row)
    return IssuedKey(row=row, token=f"{KEY_PREFIX}{key_id}_{secret}")


async def list_api_keys(
    *, session: AsyncSession, tenant_org_id: str | None = None
) -> Sequence[ApiKeyRow]:
    statement = select(ApiKeyRow).order_by(col(ApiKeyRow.created_at), col(ApiKeyRow.id))
    if tenant_org_id is not None:
        statement = statement.where(ApiKeyRow.tenant_org_id == tenant_org_id)
    return (await session.exec(statement)).all()


async def revoke_api_key(*, sessions: SessionFactory, key_id: str) -> ApiKeyRow:
    """Revoke the key; revoking a revoked key is not an error."""
    async with session_scope(sessions) as session:
        row = await session.get(ApiKeyRow, key_id)
        if row is None:
            raise NotFound(f'no API key "{key_id}"')
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            session.add(row)
        return row


async def authenticate_key(*, sessions: SessionFactory, token: str) -> Principal | None:
    parts = _split(token)
    if parts is None:
        return None
    key_id, secret = parts
    async with sessions() as session:
        row = await session.get(ApiKeyRow, key_id)
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.secret_sha256, _hash(secret)):
        return None
    await _touch(sessions=sessions, row=row)
    return Principal.api_key(key_id=row.id, tenant_org_id=row.tenant_org_id, user=row.user)


async def live_key_ids(*, sessions: SessionFactory, key_ids: Collection[str]) -> set[str]:
    """Which of ``key_ids`` name keys that exist and are not revoked (one query)."""
    if not key_ids:
        return set()
    statement = select(ApiKeyRow.id).where(
        col(ApiKeyRow.id).in_(sorted(set(key_ids))), col(ApiKeyRow.revoked_at).is_(None)
    )
    async with sessions() as session:
        return set((await session.exec(statement)).all())


async def _touch(*, sessions: SessionFactory, row: ApiKeyRow) -> None:
    now = utcnow()
    last = row.last_used_at
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=now.tzinfo)
    if last is not None and now - last < LAST_USED_RESOLUTION:
        return
    async with session_scope(sessions) as session:
        fresh = await session.get(ApiKeyRow, row.id)
        if fresh is not None:
            fresh.last_used_at = now
            session.add(fresh)
