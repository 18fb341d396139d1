"""What a cluster's transport TLS Secret holds: the bundle of PEM texts and the keys
they are stored under.

Shared by the certificate generator (``app.kube.certificates`` fills a bundle) and the
manifest builders (``app.kube.manifests`` puts it into the Secret and points
Elasticsearch at its files), so that neither of those imports the other: the pure
builders need no cryptography, and the generator no manifests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["CA_FILE", "CERT_FILE", "KEY_FILE", "TlsBundle"]

# The key names of a ``kubernetes.io/tls`` Secret plus ``ca.crt`` (the layout
# cert-manager writes, so tools that know it can read them); where the Secret is
# mounted as a volume they are the file names.
CA_FILE = "ca.crt"
CERT_FILE = "tls.crt"
KEY_FILE = "tls.key"


@dataclass(frozen=True)
class TlsBundle:
    """PEM texts for one cluster's transport TLS: CA certificate, node certificate, key."""

    ca_crt: str
    tls_crt: str
    tls_key: str = field(repr=False)  # keep the private key out of logs and tracebacks

    def secret_data(self) -> dict[str, str]:
        """The bundle under the Secret's keys."""
        return {CA_FILE: self.ca_crt, CERT_FILE: self.tls_crt, KEY_FILE: self.tls_key}
