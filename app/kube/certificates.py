"""Certificates for Elasticsearch's transport layer (node-to-node traffic on port 9300)
and its HTTP layer (clients, on port 9200).

Elasticsearch 8 and later refuse to form a multi-node cluster with security enabled
unless the transport layer uses TLS. ECK, Elastic's operator, solves this the same way
this module does: every cluster gets its own self-signed certificate authority, nodes
present a certificate issued by it, and ``verification_mode: certificate`` makes a node
accept a peer only if that peer's certificate chains to the cluster's own CA. Because the
CA is unique to the tenant, a node of another tenant's cluster (signed by another CA)
can never join this one.

One node certificate serves every pod of the StatefulSet: its SANs are wildcards over
the headless Service, so pods added by a scale-up use it unchanged. The CA's private key
is therefore not needed after issuing and is discarded: nothing can sign a second
certificate for this CA, which is exactly what we want. The HTTP certificate is
issued in the same breath, by the same CA, for both Services' names: a tenant verifies
the cluster with the one CA certificate its ``connection`` details hand out.

The bundle is random (fresh keys, serials and dates on every call), so it is not a
pure function of the cluster: build it once per cluster and never re-apply it.

Keys are ECDSA on P-256 (``secp256r1``), which Elasticsearch's TLS (JSSE) accepts for
transport and HTTP alike and which is as strong as RSA-3072: a bundle of three keys
and certificates costs under a millisecond of CPU (0.8 ms measured on a busy machine),
where three RSA-2048 keys cost 60-600 ms, on the event loop that answers every request.
"""

from __future__ import annotations

import datetime
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from app.kube.names import CLIENT_SERVICE_NAME, HEADLESS_SERVICE_NAME
from app.kube.tls import HttpTls, TlsBundle
from app.models.names import is_dns1123_label

__all__ = [
    "generate_http_tls",
    "generate_transport_tls",
    "http_dns_names",
    "transport_dns_names",
]

# NIST P-256: the curve every JVM and TLS stack supports (TLS 1.2 and 1.3).
_CURVE = ec.SECP256R1()
# Tolerate nodes whose clocks run slightly behind the control plane's: a certificate
# that is "not yet valid" would stop the cluster from forming.
_BACKDATE = datetime.timedelta(minutes=5)
# A CA as its certificates' issuer: its name, private key and subject key identifier.
_Issuer = tuple[x509.Name, ec.EllipticCurvePrivateKey, x509.SubjectKeyIdentifier]
_Validity = tuple[datetime.datetime, datetime.datetime]  # not before, not after


def transport_dns_names(namespace: str) -> list[str]:
    """The DNS names the node certificate covers: every pod behind the headless Service."""
    service = f"{HEADLESS_SERVICE_NAME}.{namespace}.svc"
    return [
        f"*.{service}",  # elasticsearch-<n>.elasticsearch-headless.<ns>.svc
        f"*.{service}.cluster.local",
        service,
        "localhost",
    ]


def http_dns_names(namespace: str) -> list[str]:
    """The DNS names the HTTP certificate covers: both Services in every form a client
    in the cluster may use (short, namespace-qualified, ``.svc``, ``.svc.cluster.local``)
    and every pod behind the headless Service."""
    names = []
    for service in (CLIENT_SERVICE_NAME, HEADLESS_SERVICE_NAME):
        qualified = f"{service}.{namespace}"
        names += [service, qualified, f"{qualified}.svc", f"{qualified}.svc.cluster.local"]
    return [*names, *transport_dns_names(namespace)[:2], "localhost"]


def _name(namespace: str, common_name: str) -> x509.Name:
    # X.509 limits a CN to 64 characters and a namespace may have 63, so the namespace
    # goes into its own attribute instead of being appended to the CN.
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "es-serverless"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, namespace),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(_CURVE)


def _pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


def generate_transport_tls(*, namespace: str, valid_days: int = 3650) -> TlsBundle:
    """A fresh CA and the node and HTTP certificates it signed, for the cluster in
    ``namespace``.

    Raises ``ValueError`` when ``namespace`` is not a DNS-1123 label (it becomes part
    of the certificate's DNS names) or ``valid_days`` is not positive.
    """
    validity = _validity(namespace, valid_days)
    ca_cert, issuer = _new_ca(namespace, "es-serverless transport CA", validity)
    node_key, node_cert = _leaf(
        namespace=namespace,
        common_name=HEADLESS_SERVICE_NAME,
        names=transport_dns_names(namespace),
        # A transport connection is mutual TLS: each node is the server of the
        # connections it accepts and the client of those it opens, so it needs both.
        usages=[ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH],
        issuer=issuer,
        validity=validity,
    )
    http = _http_tls(namespace, ca_cert, issuer, validity)
    return TlsBundle(
        ca_crt=_pem(ca_cert),
        tls_crt=_pem(node_cert),
        tls_key=_key_pem(node_key),
        http_crt=http.http_crt,
        http_key=http.http_key,
    )


def generate_http_tls(*, namespace: str, valid_days: int = 3650) -> HttpTls:
    """An HTTP certificate for a cluster whose TLS Secret was made before HTTPS: its
    transport CA's key is gone, so a CA of its own (for HTTP only) signs it. Raises as
    ``generate_transport_tls``."""
    validity = _validity(namespace, valid_days)
    ca_cert, issuer = _new_ca(namespace, "es-serverless HTTP CA", validity)
    return _http_tls(namespace, ca_cert, issuer, validity)


def _http_tls(
    namespace: str, ca_cert: x509.Certificate, issuer: _Issuer, validity: _Validity
) -> HttpTls:
    # HTTPS only serves: clients present passwords, not certificates.
    key, certificate = _leaf(
        namespace=namespace,
        common_name=CLIENT_SERVICE_NAME,
        names=http_dns_names(namespace),
        usages=[ExtendedKeyUsageOID.SERVER_AUTH],
        issuer=issuer,
        validity=validity,
    )
    return HttpTls(ca_crt=_pem(ca_cert), http_crt=_pem(certificate), http_key=_key_pem(key))


def _validity(namespace: str, valid_days: int) -> _Validity:
    if not is_dns1123_label(namespace):
        raise ValueError(f"namespace must be a DNS-1123 label, got {namespace!r}")
    if valid_days < 1:
        raise ValueError(f"valid_days must be at least 1, got {valid_days}")
    now = datetime.datetime.now(datetime.UTC)
    return now - _BACKDATE, now + datetime.timedelta(days=valid_days)


def _new_ca(
    namespace: str, common_name: str, validity: _Validity
) -> tuple[x509.Certificate, _Issuer]:
    """A self-signed CA; its key is handed back only to sign this bundle's certificates."""
    ca_key = _new_key()
    ca_name = _name(namespace, common_name)
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        # path_length=0: this CA signs node certificates only, never another CA.
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return ca_cert, (ca_name, ca_key, ca_ski)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    # Elasticsearch reads PEM keys only as PKCS#8 ("BEGIN PRIVATE KEY") or the legacy
    # PKCS#1 form; PKCS#8 is the one it documents. Unencrypted, as Kubernetes Secrets
    # are the protection here (Elasticsearch would need the passphrase in its keystore).
    return key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    ).decode("ascii")


def _leaf(
    *,
    namespace: str,
    common_name: str,
    names: list[str],
    usages: list[x509.ObjectIdentifier],
    issuer: _Issuer,
    validity: _Validity,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A fresh key and its certificate, signed by the CA ``issuer``, for ``names`` and
    the loopback address (where the node's own readiness probe connects)."""
    issuer_name, issuer_key, issuer_ski = issuer
    key = _new_key()
    certificate = (
        x509.CertificateBuilder()
        # TLS clients match host names against the SANs and ignore the CN when there
        # are SANs, so the CN only needs to be a readable label.
        .subject_name(_name(namespace, common_name))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(name) for name in names]
                + [x509.IPAddress(ipaddress.IPv4Address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(
            x509.KeyUsage(
                # An ECDSA key signs the (EC)DHE handshake; it never encrypts a key.
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski),
            critical=False,
        )
        .sign(issuer_key, hashes.SHA256())
    )
    return key, certificate
