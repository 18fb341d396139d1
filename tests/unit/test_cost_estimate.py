"""The row-aware cost estimate: lists multiply what lies below them by the rows they
return (counted per organisation, asked page sizes, schema sizes for introspection),
fragments are expanded, variables resolved, every list bounded by the maximum."""

from __future__ import annotations

import time
from typing import Any

from graphql import get_introspection_query, get_operation_ast, parse

from app.api.graphql.cost import Estimate, estimate
from app.api.graphql.listing_sizes import CountedSizes, UpperBounds
from app.api.graphql.schema import schema
from app.settings import Settings
from app.tenancy.queries import ListingCounts

MAX_ROWS = 5000


def org_of(
    clusters: int, *, users: int = 1, events: int = 0, most_events: int = 0
) -> ListingCounts:
    return ListingCounts(clusters=clusters, users=users, events=events, most_events=most_events)


def sizes(**orgs: ListingCounts) -> CountedSizes:
    """Counts as queries.listing_counts returns them (here nothing is deleted)."""
    counts = {(org, deleted): c for org, c in orgs.items() for deleted in (True, False)}
    return CountedSizes(counts)


def cost_of(
    query: str,
    counted: CountedSizes | UpperBounds,
    variables: dict[str, Any] | None = None,
    *,
    max_rows: int = MAX_ROWS,
) -> Estimate:
    document = parse(query)
    operation = get_operation_ast(document)
    assert operation is not None
    return estimate(
        schema=schema._schema,
        document=document,
        operation=operation,
        variables=variables,
        sizes=counted,
        max_rows=max_rows,
    )


CONTAINERS = '{ organization(id: "o") { containers { id status } } }'


def test_a_list_multiplies_its_selections_by_its_rows() -> None:
    # organization + containers + 2 fields per cluster
    assert cost_of(CONTAINERS, sizes(o=org_of(10))).cost == 2 + 10 * 2
    assert cost_of(CONTAINERS, sizes(o=org_of(100))).cost == 2 + 100 * 2
    empty = cost_of(CONTAINERS, sizes())
    assert empty.cost == 2  # an organisation the caller cannot see counts as empty


def test_nested_lists_multiply() -> None:
    query = '{ organization(id: "o") { containers { id events { from to } } } }'
    # 10 clusters with 40 events in all: 4 each on average.
    found = cost_of(query, sizes(o=org_of(10, events=40, most_events=25)))
    assert found.cost == 2 + 10 * (1 + 1 + 4 * 2)
    assert (found.largest_list, found.largest_rows) == ("Organization.containers", 10)
    twice = cost_of(query, sizes(o=org_of(10, events=80, most_events=25)))
    assert twice.cost - 2 - 10 * 2 == 2 * (found.cost - 2 - 10 * 2)


def test_a_single_objects_list_counts_at_the_largest_parent() -> None:
    # One named cluster may be the one with the most events: the mean would hide it.
    query = '{ tenantContainer(user: "u", serviceName: "s", tenantOrgId: "o") { events { to } } }'
    assert cost_of(query, sizes(o=org_of(10, events=40, most_events=25))).cost == 2 + 25


def test_users_and_their_clusters_multiply_to_the_clusters() -> None:
    query = '{ organization(id: "o") { users { name containers { id } } } }'
    found = cost_of(query, sizes(o=org_of(100, users=4)))
    assert found.cost == 2 + 4 * (1 + 1 + 25 * 1)


def test_fragments_are_expanded() -> None:
    inline = '{ organization(id: "o") { containers { id events { to } } } }'
    spread = """
    { organization(id: "o") { containers { ...C } } }
    fragment C on TenantContainer { id ...E }
    fragment E on TenantContainer { events { to } }
    """
    counted = sizes(o=org_of(30, events=90))
    assert cost_of(spread, counted).cost == cost_of(inline, counted).cost == 2 + 30 * (2 + 3)
    twice = '{ organization(id: "o") { containers { ...C ...C } } } fragment C on TenantContainer { id }'
    assert cost_of(twice, counted).cost == 2 + 30 * 2


def test_fragment_bombs_are_weighed_in_time_proportional_to_the_document() -> None:
    fragments = ["fragment F0 on TenantContainer { id }"]
    fragments += [
        f"fragment F{n} on TenantContainer {{ ...F{n - 1} ...F{n - 1} }}" for n in range(1, 40)
    ]
    bomb = '{ organization(id: "o") { containers { ...F39 } } } ' + " ".join(fragments)
    started = time.perf_counter()
    found = cost_of(bomb, sizes(o=org_of(3)))
    assert time.perf_counter() - started < 1
    assert found.cost == 2 + 3 * 2**39


def test_page_sizes_asked_for_are_the_multipliers() -> None:
    counted = sizes(o=org_of(100, users=2, events=1000, most_events=10))
    first = '{ organization(id: "o") { containers(first: 3) { id } } }'
    assert cost_of(first, counted).cost == 2 + 3
    more_than_there_are = '{ organization(id: "o") { containers(first: 500) { id } } }'
    assert cost_of(more_than_there_are, counted).cost == 2 + 100
    of_a_user = '{ organization(id: "o") { users { containers(first: 2) { id } } } }'
    assert cost_of(of_a_user, counted).cost == 2 + 2 * (1 + 2)
    everyone = "{ tenantContainers(first: 7) { id } }"
    assert cost_of(everyone, counted).cost == 1 + 7
    usage = '{ deploymentStatus(namespace: "n") { usageHistory(last: 7) { at qps } } }'
    assert cost_of(usage, counted).cost == 2 + 7 * 2
    default_usage = '{ deploymentStatus(namespace: "n") { usageHistory { at } } }'
    assert cost_of(default_usage, counted).cost == 2 + 100  # last defaults to 100
    audit = "{ auditLog(limit: 4) { id actor } }"
    assert cost_of(audit, counted).cost == 1 + 4 * 2


def test_every_list_is_bounded_by_the_maximum() -> None:
    huge = sizes(o=org_of(10**9, events=10**12, most_events=10**6))
    query = '{ organization(id: "o") { containers { id events { to } } } }'
    assert cost_of(query, huge, max_rows=50).cost == 2 + 50 * (2 + 50)
    # A list nothing counts (API keys) counts at the maximum.
    assert cost_of("{ apiKeys { id name } }", sizes(), max_rows=50).cost == 1 + 50 * 2
    assert cost_of("{ auditLog(limit: 1000000) { id } }", sizes(), max_rows=50).cost == 1 + 50


def test_variables_are_resolved() -> None:
    counted = sizes(big=org_of(400), small=org_of(4))
    query = (
        "query($org: String!, $n: Int) { organization(id: $org) { containers(first: $n) { id } } }"
    )
    assert cost_of(query, counted, {"org": "big"}).cost == 2 + 400
    assert cost_of(query, counted, {"org": "small"}).cost == 2 + 4
    assert cost_of(query, counted, {"org": "big", "n": 10}).cost == 2 + 10
    defaulted = 'query($org: String = "small") { organization(id: $org) { containers { id } } }'
    assert cost_of(defaulted, counted).cost == 2 + 4


def test_include_deleted_counts_the_deleted_clusters_too() -> None:
    counted = CountedSizes({("o", True): org_of(50), ("o", False): org_of(20)})
    live = '{ organization(id: "o") { containers { id } } }'
    every = '{ organization(id: "o") { containers(includeDeleted: true) { id } } }'
    assert (cost_of(live, counted).cost, cost_of(every, counted).cost) == (22, 52)


def test_the_whole_scope_is_the_sum_of_its_organisations() -> None:
    counted = sizes(a=org_of(3, events=3, most_events=1), b=org_of(5, events=15, most_events=9))
    assert cost_of("{ tenantContainers { id } }", counted).cost == 1 + 8
    assert cost_of('{ tenantContainers(tenantOrgId: "b") { id } }', counted).cost == 1 + 5
    # Events of the scope: 18 over 8 clusters, 3 each rounded up; a mutation's single
    # cluster may be the largest (9).
    assert cost_of("{ tenantContainers { events { to } } }", counted).cost == 1 + 8 * (1 + 3)
    mutation = 'mutation { deleteCluster(namespace: "n") { id events { to } } }'
    assert cost_of(mutation, counted).cost == 1 + 1 + 1 + 9


def test_the_upper_bound_notes_the_organisations_an_operation_reads() -> None:
    bounds = UpperBounds()
    query = """query($org: String!) {
      organization(id: $org) { containers { id } }
      other: organization(id: "lit") { users { name } }
      tenantContainers { id }
      apiKeys { id }
    }"""
    found = cost_of(query, bounds, {"org": "var"}, max_rows=100)
    assert bounds.orgs == {"var", "lit", None}
    assert found.cost == (2 + 100) + (2 + 100) + (1 + 100) + (1 + 100)


def test_graphiqls_introspection_query_fits_the_default_budget() -> None:
    found = cost_of(get_introspection_query(descriptions=True), sizes())
    assert 1000 < found.cost < Settings().graphql_max_cost


README_TREE = """
query {
  organization(id: "org-001") {
    containers {
      id user serviceName namespace replicas cpu memory disk status error
      createdAt updatedAt syncTime gpuCount dimension
      deployment { id status replicas qps details { diskSize cpuLimit memLimit } }
      events { from to reason at }
    }
    users { name containers { serviceName namespace events { from to reason at } } }
  }
}
"""
ATTACK_ALIAS = """organization(id: "org-001") { containers {
  id tenantOrgId user serviceName namespace replicas cpu memory disk cpuRequest cpuLimit
  memRequest memLimit diskSize gpuCount dimension vectorCount indexLimit gitlabUrl status
  error createdAt events { from to reason at }
  deployment { id status replicas details { diskSize cpuLimit } } } }"""
ATTACK = "{ " + " ".join(f"a{n}: {ATTACK_ALIAS}" for n in range(27)) + " }"


def test_the_default_budget_admits_a_whole_tree_and_refuses_the_aliased_attack() -> None:
    budget = Settings().graphql_max_cost
    thousand = sizes(**{"org-001": org_of(1000, users=50, events=5000, most_events=40)})
    assert cost_of(README_TREE, thousand).cost < budget * 0.8
    two_hundred = sizes(**{"org-001": org_of(200, users=20, events=600, most_events=3)})
    assert cost_of(ATTACK, two_hundred).cost > budget * 2


def test_a_containers_sizing_counts_as_an_object_per_cluster() -> None:
    # Worked out from the cluster's own fields (no database read): the field and each
    # selected field of it, once per cluster.
    query = '{ organization(id: "o") { containers { sizing { requiredBytes verdict } } } }'
    assert cost_of(query, sizes(o=org_of(10))).cost == 2 + 10 * (1 + 2)


def test_a_connection_counts_its_edges_at_its_first_and_at_most_100() -> None:
    big, small = sizes(o=org_of(500, events=5000, most_events=10)), sizes(o=org_of(3))
    page = '{ organization(id: "o") { containersConnection%s { edges { node { id status } } } } }'
    # organization, connection, edges; per edge: node and 2 fields
    assert cost_of(page % "", big).cost == 3 + 100 * 3  # no first: 100
    assert cost_of(page % "(first: 5)", big).cost == 3 + 5 * 3
    assert cost_of(page % "(first: 100000)", big).cost == 3 + 100 * 3  # refused when run
    assert cost_of(page % "", small).cost == 3 + 3 * 3  # no more than there are
    found = cost_of(page % "", big)
    assert (found.largest_list, found.largest_rows) == ("Organization.containersConnection", 100)
    # pageInfo and totalCount are one object and one number, whatever the page.
    info = "{ tenantContainersConnection { totalCount pageInfo { hasNextPage endCursor } } }"
    assert cost_of(info, big).cost == 1 + 1 + 1 + 2


def test_connections_nest_like_lists() -> None:
    counted = sizes(o=org_of(40, users=4, events=400, most_events=30))
    query = """{ organization(id: "o") { containersConnection(first: 20) { edges { node {
        eventsConnection { edges { node { to } } } } } } } }"""
    # 20 clusters a page, 10 events each on average
    assert cost_of(query, counted).cost == 3 + 20 * (3 + 10 * 2)
    of_users = """{ organization(id: "o") { users { containersConnection(first: 50) {
        edges { node { id } } } } } }"""
    # 4 users, 10 clusters each on average (their page of 50 is not full)
    assert cost_of(of_users, counted).cost == 2 + 4 * (2 + 10 * 2)
    paged_users = """{ organization(id: "o") { usersConnection%s { edges { node { name
        containersConnection(first: 50) { edges { node { id } } } } } } } }"""
    # a page of users (at most the 4 there are), 10 clusters each on average
    assert cost_of(paged_users % "(first: 3)", counted).cost == 3 + 3 * (4 + 10 * 2)
    assert cost_of(paged_users % "", counted).cost == 3 + 4 * (4 + 10 * 2)
    # A list nothing counts (the audit log) counts at its page.
    audit = "{ auditLogConnection(first: 7) { edges { node { id actor } } } }"
    assert cost_of(audit, sizes()).cost == 2 + 7 * 3
