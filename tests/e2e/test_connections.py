"""Connections and filtered listings through real HTTP (the app in process, its SQLite
database): every ordering pages each container exactly once, inserts between pages
neither repeat nor skip one, filters agree with the rows, bad input is refused, other
organisations' and users' rows never show, and the deprecated lists answer as before."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, timedelta, timezone
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import update
from sqlmodel import col, select

from app.store.tables import TenantContainerRow
from app.tenancy import commands
from tests.support.factories import cluster_request
from tests.support.inprocess import InProcessServer, create_and_wait, graphql, serve_in_process

pytestmark = pytest.mark.asyncio(loop_scope="module")

ORG, OTHER, INSERTS = "page-a", "page-b", "page-c"
COUNT = 250
FAILED_EVERY = 7  # every 7th container of ORG is failed
GPU_EVERY = 4  # every 4th has a GPU
EAST = timezone(timedelta(hours=2))

CONNECTION = """
query($org: String!, $first: Int, $after: String, $order: ContainerOrder!,
      $direction: SortDirection!, $filter: ContainerFilterInput) {
  organization(id: $org) {
    containersConnection(first: $first, after: $after, orderBy: $order,
                         direction: $direction, filter: $filter) {
      totalCount
      edges { cursor node { id user serviceName } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}
"""


@dataclass
class Seeded:
    app: InProcessServer
    keys: dict[str, str]  # "a", "b": org keys; "a-u1": a user key of ORG's u1

    def client(self, key: str | None = None) -> httpx.AsyncClient:
        return self.app.client() if key is None else self.app.client(token=self.keys[key])

    async def add(self, org: str, user: str, service: str, **fields: Any) -> str:
        runtime = self.app.runtime
        row = await commands.create_cluster(
            sessions=runtime.sessions,
            ids=runtime.ids,
            request=cluster_request(org, user, service, **fields),
        )
        return row.id

    async def rows(self, org: str) -> list[TenantContainerRow]:
        """The organisation's live rows as the database holds them (what to expect)."""
        async with self.app.runtime.sessions() as session:
            statement = select(TenantContainerRow).where(
                col(TenantContainerRow.tenant_org_id) == org,
                col(TenantContainerRow.deleted_at).is_(None),
            )
            return list((await session.exec(statement)).all())


def _cursor(content: Any) -> str:
    """A cursor of this content, as the API encodes them (for made-up ones)."""
    raw = content if isinstance(content, str) else json.dumps(content)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _service(n: int) -> str:
    # Names in another order than creation, so the two orderings differ.
    return f"svc-{(n * 37) % COUNT:03d}"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def seeded(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Seeded]:
    async with serve_in_process(tmp_path_factory.mktemp("connections")) as app:
        data = Seeded(app=app, keys={})
        # Records only (no provisioning): listings need nothing more.
        for n in range(COUNT):
            gpus = 1 if n % GPU_EVERY == 0 else 0
            await data.add(ORG, f"u{n % 5}", _service(n), gpu_count=gpus)
        for n in range(5):
            await data.add(OTHER, f"u{n % 5}", f"svc-{n:03d}")
        ordered = [row.id for row in sorted(await data.rows(ORG), key=_created)]
        async with app.runtime.sessions() as session:
            await session.exec(
                update(TenantContainerRow)
                .where(col(TenantContainerRow.id).in_(ordered[::FAILED_EVERY]))
                .values(status="failed")
            )
            await session.commit()
        async with app.client() as admin:
            for name, body in {
                "a": {"tenant_org_id": ORG, "name": "a"},
                "b": {"tenant_org_id": OTHER, "name": "b"},
                "a-u1": {"tenant_org_id": ORG, "name": "a-u1", "user": "u1"},
            }.items():
                issued = await admin.post("/api-keys", json=body)
                assert issued.status_code == 201, issued.text
                data.keys[name] = issued.json()["secret"]
        yield data


def _created(row: TenantContainerRow) -> tuple[Any, ...]:
    return (row.created_at, row.id)


def _named(row: TenantContainerRow) -> tuple[Any, ...]:
    return (row.service_name, row.user, row.id)


KEYS: dict[str, Callable[[TenantContainerRow], tuple[Any, ...]]] = {
    "CREATED": _created,
    "NAME": _named,
}


def ok(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def walk_graphql(
    client: httpx.AsyncClient,
    *,
    org: str = ORG,
    order: str = "CREATED",
    direction: str = "ASC",
    first: int | None = 100,
    filter: dict[str, Any] | None = None,
    between: Callable[[], Any] | None = None,
) -> tuple[list[str], list[int], int]:
    """Every id of a connection, page by page: (ids, page sizes, totalCount)."""
    ids: list[str] = []
    sizes: list[int] = []
    after = None
    variables = {"org": org, "first": first, "order": order, "direction": direction}
    while True:
        body = await graphql(client, CONNECTION, {**variables, "after": after, "filter": filter})
        connection = ok(body)["organization"]["containersConnection"]
        edges = connection["edges"]
        ids += [edge["node"]["id"] for edge in edges]
        sizes.append(len(edges))
        info = connection["pageInfo"]
        assert info["endCursor"] == (edges[-1]["cursor"] if edges else None)
        assert info["startCursor"] == (edges[0]["cursor"] if edges else None)
        assert info["hasPreviousPage"] is (after is not None)
        if not info["hasNextPage"]:
            return ids, sizes, connection["totalCount"]
        after = info["endCursor"]
        if between is not None:
            await between()


async def walk_rest(client: httpx.AsyncClient, url: str) -> tuple[list[str], list[int]]:
    """Every id of a REST listing, following its Link headers."""
    ids: list[str] = []
    sizes: list[int] = []
    next_url: str | None = url
    while next_url is not None:
        response = await client.get(next_url)
        assert response.status_code == 200, response.text
        page = response.json()
        ids += [row["id"] for row in page]
        sizes.append(len(page))
        link = response.headers.get("link")
        if link is None:
            assert "x-next-cursor" not in response.headers
            next_url = None
        else:
            assert link.startswith("<") and link.endswith('>; rel="next"')
            next_url = link[1 : -len('>; rel="next"')]
            assert f"cursor={response.headers['x-next-cursor']}" in next_url
    return ids, sizes


@pytest.mark.parametrize("order", ["CREATED", "NAME"])
@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_pages_of_100_give_each_container_once_in_order(
    seeded: Seeded, order: str, direction: str
) -> None:
    rows = sorted(await seeded.rows(ORG), key=KEYS[order], reverse=direction == "DESC")
    expected = [row.id for row in rows]
    assert len(expected) == COUNT
    async with seeded.client("a") as client:
        ids, sizes, total = await walk_graphql(client, order=order, direction=direction)
        assert (ids, sizes, total) == (expected, [100, 100, 50], COUNT)
        query = f"?limit=100&order={order.lower()}&direction={direction.lower()}"
        for url in (f"/tenant/containers/org/{ORG}{query}", f"/tenant/containers{query}"):
            assert await walk_rest(client, url) == (expected, [100, 100, 50])
    # The admin's listing of everything pages the same way, other organisations included.
    async with seeded.client() as admin:
        everything = (
            "query($after: String) { tenantContainersConnection(tenantOrgId: "
            f'"{ORG}", after: $after, orderBy: {order}, direction: {direction}) '
            "{ edges { node { id } } pageInfo { hasNextPage endCursor } } }"
        )
        seen: list[str] = []
        after = None
        while True:
            page = ok(await graphql(admin, everything, {"after": after}))
            connection = page["tenantContainersConnection"]
            seen += [edge["node"]["id"] for edge in connection["edges"]]
            if not connection["pageInfo"]["hasNextPage"]:
                break
            after = connection["pageInfo"]["endCursor"]
        assert seen == expected
        ids, _ = await walk_rest(admin, f"/tenant/containers{query}")
        assert len(ids) == COUNT + 5 and set(expected) < set(ids)


@pytest.mark.parametrize("order", ["CREATED", "NAME"])
async def test_inserts_between_pages_neither_repeat_nor_skip(seeded: Seeded, order: str) -> None:
    org = f"{INSERTS}-{order.lower()}"
    for n in range(60):
        await seeded.add(org, f"u{n % 3}", f"svc-{(n * 7) % 60:03d}")
    old = [row.id for row in sorted(await seeded.rows(org), key=KEYS[order])]
    added = iter(range(1000))

    async def insert() -> None:
        for _ in range(5):
            n = next(added)
            # Names before, between and after the old ones'.
            await seeded.add(org, "late", f"svc-{(n * 13) % 70:03d}-{n}")

    async with seeded.client() as admin:
        ids, sizes, total = await walk_graphql(
            admin, org=org, order=order, first=20, between=insert
        )
    assert len(ids) == len(set(ids))
    assert [i for i in ids if i in set(old)] == old
    if order == "CREATED":  # the new ones come after every old one, all of them seen
        assert ids[: len(old)] == old and len(ids) == total
    assert sizes[0] == 20


async def test_filters_each_and_combined(seeded: Seeded) -> None:
    rows = sorted(await seeded.rows(ORG), key=_created)
    moments = [row.created_at.replace(tzinfo=UTC) for row in rows]
    after, before = moments[50], moments[120]

    cases: list[tuple[dict[str, Any], dict[str, Any], Callable[[TenantContainerRow], bool]]] = [
        ({"status": ["failed"]}, {"status": "failed"}, lambda r: r.status == "failed"),
        (
            {"status": ["failed", "pending"]},
            {"status": ["failed", "pending"]},
            lambda r: True,
        ),
        ({"user": "u2"}, {"user": "u2"}, lambda r: r.user == "u2"),
        (
            {"servicePrefix": "svc-1"},
            {"service_prefix": "svc-1"},
            lambda r: r.service_name.startswith("svc-1"),
        ),
        (
            {"servicePrefix": "svc_"},  # a LIKE wildcard is a plain character here
            {"service_prefix": "svc_"},
            lambda r: False,
        ),
        (
            {"createdAfter": after.isoformat(), "createdBefore": before.isoformat()},
            {"created_after": after.isoformat(), "created_before": before.isoformat()},
            lambda r: after <= r.created_at.replace(tzinfo=UTC) < before,
        ),
        (  # the same moments in another time zone
            {"createdAfter": after.astimezone(EAST).isoformat()},
            {"created_after": after.astimezone(EAST).isoformat()},
            lambda r: after <= r.created_at.replace(tzinfo=UTC),
        ),
        ({"hasGpu": True}, {"has_gpu": "true"}, lambda r: r.gpu_count > 0),
        ({"hasGpu": False}, {"has_gpu": "false"}, lambda r: r.gpu_count == 0),
        (
            {"status": ["pending"], "user": "u3", "hasGpu": True, "servicePrefix": "svc-"},
            {"status": "pending", "user": "u3", "has_gpu": "1", "service_prefix": "svc-"},
            lambda r: r.status == "pending" and r.user == "u3" and r.gpu_count > 0,
        ),
    ]
    async with seeded.client("a") as client:
        for given, params, holds in cases:
            expected = [row.id for row in rows if holds(row)]
            ids, _, total = await walk_graphql(client, first=30, filter=given)
            assert (ids, total) == (expected, len(expected)), given
            whole = await client.get(f"/tenant/containers/org/{ORG}", params=params)
            assert [row["id"] for row in whole.json()] == expected, params
            paged, _ = await walk_rest(
                client, str(httpx.URL(f"/tenant/containers/org/{ORG}", params=params)) + "&limit=30"
            )
            assert paged == expected, params
    assert 0 < len([r for r in rows if r.status == "failed"]) < len(rows)


async def test_without_limit_the_listings_are_the_specifications_list(seeded: Seeded) -> None:
    expected = [row.id for row in sorted(await seeded.rows(ORG), key=_created)]
    async with seeded.client("a") as client:
        for url in (f"/tenant/containers/org/{ORG}", "/tenant/containers"):
            response = await client.get(url)
            assert response.status_code == 200
            assert "link" not in response.headers and "x-next-cursor" not in response.headers
            body = response.json()
            assert [row["id"] for row in body] == expected
            assert set(body[0]) >= {"id", "tenant_org_id", "user", "service_name", "status"}
        # An empty cursor is the start; a page with more after it links to them.
        first = await client.get(f"/tenant/containers/org/{ORG}?limit=100&cursor=")
        assert [row["id"] for row in first.json()] == expected[:100]
        assert "link" in first.headers


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=101",
        "limit=ten",
        "cursor=not-a-cursor",
        f"cursor={_cursor(['created', '0001-01-01T00:00:00+05:00', 'x'])}",
        f"cursor={_cursor(['name', 'a', 'b', 7])}",
        f"cursor={_cursor('[' * 5000)}",
        f"cursor={_cursor(['created', 'x'] * 400)}",
        "status=running",
        "status=failed&status=sleeping",
        "order=size",
        "direction=up",
        "has_gpu=maybe",
        "created_after=yesterday",
        "created_before=2026-01-01",  # no time, no zone
        "include_deleted=perhaps",
    ],
)
async def test_bad_rest_parameters_are_400(seeded: Seeded, query: str) -> None:
    async with seeded.client("a") as client:
        for path in (f"/tenant/containers/org/{ORG}", "/tenant/containers"):
            response = await client.get(f"{path}?{query}")
            assert response.status_code == 400, (query, response.text)
            assert set(response.json()) == {"error"}


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ("first: 101", "first must be between 0 and 100"),
        ("first: -1", "first must be between 0 and 100"),
        ('after: "garbage"', "after must be a cursor"),
        (f'after: "{_cursor(["created", "2026-01-01T00:00:00", 1])}"', "after must be a cursor"),
        ('filter: {createdAfter: "yesterday"}', ""),
    ],
)
async def test_bad_connection_arguments_are_bad_user_input(
    seeded: Seeded, arguments: str, says: str
) -> None:
    async with seeded.client("a") as client:
        body = await graphql(
            client, f"{{ tenantContainersConnection({arguments}) {{ totalCount }} }}"
        )
    (error,) = body["errors"]
    assert error["extensions"]["code"] in {"BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"}
    assert says in error["message"]


async def test_a_cursor_of_another_order_is_refused(seeded: Seeded) -> None:
    async with seeded.client("a") as client:
        by_name = await graphql(
            client, CONNECTION, {"org": ORG, "first": 1, "order": "NAME", "direction": "ASC"}
        )
        cursor = ok(by_name)["organization"]["containersConnection"]["pageInfo"]["endCursor"]
        body = await graphql(
            client,
            CONNECTION,
            {"org": ORG, "first": 1, "after": cursor, "order": "CREATED", "direction": "ASC"},
        )
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert "created order" in error["message"]
        response = await client.get(f"/tenant/containers?limit=1&cursor={cursor}")
        assert response.status_code == 400


async def test_other_organisations_and_users_see_nothing_of_it(seeded: Seeded) -> None:
    rows = await seeded.rows(ORG)
    mine = sorted((row for row in rows if row.user == "u1"), key=_created)
    async with seeded.client("b") as other:
        for filter in (None, {"user": "u1"}, {"status": ["failed"]}, {"servicePrefix": "svc"}):
            ids, _, total = await walk_graphql(other, filter=filter)
            assert (ids, total) == ([], 0)
        everything = await graphql(
            other, "{ tenantContainersConnection { totalCount edges { node { tenantOrgId } } } }"
        )
        connection = ok(everything)["tenantContainersConnection"]
        assert connection["totalCount"] == 5
        assert {edge["node"]["tenantOrgId"] for edge in connection["edges"]} == {OTHER}
        response = await other.get(f"/tenant/containers/org/{ORG}?limit=100&user=u1")
        assert response.json() == [] and "link" not in response.headers
    async with seeded.client("a-u1") as user:
        ids, _, total = await walk_graphql(user, first=10)
        assert (ids, total) == ([row.id for row in mine], len(mine))
        ids, _, total = await walk_graphql(user, filter={"user": "u2"})
        assert (ids, total) == ([], 0)
        tree = (
            f'{{ organization(id: "{ORG}") {{ users {{ name '
            "containersConnection(first: 5) { totalCount edges { node { user } } } } } }"
        )
        (only,) = ok(await graphql(user, tree))["organization"]["users"]
        assert only["name"] == "u1"
        assert only["containersConnection"]["totalCount"] == len(mine)
        paged, _ = await walk_rest(user, "/tenant/containers?limit=7")
        assert paged == [row.id for row in mine]


async def test_a_users_connection_is_batched_per_user(seeded: Seeded) -> None:
    rows = sorted(await seeded.rows(ORG), key=_named)
    tree = (
        f'{{ organization(id: "{ORG}") {{ users {{ name '
        "containersConnection(first: 3, orderBy: NAME) { totalCount "
        "edges { cursor node { id } } pageInfo { hasNextPage } } } } }"
    )
    async with seeded.client("a") as client:
        users = ok(await graphql(client, tree))["organization"]["users"]
    assert [user["name"] for user in users] == [f"u{n}" for n in range(5)]
    for user in users:
        theirs = [row.id for row in rows if row.user == user["name"]]
        connection = user["containersConnection"]
        assert [edge["node"]["id"] for edge in connection["edges"]] == theirs[:3]
        assert connection["totalCount"] == len(theirs) == COUNT // 5
        assert connection["pageInfo"]["hasNextPage"] is True
    # One position for every user: each gets its rows after it (one windowed statement).
    cursor = users[0]["containersConnection"]["edges"][-1]["cursor"]
    position = _named(
        next(
            row
            for row in rows
            if row.id == users[0]["containersConnection"]["edges"][-1]["node"]["id"]
        )
    )
    after = tree.replace("first: 3,", f'first: 3, after: "{cursor}",')
    async with seeded.client("a") as client:
        later = ok(await graphql(client, after))["organization"]["users"]
    for user in later:
        theirs = [row.id for row in rows if row.user == user["name"] and _named(row) > position]
        assert [e["node"]["id"] for e in user["containersConnection"]["edges"]] == theirs[:3]


async def test_the_deprecated_lists_still_answer(seeded: Seeded) -> None:
    expected = [row.id for row in sorted(await seeded.rows(ORG), key=_created)]
    async with seeded.client("a") as client:
        old = ok(
            await graphql(client, f'{{ organization(id: "{ORG}") {{ containers {{ id }} }} }}')
        )
        assert [row["id"] for row in old["organization"]["containers"]] == expected
        listed = ok(await graphql(client, "{ tenantContainers(first: 10) { id cursor } }"))
        assert [row["id"] for row in listed["tenantContainers"]] == expected[:10]
        # Its cursor still pages the old list, and is the connection's in creation order.
        after = listed["tenantContainers"][-1]["cursor"]
        rest = ok(await graphql(client, f'{{ tenantContainers(after: "{after}") {{ id }} }}'))
        assert [row["id"] for row in rest["tenantContainers"]] == expected[10:]
        ids, _, _ = await walk_graphql(client, first=None)
        assert ids == expected
        deprecated = ok(
            await graphql(
                client,
                '{ __type(name: "Organization") { fields(includeDeprecated: true) '
                "{ name isDeprecated deprecationReason } } }",
            )
        )
    fields = {f["name"]: f for f in deprecated["__type"]["fields"]}
    assert fields["containers"]["isDeprecated"] is True
    assert "containersConnection" in fields["containers"]["deprecationReason"]
    assert fields["containersConnection"]["isDeprecated"] is False


async def test_events_usage_audit_and_keys_page_as_connections(seeded: Seeded) -> None:
    async with seeded.client() as admin:
        # Three events: the record's, and two transitions written for this test.
        # pending, creating, created; then three usage reports.
        namespace = (await create_and_wait(admin, "page-e", "ev", "svc"))["namespace"]
        for n in range(3):
            report = await admin.post(
                f"/deployments/{namespace}/report", json={"cpu_usage": n, "qps": n}
            )
            assert report.status_code == 200, report.text
        tree = """
        query($after: String) { tenantContainer(user: "ev", serviceName: "svc") {
          events { to }
          eventsConnection(first: 1, after: $after) {
            totalCount edges { node { to } } pageInfo { hasNextPage endCursor } }
          deployment { usageHistory { qps } usageHistoryConnection(first: 2) {
            totalCount edges { node { qps } } } } } }
        """
        whole = ok(await graphql(admin, tree))["tenantContainer"]
        events = [e["to"] for e in whole["events"]]
        seen, after = [], None
        while True:
            page = ok(await graphql(admin, tree, {"after": after}))["tenantContainer"]
            connection = page["eventsConnection"]
            assert connection["totalCount"] == len(events)
            seen += [edge["node"]["to"] for edge in connection["edges"]]
            if not connection["pageInfo"]["hasNextPage"]:
                break
            after = connection["pageInfo"]["endCursor"]
        assert seen == events and events[:1] == ["pending"] and len(events) >= 3
        usage = whole["deployment"]["usageHistoryConnection"]
        history = [s["qps"] for s in whole["deployment"]["usageHistory"]]
        assert usage["totalCount"] == len(history) == 3
        assert [edge["node"]["qps"] for edge in usage["edges"]] == history[:2]

        for listing, old in (
            ("auditLogConnection", "auditLog(limit: 1000) { id }"),
            ("apiKeysConnection", "apiKeys { id }"),
        ):
            expected = [row["id"] for row in ok(await graphql(admin, f"{{ {old} }}")).popitem()[1]]
            query = (
                f"query($after: String) {{ {listing}(first: 2, after: $after) {{ totalCount "
                "edges { node { id } } pageInfo { hasNextPage endCursor } } }"
            )
            seen, after = [], None
            while True:
                connection = ok(await graphql(admin, query, {"after": after}))[listing]
                assert connection["totalCount"] == len(expected)
                seen += [edge["node"]["id"] for edge in connection["edges"]]
                if not connection["pageInfo"]["hasNextPage"]:
                    break
                after = connection["pageInfo"]["endCursor"]
            assert seen == expected and len(seen) >= 3, listing
    async with seeded.client("a") as org_key:
        refused = await graphql(org_key, "{ auditLogConnection { totalCount } }")
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
