"""From an ``Authorization`` header to a Principal, and whether a Principal is still
valid later on (a WebSocket outlives the request that authenticated it)."""

from __future__ import annotations

import hmac
from collections.abc import Collection
from dataclasses import dataclass

from app.access.keys import authenticate_key, live_key_ids
from app.access.principals import Principal
from app.secrets import REPORT_TOKEN_PREFIX, SecretDeriver
from app.store.db import SessionFactory


@dataclass(frozen=True)
class Authenticator:
    sessions: SessionFactory
    admin_token: str
    secrets: SecretDeriver
    enabled: bool = True

    async def authenticate(self, authorization: str | None) -> Principal | None:
        """The caller, or None when the header is missing, malformed or not a live
        token. With auth disabled everyone is the admin."""
        if not self.enabled:
            return Principal.admin()
        token = bearer_token(authorization)
        if token is None:
            return None
        if hmac.compare_digest(token.encode(), self.admin_token.encode()):
            return Principal.admin()
        if token.startswith(REPORT_TOKEN_PREFIX):
            # Verified offline: the token names its deployment and carries its MAC.
            deployment_id = self.secrets.report_token_deployment(token)
            return Principal.reporter(deployment_id=deployment_id) if deployment_id else None
        return await authenticate_key(sessions=self.sessions, token=token)

    async def still_valid(self, principal: Principal) -> bool:
        """Whether a caller authenticated earlier may still act. Only API keys can be
        revoked while the server runs; the admin token and the server key (which
        report tokens are checked with) are fixed for the process's life."""
        if principal.key_id is None:
            return True
        return bool(await self.live_keys([principal.key_id]))

    async def live_keys(self, key_ids: Collection[str]) -> set[str]:
        """Which of these API keys are still live: one query for all of them."""
        return await live_key_ids(sessions=self.sessions, key_ids=key_ids)


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    # Every token this server issues is ASCII; anything else cannot match one.
    return token if scheme.lower() == "bearer" and token and token.isascii() else None
