"""Reading a cluster's CA certificate back from its TLS Secret, for its tenant: the CA
is generated at random with the Secret (``app.kube.certificates``), so the Secret is
the one place it is kept."""

from __future__ import annotations

import base64
import binascii

from app.kube.client import KubeClient
from app.kube.errors import KubeError
from app.kube.names import TLS_SECRET_NAME
from app.kube.tls import HTTP_CA_FILE

__all__ = ["read_cluster_ca"]


async def read_cluster_ca(kube: KubeClient, *, namespace: str, timeout: float) -> str | None:
    """The PEM of the CA that signed the cluster's HTTP certificate (the cluster's CA,
    see ``HTTP_CA_FILE``); None while there is
    none to read (the Secret not made yet) or Kubernetes does not answer in ``timeout``
    (one attempt: a user is waiting)."""
    try:
        secret = await kube.call_once(
            kube.core.read_namespaced_secret,
            name=TLS_SECRET_NAME,
            namespace=namespace,
            timeout=timeout,
        )
    except KubeError:
        return None
    encoded = (secret.data or {}).get(HTTP_CA_FILE)
    if not encoded:
        return None
    try:
        return base64.b64decode(encoded, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):  # edited by hand into something else
        return None
