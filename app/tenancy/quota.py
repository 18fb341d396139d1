"""The quota check of the create flow (spec section 4, step 2).

Today no limits are configured, so every request passes. The quota issue fills this
in: it will count the organisation's, user's and service's current usage in the same
transaction that records the new cluster, and raise ``QuotaExceeded``.
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from app.tenancy.requests import ClusterRequest


async def check_quota(*, session: AsyncSession, request: ClusterRequest) -> None:
    del session, request  # no limits configured yet
