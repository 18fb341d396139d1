"""Small factories: the body of a create request, and a validated request for tests
that work below the API (in process, on a real database)."""

from __future__ import annotations

from typing import Any

from app.tenancy.naming import ReservedNamespaces
from app.tenancy.requests import ClusterRequest, parse_create_request

# What a server on its default settings reserves.
DEFAULT_RESERVED = ReservedNamespaces.of(platform_namespace="es-serverless")


def cluster_body(tenant_org_id: str, user: str, service_name: str, **fields: Any) -> dict[str, Any]:
    """The JSON body of ``POST /clusters``."""
    return {"tenant_org_id": tenant_org_id, "user": user, "service_name": service_name, **fields}


def cluster_request(
    tenant_org_id: str, user: str, service_name: str, **fields: Any
) -> ClusterRequest:
    """A validated create request, as the platform admin would make it."""
    return parse_create_request(
        cluster_body(tenant_org_id, user, service_name, **fields),
        reserved=DEFAULT_RESERVED,
        org_prefixed=False,
    )
