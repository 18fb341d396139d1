"""A cluster's connection details: where and as whom its tenant reaches Elasticsearch,
and the CA certificate that verifies the cluster's HTTPS certificate. Served alike by
GraphQL (``TenantContainer.connection``) and REST (``GET /clusters/{ns}/connection``);
who may read them is ``Principal.require_connection_reader``'s to decide."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.kube.client import KubeClient
from app.kube.cluster_ca import read_cluster_ca
from app.kube.manifests import ELASTIC_USERNAME, client_endpoint
from app.secrets import SecretDeriver
from app.store.tables import TenantContainerRow

__all__ = ["CA_READ_SECONDS", "ConnectionDetails", "connection_details"]

# How long a request waits for Kubernetes to hand over the CA certificate.
CA_READ_SECONDS = 5.0


@dataclass(frozen=True)
class ConnectionDetails:
    endpoint: str
    username: str
    password: str = field(repr=False)
    ca_certificate: str | None  # None while the cluster's certificates cannot be read


async def connection_details(
    *, kube: KubeClient, secrets: SecretDeriver, container: TenantContainerRow
) -> ConnectionDetails:
    """The details of ``container``'s cluster, with the password of its current
    credentials generation."""
    return ConnectionDetails(
        endpoint=client_endpoint(container.namespace),
        username=ELASTIC_USERNAME,
        password=secrets.elastic_password(container.id, container.credentials_generation),
        ca_certificate=await read_cluster_ca(
            kube, namespace=container.namespace, timeout=CA_READ_SECONDS
        ),
    )
