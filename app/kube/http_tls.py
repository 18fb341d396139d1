"""HTTPS for a cluster whose TLS Secret was made before HTTPS existed: the Secret has
no HTTP certificate, and its CA, whose key was discarded once the transport
certificate was signed, can sign none. Such a Secret gets the HTTP keys added (a
certificate signed by a CA of its own, ``http-ca.crt``), its transport keys kept, so
nodes restarting onto the HTTPS settings find their files and the running cluster's
transport trust is untouched."""

from __future__ import annotations

import base64

from app.kube.certificates import generate_http_tls
from app.kube.client import KubeClient
from app.kube.names import TLS_SECRET_NAME
from app.kube.tls import HTTP_CERT_FILE

__all__ = ["add_missing_http_certificate"]


async def add_missing_http_certificate(kube: KubeClient, *, namespace: str) -> bool:
    """Add the HTTP certificate to the cluster's TLS Secret unless it has one (replaced
    at the resourceVersion read, so a concurrent change is a 409, never overwritten).
    True when it was added."""
    secret = await kube.call_json(
        kube.core.read_namespaced_secret, name=TLS_SECRET_NAME, namespace=namespace
    )
    secret = secret or {}
    data = dict(secret.get("data") or {})
    if HTTP_CERT_FILE in data:
        return False
    added = generate_http_tls(namespace=namespace).secret_data()
    data.update({key: base64.b64encode(pem.encode()).decode("ascii") for key, pem in added.items()})
    await kube.call_json(
        kube.core.replace_namespaced_secret,
        name=TLS_SECRET_NAME,
        namespace=namespace,
        body={**secret, "data": data},
    )
    return True
