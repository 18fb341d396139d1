import dataclasses
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from app.kube.manifests import (
    CERTS_PATH,
    CLIENT_SERVICE_NAME,
    CLUSTER_OBJECTS,
    CREDENTIALS_SECRET_NAME,
    DATA_PATH,
    HEADLESS_SERVICE_NAME,
    MANAGED_BY,
    NETWORK_POLICY_NAME,
    OWNER_ANNOTATION,
    REPORTER_SECRET_NAME,
    STATEFULSET_NAME,
    TLS_SECRET_NAME,
    ClusterSecrets,
    ClusterShape,
    claim_labels,
    client_endpoint,
    client_service_manifest,
    cluster_manifests,
    config_manifest,
    credentials_secret_manifest,
    disruption_budget_manifest,
    headless_service_manifest,
    jvm_heap,
    namespace_manifest,
    network_policy_manifest,
    reporter_secret_manifest,
    statefulset_manifest,
    tenant_labels,
    transport_tls_secret_manifest,
)
from app.kube.manifests import owned_labels as owned_labels_of
from app.kube.namespace_limits import limit_range_manifest, resource_quota_manifest
from app.kube.quantity import InvalidQuantity
from app.kube.tls import TlsBundle
from tests.support.factories import SPEC_EXAMPLE

IMAGE = "docker.elastic.co/elasticsearch/elasticsearch:8.15.0"
SOME_TLS = TlsBundle(ca_crt="a", tls_crt="b", tls_key="c", http_crt="d", http_key="e")
SECRETS = ClusterSecrets(
    elastic_password="pw-0123456789abcdef", report_token="tok-fedcba9876543210"
)
REPORT_URL = (
    "http://es-serverless.es-serverless.svc:8080/deployments/org-001-alice-vector-search/report"
)
PLATFORM_NAMESPACE = "es-serverless"
CLUSTER_ID = "tenant_alice_vector-search_1700000000000000"

# The example request of the spec (section 4).
BASE = SPEC_EXAMPLE

DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
QUALIFIED_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
PORT_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


def shape(**changes: Any) -> ClusterShape:
    return BASE.model_copy(update=changes)


def statefulset(**changes: Any) -> dict[str, Any]:
    return statefulset_manifest(shape(**changes), image=IMAGE)


def pod_spec(**changes: Any) -> dict[str, Any]:
    return statefulset(**changes)["spec"]["template"]["spec"]


def es_container(**changes: Any) -> dict[str, Any]:
    (container,) = pod_spec(**changes)["containers"]
    return container


def env(**changes: Any) -> dict[str, Any]:
    return {item["name"]: item.get("value") for item in es_container(**changes)["env"]}


def all_manifests(
    cluster: ClusterShape = BASE, secrets: ClusterSecrets = SECRETS
) -> list[dict[str, Any]]:
    return cluster_manifests(
        cluster,
        cluster_id=CLUSTER_ID,
        image=IMAGE,
        secrets=secrets,
        report_url=REPORT_URL,
        platform_namespace=PLATFORM_NAMESPACE,
        bootstrap=True,
    )


def config(*, bootstrap: bool = True, **changes: Any) -> dict[str, Any]:
    """The settings of elasticsearch.yml as Elasticsearch reads them (YAML)."""
    manifest = config_manifest(shape(**changes), bootstrap=bootstrap)
    settings: dict[str, Any] = yaml.safe_load(manifest["data"]["elasticsearch.yml"])
    return settings


def network_policy(platform_namespace: str = PLATFORM_NAMESPACE) -> dict[str, Any]:
    return network_policy_manifest(BASE, platform_namespace=platform_namespace)


def annotations(**changes: Any) -> dict[str, str]:
    return statefulset(**changes)["spec"]["template"]["metadata"]["annotations"]


def is_dns1123_label(text: str) -> bool:
    return len(text) <= 63 and DNS1123_LABEL.fullmatch(text) is not None


def is_label_value(text: str) -> bool:
    return len(text) <= 63 and LABEL_VALUE.fullmatch(text) is not None


def is_qualified_key(key: str) -> bool:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or DNS1123_SUBDOMAIN.fullmatch(prefix) is None):
        return False
    return len(name) <= 63 and QUALIFIED_NAME.fullmatch(name) is not None


def label_sets(node: Any, parent_kind: str | None = None) -> Iterator[dict[str, str]]:
    """Every label map in a manifest: labels, matchLabels and Service selectors."""
    if isinstance(node, list):
        for item in node:
            yield from label_sets(item, parent_kind)
    elif isinstance(node, dict):
        kind = node.get("kind", parent_kind)
        for key, value in node.items():
            if key in ("labels", "matchLabels") or (key == "selector" and kind == "Service"):
                yield value
            else:
                yield from label_sets(value, kind)


# --- labels ----------------------------------------------------------------------------


def test_tenant_labels_are_exactly_the_spec_labels() -> None:
    assert tenant_labels(BASE) == {
        "es-cluster": "true",
        "tenant-org-id": "org-001",
        "user": "alice",
        "service-name": "vector-search",
    }


def ns_labels(cluster: ClusterShape = BASE) -> dict[str, str]:
    labels: dict[str, str] = namespace_manifest(cluster, cluster_id=CLUSTER_ID)["metadata"][
        "labels"
    ]
    return labels


def test_namespace_carries_tenant_labels_and_managed_by() -> None:
    manifest = namespace_manifest(BASE, cluster_id=CLUSTER_ID)
    assert (manifest["apiVersion"], manifest["kind"]) == ("v1", "Namespace")
    assert manifest["metadata"]["name"] == "org-001-alice-vector-search"
    assert manifest["metadata"]["labels"] == {
        **tenant_labels(BASE),
        "app.kubernetes.io/managed-by": "es-serverless",
    }
    assert manifest["metadata"]["labels"] == owned_labels_of(BASE) == owned_labels()
    assert MANAGED_BY == "es-serverless"


def test_namespace_carries_the_ownership_mark_of_its_cluster() -> None:
    manifest = namespace_manifest(BASE, cluster_id=CLUSTER_ID)
    assert OWNER_ANNOTATION == "es-serverless.io/cluster-id"
    assert manifest["metadata"]["annotations"] == {OWNER_ANNOTATION: CLUSTER_ID}
    assert is_qualified_key(OWNER_ANNOTATION)
    other = namespace_manifest(BASE, cluster_id="tenant_alice_vector-search_2")
    assert other["metadata"]["annotations"] != manifest["metadata"]["annotations"]
    assert all_manifests()[0] == manifest


def test_a_namespace_without_an_owner_is_refused() -> None:
    with pytest.raises(ValueError, match="ownership mark"):
        namespace_manifest(BASE, cluster_id="")


@pytest.mark.parametrize(
    "selector",
    [
        "tenant-org-id=org-001",
        "user=alice",
        "service-name=vector-search",
        "tenant-org-id=org-001,user=alice",
        "es-cluster=true",
    ],
)
def test_the_spec_kubectl_queries_select_the_namespace(selector: str) -> None:
    labels = ns_labels()
    wanted = dict(term.split("=") for term in selector.split(","))
    assert wanted.items() <= labels.items()


def test_other_tenants_do_not_match_each_others_labels() -> None:
    other = ns_labels(shape(tenant_org_id="org-002", namespace="org-002-alice-vs"))
    assert other["tenant-org-id"] == "org-002"
    assert other != ns_labels()


def test_selector_is_a_subset_of_the_pod_template_labels() -> None:
    spec = statefulset()["spec"]
    selector = spec["selector"]["matchLabels"]
    assert selector == {
        "app.kubernetes.io/name": "elasticsearch",
        "app.kubernetes.io/instance": "vector-search",
    }
    assert selector.items() <= spec["template"]["metadata"]["labels"].items()


def test_pod_and_statefulset_labels_are_selector_plus_tenant_plus_managed_by() -> None:
    manifest = statefulset()
    expected = {
        **manifest["spec"]["selector"]["matchLabels"],
        **tenant_labels(BASE),
        "app.kubernetes.io/managed-by": "es-serverless",
    }
    assert manifest["spec"]["template"]["metadata"]["labels"] == expected
    assert manifest["metadata"]["labels"] == expected


def test_services_select_exactly_the_statefulset_pods() -> None:
    selector = statefulset()["spec"]["selector"]["matchLabels"]
    assert headless_service_manifest(BASE)["spec"]["selector"] == selector
    assert client_service_manifest(BASE)["spec"]["selector"] == selector


def test_label_maps_are_not_shared_between_objects() -> None:
    manifest = statefulset()
    manifest["spec"]["selector"]["matchLabels"]["mutated"] = "yes"
    assert "mutated" not in manifest["spec"]["template"]["metadata"]["labels"]
    assert "mutated" not in manifest["metadata"]["labels"]
    assert "mutated" not in statefulset()["spec"]["selector"]["matchLabels"]


# --- services --------------------------------------------------------------------------


def test_headless_service_is_headless_and_publishes_unready_pods() -> None:
    manifest = headless_service_manifest(BASE)
    assert manifest["kind"] == "Service"
    assert manifest["metadata"]["name"] == HEADLESS_SERVICE_NAME == "elasticsearch-headless"
    assert manifest["metadata"]["namespace"] == BASE.namespace
    assert manifest["spec"]["clusterIP"] == "None"  # the string, not JSON null
    assert manifest["spec"]["publishNotReadyAddresses"] is True
    ports = {port["name"]: port["port"] for port in manifest["spec"]["ports"]}
    assert ports == {"http": 9200, "transport": 9300}


def test_client_service_is_cluster_ip_on_http_only() -> None:
    manifest = client_service_manifest(BASE)
    assert manifest["metadata"]["name"] == CLIENT_SERVICE_NAME == "elasticsearch"
    assert manifest["metadata"]["namespace"] == BASE.namespace
    assert manifest["spec"]["type"] == "ClusterIP"
    assert "clusterIP" not in manifest["spec"]
    assert [(p["name"], p["port"]) for p in manifest["spec"]["ports"]] == [("http", 9200)]


def test_service_target_ports_name_container_ports() -> None:
    container_ports = {p["name"]: p["containerPort"] for p in es_container()["ports"]}
    assert container_ports == {"http": 9200, "transport": 9300}
    for manifest in (headless_service_manifest(BASE), client_service_manifest(BASE)):
        for port in manifest["spec"]["ports"]:
            assert container_ports[port["targetPort"]] == port["port"]


# --- statefulset -----------------------------------------------------------------------


def test_statefulset_basics() -> None:
    manifest = statefulset()
    assert (manifest["apiVersion"], manifest["kind"]) == ("apps/v1", "StatefulSet")
    assert manifest["metadata"]["name"] == STATEFULSET_NAME == "elasticsearch"
    assert manifest["metadata"]["namespace"] == BASE.namespace
    spec = manifest["spec"]
    assert spec["serviceName"] == headless_service_manifest(BASE)["metadata"]["name"]
    assert spec["replicas"] == 2
    assert spec["podManagementPolicy"] == "Parallel"
    assert es_container()["image"] == IMAGE
    assert es_container()["name"] == "elasticsearch"


def test_pod_security_and_termination() -> None:
    spec = pod_spec()
    assert spec["terminationGracePeriodSeconds"] == 120
    assert spec["securityContext"] == {"fsGroup": 1000}


def test_resources_without_gpu() -> None:
    resources = es_container(gpu_count=0)["resources"]
    assert resources == {
        "requests": {"cpu": "1", "memory": "2Gi"},
        "limits": {"cpu": "4", "memory": "8Gi"},
    }


@pytest.mark.parametrize(("count", "shown"), [(1, "1"), (4, "4")])
def test_gpu_limit_is_set_only_as_a_limit(count: int, shown: str) -> None:
    resources = es_container(gpu_count=count)["resources"]
    assert resources["limits"]["nvidia.com/gpu"] == shown
    assert "nvidia.com/gpu" not in resources["requests"]


@pytest.mark.parametrize(
    ("mem_limit", "heap"),
    [
        ("2Gi", "1024m"),
        ("8Gi", "4g"),
        ("100Gi", "31g"),
        ("256Mi", "256m"),
        ("1Gi", "512m"),
        ("3Gi", "1536m"),
        ("4Gi", "2g"),
        ("60Gi", "30g"),
        ("62Gi", "31g"),
        ("64Gi", "31g"),
        ("5G", "2384m"),  # 2.5e9 bytes = 2384.19 MiB, floored
        ("100Mi", "256m"),
        ("1Ti", "31g"),
    ],
)
def test_jvm_heap(mem_limit: str, heap: str) -> None:
    assert jvm_heap(mem_limit) == heap


def test_jvm_heap_rejects_invalid_memory() -> None:
    with pytest.raises(InvalidQuantity, match="2GB"):
        jvm_heap("2GB")


def test_java_opts_use_half_of_the_memory_limit() -> None:
    assert env(mem_limit="8Gi")["ES_JAVA_OPTS"] == "-Xms4g -Xmx4g"
    assert env(mem_limit="2Gi")["ES_JAVA_OPTS"] == "-Xms1024m -Xmx1024m"


@pytest.mark.parametrize(
    ("replicas", "masters"),
    [
        (1, "elasticsearch-0"),
        (3, "elasticsearch-0,elasticsearch-1,elasticsearch-2"),
    ],
)
def test_initial_master_nodes_are_the_pod_names(replicas: int, masters: str) -> None:
    assert config(replicas=replicas)["cluster.initial_master_nodes"] == masters.split(",")
    assert statefulset(replicas=replicas)["spec"]["replicas"] == replicas


def test_the_bootstrap_list_is_only_in_a_cluster_that_never_formed() -> None:
    formed = config(bootstrap=False)
    assert "cluster.initial_master_nodes" not in formed
    assert formed == {k: v for k, v in config().items() if k != "cluster.initial_master_nodes"}


def test_the_pod_template_does_not_depend_on_the_replicas() -> None:
    # A scale changes spec.replicas only: no pod is restarted by it.
    two, five = statefulset(replicas=2), statefulset(replicas=5)
    assert json.dumps(two["spec"]["template"]) == json.dumps(five["spec"]["template"])
    assert {k: v for k, v in two["spec"].items() if k != "replicas"} == {
        k: v for k, v in five["spec"].items() if k != "replicas"
    }


def test_elasticsearch_yml_is_mounted_from_the_config_map() -> None:
    container = es_container()
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == "config"]
    assert mount == {
        "name": "config",
        "mountPath": "/usr/share/elasticsearch/config/elasticsearch.yml",
        "subPath": "elasticsearch.yml",
        "readOnly": True,
    }
    pod = statefulset()["spec"]["template"]["spec"]
    (volume,) = [v for v in pod["volumes"] if v["name"] == "config"]
    assert volume == {"name": "config", "configMap": {"name": "elasticsearch-config"}}


def test_zero_replicas_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1 replica"):
        config(replicas=0)


def test_elasticsearch_settings() -> None:
    container = es_container()
    (node_name,) = [item for item in container["env"] if item["name"] == "NODE_NAME"]
    assert node_name["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    settings = config()
    assert settings["node.name"] == "${NODE_NAME}"  # Elasticsearch substitutes it
    assert settings["cluster.name"] == "vector-search"
    assert settings["discovery.seed_hosts"] == HEADLESS_SERVICE_NAME
    assert settings["network.host"] == "0.0.0.0"
    assert settings["xpack.security.enabled"] is True
    assert settings["bootstrap.memory_lock"] is False
    # No Elasticsearch setting is left in the environment.
    assert not [item["name"] for item in container["env"] if "." in item["name"]]


def test_env_names_are_unique_and_values_are_strings() -> None:
    items = es_container(gitlab_url="https://gitlab.example.com/g/p")["env"]
    names = [item["name"] for item in items]
    assert len(names) == len(set(names))
    assert all(isinstance(item["value"], str) for item in items if "value" in item)


def test_env_carries_tenant_and_vector_settings() -> None:
    settings = env()
    assert {key: value for key, value in settings.items() if key.startswith("ESS_")} == {
        "ESS_TENANT_ORG_ID": "org-001",
        "ESS_USER": "alice",
        "ESS_SERVICE_NAME": "vector-search",
        "ESS_VECTOR_DIMENSION": "512",
        "ESS_VECTOR_COUNT": "1000000",
        "ESS_INDEX_LIMIT": "10",
    }


def test_pod_annotations_carry_vector_settings() -> None:
    assert annotations() == {
        "es-serverless.io/dimension": "512",
        "es-serverless.io/vector-count": "1000000",
        "es-serverless.io/index-limit": "10",
    }


def test_a_credentials_reset_changes_the_pod_template_and_nothing_else() -> None:
    first = statefulset_manifest(BASE, image=IMAGE)
    assert statefulset_manifest(BASE, image=IMAGE, credentials_generation=0) == first
    reset = statefulset_manifest(BASE, image=IMAGE, credentials_generation=2)
    annotations = reset["spec"]["template"]["metadata"].pop("annotations")
    assert annotations.pop("es-serverless.io/credentials-generation") == "2"
    assert annotations == first["spec"]["template"]["metadata"].pop("annotations")
    assert reset == first
    generation = dataclasses.replace(SECRETS, credentials_generation=3)
    sts = all_manifests(secrets=generation)[-1]
    assert sts["spec"]["template"]["metadata"]["annotations"][
        "es-serverless.io/credentials-generation"
    ] == "3"


def test_client_endpoint_is_https_on_the_client_service() -> None:
    assert client_endpoint("ns-1") == "https://elasticsearch.ns-1.svc:9200"


@pytest.mark.parametrize("unset", [None, ""])
def test_gitlab_url_is_absent_when_not_set(unset: str | None) -> None:
    assert "ESS_GITLAB_URL" not in env(gitlab_url=unset)
    assert "es-serverless.io/gitlab-url" not in annotations(gitlab_url=unset)


def test_gitlab_url_is_passed_when_set() -> None:
    url = "https://gitlab.example.com/team/es-config"
    assert env(gitlab_url=url)["ESS_GITLAB_URL"] == url
    assert annotations(gitlab_url=url)["es-serverless.io/gitlab-url"] == url


def test_data_and_certificate_mounts() -> None:
    container = es_container()
    assert container["volumeMounts"] == [
        {"name": "data", "mountPath": DATA_PATH},
        {"name": "transport-certs", "mountPath": CERTS_PATH, "readOnly": True},
        {
            "name": "config",
            "mountPath": "/usr/share/elasticsearch/config/elasticsearch.yml",
            "subPath": "elasticsearch.yml",
            "readOnly": True,
        },
    ]
    assert DATA_PATH == "/usr/share/elasticsearch/data"
    assert CERTS_PATH == "/usr/share/elasticsearch/config/certs"


def test_certificate_volume_is_the_tls_secret() -> None:
    assert pod_spec()["volumes"] == [
        {"name": "transport-certs", "secret": {"secretName": "elasticsearch-transport-tls"}},
        {"name": "config", "configMap": {"name": "elasticsearch-config"}},
        {
            "name": "pod-info",
            "downwardAPI": {
                "items": [{"path": "annotations", "fieldRef": {"fieldPath": "metadata.annotations"}}]
            },
        },
    ]
    assert TLS_SECRET_NAME == "elasticsearch-transport-tls"
    # every mount but the claim template's must name a pod volume
    pod_volumes = {volume["name"] for volume in pod_spec()["volumes"]}
    mounts = {mount["name"] for mount in es_container()["volumeMounts"]}
    assert mounts - pod_volumes == {"data"}


# --- security --------------------------------------------------------------------------


def test_elastic_password_comes_from_the_credentials_secret() -> None:
    (item,) = [item for item in es_container()["env"] if item["name"] == "ELASTIC_PASSWORD"]
    assert item == {
        "name": "ELASTIC_PASSWORD",
        "valueFrom": {"secretKeyRef": {"name": "elasticsearch-credentials", "key": "password"}},
    }
    # the reference must point at a key the credentials Secret really has
    secret = credentials_secret_manifest(BASE, secrets=SECRETS)
    ref = item["valueFrom"]["secretKeyRef"]
    assert ref["name"] == secret["metadata"]["name"]
    assert secret["stringData"][ref["key"]] == SECRETS.elastic_password


def test_transport_tls_settings() -> None:
    settings = config()
    transport = {k: v for k, v in settings.items() if k.startswith("xpack.security.transport.")}
    assert transport == {
        "xpack.security.transport.ssl.enabled": True,
        "xpack.security.transport.ssl.verification_mode": "certificate",
        "xpack.security.transport.ssl.key": "certs/tls.key",
        "xpack.security.transport.ssl.certificate": "certs/tls.crt",
        "xpack.security.transport.ssl.certificate_authorities": "certs/ca.crt",
    }



def test_http_tls_settings() -> None:
    settings = config()
    http = {k: v for k, v in settings.items() if k.startswith("xpack.security.http.")}
    assert http == {
        "xpack.security.http.ssl.enabled": True,
        "xpack.security.http.ssl.key": "certs/http.key",
        "xpack.security.http.ssl.certificate": "certs/http.crt",
        "xpack.security.http.ssl.certificate_authorities": "certs/http-ca.crt",
    }


@pytest.mark.parametrize("layer", ["transport", "http"])
def test_tls_files_are_keys_of_the_mounted_secret(layer: str) -> None:
    # Elasticsearch resolves the relative paths against its config directory.
    config_dir = "/usr/share/elasticsearch/config"
    secret_keys = set(transport_tls_secret_manifest(BASE, tls=SOME_TLS)["stringData"])
    settings = config()
    for setting in ("key", "certificate", "certificate_authorities"):
        path = f"{config_dir}/{settings[f'xpack.security.{layer}.ssl.' + setting]}"
        directory, _, file = path.rpartition("/")
        assert directory == CERTS_PATH
        assert file in secret_keys


def test_readiness_probe_authenticates_with_an_exec_probe() -> None:
    probe = es_container()["readinessProbe"]
    assert "httpGet" not in probe
    assert {k: v for k, v in probe.items() if k != "exec"} == {
        "initialDelaySeconds": 10,
        "periodSeconds": 5,
        "failureThreshold": 3,
    }
    shell, flag, script = probe["exec"]["command"]
    assert (shell, flag) == ("bash", "-c")
    assert '-u "elastic:${ELASTIC_PASSWORD}"' in script
    # HTTPS (a node with HTTP TLS refuses plain HTTP), verified with the cluster's CA
    assert "'https://127.0.0.1:9200/_cluster/health?local=true'" in script
    assert f"--cacert '{CERTS_PATH}/http-ca.crt'" in script
    assert script.endswith("| grep -q 200")


def run_probe(tmp_path: Path, status: str, password: str) -> tuple[int, list[str]]:
    """Run the probe's script with a fake curl that records its arguments."""
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash on this machine")
    record = tmp_path / "args"
    curl = tmp_path / "curl"
    curl.write_text(
        '#!/bin/sh\nfor arg in "$@"; do printf \'%s\\n\' "$arg"; done > "$RECORD"\n'
        'printf %s "$STATUS"\n'
    )
    curl.chmod(0o755)
    _, _, script = es_container()["readinessProbe"]["exec"]["command"]
    environ = {
        "PATH": f"{tmp_path}{os.pathsep}{os.environ.get('PATH', '')}",
        "ELASTIC_PASSWORD": password,
        "RECORD": str(record),
        "STATUS": status,
    }
    done = subprocess.run([bash, "-c", script], env=environ, check=False, timeout=10)
    return done.returncode, record.read_text().splitlines()


def test_readiness_probe_sends_the_password_and_needs_a_200(tmp_path: Path) -> None:
    password = "p w$(x)'\"z"  # spaces and quotes must reach curl unchanged, unexpanded
    code, args = run_probe(tmp_path, "200", password)
    assert code == 0
    assert args[args.index("-u") + 1] == f"elastic:{password}"
    assert args[-1] == "https://127.0.0.1:9200/_cluster/health?local=true"
    assert args[args.index("--cacert") + 1] == f"{CERTS_PATH}/http-ca.crt"
    assert run_probe(tmp_path, "401", password)[0] != 0  # wrong password: not ready
    assert run_probe(tmp_path, "000", password)[0] != 0  # not listening yet: not ready


def test_the_password_is_only_in_the_credentials_secret() -> None:
    holders = [m for m in all_manifests() if SECRETS.elastic_password in json.dumps(m)]
    assert [(m["kind"], m["metadata"]["name"]) for m in holders] == [
        ("Secret", CREDENTIALS_SECRET_NAME)
    ]
    token_holders = [m for m in all_manifests() if SECRETS.report_token in json.dumps(m)]
    assert [m["metadata"]["name"] for m in token_holders] == [REPORTER_SECRET_NAME]


# --- secrets ---------------------------------------------------------------------------


def test_cluster_secrets_are_frozen_keyword_only_and_hidden_from_repr() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        SECRETS.elastic_password = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        ClusterSecrets("a", "b")  # type: ignore[misc]
    shown = repr(SECRETS)
    assert SECRETS.elastic_password not in shown
    assert SECRETS.report_token not in shown


@pytest.mark.parametrize(
    "fields",
    [
        {"elastic_password": "", "report_token": "t"},
        {"elastic_password": "p", "report_token": ""},
    ],
)
def test_cluster_secrets_must_not_be_empty(fields: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        ClusterSecrets(**fields)


def owned_labels() -> dict[str, str]:
    return {**tenant_labels(BASE), "app.kubernetes.io/managed-by": "es-serverless"}


def test_credentials_secret() -> None:
    assert credentials_secret_manifest(BASE, secrets=SECRETS) == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "elasticsearch-credentials",
            "namespace": "org-001-alice-vector-search",
            "labels": owned_labels(),
        },
        "type": "Opaque",
        "stringData": {"username": "elastic", "password": "pw-0123456789abcdef"},
    }
    assert CREDENTIALS_SECRET_NAME == "elasticsearch-credentials"


def test_reporter_secret() -> None:
    assert reporter_secret_manifest(BASE, secrets=SECRETS, report_url=REPORT_URL) == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "es-serverless-reporter",
            "namespace": "org-001-alice-vector-search",
            "labels": owned_labels(),
        },
        "type": "Opaque",
        "stringData": {"token": "tok-fedcba9876543210", "url": REPORT_URL},
    }
    assert REPORTER_SECRET_NAME == "es-serverless-reporter"


def test_transport_tls_secret() -> None:
    tls = TlsBundle(
        ca_crt="CA PEM", tls_crt="CERT PEM", tls_key="KEY PEM", http_crt="HTTP", http_key="HK"
    )
    assert transport_tls_secret_manifest(BASE, tls=tls) == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "elasticsearch-transport-tls",
            "namespace": "org-001-alice-vector-search",
            "labels": owned_labels(),
        },
        "type": "Opaque",
        "stringData": {
            "ca.crt": "CA PEM",
            "tls.crt": "CERT PEM",
            "tls.key": "KEY PEM",
            "http-ca.crt": "CA PEM",  # the cluster's CA signed the HTTP certificate too
            "http.crt": "HTTP",
            "http.key": "HK",
        },
    }


# --- network policy --------------------------------------------------------------------


def test_network_policy_admits_only_the_namespace_and_the_platform() -> None:
    manifest = network_policy()
    assert (manifest["apiVersion"], manifest["kind"]) == ("networking.k8s.io/v1", "NetworkPolicy")
    assert manifest["metadata"] == {
        "name": "elasticsearch",
        "namespace": "org-001-alice-vector-search",
        "labels": owned_labels(),
    }
    assert NETWORK_POLICY_NAME == "elasticsearch"
    assert manifest["spec"]["policyTypes"] == ["Ingress"]
    assert manifest["spec"]["ingress"] == [
        {
            "from": [{"podSelector": {}}],
            "ports": [{"protocol": "TCP", "port": 9200}, {"protocol": "TCP", "port": 9300}],
        },
        {
            "from": [
                {
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": "es-serverless"}
                    }
                }
            ],
            "ports": [{"protocol": "TCP", "port": 9200}],
        },
    ]


def test_network_policy_selects_exactly_the_elasticsearch_pods() -> None:
    selector = network_policy()["spec"]["podSelector"]
    assert selector == {"matchLabels": statefulset()["spec"]["selector"]["matchLabels"]}
    pod_labels = statefulset()["spec"]["template"]["metadata"]["labels"]
    assert selector["matchLabels"].items() <= pod_labels.items()


def test_network_policy_uses_the_given_platform_namespace() -> None:
    (_, platform_rule) = network_policy("control-plane")["spec"]["ingress"]
    (source,) = platform_rule["from"]
    assert source == {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "control-plane"}}
    }
    assert "podSelector" not in source  # every pod of the platform namespace


def test_network_policy_refuses_an_empty_platform_namespace() -> None:
    with pytest.raises(ValueError, match="platform_namespace"):
        network_policy("")


def test_sysctl_init_container_raises_max_map_count() -> None:
    init, _ = pod_spec()["initContainers"]
    assert init["name"] == "sysctl"
    name, _, tag = init["image"].partition(":")
    assert name == "busybox"
    assert tag and tag != "latest"
    assert init["command"] == ["sysctl", "-w", "vm.max_map_count=262144"]
    assert init["securityContext"] == {"privileged": True, "runAsUser": 0}


def test_zone_awareness_only_when_the_nodes_have_zones() -> None:
    """The pod template is the same either way (a change of zones restarts no pod):
    the zone comes from the pod's annotation, which wait-for-zone awaits only while
    elasticsearch.yml asks for it."""
    with_zones = yaml.safe_load(
        config_manifest(BASE, bootstrap=False, zones=True)["data"]["elasticsearch.yml"]
    )
    assert with_zones["node.attr.zone"] == "${ZONE}"
    assert with_zones["cluster.routing.allocation.awareness.attributes"] == "zone"
    without = config(bootstrap=False)
    assert not [key for key in without if "zone" in key or "awareness" in key]
    text = config_manifest(BASE, bootstrap=False, zones=True)["data"]["elasticsearch.yml"]
    assert 'node.attr.zone: "${ZONE}"\n' in text
    (zone,) = [item for item in es_container()["env"] if item["name"] == "ZONE"]
    assert zone["valueFrom"] == {
        "fieldRef": {"fieldPath": "metadata.annotations['topology.kubernetes.io/zone']"}
    }
    _, wait = pod_spec()["initContainers"]
    assert wait["name"] == "wait-for-zone"
    assert wait["image"] == es_container()["image"]
    script = wait["command"][2]
    assert "grep -q '^node.attr.zone:' /mnt/elastic-config/elasticsearch.yml" in script
    assert "until grep -q '^topology.kubernetes.io/zone=' /mnt/pod-info/annotations" in script
    assert {m["name"] for m in wait["volumeMounts"]} == {"config", "pod-info"}


def test_volume_claim_template() -> None:
    manifest = statefulset(disk_size="50Gi")
    (claim,) = manifest["spec"]["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "data"
    assert claim["metadata"]["labels"] == {
        **manifest["spec"]["selector"]["matchLabels"],
        **tenant_labels(BASE),
    }
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert claim["spec"]["resources"] == {"requests": {"storage": "50Gi"}}
    (container,) = manifest["spec"]["template"]["spec"]["containers"]
    assert claim["metadata"]["name"] in {mount["name"] for mount in container["volumeMounts"]}


def test_disk_size_is_passed_through() -> None:
    (claim,) = statefulset(disk_size="1Ti")["spec"]["volumeClaimTemplates"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "1Ti"


@pytest.mark.parametrize(
    "field", ["cpu_request", "cpu_limit", "mem_request", "mem_limit", "disk_size"]
)
def test_malformed_quantities_fail_early(field: str) -> None:
    with pytest.raises(InvalidQuantity, match="10GB"):
        statefulset(**{field: "10GB"})


# --- the whole cluster -----------------------------------------------------------------


def test_cluster_manifests_in_apply_order() -> None:
    manifests = all_manifests()
    assert [(m["apiVersion"], m["kind"], m["metadata"]["name"]) for m in manifests] == [
        ("v1", "Namespace", "org-001-alice-vector-search"),
        ("v1", "Secret", "elasticsearch-credentials"),
        ("v1", "Secret", "es-serverless-reporter"),
        ("networking.k8s.io/v1", "NetworkPolicy", "elasticsearch"),
        ("v1", "Service", "elasticsearch-headless"),
        ("v1", "Service", "elasticsearch"),
        ("policy/v1", "PodDisruptionBudget", "elasticsearch"),
        ("v1", "ConfigMap", "elasticsearch-config"),
        ("apps/v1", "StatefulSet", "elasticsearch"),
    ]
    assert all(m["metadata"]["namespace"] == BASE.namespace for m in manifests[1:])
    assert manifests[1] == credentials_secret_manifest(BASE, secrets=SECRETS)
    assert manifests[2] == reporter_secret_manifest(BASE, secrets=SECRETS, report_url=REPORT_URL)
    assert manifests[3] == network_policy_manifest(BASE, platform_namespace=PLATFORM_NAMESPACE)
    assert manifests[6] == disruption_budget_manifest(BASE)
    assert manifests[7] == config_manifest(BASE, bootstrap=True)
    assert manifests[8] == statefulset_manifest(BASE, image=IMAGE)


def test_cluster_objects_are_every_object_created_in_the_namespace() -> None:
    # What is removed from a namespace that must stay is exactly what is created in it.
    created = [(m["kind"], m["metadata"]["name"]) for m in all_manifests()[1:]]
    created.append(("Secret", TLS_SECRET_NAME))
    # ... and the namespace's quota and LimitRange, applied around the rollout.
    for limits in (resource_quota_manifest(BASE), limit_range_manifest(BASE)):
        created.append((limits["kind"], limits["metadata"]["name"]))
    assert sorted(CLUSTER_OBJECTS) == sorted(created)
    assert CLUSTER_OBJECTS[0] == ("StatefulSet", STATEFULSET_NAME)  # the workload goes first


def test_every_object_carries_the_owned_labels_and_claims_the_claim_labels() -> None:
    tls = transport_tls_secret_manifest(BASE, tls=SOME_TLS)
    for manifest in [*all_manifests(), tls]:
        assert owned_labels().items() <= manifest["metadata"]["labels"].items()
    sts = statefulset_manifest(BASE, image=IMAGE)
    [template] = sts["spec"]["volumeClaimTemplates"]
    assert template["metadata"]["labels"] == claim_labels(BASE)
    # The controller adds the selector's labels to each claim: already among them.
    assert sts["spec"]["selector"]["matchLabels"].items() <= claim_labels(BASE).items()
    assert claim_labels(BASE) != claim_labels(shape(service_name="other"))


def test_tls_secret_is_not_applied_with_the_rest() -> None:
    # create-only: the caller creates it once, re-applying would rotate the CA under
    # running nodes
    names = [m["metadata"]["name"] for m in all_manifests() if m["kind"] == "Secret"]
    assert TLS_SECRET_NAME not in names
    assert len(names) == 2


@pytest.mark.parametrize("gitlab_url", [None, "https://gitlab.example.com/a/b"])
def test_manifests_are_json_ready(gitlab_url: str | None) -> None:
    manifests = all_manifests(shape(gitlab_url=gitlab_url))
    assert json.loads(json.dumps(manifests)) == manifests  # no tuples, Decimals, None ...
    tls = transport_tls_secret_manifest(BASE, tls=SOME_TLS)
    assert json.loads(json.dumps(tls)) == tls


def test_every_name_is_a_dns1123_label() -> None:
    manifests = all_manifests()
    pod = manifests[-1]["spec"]["template"]["spec"]
    names = [m["metadata"]["name"] for m in manifests] + [TLS_SECRET_NAME]
    names += [c["name"] for c in pod["containers"] + pod["initContainers"]]
    names += [t["metadata"]["name"] for t in manifests[-1]["spec"]["volumeClaimTemplates"]]
    names += [v["name"] for c in pod["containers"] for v in c["volumeMounts"]]
    names += [v["name"] for v in pod["volumes"]]
    pods = [f"{STATEFULSET_NAME}-{ordinal}" for ordinal in range(BASE.replicas)]
    names += pods + [f"data-{pod}" for pod in pods]  # pod and PersistentVolumeClaim names
    assert len(names) == 24  # the wait-for-zone init container and the pod-info volume too
    assert [name for name in names if not is_dns1123_label(name)] == []


def test_every_port_name_is_a_valid_service_port_name() -> None:
    manifests = all_manifests()
    services = [m for m in manifests if m["kind"] == "Service"]
    assert len(services) == 2
    ports = [p for m in services for p in m["spec"]["ports"]] + es_container()["ports"]
    assert len(ports) == 5
    for port in ports:
        assert len(port["name"]) <= 15
        assert PORT_NAME.fullmatch(port["name"])
        assert re.search("[a-z]", port["name"])


def test_every_label_key_and_value_is_valid() -> None:
    tls = transport_tls_secret_manifest(BASE, tls=SOME_TLS)
    found = list(label_sets([*all_manifests(), tls]))
    # namespace, 3 secrets, policy labels + pod and namespace selectors,
    # 2 x (service labels + selector), disruption budget + its selector, config map,
    # statefulset, its selector, pod, its anti-affinity and spread selectors, claim
    assert len(found) == 20
    for labels in found:
        assert labels
        assert [key for key in labels if not is_qualified_key(key)] == []
        assert [value for value in labels.values() if not is_label_value(value)] == []


def test_annotation_keys_are_qualified_names() -> None:
    keys = annotations(gitlab_url="https://gitlab.example.com/a/b")
    assert len(keys) == 4
    assert all(is_qualified_key(key) for key in keys)


def test_validity_helpers_reject_bad_values() -> None:
    # the checks above would be worthless if these helpers accepted anything
    assert not is_dns1123_label("Alice")
    assert not is_dns1123_label("a" * 64)
    assert not is_dns1123_label("-a")
    assert not is_label_value("https://gitlab.example.com")
    assert not is_label_value("a" * 64)
    assert not is_qualified_key("Bad_Prefix/name")
    assert is_qualified_key("app.kubernetes.io/name")


def test_cluster_shape_is_frozen_and_keyword_only() -> None:
    with pytest.raises(ValidationError, match="frozen"):
        BASE.replicas = 3
    with pytest.raises(TypeError):
        ClusterShape("ns")  # type: ignore[call-arg, misc]


def test_disruption_budget_and_placement_spread_the_cluster() -> None:
    budget = disruption_budget_manifest(BASE)
    assert (budget["apiVersion"], budget["kind"]) == ("policy/v1", "PodDisruptionBudget")
    statefulset = statefulset_manifest(BASE, image=IMAGE)
    pods = statefulset["spec"]["selector"]
    assert budget["spec"] == {"maxUnavailable": 1, "selector": pods}

    pod = statefulset["spec"]["template"]["spec"]
    anti_affinity = pod["affinity"]["podAntiAffinity"]
    (preferred,) = anti_affinity["preferredDuringSchedulingIgnoredDuringExecution"]
    assert preferred["podAffinityTerm"] == {
        "labelSelector": pods,
        "topologyKey": "kubernetes.io/hostname",
    }
    assert pod["topologySpreadConstraints"] == [
        {
            "maxSkew": 1,
            "topologyKey": "topology.kubernetes.io/zone",
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": pods,
        }
    ]
    # Preferences only: nothing in the pod is a hard scheduling requirement.
    assert "requiredDuringSchedulingIgnoredDuringExecution" not in anti_affinity
