"""Small factories: the body of a create request, and a validated request for tests
that work below the API (in process, on a real database)."""

from __future__ import annotations

from typing import Any

from app.models.cluster import ClusterShape
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


# The specification's example cluster (section 4), as the manifests take it.
SPEC_EXAMPLE = ClusterShape(
    namespace="org-001-alice-vector-search",
    tenant_org_id="org-001",
    user="alice",
    service_name="vector-search",
    replicas=2,
    cpu_request="1",
    cpu_limit="4",
    mem_request="2Gi",
    mem_limit="8Gi",
    disk_size="50Gi",
    gpu_count=1,
    dimension=512,
    vector_count=1000000,
    index_limit=10,
    gitlab_url=None,
)
