"""Query cost bounded by rows: an operation estimated over the budget is refused before
it runs, with the estimate, the budget and how to page; paging with first/after walks
a listing exactly once, in order. Real server, real counts."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from tests.support.http import graphql, wait_for_status
from tests.support.servers import ServerProcess

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
    server: ServerProcess
    orgs: dict[str, str]
    keys: dict[str, str]  # org key secrets

    def client(self, org: str | None = None) -> httpx.Client:
        if org is None:
            return self.server.client()
        headers = {"Authorization": f"Bearer {self.keys[org]}"}
        return httpx.Client(base_url=self.server.url, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def tenants(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tenants]:
    from tests.support.servers import server_env

    data_dir = tmp_path_factory.mktemp("cost-server")
    env = server_env(data_dir, ESS_GRAPHQL_MAX_COST=str(BUDGET), ESS_GRAPHQL_MAX_LIST_ROWS="50")
    server = ServerProcess(data_dir=data_dir, env=env).start()
    try:
        orgs = {"a": "cost-a", "b": "cost-b"}
        with server.client() as admin:
            # Clusters need not be provisioned to be listed: the records are enough.
            for org, count in ((orgs["a"], 6), (orgs["b"], 12)):
                for n in range(count):
                    response = admin.post(
                        "/clusters",
                        json={"tenant_org_id": org, "user": f"u{n % 2}", "service_name": f"s{n}"},
                    )
                    assert response.status_code == 202, response.text
            keys = {}
            for name, org in orgs.items():
                issued = admin.post("/api-keys", json={"tenant_org_id": org, "name": "ci"})
                assert issued.status_code == 201, issued.text
                keys[name] = issued.json()["secret"]
        yield Tenants(server=server, orgs=orgs, keys=keys)
    finally:
        server.stop()


def test_the_aliased_heavy_tree_is_refused_before_it_runs(tenants: Tenants) -> None:
    org = tenants.orgs["a"]
    tree = f'organization(id: "{org}") {{ containers {{ {CLUSTER} }} }}'
    with tenants.client("a") as client:
        message = refused(graphql(client, aliases(3, tree)))
        assert "Organization.containers at 6 rows" in message
        # A smaller selection of the same tree, or a page of it, fits.
        small = f'organization(id: "{org}") {{ containers {{ id status }} }}'
        assert len(passes(graphql(client, aliases(3, small)))["x0"]["containers"]) == 6
        paged = f'organization(id: "{org}") {{ containers(first: 1) {{ {CLUSTER} }} }}'
        assert len(passes(graphql(client, aliases(3, paged)))["x2"]["containers"]) == 1
        # Variables are resolved like literals.
        query = (
            "query($org: String!, $n: Int) { "
            + " ".join(
                f"x{n}: organization(id: $org) {{ containers(first: $n) {{ {CLUSTER} }} }}"
                for n in range(3)
            )
            + " }"
        )
        refused(graphql(client, query, {"org": org}))
        passes(graphql(client, query, {"org": org, "n": 1}))


def test_a_refused_mutation_changes_nothing(tenants: Tenants) -> None:
    org = tenants.orgs["a"]
    everything = f"{CLUSTER} cpuRequest cpuLimit memRequest memLimit diskSize vectorCount"
    creates = " ".join(
        f'c{n}: createCluster(input: {{tenantOrgId: "{org}", user: "m", serviceName: "m{n}"}}) '
        f"{{ {everything} deployment {{ details {{ cpuRequest cpuLimit memRequest memLimit }} }} }}"
        for n in range(10)  # 38 or more each
    )
    with tenants.client("a") as client:
        refused(graphql(client, f"mutation {{ {creates} }}"))
        listed = client.get(f"/tenant/containers/org/{org}").json()
    assert not [c for c in listed if c["user"] == "m"]  # nothing ran


def test_a_refused_subscription_never_starts(tenants: Tenants) -> None:
    org = tenants.orgs["a"]
    # No list here, and the alias limit holds: the same selection repeated 61 times
    # (merged when run, but each counted, as the field limit counts them) is 307.
    events = " ".join(["event { from to reason at }"] * 61)
    query = f'subscription {{ clusterEvents(tenantOrgId: "{org}") {{ namespace {events} }} }}'
    url = tenants.server.url.replace("http://", "ws://") + "/graphql"
    init = {"Authorization": f"Bearer {tenants.keys['a']}"}
    with connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        ws.send(json.dumps({"type": "connection_init", "payload": init}))
        assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
        ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        refusal = json.loads(ws.recv(timeout=10))
        assert refusal["type"] == "next", refusal
        refused(refusal["payload"])
        assert json.loads(ws.recv(timeout=10)) == {"id": "1", "type": "complete"}


def test_another_organisations_clusters_do_not_count(tenants: Tenants) -> None:
    a, b = tenants.orgs["a"], tenants.orgs["b"]
    everything_visible = f"{{ tenantContainers {{ {CLUSTER} }} }}"
    # org a sees its 6 clusters (at most 199), the admin all 18 (at least 451).
    with tenants.client("a") as client:
        rows = passes(graphql(client, everything_visible))["tenantContainers"]
        assert {row["tenantOrgId"] for row in rows} == {a}
        # Another organisation's tree counts as empty for a: it is empty for a.
        foreign = f'organization(id: "{b}") {{ containers {{ {CLUSTER} }} }}'
        data = passes(graphql(client, aliases(3, foreign)))
        assert data["x0"]["containers"] == []
    with tenants.client() as admin:
        refused(graphql(admin, everything_visible))
        refused(graphql(admin, aliases(3, foreign)))


def walk(client: httpx.Client, query: str, page_of: Callable[[Any], list[Any]]) -> list[str]:
    """Every id of a listing, page by page (5 at a time) until a short page."""
    seen: list[str] = []
    after = None
    while True:
        page = page_of(passes(graphql(client, query, {"after": after})))
        seen += [row["id"] for row in page]
        if len(page) < 5:
            return seen
        after = page[-1]["cursor"]


def test_paging_returns_every_cluster_once_in_order(tenants: Tenants) -> None:
    org = tenants.orgs["b"]
    of_org = (
        f'query($after: String) {{ organization(id: "{org}") {{ '
        "containers(first: 5, after: $after) { id cursor } } }"
    )
    everyone = "query($after: String) { tenantContainers(first: 5, after: $after) { id cursor } }"
    with tenants.client("b") as client:
        whole = graphql(client, f'{{ organization(id: "{org}") {{ containers {{ id }} }} }}')
        expected = [row["id"] for row in passes(whole)["organization"]["containers"]]
        assert len(expected) == 12
        assert walk(client, of_org, lambda data: data["organization"]["containers"]) == expected
        assert walk(client, everyone, lambda data: data["tenantContainers"]) == expected

        # A user's clusters page the same way (cut from the organisation's rows).
        tree = (
            f'{{ organization(id: "{org}") {{ users {{ name '
            "all: containers { id cursor } first: containers(first: 2) { id } } } }"
        )
        users = passes(graphql(client, tree))["organization"]["users"]
        assert len(users) == 2
        for user in users:
            assert [row["id"] for row in user["first"]] == [row["id"] for row in user["all"][:2]]
        mine = users[0]["all"]
        rest = (
            f'{{ organization(id: "{org}") {{ users {{ '
            f'containers(after: "{mine[2]["cursor"]}") {{ id }} }} }} }}'
        )
        after_third = passes(graphql(client, rest))["organization"]["users"][0]["containers"]
        assert [row["id"] for row in after_third] == [row["id"] for row in mine[3:]]


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ("first: 0", "first must be between 1 and 50"),
        ("first: 51", "first must be between 1 and 50"),
        ('after: "not-a-cursor"', "after must be a cursor"),
    ],
)
def test_bad_page_arguments_are_bad_user_input(tenants: Tenants, arguments: str, says: str) -> None:
    with tenants.client("a") as client:
        body = graphql(client, f"{{ tenantContainers({arguments}) {{ id }} }}")
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


def test_the_readme_tree_passes_on_default_settings(client: httpx.Client, org: str) -> None:
    for n in range(3):
        client.post(
            "/clusters", json={"tenant_org_id": org, "user": "tree", "service_name": f"t{n}"}
        )
    wait_for_status(client, user="tree", service_name="t2", tenant_org_id=org, wanted={"created"})
    data = passes(graphql(client, README_TREE, {"org": org}))
    assert len(data["organization"]["containers"]) == 3
    assert data["organization"]["users"][0]["containers"][0]["events"][0]["to"] == "pending"
