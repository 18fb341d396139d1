"""Query cost bounded by rows: an operation estimated over the budget is refused before
it runs, with the estimate, the budget and how to page; paging with first/after walks
a listing exactly once, in order. The app in process, real counts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio

from tests.support.inprocess import (
    InProcessServer,
    create_accepted,
    graphql,
    serve_in_process,
    wait_for_status,
)
from tests.support.websocket import socket

pytestmark = pytest.mark.asyncio(loop_scope="module")

BUDGET = 300

# 15 fields, events and deployment with details: 25 to 33 per cluster (1 to 3 events).
CLUSTER = """
  id tenantOrgId user serviceName namespace replicas cpu memory disk status error
  createdAt updatedAt gpuCount dimension
  events { from to reason at }
  deployment { id status details { diskSize } }
"""


def aliases(count: int, field: str) -> str:
    return "{ " + " ".join(f"x{n}: {field}" for n in range(count)) + " }"


def refused(body: dict[str, Any]) -> str:
    assert body["data"] is None, body
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_EXPENSIVE", error
    assert error["extensions"]["budget"] == BUDGET
    assert error["extensions"]["cost"] > BUDGET
    message: str = error["message"]
    assert f"budget of {BUDGET}" in message
    assert f"cost about {error['extensions']['cost']}" in message
    assert "first: N" in message and "after:" in message  # how to page
    return message


def passes(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


@dataclass
class Tenants:
    app: InProcessServer
    orgs: dict[str, str]
    keys: dict[str, str]  # org key secrets

    def client(self, org: str | None = None) -> httpx.AsyncClient:
        """The admin's client, or one holding ``org``'s key."""
        return self.app.client() if org is None else self.app.client(token=self.keys[org])


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def tenants(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Tenants]:
    async with serve_in_process(
        tmp_path_factory.mktemp("cost-app"), graphql_max_cost=BUDGET, graphql_max_list_rows=50
    ) as app:
        orgs = {"a": "cost-a", "b": "cost-b"}
        async with app.client() as admin:
            # Clusters need not be provisioned to be listed: the records are enough.
            for org, count in ((orgs["a"], 6), (orgs["b"], 12)):
                for n in range(count):
                    await create_accepted(admin, org, f"u{n % 2}", f"s{n}")
            keys = {}
            for name, org in orgs.items():
                issued = await admin.post("/api-keys", json={"tenant_org_id": org, "name": "ci"})
                assert issued.status_code == 201, issued.text
                keys[name] = issued.json()["secret"]
        yield Tenants(app=app, orgs=orgs, keys=keys)


async def test_the_aliased_heavy_tree_is_refused_before_it_runs(tenants: Tenants) -> None:
    org = tenants.orgs["a"]
    tree = f'organization(id: "{org}") {{ containers {{ {CLUSTER} }} }}'
    async with tenants.client("a") as client:
        message = refused(await graphql(client, aliases(3, tree)))
        assert "Organization.containers at 6 rows" in message
        # A smaller selection of the same tree, or a page of it, fits.
        small = f'organization(id: "{org}") {{ containers {{ id status }} }}'
        assert len(passes(await graphql(client, aliases(3, small)))["x0"]["containers"]) == 6
        paged = f'organization(id: "{org}") {{ containers(first: 1) {{ {CLUSTER} }} }}'
        assert len(passes(await graphql(client, aliases(3, paged)))["x2"]["containers"]) == 1
        # Variables are resolved like literals.
        query = (
            "query($org: String!, $n: Int) { "
            + " ".join(
                f"x{n}: organization(id: $org) {{ containers(first: $n) {{ {CLUSTER} }} }}"
                for n in range(3)
            )
            + " }"
        )
        refused(await graphql(client, query, {"org": org}))
        passes(await graphql(client, query, {"org": org, "n": 1}))


async def test_a_connection_is_estimated_at_its_page(tenants: Tenants) -> None:
    org = tenants.orgs["b"]  # 12 clusters: their whole tree is over the budget

    def tree(arguments: str) -> str:
        return (
            f'{{ organization(id: "{org}") {{ containersConnection{arguments} {{ totalCount '
            f"edges {{ cursor node {{ {CLUSTER} }} }} pageInfo {{ hasNextPage endCursor }} }} }} }}"
        )

    async with tenants.client("b") as client:
        message = refused(await graphql(client, tree("")))
        assert "Organization.containersConnection at 12 rows" in message
        page = passes(await graphql(client, tree("(first: 2)")))
        connection = page["organization"]["containersConnection"]
        assert (len(connection["edges"]), connection["totalCount"]) == (2, 12)
        assert connection["pageInfo"]["hasNextPage"] is True


async def test_a_refused_mutation_changes_nothing(tenants: Tenants) -> None:
    org = tenants.orgs["a"]
    everything = f"{CLUSTER} cpuRequest cpuLimit memRequest memLimit diskSize vectorCount"
    creates = " ".join(
        f'c{n}: createCluster(input: {{tenantOrgId: "{org}", user: "m", serviceName: "m{n}"}}) '
        f"{{ {everything} deployment {{ details {{ cpuRequest cpuLimit memRequest memLimit }} }} }}"
        for n in range(10)  # 38 or more each
    )
    async with tenants.client("a") as client:
        refused(await graphql(client, f"mutation {{ {creates} }}"))
        listed = (await client.get(f"/tenant/containers/org/{org}")).json()
    assert not [c for c in listed if c["user"] == "m"]  # nothing ran


async def test_a_refused_subscription_never_starts(tenants: Tenants) -> None:
    org = tenants.orgs["a"]
    # No list here, and the alias limit holds: the same selection repeated 61 times
    # (merged when run, but each counted, as the field limit counts them) is 307.
    events = " ".join(["event { from to reason at }"] * 61)
    query = f'subscription {{ clusterEvents(tenantOrgId: "{org}") {{ namespace {events} }} }}'
    async with socket(tenants.app, tenants.keys["a"]) as ws:
        await ws.start("1", query)
        refusal = await ws.wait("1")
        assert refusal["type"] == "next", refusal
        refused(refusal["payload"])
        assert await ws.wait("1") == {"id": "1", "type": "complete"}


async def test_another_organisations_clusters_do_not_count(tenants: Tenants) -> None:
    a, b = tenants.orgs["a"], tenants.orgs["b"]
    everything_visible = f"{{ tenantContainers {{ {CLUSTER} }} }}"
    # org a sees its 6 clusters (at most 199), the admin all 18 (at least 451).
    async with tenants.client("a") as client:
        rows = passes(await graphql(client, everything_visible))["tenantContainers"]
        assert {row["tenantOrgId"] for row in rows} == {a}
        # Another organisation's tree counts as empty for a: it is empty for a.
        foreign = f'organization(id: "{b}") {{ containers {{ {CLUSTER} }} }}'
        data = passes(await graphql(client, aliases(3, foreign)))
        assert data["x0"]["containers"] == []
    async with tenants.client() as admin:
        refused(await graphql(admin, everything_visible))
        refused(await graphql(admin, aliases(3, foreign)))


async def walk(
    client: httpx.AsyncClient, query: str, page_of: Callable[[Any], list[Any]]
) -> list[str]:
    """Every id of a listing, page by page (5 at a time) until a short page."""
    seen: list[str] = []
    after = None
    while True:
        page = page_of(passes(await graphql(client, query, {"after": after})))
        seen += [row["id"] for row in page]
        if len(page) < 5:
            return seen
        after = page[-1]["cursor"]


async def test_paging_returns_every_cluster_once_in_order(tenants: Tenants) -> None:
    org = tenants.orgs["b"]
    of_org = (
        f'query($after: String) {{ organization(id: "{org}") {{ '
        "containers(first: 5, after: $after) { id cursor } } }"
    )
    everyone = "query($after: String) { tenantContainers(first: 5, after: $after) { id cursor } }"
    async with tenants.client("b") as client:
        whole = await graphql(client, f'{{ organization(id: "{org}") {{ containers {{ id }} }} }}')
        expected = [row["id"] for row in passes(whole)["organization"]["containers"]]
        assert len(expected) == 12
        assert (
            await walk(client, of_org, lambda data: data["organization"]["containers"]) == expected
        )
        assert await walk(client, everyone, lambda data: data["tenantContainers"]) == expected

        # A user's clusters page the same way (cut from the organisation's rows).
        tree = (
            f'{{ organization(id: "{org}") {{ users {{ name '
            "all: containers { id cursor } first: containers(first: 2) { id } } } }"
        )
        users = passes(await graphql(client, tree))["organization"]["users"]
        assert len(users) == 2
        for user in users:
            assert [row["id"] for row in user["first"]] == [row["id"] for row in user["all"][:2]]
        mine = users[0]["all"]
        rest = (
            f'{{ organization(id: "{org}") {{ users {{ '
            f'containers(after: "{mine[2]["cursor"]}") {{ id }} }} }} }}'
        )
        after_third = passes(await graphql(client, rest))["organization"]["users"][0]["containers"]
        assert [row["id"] for row in after_third] == [row["id"] for row in mine[3:]]


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ("first: 0", "first must be between 1 and 50"),
        ("first: 51", "first must be between 1 and 50"),
        ('after: "not-a-cursor"', "after must be a cursor"),
    ],
)
async def test_bad_page_arguments_are_bad_user_input(
    tenants: Tenants, arguments: str, says: str
) -> None:
    async with tenants.client("a") as client:
        body = await graphql(client, f"{{ tenantContainers({arguments}) {{ id }} }}")
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert says in error["message"]


README_TREE = """
query($org: String!) {
  organization(id: $org) {
    containers { serviceName status deployment { replicas details { diskSize } } }
    users { name containers { serviceName namespace events { from to reason at } } }
  }
}
"""


async def test_the_readme_tree_passes_on_default_settings(
    shared_admin: httpx.AsyncClient, org: str
) -> None:
    for n in range(3):
        await create_accepted(shared_admin, org, "tree", f"t{n}")
    await wait_for_status(
        shared_admin, user="tree", service_name="t2", tenant_org_id=org, wanted={"created"}
    )
    data = passes(await graphql(shared_admin, README_TREE, {"org": org}))
    assert len(data["organization"]["containers"]) == 3
    assert data["organization"]["users"][0]["containers"][0]["events"][0]["to"] == "pending"
