"""POST /clusters and the query endpoints, end to end (the app in process): spec
shapes, defaults, the spec's scenarios and every error."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.support.inprocess import create, wait_for_status

pytestmark = pytest.mark.asyncio(loop_scope="module")

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
# The specification's keys, and the one the platform adds (the Elasticsearch version).
CONTAINER_KEYS = {
    "id", "tenant_org_id", "user", "service_name", "namespace", "replicas", "cpu", "memory",
    "disk", "gpu_count", "dimension", "vector_count", "status", "created_at", "sync_time",
    "version",
}  # fmt: skip
DEPLOYMENT_KEYS = {
    "id", "tenant_org_id", "namespace", "user", "service_name", "status", "cpu_usage",
    "memory_usage", "disk_usage", "qps", "gpu_count", "dimension", "vector_count", "replicas",
    "created_at", "updated_at", "details", "version",
}  # fmt: skip


async def test_seed_example_is_accepted_recorded_and_provisioned(
    shared_admin: httpx.AsyncClient, org: str
) -> None:
    response = await create(shared_admin, org, "alice", "vector-search", replicas=2,
        cpu_request="1", cpu_limit="4", mem_request="2Gi", mem_limit="8Gi", disk_size="50Gi",
        gpu_count=1, dimension=512, vector_count=1000000, index_limit=10,
    )  # fmt: skip
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert set(accepted) == CONTAINER_KEYS
    assert re.fullmatch(r"tenant_alice_vector-search_\d+", accepted["id"])
    assert accepted["namespace"] == f"{org}-alice-vector-search"
    assert accepted["status"] in {"pending", "creating"}
    assert (accepted["cpu"], accepted["memory"], accepted["disk"]) == ("1/4", "2Gi/8Gi", "50Gi")
    assert (accepted["replicas"], accepted["gpu_count"]) == (2, 1)
    assert (accepted["dimension"], accepted["vector_count"]) == (512, 1000000)
    assert TIMESTAMP.match(accepted["created_at"])

    created = await wait_for_status(
        shared_admin,
        user="alice",
        service_name="vector-search",
        tenant_org_id=org,
        wanted={"created"},
    )
    assert set(created) == CONTAINER_KEYS
    assert TIMESTAMP.match(created["sync_time"])
    assert created["id"] == accepted["id"]

    deployment = (await shared_admin.get(f"/deployments/{org}-alice-vector-search")).json()
    assert set(deployment) == DEPLOYMENT_KEYS
    assert re.fullmatch(rf"deploy_{org}-alice-vector-search_\d+", deployment["id"])
    assert deployment["id"].rsplit("_", 1)[1] == accepted["id"].rsplit("_", 1)[1]
    assert deployment["status"] == "created"
    assert deployment["tenant_org_id"] == org
    assert (deployment["cpu_usage"], deployment["qps"]) == (0.0, 0.0)
    assert deployment["details"] == {
        "cpu_request": "1", "cpu_limit": "4", "mem_request": "2Gi", "mem_limit": "8Gi",
        "disk_size": "50Gi", "gpu_count": 1, "dimension": 512, "vector_count": 1000000,
        "index_limit": 10,
    }  # fmt: skip
    assert TIMESTAMP.match(deployment["updated_at"])


async def test_defaults_are_the_specs(shared_admin: httpx.AsyncClient, org: str) -> None:
    body = (await create(shared_admin, org, "bob", "image-search")).json()
    assert body["replicas"] == 1
    assert (body["cpu"], body["memory"], body["disk"]) == ("500m/2", "1Gi/2Gi", "10Gi")
    assert (body["gpu_count"], body["dimension"], body["vector_count"]) == (0, 128, 10000)
    details = (await shared_admin.get(f"/deployments/{org}-bob-image-search")).json()["details"]
    assert details["index_limit"] == 0


async def test_scenario_several_users_in_one_organisation(
    shared_admin: httpx.AsyncClient, org: str
) -> None:
    assert (await create(shared_admin, org, "alice", "vector-search")).is_success
    assert (await create(shared_admin, org, "bob", "image-search")).is_success
    listed = (await shared_admin.get(f"/tenant/containers/org/{org}")).json()
    assert [(c["user"], c["service_name"]) for c in listed] == [
        ("alice", "vector-search"),
        ("bob", "image-search"),
    ]
    assert all(set(c) == CONTAINER_KEYS for c in listed)
    everything = (await shared_admin.get("/tenant/containers")).json()
    assert {c["id"] for c in listed} <= {c["id"] for c in everything}


async def test_scenario_organisations_are_isolated(
    shared_admin: httpx.AsyncClient, org: str
) -> None:
    other = f"{org}-b"
    first = (await create(shared_admin, org, "alice", "search")).json()
    second = (await create(shared_admin, other, "alice", "search")).json()
    assert first["id"] != second["id"]
    assert (first["namespace"], second["namespace"]) == (
        f"{org}-alice-search",
        f"{other}-alice-search",
    )
    assert [c["id"] for c in (await shared_admin.get(f"/tenant/containers/org/{org}")).json()] == [
        first["id"]
    ]
    assert [
        c["id"] for c in (await shared_admin.get(f"/tenant/containers/org/{other}")).json()
    ] == [second["id"]]

    ambiguous = await shared_admin.get("/tenant/containers/alice/search")
    assert ambiguous.status_code == 409
    assert "tenant_org_id" in ambiguous.json()["error"]
    picked = await shared_admin.get(
        "/tenant/containers/alice/search", params={"tenant_org_id": other}
    )
    assert picked.json()["id"] == second["id"]


async def test_unknown_org_lists_nothing_and_unknown_container_is_404(
    shared_admin: httpx.AsyncClient, org: str
) -> None:
    assert (await shared_admin.get(f"/tenant/containers/org/{org}")).json() == []
    missing = await shared_admin.get(f"/tenant/containers/nobody-{org}/nothing")
    assert missing.status_code == 404
    assert "nothing" in missing.json()["error"]
    deployment = await shared_admin.get(f"/deployments/{org}-none")
    assert deployment.status_code == 404
    assert set(deployment.json()) == {"error"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "tenant_org_id is required for multi-tenancy"),
        ({"user": "alice", "service_name": "s"}, "tenant_org_id is required for multi-tenancy"),
        ({"tenant_org_id": "", "user": "", "service_name": ""}, "tenant_org_id is required for multi-tenancy"),
        ({"tenant_org_id": "o", "service_name": "s"}, "user is required"),
        ({"tenant_org_id": "o", "user": "  ", "service_name": "s"}, "user is required"),
        ({"tenant_org_id": "o", "user": "alice"}, "service_name is required"),
        ({"tenant_org_id": "o", "user": "alice", "service_name": None}, "service_name is required"),
    ],
)  # fmt: skip
async def test_missing_required_fields_get_the_specs_errors(
    shared_admin: httpx.AsyncClient, body: dict[str, Any], message: str
) -> None:
    response = await shared_admin.post("/clusters", json=body)
    assert response.status_code == 400
    assert response.json() == {"error": message}


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ({"user": "Alice"}, 'user "Alice" is not a valid name'),
        ({"service_name": "a.b"}, 'service_name "a.b" is not a valid name'),
        ({"service_name": "a/b"}, "is not a valid name"),
        ({"service_name": "x" * 64}, "at most 63 characters"),
        ({"service_name": "s" * 50}, "generated namespace"),
        ({"user": 5}, "user must be a string"),
        ({"replicas": 0}, "replicas must be between 1"),
        ({"replicas": "2"}, "replicas must be an integer, got a string"),
        ({"replicas": True}, "replicas must be an integer, got a boolean"),
        ({"replicas": 1.5}, "replicas must be an integer"),
        ({"gpu_count": -1}, "gpu_count must be between 0"),
        ({"vector_count": -5}, "vector_count must be between 0"),
        ({"vector_count": 10**30}, "vector_count must be between 0"),
        ({"index_limit": -1}, "index_limit must be between 0"),
        ({"dimension": 0}, "dimension must be between 1"),
        ({"cpu_request": "2GB"}, "cpu_request"),
        ({"mem_limit": "lots"}, "mem_limit"),
        ({"disk_size": 10}, "disk_size must be a Kubernetes quantity string"),
        ({"disk_size": "0"}, "disk_size must be greater than zero"),
        ({"cpu_request": "3", "cpu_limit": "2"}, 'cpu_request ("3") must not exceed cpu_limit ("2")'),
        ({"mem_request": "4Gi"}, "mem_request"),
        ({"namespace": "Bad_NS"}, 'namespace "Bad_NS" is not a valid name'),
        ({"namespace": "kube-system"}, "reserved"),
        ({"namespace": "es-serverless"}, "reserved"),  # the platform's, trusted by every tenant
        ({"gitlab_url": "ftp://x"}, "gitlab_url must be an http(s) URL"),
        ({"gitlab_url": "https://x\ny"}, "gitlab_url must be an http(s) URL"),
        ({"disk_size": "1" + "0" * 40}, "disk_size must be at most 32 characters"),
        ({"Replicas": 5}, "unknown field(s) Replicas; a create request takes tenant_org_id, user"),
        ({"replicas": 2, "zone": "a", "colour": "b"}, "unknown field(s) colour, zone;"),
    ],
)  # fmt: skip
async def test_bad_values_are_refused_with_clear_messages(
    shared_admin: httpx.AsyncClient, org: str, extra: dict[str, Any], fragment: str
) -> None:
    body = {"tenant_org_id": org, "user": "alice", "service_name": "svc", **extra}
    response = await shared_admin.post("/clusters", json=body)
    assert response.status_code == 400, response.text
    assert fragment in response.json()["error"]
    assert (
        await shared_admin.get(f"/tenant/containers/org/{org}")
    ).json() == []  # nothing half-written


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"", b'"text"', b"\xff\xfe"])
async def test_malformed_bodies_are_400(shared_admin: httpx.AsyncClient, raw: bytes) -> None:
    response = await shared_admin.post(
        "/clusters", content=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert set(response.json()) == {"error"}


async def test_same_tenant_twice_is_409(shared_admin: httpx.AsyncClient, org: str) -> None:
    assert (await create(shared_admin, org, "alice", "dup")).status_code == 202
    again = await create(shared_admin, org, "alice", "dup", replicas=3)
    assert again.status_code == 409
    assert "already exists" in again.json()["error"]
    assert len((await shared_admin.get(f"/tenant/containers/org/{org}")).json()) == 1


async def test_generated_namespace_collision_is_409(
    shared_admin: httpx.AsyncClient, org: str
) -> None:
    # a-b + c and a + b-c both generate <org>-a-b-c.
    assert (await create(shared_admin, org, "a-b", "c")).status_code == 202
    clash = await create(shared_admin, org, "a", "b-c")
    assert clash.status_code == 409
    assert clash.json()["error"] == (
        f'namespace "{org}-a-b-c" is not available: it already exists; choose another namespace'
    )
    explicit = await create(shared_admin, org, "a", "b-c", namespace=f"{org}-abc")
    assert explicit.status_code == 202
    assert explicit.json()["namespace"] == f"{org}-abc"


async def test_unknown_routes_and_methods_answer_json_errors(
    shared_admin: httpx.AsyncClient,
) -> None:
    missing = await shared_admin.get("/nope")
    assert missing.status_code == 404
    assert set(missing.json()) == {"error"}
    wrong = await shared_admin.get("/clusters")
    assert wrong.status_code == 405
    assert set(wrong.json()) == {"error"}
