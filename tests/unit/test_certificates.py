import asyncio
import dataclasses
import datetime
import ipaddress
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from app.kube.certificates import (
    generate_http_tls,
    generate_transport_tls,
    http_dns_names,
    transport_dns_names,
)
from app.kube.manifests import transport_tls_secret_manifest
from app.kube.tls import TlsBundle
from tests.support.factories import SPEC_EXAMPLE

NAMESPACE = "org-001-alice-vector-search"


@pytest.fixture(scope="module")
def bundle() -> TlsBundle:
    return generate_transport_tls(namespace=NAMESPACE)


@pytest.fixture(scope="module")
def ca(bundle: TlsBundle) -> x509.Certificate:
    return x509.load_pem_x509_certificate(bundle.ca_crt.encode())


@pytest.fixture(scope="module")
def node(bundle: TlsBundle) -> x509.Certificate:
    return x509.load_pem_x509_certificate(bundle.tls_crt.encode())


def verify_signature(cert: x509.Certificate, issuer: x509.Certificate) -> None:
    """Check ``cert``'s signature with ``issuer``'s public key (raises InvalidSignature)."""
    public_key = issuer.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    assert cert.signature_hash_algorithm is not None
    public_key.verify(
        cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm)
    )


def wildcard_match(pattern: str, host: str) -> bool:
    """RFC 6125 matching: a leading ``*`` stands for exactly one DNS label."""
    if pattern.startswith("*."):
        label, _, rest = host.partition(".")
        return bool(label) and rest == pattern[2:]
    return pattern == host


def test_pem_shapes(bundle: TlsBundle) -> None:
    assert bundle.ca_crt.startswith("-----BEGIN CERTIFICATE-----\n")
    assert bundle.tls_crt.startswith("-----BEGIN CERTIFICATE-----\n")
    # Elasticsearch wants PKCS#8, not "BEGIN RSA PRIVATE KEY" (PKCS#1) or an encrypted key
    assert bundle.tls_key.startswith("-----BEGIN PRIVATE KEY-----\n")
    assert bundle.tls_key.rstrip().endswith("-----END PRIVATE KEY-----")


def test_ca_is_a_self_signed_ca_for_this_namespace(ca: x509.Certificate) -> None:
    assert ca.issuer == ca.subject
    verify_signature(ca, ca)
    constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical
    assert constraints.value.ca is True
    assert constraints.value.path_length == 0
    usage = ca.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign
    assert usage.crl_sign
    (cn,) = ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    assert cn.value == "es-serverless transport CA"
    (ou,) = ca.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    assert ou.value == NAMESPACE


def test_node_certificate_is_signed_by_the_ca(ca: x509.Certificate, node: x509.Certificate) -> None:
    assert node.issuer == ca.subject
    verify_signature(node, ca)
    node.verify_directly_issued_by(ca)
    aki = node.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest


def test_node_certificate_does_not_verify_against_another_clusters_ca(
    node: x509.Certificate,
) -> None:
    other = generate_transport_tls(namespace=NAMESPACE)
    other_ca = x509.load_pem_x509_certificate(other.ca_crt.encode())
    with pytest.raises(InvalidSignature):
        verify_signature(node, other_ca)


def test_node_certificate_names(node: x509.Certificate) -> None:
    sans = node.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(sans.get_values_for_type(x509.DNSName)) == {
        f"*.elasticsearch-headless.{NAMESPACE}.svc",
        f"*.elasticsearch-headless.{NAMESPACE}.svc.cluster.local",
        f"elasticsearch-headless.{NAMESPACE}.svc",
        "localhost",
    }
    assert sans.get_values_for_type(x509.IPAddress) == [ipaddress.IPv4Address("127.0.0.1")]
    assert set(transport_dns_names(NAMESPACE)) == set(sans.get_values_for_type(x509.DNSName))


@pytest.mark.parametrize("ordinal", [0, 1, 999])
def test_node_certificate_covers_every_pod(node: x509.Certificate, ordinal: int) -> None:
    sans = node.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    names = sans.get_values_for_type(x509.DNSName)
    pod = f"elasticsearch-{ordinal}.elasticsearch-headless.{NAMESPACE}.svc"
    assert any(wildcard_match(name, pod) for name in names)
    assert any(wildcard_match(name, pod + ".cluster.local") for name in names)
    assert not any(wildcard_match(name, pod.replace(NAMESPACE, "org-002-x-y")) for name in names)


def test_node_certificate_usages(node: x509.Certificate) -> None:
    constraints = node.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert constraints.ca is False
    usage = node.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical
    assert usage.value.digital_signature
    assert not usage.value.key_encipherment  # an ECDSA key only signs
    assert not usage.value.key_cert_sign
    eku = node.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(eku) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}


@pytest.fixture(scope="module")
def http(bundle: TlsBundle) -> x509.Certificate:
    return x509.load_pem_x509_certificate(bundle.http_crt.encode())


def test_http_certificate_is_signed_by_the_same_ca(
    ca: x509.Certificate, http: x509.Certificate, node: x509.Certificate
) -> None:
    assert http.issuer == ca.subject == node.issuer
    http.verify_directly_issued_by(ca)
    aki = http.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == ca.extensions.get_extension_for_class(
        x509.SubjectKeyIdentifier
    ).value.digest
    assert http.serial_number != node.serial_number
    assert http.public_key().public_numbers() != node.public_key().public_numbers()


def test_http_certificate_names_both_services_in_every_form(http: x509.Certificate) -> None:
    sans = http.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    names = set(sans.get_values_for_type(x509.DNSName))
    for service in ("elasticsearch", "elasticsearch-headless"):
        assert {
            service,
            f"{service}.{NAMESPACE}",
            f"{service}.{NAMESPACE}.svc",
            f"{service}.{NAMESPACE}.svc.cluster.local",
        } <= names
    pod = f"elasticsearch-2.elasticsearch-headless.{NAMESPACE}.svc"
    assert any(wildcard_match(name, pod) for name in names)
    assert "localhost" in names
    assert names == set(http_dns_names(NAMESPACE))
    # the node's own readiness probe connects to the loopback address
    assert sans.get_values_for_type(x509.IPAddress) == [ipaddress.IPv4Address("127.0.0.1")]


def test_http_certificate_only_serves(http: x509.Certificate) -> None:
    assert http.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    eku = http.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]


@pytest.mark.parametrize(
    "host", [f"elasticsearch.{NAMESPACE}.svc", f"elasticsearch-headless.{NAMESPACE}", "127.0.0.1"]
)
async def test_a_tls_client_trusting_the_ca_accepts_the_http_certificate(
    bundle: TlsBundle, tmp_path: Path, host: str
) -> None:
    # A real handshake (Python's OpenSSL), checking chain and host name as clients do.
    certificate, key = tmp_path / "http.crt", tmp_path / "http.key"
    certificate.write_text(bundle.http_crt)
    key.write_text(bundle.http_key)
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(certificate, key)

    async def answer(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"ok")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=served)
    port = server.sockets[0].getsockname()[1]
    async with server:
        trusting = ssl.create_default_context(cadata=bundle.ca_crt)
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=trusting, server_hostname=host
        )
        assert await reader.read() == b"ok"
        writer.close()
        other = ssl.create_default_context(cadata=generate_transport_tls(namespace=NAMESPACE).ca_crt)
        with pytest.raises(ssl.SSLCertVerificationError):
            await asyncio.open_connection("127.0.0.1", port, ssl=other, server_hostname=host)


def test_key_is_unencrypted_pkcs8_and_matches_the_certificate(
    bundle: TlsBundle, node: x509.Certificate
) -> None:
    key = serialization.load_pem_private_key(bundle.tls_key.encode(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert key.curve.name == "secp256r1"
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    assert key.public_key().public_bytes(
        serialization.Encoding.DER, public
    ) == node.public_key().public_bytes(serialization.Encoding.DER, public)


@pytest.mark.parametrize("valid_days", [1, 30, 3650])
def test_validity_is_about_valid_days(valid_days: int) -> None:
    before = datetime.datetime.now(datetime.UTC)
    tls = generate_transport_tls(namespace=NAMESPACE, valid_days=valid_days)
    after = datetime.datetime.now(datetime.UTC)
    for pem in (tls.ca_crt, tls.tls_crt):
        cert = x509.load_pem_x509_certificate(pem.encode())
        # valid now (slightly backdated against clock skew) ...
        assert cert.not_valid_before_utc <= before
        assert before - cert.not_valid_before_utc <= datetime.timedelta(minutes=10)
        # ... until valid_days from now
        expected = datetime.timedelta(days=valid_days)
        assert before + expected - datetime.timedelta(seconds=1) <= cert.not_valid_after_utc
        assert cert.not_valid_after_utc <= after + expected


def test_default_validity_is_ten_years(node: x509.Certificate) -> None:
    lifetime = node.not_valid_after_utc - node.not_valid_before_utc
    assert abs(lifetime - datetime.timedelta(days=3650)) < datetime.timedelta(hours=1)


def test_every_bundle_is_new(bundle: TlsBundle) -> None:
    # why the caller creates the TLS Secret only once: a second call is a different CA
    other = generate_transport_tls(namespace=NAMESPACE)
    assert other.ca_crt != bundle.ca_crt
    assert other.tls_key != bundle.tls_key


def test_longest_namespace_fits() -> None:
    # X.509 caps a CN at 64 characters; a 63-character namespace must still work
    namespace = "n" * 63
    tls = generate_transport_tls(namespace=namespace, valid_days=1)
    cert = x509.load_pem_x509_certificate(tls.tls_crt.encode())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert f"elasticsearch-headless.{namespace}.svc" in sans.get_values_for_type(x509.DNSName)


@pytest.mark.parametrize("namespace", ["", "Org-001", "a.b", "-a", "a" * 64])
def test_invalid_namespace_is_refused(namespace: str) -> None:
    with pytest.raises(ValueError, match="DNS-1123"):
        generate_transport_tls(namespace=namespace)


@pytest.mark.parametrize("valid_days", [0, -1])
def test_non_positive_validity_is_refused(valid_days: int) -> None:
    with pytest.raises(ValueError, match="valid_days"):
        generate_transport_tls(namespace=NAMESPACE, valid_days=valid_days)


def test_bundle_is_frozen_and_hides_the_key(bundle: TlsBundle) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        bundle.tls_key = "x"  # type: ignore[misc]
    assert bundle.tls_key not in repr(bundle)
    assert "PRIVATE KEY" not in repr(bundle)


def test_secret_carries_the_bundle(bundle: TlsBundle) -> None:
    shape = SPEC_EXAMPLE.model_copy(
        update={
            "namespace": NAMESPACE,
            "replicas": 3,
            "cpu_limit": "2",
            "mem_limit": "2Gi",
            "disk_size": "10Gi",
            "gpu_count": 0,
            "dimension": 128,
            "vector_count": 0,
            "index_limit": 1,
        }
    )
    secret = transport_tls_secret_manifest(shape, tls=bundle)
    assert secret["metadata"]["namespace"] == NAMESPACE
    assert secret["stringData"] == {
        "ca.crt": bundle.ca_crt,
        "tls.crt": bundle.tls_crt,
        "tls.key": bundle.tls_key,
        "http-ca.crt": bundle.ca_crt,
        "http.crt": bundle.http_crt,
        "http.key": bundle.http_key,
    }


def test_an_http_certificate_alone_comes_with_a_ca_of_its_own() -> None:
    # For a Secret made before HTTPS, whose CA can sign nothing more.
    alone = generate_http_tls(namespace=NAMESPACE)
    ca = x509.load_pem_x509_certificate(alone.ca_crt.encode())
    http = x509.load_pem_x509_certificate(alone.http_crt.encode())
    http.verify_directly_issued_by(ca)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    sans = http.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(sans.get_values_for_type(x509.DNSName)) == set(http_dns_names(NAMESPACE))
    assert set(alone.secret_data()) == {"http-ca.crt", "http.crt", "http.key"}
    assert alone.http_key not in repr(alone)
