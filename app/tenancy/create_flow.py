"""The create flow of spec section 4, start to finish: validate, check the quota and
record (steps 1-4, before the API answers), then hand the cluster to the background
provisioner (steps 5-9)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.store.db import SessionFactory
from app.store.tables import TenantContainerRow
from app.tenancy import service
from app.tenancy.naming import IdSequence
from app.tenancy.provisioning import Provisioner
from app.tenancy.requests import parse_create_request


async def create_cluster(
    *,
    sessions: SessionFactory,
    ids: IdSequence,
    provisioner: Provisioner,
    payload: Mapping[str, Any],
) -> TenantContainerRow:
    request = parse_create_request(payload)
    container = await service.create_cluster(sessions=sessions, ids=ids, request=request)
    provisioner.submit(container.id)
    return container
