"""REST verbs and Status errors, through the real kubernetes_asyncio client over HTTP."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable
from typing import Any

import aiohttp
import pytest
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from tests.sandbox.support import statefulset_manifest


async def api_error(call: Awaitable[Any]) -> tuple[int, dict[str, Any]]:
    """The HTTP status and decoded Status body of a call that must fail."""
    with pytest.raises(ApiException) as caught:
        await call
    return caught.value.status, json.loads(caught.value.body)


async def test_created_namespace_has_server_fields(core: client.CoreV1Api) -> None:
    created = await core.create_namespace(
        {"metadata": {"name": "org-001-alice", "labels": {"tenant-org-id": "org-001"}}}
    )
    meta = created.metadata
    assert created.kind == "Namespace" and created.api_version == "v1"
    assert created.status.phase == "Active"
    assert meta.labels == {
        "tenant-org-id": "org-001",
        "kubernetes.io/metadata.name": "org-001-alice",
    }
    assert re.fullmatch(r"[0-9a-f-]{36}", meta.uid)
    assert meta.resource_version.isdigit()
    raw = await core.read_namespace("org-001-alice", _preload_content=False)
    body = await raw.json()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["metadata"]["creationTimestamp"])


async def test_already_exists_status(
    core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str
) -> None:
    code, status = await api_error(core.create_namespace({"metadata": {"name": namespace}}))
    assert code == 409
    assert status == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": f'namespaces "{namespace}" already exists', "reason": "AlreadyExists",
        "details": {"name": namespace, "kind": "namespaces"}, "code": 409,
    }  # fmt: skip
    await apps.create_namespaced_stateful_set(namespace, statefulset_manifest())
    code, status = await api_error(
        apps.create_namespaced_stateful_set(namespace, statefulset_manifest())
    )
    assert (code, status["reason"], status["message"]) == (
        409, "AlreadyExists", 'statefulsets.apps "es" already exists',
    )  # fmt: skip
    assert status["details"] == {"name": "es", "group": "apps", "kind": "statefulsets"}


async def test_not_found_status(
    core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str
) -> None:
    code, status = await api_error(core.read_namespaced_pod("nope", namespace))
    assert (code, status["reason"], status["message"]) == (404, "NotFound", 'pods "nope" not found')
    code, status = await api_error(apps.read_namespaced_stateful_set("nope", namespace))
    assert status["message"] == 'statefulsets.apps "nope" not found'
    assert status["details"] == {"name": "nope", "group": "apps", "kind": "statefulsets"}
    code, status = await api_error(core.delete_namespaced_config_map("nope", namespace))
    assert code == 404


async def test_creating_in_a_missing_namespace_is_not_found(core: client.CoreV1Api) -> None:
    code, status = await api_error(
        core.create_namespaced_config_map("ghost", {"metadata": {"name": "cm"}})
    )
    assert (code, status["message"]) == (404, 'namespaces "ghost" not found')
    assert status["details"] == {"name": "ghost", "kind": "namespaces"}


@pytest.mark.parametrize(
    ("create", "body", "field", "fragment"),
    [
        ("namespace", {"metadata": {"name": "Bad_Name"}}, "metadata.name", "RFC 1123 label"),
        ("namespace", {"metadata": {}}, "metadata.name", "name or generateName is required"),
        ("namespace", {"metadata": {"name": "x" * 64}}, "metadata.name", "no more than 63"),
        ("namespace", {"metadata": {"name": "ok", "labels": {"bad key": "v"}}},
         "metadata.labels", "name part must consist"),
    ],
)  # fmt: skip
async def test_invalid_objects_are_422(
    core: client.CoreV1Api, create: str, body: dict[str, Any], field: str, fragment: str
) -> None:
    code, status = await api_error(core.create_namespace(body))
    assert (code, status["reason"]) == (422, "Invalid")
    assert status["details"]["kind"] == "Namespace"
    assert status["details"]["causes"][0]["field"] == field
    assert fragment in status["message"]


async def test_kind_specific_validation(
    core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str
) -> None:
    code, status = await api_error(
        core.create_namespaced_service(
            namespace, {"metadata": {"name": "9lives"}, "spec": {"ports": [{"port": 80}]}}
        )
    )
    assert code == 422 and "DNS-1035 label" in status["message"]
    bad = statefulset_manifest()
    bad["spec"]["selector"] = {"matchLabels": {"app": "other"}}
    code, status = await api_error(apps.create_namespaced_stateful_set(namespace, bad))
    assert code == 422
    assert status["message"].startswith(
        'StatefulSet.apps "es" is invalid: spec.template.metadata.labels'
    )
    assert status["details"]["group"] == "apps" and status["details"]["kind"] == "StatefulSet"
    no_image = statefulset_manifest()
    del no_image["spec"]["template"]["spec"]["containers"][0]["image"]
    code, status = await api_error(apps.create_namespaced_stateful_set(namespace, no_image))
    assert (
        code == 422
        and "spec.template.spec.containers[0].image: Required value" in status["message"]
    )


async def test_generate_name(core: client.CoreV1Api, namespace: str) -> None:
    created = await core.create_namespaced_config_map(
        namespace, {"metadata": {"generateName": "cfg-"}}
    )
    assert re.fullmatch(r"cfg-[a-z0-9]{5}", created.metadata.name)


async def test_replace_with_a_stale_resource_version_conflicts(
    core: client.CoreV1Api, namespace: str
) -> None:
    created = await core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "cfg"}, "data": {"a": "1"}}
    )
    first = created.metadata.resource_version
    created.data = {"a": "2"}
    updated = await core.replace_namespaced_config_map("cfg", namespace, created)
    assert int(updated.metadata.resource_version) > int(first)
    assert updated.metadata.uid == created.metadata.uid
    stale = {"metadata": {"name": "cfg", "resourceVersion": first}, "data": {"a": "3"}}
    code, status = await api_error(core.replace_namespaced_config_map("cfg", namespace, stale))
    assert (code, status["reason"]) == (409, "Conflict")
    assert status["message"] == (
        'Operation cannot be fulfilled on configmaps "cfg": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )
    # Without a resourceVersion the update is unconditional, as on a real server.
    forced = await core.replace_namespaced_config_map(
        "cfg", namespace, {"metadata": {"name": "cfg"}, "data": {"a": "4"}}
    )
    assert forced.data == {"a": "4"}
    code, status = await api_error(
        core.replace_namespaced_config_map("cfg", namespace, {"metadata": {"name": "other"}})
    )
    assert code == 400 and "does not match the name on the URL" in status["message"]


async def test_noop_update_keeps_the_resource_version(
    core: client.CoreV1Api, namespace: str
) -> None:
    created = await core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "cfg"}, "data": {"a": "1"}}
    )
    same = await core.replace_namespaced_config_map("cfg", namespace, created)
    assert same.metadata.resource_version == created.metadata.resource_version


async def test_generation_follows_spec_changes(apps: client.AppsV1Api, namespace: str) -> None:
    created = await apps.create_namespaced_stateful_set(namespace, statefulset_manifest())
    assert created.metadata.generation == 1
    labelled = await apps.patch_namespaced_stateful_set(
        "es", namespace, {"metadata": {"labels": {"x": "y"}}}
    )
    assert labelled.metadata.generation == 1
    scaled = await apps.patch_namespaced_stateful_set("es", namespace, {"spec": {"replicas": 2}})
    assert scaled.metadata.generation == 2


async def test_patch_flavours(
    core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str
) -> None:
    await apps.create_namespaced_stateful_set(namespace, statefulset_manifest())
    # A dict body is sent as a strategic merge patch: containers merge by name.
    patched = await apps.patch_namespaced_stateful_set(
        "es",
        namespace,
        {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {"name": "elasticsearch", "resources": {"limits": {"memory": "4Gi"}}}
                        ]
                    }
                }
            }
        },
    )
    [container] = patched.spec.template.spec.containers
    assert container.image == "elasticsearch:9.1.5"
    assert container.resources.limits == {"memory": "4Gi"}
    # A list body is sent as a JSON patch.
    patched = await apps.patch_namespaced_stateful_set(
        "es",
        namespace,
        [{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "es:10"}],
    )
    assert patched.spec.template.spec.containers[0].image == "es:10"
    code, status = await api_error(
        apps.patch_namespaced_stateful_set(
            "es", namespace, [{"op": "test", "path": "/spec/replicas", "value": 7}]
        )
    )
    assert code == 422
    # A merge patch replaces lists and can carry a resourceVersion precondition.
    await core.create_namespaced_config_map(namespace, {"metadata": {"name": "cfg"}})
    merged = await core.patch_namespaced_config_map(
        "cfg", namespace, {"data": {"k": "v"}}, _content_type="application/merge-patch+json"
    )
    assert merged.data == {"k": "v"}
    code, status = await api_error(
        core.patch_namespaced_config_map(
            "cfg",
            namespace,
            {"metadata": {"resourceVersion": "1"}, "data": {"k": "w"}},
            _content_type="application/merge-patch+json",
        )
    )
    assert (code, status["reason"]) == (409, "Conflict")


async def test_unsupported_patch_type_is_415(http: aiohttp.ClientSession, namespace: str) -> None:
    async with http.patch(
        f"/api/v1/namespaces/{namespace}",
        data="a: b",
        headers={"Content-Type": "application/apply-patch+yaml"},
    ) as response:
        assert response.status == 415
        assert (await response.json())["reason"] == "UnsupportedMediaType"


async def test_delete_answers_like_the_real_registry(
    core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str, http: aiohttp.ClientSession
) -> None:
    await core.create_namespaced_pod(
        namespace,
        {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}},
    )
    deleted_pod = await core.delete_namespaced_pod("p", namespace)
    assert deleted_pod.kind == "Pod" and deleted_pod.metadata.name == "p"
    await apps.create_namespaced_stateful_set(namespace, statefulset_manifest())
    async with http.delete(f"/apis/apps/v1/namespaces/{namespace}/statefulsets/es") as response:
        assert response.status == 200
        status = await response.json()
    assert status["kind"] == "Status" and status["status"] == "Success"
    assert status["details"]["name"] == "es" and status["details"]["group"] == "apps"
    assert status["details"]["kind"] == "statefulsets" and status["details"]["uid"]


async def test_delete_preconditions(core: client.CoreV1Api, namespace: str) -> None:
    await core.create_namespaced_config_map(namespace, {"metadata": {"name": "cfg"}})
    code, status = await api_error(
        core.delete_namespaced_config_map(
            "cfg", namespace, body={"preconditions": {"uid": "someone-else"}}
        )
    )
    assert (
        code == 409
        and "Precondition failed: UID in precondition: someone-else" in status["message"]
    )


async def test_list_across_namespaces_and_list_shape(
    core: client.CoreV1Api, apps: client.AppsV1Api, http: aiohttp.ClientSession
) -> None:
    for name in ("ns-b", "ns-a"):
        await core.create_namespace({"metadata": {"name": name}})
        await apps.create_namespaced_stateful_set(name, statefulset_manifest())
    every = await apps.list_stateful_set_for_all_namespaces()
    assert [(s.metadata.namespace, s.metadata.name) for s in every.items] == [
        ("ns-a", "es"),
        ("ns-b", "es"),
    ]
    pods = await core.list_pod_for_all_namespaces(label_selector="app=es")
    assert {p.metadata.namespace for p in pods.items} <= {"ns-a", "ns-b"}
    async with http.get("/api/v1/namespaces") as response:
        listing = await response.json()
    assert listing["kind"] == "NamespaceList" and listing["apiVersion"] == "v1"
    assert listing["metadata"]["resourceVersion"].isdigit()
    assert "kind" not in listing["items"][0]  # list items carry no kind, as on a real server


async def test_label_and_field_selectors(core: client.CoreV1Api) -> None:
    for name, labels in (
        ("org-001-alice", {"tenant-org-id": "org-001", "user": "alice"}),
        ("org-001-bob", {"tenant-org-id": "org-001", "user": "bob"}),
        ("org-002-alice", {"tenant-org-id": "org-002", "user": "alice"}),
    ):
        await core.create_namespace({"metadata": {"name": name, "labels": labels}})

    async def names(**query: str) -> list[str]:
        return [n.metadata.name for n in (await core.list_namespace(**query)).items]

    assert await names(label_selector="tenant-org-id=org-001") == ["org-001-alice", "org-001-bob"]
    assert await names(label_selector="tenant-org-id=org-001,user=alice") == ["org-001-alice"]
    assert await names(label_selector="user in (bob),tenant-org-id") == ["org-001-bob"]
    assert await names(label_selector="tenant-org-id!=org-001,user") == ["org-002-alice"]
    assert await names(field_selector="metadata.name=org-002-alice") == ["org-002-alice"]
    assert "default" not in await names(field_selector="metadata.name!=default")
    code, status = await api_error(core.list_namespace(label_selector="user in (bob"))
    assert (code, status["reason"]) == (400, "BadRequest")
    code, status = await api_error(core.list_namespace(field_selector="spec.foo=bar"))
    assert (code, status["message"]) == (400, "field label not supported: spec.foo")


async def test_pagination(core: client.CoreV1Api, namespace: str) -> None:
    for index in range(5):
        await core.create_namespaced_config_map(namespace, {"metadata": {"name": f"cm-{index}"}})
    first = await core.list_namespaced_config_map(namespace, limit=2)
    assert [c.metadata.name for c in first.items] == ["cm-0", "cm-1"]
    assert first.metadata.remaining_item_count == 3
    rest = await core.list_namespaced_config_map(
        namespace, limit=10, _continue=first.metadata._continue
    )
    assert [c.metadata.name for c in rest.items] == ["cm-2", "cm-3", "cm-4"]
    assert rest.metadata._continue is None


async def test_dry_run_persists_nothing(core: client.CoreV1Api, namespace: str) -> None:
    created = await core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "cfg"}}, dry_run="All"
    )
    assert created.metadata.uid
    assert (await core.list_namespaced_config_map(namespace)).items == []


async def test_services_get_cluster_ips(core: client.CoreV1Api, namespace: str) -> None:
    spec = {"selector": {"app": "es"}, "ports": [{"name": "http", "port": 9200}]}
    service = await core.create_namespaced_service(
        namespace, {"metadata": {"name": "es"}, "spec": spec}
    )
    ip = service.spec.cluster_ip
    assert re.fullmatch(r"10\.9[6-9]\.\d+\.\d+|10\.1[01]\d\.\d+\.\d+", ip)
    assert service.spec.ports[0].target_port == 9200 and service.spec.ports[0].protocol == "TCP"
    headless = await core.create_namespaced_service(
        namespace, {"metadata": {"name": "es-headless"}, "spec": {**spec, "clusterIP": "None"}}
    )
    assert headless.spec.cluster_ip == "None"
    second = await core.create_namespaced_service(
        namespace, {"metadata": {"name": "es2"}, "spec": spec}
    )
    assert second.spec.cluster_ip != ip
    # An update that omits clusterIP keeps it; changing it is refused.
    kept = await core.replace_namespaced_service(
        "es", namespace, {"metadata": {"name": "es"}, "spec": spec}
    )
    assert kept.spec.cluster_ip == ip
    code, status = await api_error(
        core.replace_namespaced_service(
            "es",
            namespace,
            {"metadata": {"name": "es"}, "spec": {**spec, "clusterIP": "10.96.99.99"}},
        )
    )
    assert code == 422 and "may not change once set" in status["message"]


async def test_statefulset_spec_immutability(apps: client.AppsV1Api, namespace: str) -> None:
    await apps.create_namespaced_stateful_set(namespace, statefulset_manifest())
    changed = statefulset_manifest()
    changed["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] = "20Gi"
    code, status = await api_error(apps.replace_namespaced_stateful_set("es", namespace, changed))
    assert code == 422
    assert "updates to statefulset spec for fields other than 'replicas'" in status["message"]
    # replicas and template are mutable through a full replace.
    allowed = statefulset_manifest(replicas=3, image="elasticsearch:9.2.0")
    replaced = await apps.replace_namespaced_stateful_set("es", namespace, allowed)
    assert replaced.spec.replicas == 3


def deployment_manifest(name: str = "web", **labels: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": labels or {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
            },
        },
    }


async def test_deployments_are_defaulted_and_validated(
    apps: client.AppsV1Api, namespace: str
) -> None:
    created = await apps.create_namespaced_deployment(namespace, deployment_manifest())
    assert created.spec.replicas == 1
    assert created.spec.strategy.type == "RollingUpdate"
    assert created.spec.strategy.rolling_update.max_unavailable == "25%"
    assert created.spec.template.spec.containers[0].image_pull_policy == "IfNotPresent"
    code, status = await api_error(
        apps.create_namespaced_deployment(namespace, deployment_manifest("bad", app="other"))
    )
    assert code == 422 and "`selector` does not match template `labels`" in status["message"]
    moved = deployment_manifest(app="other")
    moved["spec"]["selector"] = {"matchLabels": {"app": "other"}}
    code, status = await api_error(apps.replace_namespaced_deployment("web", namespace, moved))
    assert code == 422 and "field is immutable" in status["message"]
    scale = await apps.patch_namespaced_deployment_scale("web", namespace, {"spec": {"replicas": 3}})
    assert scale.spec.replicas == 3


async def test_pvc_expansion_and_immutability(core: client.CoreV1Api, namespace: str) -> None:
    claim = {
        "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
    created = await core.create_namespaced_persistent_volume_claim(namespace, claim)
    assert created.status.phase == "Bound" and created.status.capacity == {"storage": "1Gi"}
    assert created.spec.storage_class_name == "standard"
    grown = await core.patch_namespaced_persistent_volume_claim(
        "data", namespace, {"spec": {"resources": {"requests": {"storage": "2Gi"}}}}
    )
    assert grown.status.capacity == {"storage": "2Gi"}
    code, status = await api_error(
        core.patch_namespaced_persistent_volume_claim(
            "data", namespace, {"spec": {"resources": {"requests": {"storage": "1Gi"}}}}
        )
    )
    assert code == 422 and "can not be less than" in status["message"]
    code, status = await api_error(
        core.patch_namespaced_persistent_volume_claim(
            "data", namespace, {"spec": {"accessModes": ["ReadWriteMany"]}}
        )
    )
    assert code == 422 and "spec is immutable after creation" in status["message"]


async def test_secret_string_data_is_encoded(core: client.CoreV1Api, namespace: str) -> None:
    secret = await core.create_namespaced_secret(
        namespace, {"metadata": {"name": "creds"}, "stringData": {"password": "hunter2"}}
    )
    assert secret.type == "Opaque"
    assert secret.data == {"password": "aHVudGVyMg=="}
    assert secret.string_data is None


async def test_network_policies(api: client.ApiClient, namespace: str) -> None:
    networking = client.NetworkingV1Api(api)
    policy = await networking.create_namespaced_network_policy(
        namespace,
        {
            "metadata": {"name": "isolate"},
            "spec": {
                "podSelector": {"matchLabels": {"app": "es"}},
                "ingress": [{"from": [{"podSelector": {}}]}],
            },
        },
    )
    assert policy.spec.policy_types == ["Ingress"]
    listed = await networking.list_namespaced_network_policy(namespace)
    assert [p.metadata.name for p in listed.items] == ["isolate"]
    await networking.delete_namespaced_network_policy("isolate", namespace)
    assert (await networking.list_namespaced_network_policy(namespace)).items == []


async def test_unknown_paths_and_methods(http: aiohttp.ClientSession) -> None:
    async with http.get("/api/v1/widgets") as response:
        assert response.status == 404
        assert (await response.json())[
            "message"
        ] == "the server could not find the requested resource"
    async with http.get("/apis/apps/v1/statefulsets/es") as response:
        assert response.status == 404  # a namespaced object needs its namespace
    async with http.put("/api/v1/namespaces") as response:
        assert response.status == 405
        assert (await response.json())["reason"] == "MethodNotAllowed"
    async with http.post(
        "/api/v1/namespaces", data="{not json", headers={"Content-Type": "application/json"}
    ) as response:
        assert response.status == 400
