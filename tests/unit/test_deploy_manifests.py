"""The manifests of ``deploy/``, read offline: every field is one Kubernetes knows (the
kubernetes-asyncio models, generated from Kubernetes' own OpenAPI), and the objects
agree with each other, with the Dockerfile and with the control plane's settings.
Applying them to a Kubernetes API server is tests/e2e/test_deploy_apply.py; that the
ClusterRole holds what the control plane calls is tests/e2e/test_rbac_coverage.py."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from kubernetes_asyncio.client import models

from app.api import health
from app.kube.manifests import network_policy_manifest
from app.settings import KubeMode, Settings
from tests.support.deploy import (
    DEPLOY_DIR,
    cluster_role_grants,
    deploy_documents,
    deploy_files,
    deploy_object,
)
from tests.support.factories import SPEC_EXAMPLE

ROOT = DEPLOY_DIR.parent
SECRET_KEYS = {
    "ESS_DATABASE_URL": "database-url",
    "ESS_ADMIN_TOKEN": "admin-token",
    "ESS_SECRET_KEY": "secret-key",
}


def schema_problems(value: Any, type_name: str, path: str) -> list[str]:
    """Where ``value`` is not of the kubernetes-asyncio type ``type_name``: unknown
    fields (a typo such as ``readinessprobe``) and values of the wrong type."""
    if type_name.startswith("list["):
        if not isinstance(value, list):
            return [f"{path}: a list expected"]
        inner = type_name[len("list[") : -1]
        return [
            problem
            for index, item in enumerate(value)
            for problem in schema_problems(item, inner, f"{path}[{index}]")
        ]
    if type_name.startswith("dict("):
        if not isinstance(value, dict):
            return [f"{path}: a map expected"]
        inner = type_name[len("dict(") : -1].split(", ", 1)[1]
        return [p for k, v in value.items() for p in schema_problems(v, inner, f"{path}.{k}")]
    scalars: dict[str, tuple[type, ...]] = {"str": (str,), "int": (int,), "bool": (bool,)}
    if type_name in scalars:
        fits = isinstance(value, scalars[type_name])
        fits = fits and not (type_name == "int" and isinstance(value, bool))
        return [] if fits else [f"{path}: {type_name} expected, not {value!r}"]
    if type_name == "object":  # IntOrString and free-form fields
        return []
    model = getattr(models, type_name)
    if not isinstance(value, dict):
        return [f"{path}: an object ({type_name}) expected"]
    fields = {json_name: attribute for attribute, json_name in model.attribute_map.items()}
    problems = []
    for key, item in value.items():
        if key not in fields:
            problems.append(f"{path}.{key}: no such field in {type_name}")
        else:
            problems += schema_problems(item, model.openapi_types[fields[key]], f"{path}.{key}")
    return problems


def container() -> dict[str, Any]:
    (found,) = deploy_object("Deployment")["spec"]["template"]["spec"]["containers"]
    return found


def env() -> dict[str, dict[str, Any]]:
    return {variable["name"]: variable for variable in container()["env"]}


def test_every_field_is_one_kubernetes_knows() -> None:
    documents = deploy_documents()
    assert documents
    for document in documents:
        assert document["apiVersion"].rsplit("/", 1)[-1] == "v1"
        name = f"{document['kind']} {document['metadata']['name']}"
        assert schema_problems(document, f"V1{document['kind']}", name) == []


def test_the_schema_check_catches_typos_and_wrong_types() -> None:
    deployment = deploy_object("Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessprobe"] = {}
    deployment["spec"]["replicas"] = "3"
    assert schema_problems(deployment, "V1Deployment", "d") == [
        "d.spec.replicas: int expected, not '3'",
        "d.spec.template.spec.containers[0].readinessprobe: no such field in V1Container",
    ]


def test_the_namespace_comes_first_and_holds_everything_namespaced() -> None:
    # kubectl apply -f deploy/ takes the files in name order.
    assert next(d["kind"] for d in deploy_documents()) == "Namespace"
    namespace = deploy_object("Namespace")["metadata"]["name"]
    cluster_scoped = {"Namespace", "ClusterRole", "ClusterRoleBinding"}
    for document in deploy_documents():
        if document["kind"] not in cluster_scoped:
            assert document["metadata"]["namespace"] == namespace, document["kind"]
    # The namespace tenant NetworkPolicies admit by default.
    assert namespace == Settings.model_fields["platform_namespace"].default
    policy = network_policy_manifest(SPEC_EXAMPLE, platform_namespace=namespace)
    (_, rule) = policy["spec"]["ingress"]
    assert rule["from"][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": namespace
    }


def test_no_secret_is_committed() -> None:
    assert "Secret" not in {document["kind"] for document in deploy_documents()}
    for variable in container()["env"]:
        if variable["name"] in SECRET_KEYS:
            assert "value" not in variable
            assert variable["valueFrom"] == {
                "secretKeyRef": {"name": "es-serverless", "key": SECRET_KEYS[variable["name"]]}
            }


def test_the_objects_point_at_each_other() -> None:
    deployment = deploy_object("Deployment")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"] == {"matchLabels": pod_labels}
    assert deploy_object("Service")["spec"]["selector"] == pod_labels
    assert deploy_object("PodDisruptionBudget")["spec"]["selector"] == {"matchLabels": pod_labels}
    account = deploy_object("ServiceAccount")["metadata"]
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == account["name"]
    binding = deploy_object("ClusterRoleBinding")
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": deploy_object("ClusterRole")["metadata"]["name"],
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account["name"], "namespace": account["namespace"]}
    ]
    # Several replicas, and a drain never takes them all.
    replicas = deployment["spec"]["replicas"]
    assert replicas >= 2
    assert deploy_object("PodDisruptionBudget")["spec"]["maxUnavailable"] < replicas


def test_the_image_is_the_dockerfiles() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert container()["image"] == f"es-serverless:{version}"
    (port,) = container()["ports"]
    assert f"EXPOSE {port['containerPort']}" in dockerfile
    assert f'"--port", "{port["containerPort"]}"' in dockerfile
    # The pod runs as the image's own unprivileged user.
    uid = re.search(r"--uid (\d+)", dockerfile)
    assert uid is not None
    pod_security = deploy_object("Deployment")["spec"]["template"]["spec"]["securityContext"]
    assert pod_security["runAsNonRoot"] is True
    assert pod_security["runAsUser"] == int(uid.group(1))


def test_the_container_is_locked_down_and_sized() -> None:
    security = container()["securityContext"]
    assert security == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    # A read-only root: the data dir and /tmp are the writable places, both emptyDirs.
    pod = deploy_object("Deployment")["spec"]["template"]["spec"]
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    mounts = {m["mountPath"]: volumes[m["name"]] for m in container()["volumeMounts"]}
    assert set(mounts) == {env()["ESS_DATA_DIR"]["value"], "/tmp"}
    assert all("emptyDir" in volume for volume in mounts.values())
    resources = container()["resources"]
    assert set(resources["requests"]) == set(resources["limits"]) == {"cpu", "memory"}


def test_the_probes_ask_the_health_endpoints() -> None:
    served = {route.path for route in health.routes}
    probes = {name: container()[name]["httpGet"] for name in ("livenessProbe", "readinessProbe")}
    assert probes == {
        "livenessProbe": {"path": "/healthz", "port": "http"},
        "readinessProbe": {"path": "/readyz", "port": "http"},
    }
    assert {probe["path"] for probe in probes.values()} <= served
    assert container()["startupProbe"]["httpGet"] == probes["livenessProbe"]
    assert container()["ports"][0]["name"] == "http"


def test_every_variable_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment the pod gets makes valid Settings, each variable one the control
    plane reads (a misspelt one would be silently ignored), with the secret values
    filled in and Kubernetes' own substitutions ($(VAR), the pod's namespace) done."""
    namespace = deploy_object("Deployment")["metadata"]["namespace"]
    values: dict[str, str] = {}
    for name, variable in env().items():
        assert name.startswith("ESS_") and name[4:].lower() in Settings.model_fields, name
        if "value" in variable:
            values[name] = re.sub(r"\$\((\w+)\)", lambda m: values[m.group(1)], variable["value"])
        elif "secretKeyRef" in variable["valueFrom"]:
            secret = "postgresql+asyncpg://u:p@db/ess" if name == "ESS_DATABASE_URL" else "x" * 32
            values[name] = secret
        else:
            assert variable["valueFrom"] == {
                "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}
            }
            values[name] = namespace
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert settings.kube_mode is KubeMode.INCLUSTER
    assert settings.platform_namespace == namespace
    assert settings.database_url.startswith("postgresql+asyncpg://")
    # Tenant clusters report to the Service, on its port.
    service = deploy_object("Service")
    (port,) = service["spec"]["ports"]
    assert port["targetPort"] == container()["ports"][0]["name"]
    assert settings.public_url_resolved == (
        f"http://{service['metadata']['name']}.{namespace}.svc:{port['port']}"
    )


def test_the_cluster_role_is_least_privilege_in_form() -> None:
    seen: set[tuple[str, str]] = set()
    for rule in deploy_object("ClusterRole")["rules"]:
        assert set(rule) == {"apiGroups", "resources", "verbs"}  # no resourceNames, no URLs
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                assert (group, resource) not in seen, f"{group}/{resource} granted twice"
                seen.add((group, resource))
    for group, resource, verb in cluster_role_grants():
        assert "*" not in (group, resource, verb)
        assert verb in {"get", "list", "watch", "create", "update", "patch", "delete"}


def test_deploy_holds_only_manifests() -> None:
    # kubectl apply -f deploy/ would take any other YAML file (a kustomization) as an
    # object; the README is the one other file.
    others = {p.name for p in DEPLOY_DIR.iterdir() if p.suffix not in (".yaml",)}
    assert others == {"README.md"}
    assert all(isinstance(p, Path) for p in deploy_files())
