"""What a cluster's TLS Secret holds: the bundle of PEM texts (transport and HTTP) and
the keys they are stored under.

Shared by the certificate generator (``app.kube.certificates`` fills a bundle) and the
manifest builders (``app.kube.manifests`` puts it into the Secret and points
Elasticsearch at its files), so that neither of those imports the other: the pure
builders need no cryptography, and the generator no manifests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "CA_FILE",
    "CERT_FILE",
    "HTTP_CA_FILE",
    "HTTP_CERT_FILE",
    "HTTP_KEY_FILE",
    "KEY_FILE",
    "HttpTls",
    "TlsBundle",
]

# The key names of a ``kubernetes.io/tls`` Secret plus ``ca.crt`` (the layout
# cert-manager writes, so tools that know it can read them); where the Secret is
# mounted as a volume they are the file names.
CA_FILE = "ca.crt"
CERT_FILE = "tls.crt"
KEY_FILE = "tls.key"
# The HTTP layer's certificate and key, beside the transport's in the same Secret.
HTTP_CERT_FILE = "http.crt"
HTTP_KEY_FILE = "http.key"
# The CA that signed the HTTP certificate, what tenants verify the cluster with: the
# cluster's CA itself (the same PEM as ca.crt), except in a Secret made before HTTPS,
# whose CA can sign nothing more, where a CA of the HTTP certificate's own.
HTTP_CA_FILE = "http-ca.crt"


@dataclass(frozen=True)
class TlsBundle:
    """PEM texts for one cluster's TLS: the CA certificate, the transport (node)
    certificate and key, the HTTP certificate and key (both issued by that CA)."""

    ca_crt: str
    tls_crt: str
    tls_key: str = field(repr=False)  # keep the private keys out of logs and tracebacks
    http_crt: str
    http_key: str = field(repr=False)

    def secret_data(self) -> dict[str, str]:
        """The bundle under the Secret's keys."""
        return {
            CA_FILE: self.ca_crt,
            CERT_FILE: self.tls_crt,
            KEY_FILE: self.tls_key,
            HTTP_CA_FILE: self.ca_crt,
            HTTP_CERT_FILE: self.http_crt,
            HTTP_KEY_FILE: self.http_key,
        }


@dataclass(frozen=True)
class HttpTls:
    """PEM texts of HTTPS alone: the CA, the HTTP certificate it signed and its key."""

    ca_crt: str
    http_crt: str
    http_key: str = field(repr=False)

    def secret_data(self) -> dict[str, str]:
        """The keys it adds to a TLS Secret (the transport's stay as they are)."""
        return {
            HTTP_CA_FILE: self.ca_crt,
            HTTP_CERT_FILE: self.http_crt,
            HTTP_KEY_FILE: self.http_key,
        }
