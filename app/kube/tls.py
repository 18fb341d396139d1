"""What a cluster's TLS Secret holds: the bundle of PEM texts (transport and HTTP) and
the keys they are stored under.

Shared by the certificate generator (``app.kube.certificates`` fills a bundle) and the
manifest builders (``app.kube.manifests`` puts it into the Secret and points
Elasticsearch at its files), so that neither of those imports the other: the pure
builders need no cryptography, and the generator no manifests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["CA_FILE", "CERT_FILE", "HTTP_CERT_FILE", "HTTP_KEY_FILE", "KEY_FILE", "TlsBundle"]

# The key names of a ``kubernetes.io/tls`` Secret plus ``ca.crt`` (the layout
# cert-manager writes, so tools that know it can read them); where the Secret is
# mounted as a volume they are the file names.
CA_FILE = "ca.crt"
CERT_FILE = "tls.crt"
KEY_FILE = "tls.key"
# The HTTP layer's certificate and key, beside the transport's in the same Secret.
HTTP_CERT_FILE = "http.crt"
HTTP_KEY_FILE = "http.key"


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
            HTTP_CERT_FILE: self.http_crt,
            HTTP_KEY_FILE: self.http_key,
        }
