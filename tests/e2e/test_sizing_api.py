"""Vector-memory sizing end to end (the app in process): a cluster's sizing over REST
and GraphQL, found and scoped as its container is, and the dry run of a planned
cluster. The numbers are worked out by hand (see tests/unit/test_sizing.py for the
formulas).

The cluster of most tests: 2 nodes of 4Gi (heap 2Gi, so 2 x 2Gi = 4,294,967,296 bytes
off the heap), 1,000,000 vectors of 512 dimensions, two copies. Elasticsearch 9.1's
default for 512 dimensions is bbq_hnsw: 2 x 1,000,000 x (64 + 14 + 64) = 284,000,000.
As floats (hnsw): 2 x 1,000,000 x (2,048 + 64) = 4,224,000,000, over 80% of the
memory: tight, and 5Gi is the smallest whole Gi at which it fits.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.inprocess import InProcessServer, create_accepted, graphql

pytestmark = pytest.mark.asyncio(loop_scope="module")

GIB = 2**30
PLANNED = {
    "replicas": 2,
    "mem_request": "1Gi",
    "mem_limit": "4Gi",
    "dimension": 512,
    "vector_count": 1_000_000,
}
BBQ = {
    "replicas": 2,
    "mem_limit": "4Gi",
    "dimension": 512,
    "vector_count": 1_000_000,
    "quantization": "bbq_hnsw",
    "copies": 2,
    "vector_bytes": 78_000_000,
    "graph_bytes": 64_000_000,
    "required_bytes": 284_000_000,
    "heap_bytes_per_node": 2 * GIB,
    "available_bytes": 4 * GIB,
    "verdict": "fits",
    "recommended_mem_limit": "4Gi",
}
FLOAT = {
    **BBQ,
    "quantization": "hnsw",
    "vector_bytes": 2_048_000_000,
    "required_bytes": 4_224_000_000,
    "verdict": "tight",
    "recommended_mem_limit": "5Gi",
}

SIZING = """
query Sizing($user: String!, $service: String!, $org: String, $q: Quantization) {
  tenantContainer(user: $user, serviceName: $service, tenantOrgId: $org) {
    sizing(quantization: $q) {
      replicas memLimit dimension vectorCount quantization copies vectorBytes graphBytes
      requiredBytes heapBytesPerNode availableBytes verdict recommendedMemLimit
    }
  }
}
"""
PLAN = """
query Plan($input: VectorSizingInput) {
  vectorSizing(input: $input) { quantization requiredBytes availableBytes verdict recommendedMemLimit }
}
"""


def camel(shape: dict[str, Any]) -> dict[str, Any]:
    def name(snake: str) -> str:
        head, *rest = snake.split("_")
        return head + "".join(part.title() for part in rest)

    return {name(key): value for key, value in shape.items()}


async def org_key(http: httpx.AsyncClient, org: str) -> str:
    response = await http.post("/api-keys", json={"tenant_org_id": org, "name": "sizing"})
    assert response.status_code == 201, response.text
    secret: str = response.json()["secret"]
    return secret


async def test_a_containers_sizing_over_rest(shared_admin: httpx.AsyncClient, org: str) -> None:
    await create_accepted(shared_admin, org, "alice", "vectors", **PLANNED)
    path = "/tenant/containers/alice/vectors/sizing"
    answer = await shared_admin.get(path, params={"tenant_org_id": org})
    assert answer.status_code == 200, answer.text
    assert answer.json() == BBQ
    floats = await shared_admin.get(path, params={"tenant_org_id": org, "quantization": "hnsw"})
    assert floats.json() == FLOAT
    bad = await shared_admin.get(path, params={"tenant_org_id": org, "quantization": "int2"})
    assert bad.status_code == 400
    assert bad.json() == {
        "error": "quantization must be one of hnsw, int8_hnsw, int4_hnsw, bbq_hnsw, or null "
        'for Elasticsearch\'s default; got "int2"'
    }


async def test_a_containers_sizing_over_graphql(shared_admin: httpx.AsyncClient, org: str) -> None:
    await create_accepted(shared_admin, org, "alice", "vectors", **PLANNED)
    variables = {"user": "alice", "service": "vectors", "org": org}
    body = await graphql(shared_admin, SIZING, variables)
    assert body["data"]["tenantContainer"]["sizing"] == camel(BBQ)
    floats = await graphql(shared_admin, SIZING, {**variables, "q": "hnsw"})
    assert floats["data"]["tenantContainer"]["sizing"] == camel(FLOAT)


async def test_an_odd_dimension_cannot_be_sized_as_int4(
    shared_admin: httpx.AsyncClient, org: str
) -> None:
    await create_accepted(shared_admin, org, "alice", "odd", dimension=127)
    message = (
        "quantization int4_hnsw needs an even dimension (Elasticsearch refuses odd ones), got 127"
    )
    rest = await shared_admin.get(
        "/tenant/containers/alice/odd/sizing",
        params={"tenant_org_id": org, "quantization": "int4_hnsw"},
    )
    assert (rest.status_code, rest.json()) == (400, {"error": message})
    variables = {"user": "alice", "service": "odd", "org": org, "q": "int4_hnsw"}
    body = await graphql(shared_admin, SIZING, variables)
    assert body["errors"][0]["message"] == message
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_another_organisations_sizing_is_not_found(
    shared_app: InProcessServer, shared_admin: httpx.AsyncClient, org: str
) -> None:
    await create_accepted(shared_admin, org, "alice", "vectors", **PLANNED)
    own, other = f"{org}-own", f"{org}-other"
    await create_accepted(shared_admin, own, "bob", "mine", **PLANNED)
    async with shared_app.client(token=await org_key(shared_admin, other)) as stranger:
        foreign = await stranger.get(
            "/tenant/containers/alice/vectors/sizing", params={"tenant_org_id": org}
        )
        nobody = await stranger.get(
            "/tenant/containers/alice/vectors/sizing", params={"tenant_org_id": other}
        )
        assert foreign.status_code == 404
        assert foreign.json()["error"].replace(org, other) == nobody.json()["error"]
        unnamed = await stranger.get("/tenant/containers/alice/vectors/sizing")
        assert unnamed.status_code == 404
        body = await graphql(stranger, SIZING, {"user": "alice", "service": "vectors", "org": org})
        assert body["data"]["tenantContainer"] is None
    async with shared_app.client(token=await org_key(shared_admin, own)) as owner:
        mine = await owner.get("/tenant/containers/bob/mine/sizing")
        assert (mine.status_code, mine.json()) == (200, BBQ)


async def test_the_dry_run(shared_admin: httpx.AsyncClient) -> None:
    planned = {key: value for key, value in PLANNED.items() if key != "mem_request"}
    answer = await shared_admin.post("/sizing", json=planned)
    assert (answer.status_code, answer.json()) == (200, BBQ)
    floats = await shared_admin.post("/sizing", json={**planned, "quantization": "hnsw"})
    assert floats.json() == FLOAT
    # Nothing given: the create request's defaults (1 node of 2Gi, 10,000 x 128 dims as
    # int8: 10,000 x (132 + 64) = 1,960,000 bytes in 1GiB).
    for defaults in (
        await shared_admin.post("/sizing", content=b""),
        await shared_admin.post("/sizing", json={}),
    ):
        assert defaults.status_code == 200, defaults.text
        assert defaults.json()["required_bytes"] == 1_960_000
        assert defaults.json()["available_bytes"] == GIB
    body = await graphql(
        shared_admin,
        PLAN,
        {"input": {"replicas": 2, "memLimit": "4Gi", "dimension": 512, "vectorCount": 1_000_000}},
    )
    assert body["data"]["vectorSizing"] == {
        "quantization": "bbq_hnsw",
        "requiredBytes": 284_000_000,
        "availableBytes": 4 * GIB,
        "verdict": "fits",
        "recommendedMemLimit": "4Gi",
    }
    nothing = await graphql(shared_admin, PLAN)
    assert nothing["data"]["vectorSizing"]["requiredBytes"] == 1_960_000


async def test_an_undersized_plan_is_answered_with_its_recommendation(
    shared_admin: httpx.AsyncClient,
) -> None:
    # 10,000,000 x 768 floats on 3 nodes of 2Gi: 2 x 10,000,000 x 3,136 = 62,720,000,000
    # bytes in 3 x 1GiB; 49Gi per node fits (3 x 24.5GiB x 80% >= 62.72e9), 48Gi not.
    plan = {"replicas": 3, "dimension": 768, "vector_count": 10_000_000, "quantization": "hnsw"}
    answer = await shared_admin.post("/sizing", json=plan)
    assert answer.status_code == 200
    sized = answer.json()
    assert (sized["required_bytes"], sized["available_bytes"]) == (62_720_000_000, 3 * GIB)
    assert (sized["verdict"], sized["recommended_mem_limit"]) == ("undersized", "49Gi")
    body = await graphql(
        shared_admin,
        PLAN,
        {"input": {"replicas": 3, "dimension": 768, "vectorCount": 10_000_000, "quantization": "hnsw"}},
    )  # fmt: skip
    assert body["data"]["vectorSizing"]["verdict"] == "undersized"
    assert body["data"]["vectorSizing"]["recommendedMemLimit"] == "49Gi"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"replicas": 0}, "replicas must be between 1 and 1000, got 0"),
        ({"replicas": "2"}, "replicas must be an integer, got a string"),
        ({"dimension": 4097}, "dimension must be between 1 and 4096, got 4097"),
        (
            {"mem_limit": "2GB"},
            'mem_limit: "2GB" is not a valid Kubernetes quantity: unknown suffix "GB"; the '
            "allowed suffixes are n u m k M G T P E, Ki Mi Gi Ti Pi Ei, or an exponent such as "
            "e3 (use forms like 500m, 2, 1Gi, 10Gi, 1Ti)",
        ),
        (
            {"cpu_limit": "2"},
            "unknown field(s) cpu_limit; a sizing request takes replicas, mem_limit, "
            "dimension, vector_count, quantization",
        ),
        (
            {"dimension": 63, "quantization": "bbq_hnsw"},
            "quantization bbq_hnsw needs a dimension of at least 64, got 63",
        ),
    ],
)
async def test_the_dry_run_refuses_bad_input_as_the_create_request_does(
    shared_admin: httpx.AsyncClient, org: str, body: dict[str, Any], error: str
) -> None:
    answer = await shared_admin.post("/sizing", json=body)
    assert (answer.status_code, answer.json()) == (400, {"error": error})
    if set(body) <= {"replicas", "dimension", "mem_limit"}:  # fields a create refuses too
        create = await shared_admin.post(
            "/clusters",
            json={"tenant_org_id": org, "user": "alice", "service_name": "s", **body},
        )
        assert (create.status_code, create.json()) == (400, {"error": error})


async def test_the_dry_run_refuses_a_body_that_is_no_object(
    shared_admin: httpx.AsyncClient,
) -> None:
    answer = await shared_admin.post("/sizing", json=[1])
    assert (answer.status_code, answer.json()) == (
        400,
        {"error": "request body must be a JSON object"},
    )
    body = await graphql(shared_admin, PLAN, {"input": {"replicas": 0}})
    assert body["errors"][0]["message"] == "replicas must be between 1 and 1000, got 0"
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
