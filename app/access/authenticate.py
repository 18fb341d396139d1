"""From an ``Authorization`` header to a Principal."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from app.access.keys import authenticate_key
from app.access.principals import Principal, Role
from app.secrets import REPORT_TOKEN_PREFIX
from app.store.db import SessionFactory


@dataclass(frozen=True)
class Authenticator:
    sessions: SessionFactory
    admin_token: str
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
            # Which deployment it belongs to is checked against the namespace reported on.
            return Principal(Role.REPORTER, "reporter", token=token)
        return await authenticate_key(sessions=self.sessions, token=token)


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None
