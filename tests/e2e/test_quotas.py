"""Quotas (spec section 9) through real HTTP, REST and GraphQL, against the sandbox:
the section 9 document exactly, usage arithmetic with mixed units, refusals at every
level at create and at update, atomic enforcement under concurrent creates, operator
defaults, and who may read and set them."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from app.models.quota import QuotaLimits
from tests.conftest import MakeApp
from tests.support.inprocess import (
    InProcessServer,
    create,
    create_accepted,
    graphql,
    wait_for_status,
)

SPEC_QUOTA = {
    "max_clusters": 10,
    "max_cpu": "100",
    "max_memory": "200Gi",
    "max_disk": "1Ti",
    "max_gpu": 5,
}
UNLIMITED = dict.fromkeys(SPEC_QUOTA)
NOTHING_HELD = {"clusters": 0, "cpu": "0", "memory": "0", "disk": "0", "gpu": 0}


def org_path(org: str) -> str:
    return f"/tenant/quota/org/{org}"


async def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def refused(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == ["error"]
    message: str = body["error"]
    return message


async def api_key(admin: httpx.AsyncClient, org: str, user: str | None = None) -> str:
    body = {"tenant_org_id": org, "name": "test", **({"user": user} if user else {})}
    issued = await ok(await admin.post("/api-keys", json=body), 201)
    secret: str = issued["secret"]
    return secret


async def test_the_section_9_document_exactly(admin_client: httpx.AsyncClient) -> None:
    http = admin_client
    assert await ok(await http.get(org_path("org-001"))) == {
        "tenant_org_id": "org-001",
        "quota": UNLIMITED,
        "current_usage": NOTHING_HELD,
    }
    assert await ok(await http.put(org_path("org-001"), json=SPEC_QUOTA)) == {
        "tenant_org_id": "org-001",
        "quota": SPEC_QUOTA,
        "current_usage": NOTHING_HELD,
    }
    await create_accepted(
        http, "org-001", "alice", "vector-search",
        replicas=2, cpu_limit="2", mem_limit="4Gi", disk_size="20Gi",
    )  # fmt: skip
    await create_accepted(
        http, "org-001", "bob", "image-search",
        cpu_limit="1", mem_limit="2Gi", disk_size="20Gi", gpu_count=1,
    )  # fmt: skip
    # The spec's example, key for key and in its order.
    document = await ok(await http.get(org_path("org-001")))
    assert document == {
        "tenant_org_id": "org-001",
        "quota": {"max_clusters": 10, "max_cpu": "100", "max_memory": "200Gi",
                  "max_disk": "1Ti", "max_gpu": 5},
        "current_usage": {"clusters": 2, "cpu": "5", "memory": "10Gi",
                          "disk": "60Gi", "gpu": 1},
    }  # fmt: skip
    assert list(document) == ["tenant_org_id", "quota", "current_usage"]
    assert list(document["quota"]) == list(SPEC_QUOTA)
    # The user and service documents name their subject too.
    user = await ok(await http.get(f"{org_path('org-001')}/user/alice"))
    assert user == {
        "tenant_org_id": "org-001",
        "user": "alice",
        "quota": UNLIMITED,
        "current_usage": {"clusters": 1, "cpu": "4", "memory": "8Gi", "disk": "40Gi", "gpu": 0},
    }
    service = await ok(await http.get(f"{org_path('org-001')}/service/bob/image-search"))
    assert service["service_name"] == "image-search"
    assert service["current_usage"] == {
        "clusters": 1, "cpu": "1", "memory": "2Gi", "disk": "20Gi", "gpu": 1,
    }  # fmt: skip
    # PUT also takes the whole document GET answers (current_usage is read-only).
    edited = {**document, "quota": {**document["quota"], "max_gpu": 2}}
    assert (await ok(await http.put(org_path("org-001"), json=edited)))["quota"]["max_gpu"] == 2


async def test_usage_adds_mixed_units_exactly(admin_client: httpx.AsyncClient, org: str) -> None:
    http = admin_client
    await create_accepted(
        http, org, "alice", "a", replicas=3, cpu_request="250m", cpu_limit="500m",
        mem_request="256Mi", mem_limit="512Mi", disk_size="1Ti",
    )  # fmt: skip
    await create_accepted(
        http, org, "alice", "b", cpu_request="1", cpu_limit="1.5", mem_request="1Gi",
        mem_limit="1Gi", disk_size="512Gi", gpu_count=2,
    )  # fmt: skip
    usage = (await ok(await http.get(org_path(org))))["current_usage"]
    # cpu 3 x 0.5 + 1.5 = 3; memory 3 x 512Mi + 1Gi = 2.5Gi; disk 3Ti + 512Gi.
    assert usage == {"clusters": 2, "cpu": "3", "memory": "2560Mi", "disk": "3584Gi", "gpu": 2}
    await create_accepted(http, org, "bob", "c", cpu_request="100m", cpu_limit="250m")
    usage = (await ok(await http.get(org_path(org))))["current_usage"]
    assert usage["cpu"] == "3250m"


async def test_the_organisation_quota_refuses_with_the_specified_words(
    admin_client: httpx.AsyncClient,
) -> None:
    http = admin_client
    await ok(await http.put(org_path("org-001"), json={"max_cpu": "100"}))
    await create_accepted(http, "org-001", "alice", "big", replicas=25, cpu_limit="4")
    message = await refused(await create(http, "org-001", "bob", "more", cpu_limit="4"), 403)
    assert message == "quota exceeded for organization org-001: cpu would be 104 > 100"
    # Nothing of the refused create was recorded.
    listed = await ok(await http.get("/tenant/containers/org/org-001"))
    assert [c["service_name"] for c in listed] == ["big"]
    # GraphQL: the same words, code QUOTA_EXCEEDED.
    body = await graphql(
        http,
        'mutation { createCluster(input: {tenantOrgId: "org-001", user: "bob", '
        'serviceName: "more", cpuLimit: "4"}) { id } }',
    )
    assert body["data"] is None
    [error] = body["errors"]
    assert error["message"] == message
    assert error["extensions"]["code"] == "QUOTA_EXCEEDED"


@pytest.mark.parametrize(
    ("limit", "create_fields", "expected"),
    [
        ({"max_clusters": 1}, {}, "clusters would be 2 > 1"),
        ({"max_memory": "3Gi"}, {"mem_limit": "2Gi"}, "memory would be 4Gi > 3Gi"),
        ({"max_disk": "15Gi"}, {}, "disk would be 20Gi > 15Gi"),
        ({"max_gpu": 1}, {"gpu_count": 1}, "gpu would be 2 > 1"),
    ],
)
async def test_each_resource_of_the_organisation_quota(
    admin_client: httpx.AsyncClient,
    org: str,
    limit: dict[str, Any],
    create_fields: dict[str, Any],
    expected: str,
) -> None:
    http = admin_client
    await ok(await http.put(org_path(org), json=limit))
    await create_accepted(http, org, "alice", "one", **create_fields)
    message = await refused(await create(http, org, "alice", "two", **create_fields), 403)
    assert message == f"quota exceeded for organization {org}: {expected}"


async def test_user_and_service_quotas(admin_client: httpx.AsyncClient, org: str) -> None:
    http = admin_client
    await ok(await http.put(f"{org_path(org)}/user/alice", json={"max_cpu": "4"}))
    await create_accepted(http, org, "alice", "one", cpu_limit="3")
    message = await refused(await create(http, org, "alice", "two", cpu_limit="2"), 403)
    assert message == f"quota exceeded for user alice of organization {org}: cpu would be 5 > 4"
    # Another user of the organisation is not bound by alice's quota.
    await create_accepted(http, org, "bob", "two", cpu_limit="2")

    # A service quota can be set before the service exists, and binds that one cluster.
    await ok(await http.put(f"{org_path(org)}/service/bob/three", json={"max_memory": "1Gi"}))
    message = await refused(await create(http, org, "bob", "three", mem_limit="2Gi"), 403)
    assert message == (
        f"quota exceeded for service three of user bob in organization {org}: "
        "memory would be 2Gi > 1Gi"
    )
    await create_accepted(http, org, "bob", "three", mem_request="1Gi", mem_limit="1Gi")


async def test_updates_are_held_to_the_quota_and_only_growth_is_refused(
    admin_client: httpx.AsyncClient, org: str
) -> None:
    http = admin_client
    await ok(await http.put(org_path(org), json={"max_cpu": "6"}))
    created = await create_accepted(http, org, "alice", "svc", replicas=2, cpu_limit="2")
    namespace = created["namespace"]
    await wait_for_status(
        http, user="alice", service_name="svc", tenant_org_id=org, wanted={"created"}
    )
    message = await refused(await http.patch(f"/clusters/{namespace}", json={"replicas": 4}), 403)
    assert message == f"quota exceeded for organization {org}: cpu would be 8 > 6"
    message = await refused(
        await http.patch(f"/clusters/{namespace}", json={"cpu_limit": "4"}), 403
    )
    assert message == f"quota exceeded for organization {org}: cpu would be 8 > 6"
    # The refused updates changed nothing.
    container = await ok(await http.get(f"/tenant/containers/alice/svc?tenant_org_id={org}"))
    assert (container["status"], container["replicas"], container["cpu"]) == (
        "created",
        2,
        "500m/2",
    )

    # Lowering the quota below what is held is allowed ...
    lowered = await ok(await http.put(org_path(org), json={"max_cpu": "2"}))
    assert lowered["current_usage"]["cpu"] == "4"
    # ... blocks growth of that resource ...
    await refused(await http.patch(f"/clusters/{namespace}", json={"cpu_limit": "3"}), 403)
    # ... but not changes that do not grow it, nor a shrink, nor a re-apply.
    await ok(await http.patch(f"/clusters/{namespace}", json={"mem_limit": "3Gi"}), 202)
    await wait_for_status(
        http, user="alice", service_name="svc", tenant_org_id=org, wanted={"created"}
    )
    await ok(await http.patch(f"/clusters/{namespace}", json={"replicas": 1}), 202)
    await wait_for_status(
        http, user="alice", service_name="svc", tenant_org_id=org, wanted={"created"}
    )
    await ok(await http.patch(f"/clusters/{namespace}", json={}), 202)


async def test_deleted_clusters_free_their_share(admin_client: httpx.AsyncClient, org: str) -> None:
    http = admin_client
    await ok(await http.put(org_path(org), json={"max_clusters": 1}))
    first = await create_accepted(http, org, "alice", "one")
    await wait_for_status(
        http, user="alice", service_name="one", tenant_org_id=org, wanted={"created"}
    )
    await refused(await create(http, org, "alice", "two"), 403)
    await ok(await http.delete(f"/clusters/{first['namespace']}"), 202)
    await wait_for_status(
        http, user="alice", service_name="one", tenant_org_id=org,
        wanted={"deleted"}, include_deleted=True,
    )  # fmt: skip
    assert (await ok(await http.get(org_path(org))))["current_usage"] == NOTHING_HELD
    await create_accepted(http, org, "alice", "two")


async def test_twenty_concurrent_creates_against_five_clusters(
    admin_client: httpx.AsyncClient, org: str
) -> None:
    http = admin_client
    await ok(await http.put(org_path(org), json={"max_clusters": 5}))
    answers = await asyncio.gather(
        *(create(http, org, f"user{n % 4}", f"svc{n}") for n in range(20))
    )
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [202] * 5 + [403] * 15, [a.text for a in answers]
    listed = await ok(await http.get(f"/tenant/containers/org/{org}"))
    assert len(listed) == 5
    assert (await ok(await http.get(org_path(org))))["current_usage"]["clusters"] == 5


async def test_operator_defaults_apply_until_a_quota_is_set(make_app: MakeApp) -> None:
    app: InProcessServer = await make_app(
        default_org_quota=QuotaLimits(max_clusters=1, max_cpu="8"),
        default_user_quota=QuotaLimits(max_gpu=0),
    )
    async with app.client() as http:
        document = await ok(await http.get(org_path("acme")))
        assert document["quota"] == {**UNLIMITED, "max_clusters": 1, "max_cpu": "8"}
        await create_accepted(http, "acme", "alice", "one")
        assert await refused(await create(http, "acme", "alice", "two"), 403) == (
            "quota exceeded for organization acme: clusters would be 2 > 1"
        )
        # A GPU is refused by the default user quota (max_gpu 0) once clusters are allowed.
        await ok(await http.put(org_path("acme"), json={"max_clusters": 3}))
        assert await refused(await create(http, "acme", "alice", "two", gpu_count=1), 403) == (
            "quota exceeded for user alice of organization acme: gpu would be 1 > 0"
        )
        await create_accepted(http, "acme", "alice", "two")
        # Removing the organisation's own quota brings the default back.
        removed = await ok(await http.delete(org_path("acme")))
        assert removed["quota"]["max_clusters"] == 1
        assert removed["current_usage"]["clusters"] == 2
        body = await graphql(http, '{ quota(tenantOrgId: "acme") { isDefault quota { maxCpu } } }')
        assert body["data"]["quota"] == {"isDefault": True, "quota": {"maxCpu": "8"}}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"max_cpu": "lots"}, 'max_cpu: "lots" is not a valid Kubernetes quantity'),
        ({"max_cpu": "-1"}, "negative quantities are not allowed"),
        ({"max_clusters": -1}, "max_clusters must be between 0 and"),
        ({"max_clusters": "5"}, "max_clusters must be an integer, got a string"),
        ({"max_gpu": 1.5}, "max_gpu must be an integer"),
        ({"enforce_sizing": "yes"}, "enforce_sizing must be true or false, got a string"),
        ({"max_pods": 3}, "unknown field(s) max_pods; a quota takes max_clusters, max_cpu"),
        ([1, 2], "request body must be a JSON object"),
    ],
)
async def test_bad_quotas_are_refused_with_a_clear_error(
    admin_client: httpx.AsyncClient, org: str, body: Any, expected: str
) -> None:
    message = await refused(await admin_client.put(org_path(org), json=body), 400)
    assert expected in message
    # Nothing was stored.
    assert (await ok(await admin_client.get(org_path(org))))["quota"] == UNLIMITED


async def test_a_zero_limit_allows_nothing_of_that_resource(
    admin_client: httpx.AsyncClient, org: str
) -> None:
    await ok(await admin_client.put(org_path(org), json={"max_gpu": 0, "max_disk": "0"}))
    message = await refused(await create(admin_client, org, "alice", "svc"), 403)
    assert message == f"quota exceeded for organization {org}: disk would be 10Gi > 0"


@pytest.mark.parametrize(
    "path",
    [
        "/tenant/quota/org/Bad_Org",
        "/tenant/quota/org/ok/user/-x",
        "/tenant/quota/org/ok/service/a/B",
    ],
)
async def test_bad_names_in_the_path(admin_client: httpx.AsyncClient, path: str) -> None:
    assert "is not a valid name" in await refused(await admin_client.get(path), 400)


async def test_who_may_read_and_set_quotas(admin_client: httpx.AsyncClient, org: str) -> None:
    admin = admin_client
    other = f"{org}-other"
    await ok(await admin.put(org_path(org), json={"max_clusters": 4}))
    await ok(await admin.put(org_path(other), json={"max_clusters": 9}))
    await create_accepted(admin, org, "alice", "a")
    await create_accepted(admin, org, "bob", "b")
    transport, base = admin._transport, admin.base_url

    def as_key(secret: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=transport, base_url=base, headers={"Authorization": f"Bearer {secret}"}
        )

    async with as_key(await api_key(admin, org)) as org_key:
        assert (await ok(await org_key.get(org_path(org))))["quota"]["max_clusters"] == 4
        await ok(await org_key.get(f"{org_path(org)}/user/bob"))
        message = await refused(await org_key.get(org_path(other)), 404)
        assert message == f"no quota for organization {other}"
        await refused(await org_key.get(f"{org_path(other)}/user/alice"), 404)
        # Only the platform admin sets or removes quotas.
        await refused(await org_key.put(org_path(org), json={"max_clusters": 100}), 403)
        await refused(await org_key.delete(org_path(org)), 403)
        body = await graphql(
            org_key,
            f'mutation {{ setQuota(tenantOrgId: "{org}", quota: {{maxClusters: 100}}) {{ level }} }}',
        )
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        body = await graphql(
            org_key, f'{{ organization(id: "{other}") {{ quota {{ quota {{ maxClusters }} }} }} }}'
        )
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert (await ok(await admin.get(org_path(org))))["quota"]["max_clusters"] == 4

    async with as_key(await api_key(admin, org, user="alice")) as alice:
        mine = await ok(await alice.get(f"{org_path(org)}/user/alice"))
        assert mine["current_usage"]["clusters"] == 1
        await ok(await alice.get(f"{org_path(org)}/service/alice/a"))
        await refused(await alice.get(f"{org_path(org)}/user/bob"), 404)
        await refused(await alice.get(f"{org_path(org)}/service/bob/b"), 404)
        message = await refused(await alice.get(org_path(org)), 403)
        assert message == "a user's key reads only its own user's and services' quotas"
        # The organisation tree lists only alice, with her quota.
        body = await graphql(
            alice,
            f'{{ organization(id: "{org}") {{ users {{ name quota {{ level user '
            "currentUsage { clusters } } } } }",
        )
        assert body["data"]["organization"]["users"] == [
            {"name": "alice", "quota": {"level": "user", "user": "alice",
                                        "currentUsage": {"clusters": 1}}}
        ]  # fmt: skip


async def test_quota_changes_are_audited(admin_client: httpx.AsyncClient, org: str) -> None:
    await ok(await admin_client.put(org_path(org), json={"max_clusters": 2}))
    await ok(await admin_client.delete(f"{org_path(org)}/user/alice"))
    entries = await ok(await admin_client.get("/audit", params={"tenant_org_id": org}))
    assert [(e["action"], e["target"], e["outcome"]) for e in entries] == [
        ("removeQuota", f"quota of user alice of organization {org}", "ok"),
        ("setQuota", f"quota of organization {org}", "ok"),
    ]


async def test_graphql_quota_tree_and_mutations(admin_client: httpx.AsyncClient, org: str) -> None:
    http = admin_client
    body = await graphql(
        http,
        """mutation Set($org: String!) {
          setQuota(tenantOrgId: $org, user: "alice",
                   quota: {maxClusters: 3, maxMemory: "8Gi", enforceSizing: false}) {
            level tenantOrgId user serviceName isDefault
            quota { maxClusters maxCpu maxMemory maxDisk maxGpu enforceSizing }
          }
        }""",
        {"org": org},
    )
    assert body["data"]["setQuota"] == {
        "level": "user", "tenantOrgId": org, "user": "alice", "serviceName": None,
        "isDefault": False,
        "quota": {"maxClusters": 3, "maxCpu": None, "maxMemory": "8Gi", "maxDisk": None,
                  "maxGpu": None, "enforceSizing": False},
    }  # fmt: skip
    await create_accepted(http, org, "alice", "a", replicas=2)
    await create_accepted(http, org, "bob", "b")
    body = await graphql(
        http,
        """query Tree($org: String!) {
          organization(id: $org) {
            quota { level isDefault currentUsage { clusters cpu memory disk gpu } }
            users { name quota { isDefault quota { maxClusters } currentUsage { clusters memory } } }
          }
        }""",
        {"org": org},
    )
    assert body["data"]["organization"] == {
        "quota": {"level": "organization", "isDefault": True,
                  "currentUsage": {"clusters": 2, "cpu": "6", "memory": "6Gi",
                                   "disk": "30Gi", "gpu": 0}},
        "users": [
            {"name": "alice", "quota": {"isDefault": False, "quota": {"maxClusters": 3},
                                        "currentUsage": {"clusters": 1, "memory": "4Gi"}}},
            {"name": "bob", "quota": {"isDefault": True, "quota": {"maxClusters": None},
                                      "currentUsage": {"clusters": 1, "memory": "2Gi"}}},
        ],
    }  # fmt: skip
    body = await graphql(
        http,
        f'mutation {{ setQuota(tenantOrgId: "{org}", quota: {{maxCpu: "nope"}}) {{ level }} }}',
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = await graphql(
        http,
        f'mutation {{ removeQuota(tenantOrgId: "{org}", user: "alice") {{ isDefault }} }}',
    )
    assert body["data"]["removeQuota"] == {"isDefault": True}


# 10 million int8 vectors of dimension 128 (Elasticsearch 9.1's default below 384
# dimensions) need 10e6 x (132 + 64) bytes = 1.96 GB off the heap; one node of 2Gi has
# 1Gi beside its 1Gi heap.
UNDERSIZED = {"dimension": 128, "vector_count": 10_000_000, "mem_limit": "2Gi"}


async def test_sizing_is_shown_and_enforced_only_when_the_policy_says_so(
    admin_client: httpx.AsyncClient, org: str
) -> None:
    http = admin_client
    # Without the policy an undersized cluster is accepted, its verdict shown.
    await create_accepted(http, org, "alice", "small", **UNDERSIZED)
    body = await graphql(
        http,
        f'{{ tenantContainer(user: "alice", serviceName: "small", tenantOrgId: "{org}") '
        "{ sizing { verdict recommendedMemLimit } } }",
    )
    sizing = body["data"]["tenantContainer"]["sizing"]
    assert sizing["verdict"] == "undersized"
    recommended = sizing["recommendedMemLimit"]

    await ok(await http.put(org_path(org), json={"enforce_sizing": True}))
    document = await ok(await http.get(org_path(org)))
    assert document["quota"] == {**UNLIMITED, "enforce_sizing": True}
    message = await refused(await create(http, org, "bob", "small", **UNDERSIZED), 400)
    assert message.startswith(
        "cluster too small for its vectors: 10000000 vectors of dimension 128"
    )
    assert f"set mem_limit to at least {recommended}" in message
    body = await graphql(
        http,
        "mutation($in: CreateClusterInput!) { createCluster(input: $in) { id } }",
        {"in": {"tenantOrgId": org, "user": "bob", "serviceName": "small", "dimension": 128,
                "vectorCount": 10_000_000, "memLimit": "2Gi"}},
    )  # fmt: skip
    assert body["errors"][0]["extensions"]["code"] == "CLUSTER_UNDERSIZED"
    assert body["errors"][0]["message"] == message
    # The recommendation is enough.
    await create_accepted(http, org, "bob", "small", **{**UNDERSIZED, "mem_limit": recommended})

    # The cluster accepted before the policy: an update that takes memory away is
    # refused; one that does not (a re-apply, more disk) goes through.
    await wait_for_status(
        http, user="alice", service_name="small", tenant_org_id=org, wanted={"created"}
    )
    namespace = f"{org}-alice-small"
    refusal = await refused(
        await http.patch(f"/clusters/{namespace}", json={"mem_request": "1Gi", "mem_limit": "1Gi"}),
        400,
    )
    assert refusal.startswith("cluster too small for its vectors")
    await ok(await http.patch(f"/clusters/{namespace}", json={"disk_size": "20Gi"}), 202)
