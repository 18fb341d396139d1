"""HTTPS for tenant clusters and the reset of their credentials, end to end: servers in
subprocesses (real uvicorn) provisioning into the sandbox cluster.

What a tenant is handed must let it reach its cluster over HTTPS and trust it: the
nodes serve a certificate of the cluster's own CA for both Services' names, the
readiness probe speaks HTTPS, and the connection details (GraphQL and REST) carry an
https:// endpoint and that CA. A credentials reset makes a new `elastic` password,
re-applies the Secret and rolls the pods; the generation behind it is in the database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import yaml
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from tests.support.databases import ON_POSTGRESQL
from tests.support.http import create_and_wait, events, graphql, wait_for_status
from tests.support.servers import ServerProcess, StandaloneSandbox

CONNECTION = """query($org: String!, $user: String!, $service: String!) {
  tenantContainer(tenantOrgId: $org, user: $user, serviceName: $service) {
    connection { endpoint username password caCertificate } } }"""
RESET = "mutation($ns: String!) { resetClusterCredentials(namespace: $ns) { namespace status } }"
UPDATE = "mutation($ns: String!) { updateCluster(namespace: $ns, input: {}) { status } }"
TLS_SECRET = "elasticsearch-transport-tls"
CREDENTIALS = "elasticsearch-credentials"
GENERATION = "es-serverless.io/credentials-generation"


def org_token(admin: httpx.Client, org: str, user: str | None = None) -> str:
    response = admin.post("/api-keys", json={"tenant_org_id": org, "name": "k", "user": user})
    assert response.status_code == 201, response.text
    token: str = response.json()["secret"]
    return token


@pytest.fixture
def tenant(server: ServerProcess, client: httpx.Client, org: str) -> Iterator[httpx.Client]:
    """A client with an API key of ``org``, which owns a created cluster ``alice/search``."""
    create_and_wait(client, org, "alice", "search", replicas=2)
    with server.client(token=org_token(client, org)) as http:
        yield http


def namespace_of(org: str) -> str:
    return f"{org}-alice-search"


def rest_connection(http: httpx.Client, namespace: str) -> dict[str, Any]:
    response = http.get(f"/clusters/{namespace}/connection")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def graphql_connection(http: httpx.Client, org: str) -> dict[str, Any]:
    body = graphql(http, CONNECTION, {"org": org, "user": "alice", "service": "search"})
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]["tenantContainer"]["connection"]
    return found


def certificates(server: ServerProcess, namespace: str) -> tuple[x509.Certificate, ...]:
    """The cluster's CA, its HTTP certificate and its transport certificate."""
    secret = server.sandbox.secret(namespace, TLS_SECRET)
    return tuple(
        x509.load_pem_x509_certificate(secret[key].encode())
        for key in ("ca.crt", "http.crt", "tls.crt")
    )


def test_nodes_serve_https_with_a_certificate_of_the_clusters_ca(
    server: ServerProcess, tenant: httpx.Client, org: str
) -> None:
    namespace = namespace_of(org)
    config = server.sandbox.get(f"/api/v1/namespaces/{namespace}/configmaps/elasticsearch-config")
    settings = yaml.safe_load(config["data"]["elasticsearch.yml"])
    assert {k: v for k, v in settings.items() if k.startswith("xpack.security.http.")} == {
        "xpack.security.http.ssl.enabled": True,
        "xpack.security.http.ssl.key": "certs/http.key",
        "xpack.security.http.ssl.certificate": "certs/http.crt",
        "xpack.security.http.ssl.certificate_authorities": "certs/http-ca.crt",
    }

    ca, http, transport = certificates(server, namespace)
    secret = server.sandbox.secret(namespace, TLS_SECRET)
    assert secret["http-ca.crt"] == secret["ca.crt"]  # one CA for transport and HTTP
    assert http.issuer == ca.subject == transport.issuer  # the CA the transport uses
    http.verify_directly_issued_by(ca)  # raises unless the CA's key signed it
    sans = http.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    names = set(sans.get_values_for_type(x509.DNSName))
    for service in ("elasticsearch", "elasticsearch-headless"):
        for name in (service, f"{service}.{namespace}", f"{service}.{namespace}.svc"):
            assert name in names
        assert f"{service}.{namespace}.svc.cluster.local" in names
    eku = http.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in eku

    # The mounted Secret holds the files elasticsearch.yml names.
    sts = server.sandbox.statefulset(namespace)
    pod = sts["spec"]["template"]["spec"]
    [mount] = [m for m in pod["containers"][0]["volumeMounts"] if m["name"] == "transport-certs"]
    [volume] = [v for v in pod["volumes"] if v["name"] == "transport-certs"]
    assert volume["secret"]["secretName"] == TLS_SECRET
    assert mount["mountPath"] == "/usr/share/elasticsearch/config/certs"

    _, _, probe = pod["containers"][0]["readinessProbe"]["exec"]["command"]
    assert "'https://127.0.0.1:9200/" in probe
    assert "http://" not in probe
    assert "--cacert '/usr/share/elasticsearch/config/certs/http-ca.crt'" in probe


def test_connection_details_are_https_with_the_ca_in_graphql_and_rest(
    server: ServerProcess, tenant: httpx.Client, org: str
) -> None:
    namespace = namespace_of(org)
    secret = server.sandbox.secret(namespace, TLS_SECRET)
    password = server.sandbox.secret(namespace, CREDENTIALS)["password"]
    expected = {
        "endpoint": f"https://elasticsearch.{namespace}.svc:9200",
        "username": "elastic",
        "password": password,
    }
    rest = rest_connection(tenant, namespace)
    assert rest == {**expected, "ca_certificate": secret["ca.crt"]}
    assert graphql_connection(tenant, org) == {**expected, "caCertificate": secret["ca.crt"]}
    ca = x509.load_pem_x509_certificate(rest["ca_certificate"].encode())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True


def test_connection_details_are_refused_as_the_password_always_was(
    server: ServerProcess, client: httpx.Client, tenant: httpx.Client, org: str
) -> None:
    namespace = namespace_of(org)
    # The platform admin manages clusters but is not handed their credentials.
    response = client.get(f"/clusters/{namespace}/connection")
    assert response.status_code == 403
    message = "connection details are readable only with the organisation's keys"
    assert response.json() == {"error": message}
    body = graphql(client, CONNECTION, {"org": org, "user": "alice", "service": "search"})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["errors"][0]["message"] == message
    # Another organisation does not learn the cluster exists.
    with server.client(token=org_token(client, f"{org}-other")) as stranger:
        response = stranger.get(f"/clusters/{namespace}/connection")
        assert response.status_code == 404
        assert response.json() == {"error": f'no cluster in namespace "{namespace}"'}


def test_a_tls_secret_made_before_https_gets_an_http_certificate_on_the_next_apply(
    server: ServerProcess, client: httpx.Client, tenant: httpx.Client, org: str
) -> None:
    # What an earlier version left: the transport keys only.
    namespace = namespace_of(org)
    path = f"/api/v1/namespaces/{namespace}/secrets/{TLS_SECRET}"
    secret = server.sandbox.get(path)
    transport = {k: v for k, v in secret["data"].items() if k in ("ca.crt", "tls.crt", "tls.key")}
    legacy = {**secret, "data": transport}
    assert server.sandbox.request("PUT", path, json=legacy).status_code == 200
    assert rest_connection(tenant, namespace)["ca_certificate"] is None  # nothing to hand out

    assert client.patch(f"/clusters/{namespace}", json={}).status_code == 202  # a re-apply
    wait_for_status(
        client, user="alice", service_name="search", tenant_org_id=org, wanted={"created"}
    )
    after = server.sandbox.get(path)["data"]
    assert {k: after[k] for k in transport} == transport  # the transport's trust is kept
    keys = server.sandbox.secret(namespace, TLS_SECRET)
    http_ca = x509.load_pem_x509_certificate(keys["http-ca.crt"].encode())
    x509.load_pem_x509_certificate(keys["http.crt"].encode()).verify_directly_issued_by(http_ca)
    assert keys["http-ca.crt"] != keys["ca.crt"]  # the old CA could sign nothing more
    assert rest_connection(tenant, namespace)["ca_certificate"] == keys["http-ca.crt"]


def reset_rest(http: httpx.Client, namespace: str) -> httpx.Response:
    return http.post(f"/clusters/{namespace}/credentials/reset")


def test_a_reset_makes_a_new_password_and_rolls_it_out(
    server: ServerProcess, client: httpx.Client, tenant: httpx.Client, org: str
) -> None:
    namespace = namespace_of(org)
    first = rest_connection(tenant, namespace)["password"]
    template_before = server.sandbox.statefulset(namespace)["spec"]["template"]

    response = reset_rest(tenant, namespace)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "updating"
    # At once: the password the tenant is handed is the one being rolled out.
    second = rest_connection(tenant, namespace)["password"]
    assert second != first
    wait_for_status(
        tenant, user="alice", service_name="search", tenant_org_id=org, wanted={"created"}
    )
    assert server.sandbox.secret(namespace, CREDENTIALS)["password"] == second
    assert graphql_connection(tenant, org)["password"] == second
    # The rollout: the pod template changed (only by the generation), so every pod was
    # replaced by one carrying it, and the StatefulSet reports the new revision ready.
    sts = server.sandbox.statefulset(namespace)
    annotations = dict(sts["spec"]["template"]["metadata"]["annotations"])
    assert annotations.pop(GENERATION) == "1"
    assert annotations == template_before["metadata"]["annotations"]
    assert sts["status"]["currentRevision"] == sts["status"]["updateRevision"]
    pods = server.sandbox.get(f"/api/v1/namespaces/{namespace}/pods")["items"]
    assert [p["metadata"]["annotations"][GENERATION] for p in pods] == ["1", "1"]

    # Again, through GraphQL: yet another password.
    body = graphql(tenant, RESET, {"ns": namespace})
    assert body["data"]["resetClusterCredentials"] == {"namespace": namespace, "status": "updating"}
    wait_for_status(
        tenant, user="alice", service_name="search", tenant_org_id=org, wanted={"created"}
    )
    third = graphql_connection(tenant, org)["password"]
    assert third not in (first, second)
    assert server.sandbox.secret(namespace, CREDENTIALS)["password"] == third
    assert server.sandbox.statefulset(namespace)["spec"]["template"]["metadata"][
        "annotations"
    ][GENERATION] == "2"

    # Recorded transitions, and audited like every change.
    reasons = [e["reason"] for e in events(client, org, "alice", "search")]
    assert "credentials reset requested (generation 1)" in reasons
    assert "credentials reset requested (generation 2)" in reasons
    audit = client.get("/audit", params={"tenant_org_id": org}).json()
    resets = [e for e in audit if e["action"] == "resetClusterCredentials"]
    assert len(resets) == 2
    assert {e["outcome"] for e in resets} == {"ok"}


def test_a_reset_is_refused_to_others_exactly_as_an_update(
    server: ServerProcess, client: httpx.Client, tenant: httpx.Client, org: str
) -> None:
    namespace = namespace_of(org)
    password = rest_connection(tenant, namespace)["password"]
    with server.client(token=org_token(client, f"{org}-other")) as stranger:
        update = stranger.patch(f"/clusters/{namespace}", json={})
        reset = reset_rest(stranger, namespace)
        assert (reset.status_code, reset.json()) == (update.status_code, update.json())
        assert reset.status_code == 404
        refused = graphql(stranger, RESET, {"ns": namespace})
        refused_update = graphql(stranger, UPDATE, {"ns": namespace})
        assert refused["errors"][0]["extensions"] == refused_update["errors"][0]["extensions"]
        assert refused["errors"][0]["message"] == refused_update["errors"][0]["message"]
    # Another user's key in the same organisation is refused the same way.
    with server.client(token=org_token(client, org, user="bob")) as bob:
        update = bob.patch(f"/clusters/{namespace}", json={})
        reset = reset_rest(bob, namespace)
        assert (reset.status_code, reset.json()) == (update.status_code, update.json())
    # Nothing changed: same password, no transition.
    assert rest_connection(tenant, namespace)["password"] == password
    assert server.sandbox.secret(namespace, CREDENTIALS)["password"] == password
    reasons = [e["reason"] for e in events(client, org, "alice", "search")]
    assert not [r for r in reasons if "credentials" in r]


def test_a_reset_of_a_deleted_or_busy_cluster_is_a_conflict(
    server: ServerProcess, client: httpx.Client, tenant: httpx.Client, org: str
) -> None:
    namespace = namespace_of(org)
    server.sandbox.hold_readiness(namespace)
    assert reset_rest(tenant, namespace).status_code == 202
    busy = reset_rest(tenant, namespace)  # still rolling out the first
    assert busy.status_code == 409
    assert busy.json()["error"] == (
        f'cluster in namespace "{namespace}" is updating; its credentials can be reset '
        "when created, degraded, failed"
    )
    server.sandbox.hold_readiness(namespace, hold=False)

    assert client.delete(f"/clusters/{namespace}").status_code == 202
    wait_for_status(
        client, user="alice", service_name="search", tenant_org_id=org, wanted={"deleted"},
        include_deleted=True,
    )  # fmt: skip
    gone = reset_rest(tenant, namespace)
    assert gone.status_code == 409
    assert gone.json()["error"].startswith(f'cluster in namespace "{namespace}" is deleted;')
    body = graphql(tenant, RESET, {"ns": namespace})
    assert body["errors"][0]["extensions"]["code"] == "CONFLICT"
    reasons = [e["reason"] for e in events(client, org, "alice", "search")]
    assert reasons.count("credentials reset requested (generation 1)") == 1
    assert "credentials reset requested (generation 2)" not in reasons


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_reset_survives_a_restart_of_the_server(
    make_server: Callable[..., ServerProcess],
    standalone_sandbox: StandaloneSandbox,
    org: str,
    database: str,
    request: pytest.FixtureRequest,
) -> None:
    # A sandbox of its own outlives the server, as a real cluster would.
    env = {"ESS_KUBE_MODE": "kubeconfig", "KUBECONFIG": str(standalone_sandbox.kubeconfig)}
    if database == "postgresql":  # skipped unless TEST_POSTGRES_URL names one
        env["ESS_DATABASE_URL"] = request.getfixturevalue("postgres_url")
    elif ON_POSTGRESQL:
        pytest.skip("the SQLite pass runs it on SQLite")
    server = make_server(**env)
    sandbox, namespace = standalone_sandbox.api, namespace_of(org)
    with server.client() as admin:
        create_and_wait(admin, org, "alice", "search", replicas=2)
        token = org_token(admin, org)
    with server.client(token=token) as tenant:
        first = rest_connection(tenant, namespace)["password"]
        sandbox.hold_readiness(namespace)  # the rollout cannot finish before the kill
        assert reset_rest(tenant, namespace).status_code == 202
        second = rest_connection(tenant, namespace)["password"]
    server.stop(kill=True)
    server.restart()
    sandbox.hold_readiness(namespace, hold=False)
    with server.client(token=token) as tenant:
        # The generation is in the database: the same new password after the restart,
        # and the resumed update rolls it out.
        assert rest_connection(tenant, namespace)["password"] == second != first
        wait_for_status(
            tenant, user="alice", service_name="search", tenant_org_id=org, wanted={"created"}
        )
        assert sandbox.secret(namespace, CREDENTIALS)["password"] == second
        assert graphql_connection(tenant, org)["password"] == second
        sts = sandbox.statefulset(namespace)
        assert sts["spec"]["template"]["metadata"]["annotations"][GENERATION] == "1"
