"""Billing through the real API (REST and GraphQL) of the in-process app, with a clock
the test moves: the usage ledger written by create, update and delete, bills cut at
period boundaries and price changes, allocation by user and by service, isolation, and
who may change prices. Every expected amount is computed by hand below, from the
default prices (per hour: CPU core 0.04, GiB of memory 0.005, GiB of disk 0.0001,
GPU 2.50 USD)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlmodel import col, select

from app.store.tables import UsageLedgerRow
from tests.conftest import MakeApp
from tests.support.clock import ManualClock
from tests.support.inprocess import (
    InProcessServer,
    create_accepted,
    create_and_wait,
    graphql,
    wait_for_status,
)

NOV_10 = datetime(2026, 11, 10, 10, 0, tzinfo=UTC)
BILL_QUERY = """
query ($org: String!, $period: String, $from: DateTime, $to: DateTime) {
  organization(id: $org) {
    bill(period: $period, from: $from, to: $to) {
      tenantOrgId period from to billedUntil currency total
      lines { containerId user serviceName namespace cpuCoreHours memoryGibHours
              diskGibHours gpuHours cost }
      byUser { user lines cost }
      byService { serviceName lines cost }
    }
  }
}
"""


async def _app(make_app: MakeApp, start: datetime) -> tuple[InProcessServer, ManualClock]:
    clock = ManualClock(start)
    return await make_app(clock=clock), clock


async def _bill(http: httpx.AsyncClient, org: str, **params: str) -> dict[str, Any]:
    response = await http.get(f"/billing/org/{org}", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _key(admin: httpx.AsyncClient, org: str, user: str | None = None) -> str:
    body = {"tenant_org_id": org, "name": "billing test", **({"user": user} if user else {})}
    response = await admin.post("/api-keys", json=body)
    assert response.status_code == 201, response.text
    secret: str = response.json()["secret"]
    return secret


async def test_a_cluster_that_ran_90_minutes_then_scaled_then_deleted(
    make_app: MakeApp, org: str
) -> None:
    app, clock = await _app(make_app, NOV_10)
    async with app.client() as http:
        created = await create_and_wait(
            http, org, "alice", "search",
            replicas=2, cpu_request="1", cpu_limit="4", mem_request="2Gi", mem_limit="8Gi",
            disk_size="50Gi", gpu_count=1,
        )  # fmt: skip
        clock.advance(minutes=90)
        response = await http.patch(f"/clusters/{created['namespace']}", json={"replicas": 3})
        assert response.status_code == 202, response.text
        await wait_for_status(
            http, user="alice", service_name="search", tenant_org_id=org, wanted={"created"}
        )
        clock.advance(minutes=30)
        response = await http.delete(f"/clusters/{created['namespace']}")
        assert response.status_code == 202, response.text
        # Deleted: nothing after the delete is billed, however late the bill is made.
        clock.advance(days=30)

        bill = await _bill(http, org, period="2026-11")
        # 90 min x 2 nodes, then 30 min x 3 nodes, each node 4 cores, 8Gi, 50Gi, 1 GPU:
        # 2x1.5 + 3x0.5 = 4.5 node-hours: 18 core-h, 36 GiB-h memory, 225 GiB-h disk,
        # 4.5 GPU-h; 18x0.04 + 36x0.005 + 225x0.0001 + 4.5x2.50
        # = 0.72 + 0.18 + 0.0225 + 11.25 = 12.1725, rounded half to even: 12.17.
        line = {
            "container_id": created["id"],
            "user": "alice",
            "service_name": "search",
            "namespace": created["namespace"],
            "cpu_core_hours": "18.000000",
            "memory_gib_hours": "36.000000",
            "disk_gib_hours": "225.000000",
            "gpu_hours": "4.500000",
            "cost": "12.17",
        }
        hours = {k: v for k, v in line.items() if k.endswith("_hours")}
        assert bill == {
            "tenant_org_id": org,
            "period": "2026-11",
            "from": "2026-11-01T00:00:00Z",
            "to": "2026-12-01T00:00:00Z",
            "billed_until": "2026-12-01T00:00:00Z",
            "currency": "USD",
            "lines": [line],
            "by_user": [{"user": "alice", "lines": 1, **hours, "cost": "12.17"}],
            "by_service": [{"service_name": "search", "lines": 1, **hours, "cost": "12.17"}],
            "total": "12.17",
        }

        response = await http.get(
            f"/billing/org/{org}", params={"period": "2026-11", "format": "csv"}
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/csv")
        assert list(csv.reader(io.StringIO(response.text))) == [
            ["container_id", "user", "service_name", "namespace", "cpu_core_hours",
             "memory_gib_hours", "disk_gib_hours", "gpu_hours", "cost", "currency"],
            [created["id"], "alice", "search", created["namespace"], "18.000000",
             "36.000000", "225.000000", "4.500000", "12.17", "USD"],
            ["total", "", "", "", "", "", "", "", "12.17", "USD"],
        ]  # fmt: skip

        answer = await graphql(http, BILL_QUERY, {"org": org, "period": "2026-11"})
        assert "errors" not in answer, answer
        assert answer["data"]["organization"]["bill"] == {
            "tenantOrgId": org,
            "period": "2026-11",
            "from": "2026-11-01T00:00:00Z",
            "to": "2026-12-01T00:00:00Z",
            "billedUntil": "2026-12-01T00:00:00Z",
            "currency": "USD",
            "total": "12.17",
            "lines": [
                {
                    "containerId": created["id"],
                    "user": "alice",
                    "serviceName": "search",
                    "namespace": created["namespace"],
                    "cpuCoreHours": "18.000000",
                    "memoryGibHours": "36.000000",
                    "diskGibHours": "225.000000",
                    "gpuHours": "4.500000",
                    "cost": "12.17",
                }
            ],
            "byUser": [{"user": "alice", "lines": 1, "cost": "12.17"}],
            "byService": [{"serviceName": "search", "lines": 1, "cost": "12.17"}],
        }

        # The same use asked for as from/to around it: the same amounts.
        spanned = await _bill(
            http, org, **{"from": "2026-11-10T09:00:00Z", "to": "2026-11-10T13:00:00+01:00"}
        )
        assert spanned["period"] is None
        assert (spanned["from"], spanned["to"]) == ("2026-11-10T09:00:00Z", "2026-11-10T12:00:00Z")
        assert spanned["total"] == "12.17"


async def test_the_ledger_is_append_only(make_app: MakeApp, org: str) -> None:
    app, clock = await _app(make_app, NOV_10)
    async with app.client() as http:
        created = await create_and_wait(http, org, "alice", "search", replicas=1)
        clock.advance(hours=1)
        response = await http.patch(f"/clusters/{created['namespace']}", json={"replicas": 2})
        assert response.status_code == 202, response.text
        await wait_for_status(
            http, user="alice", service_name="search", tenant_org_id=org, wanted={"created"}
        )
        clock.advance(hours=1)
        assert (await http.delete(f"/clusters/{created['namespace']}")).status_code == 202
        # A second delete records nothing more.
        clock.advance(hours=1)
        assert (await http.delete(f"/clusters/{created['namespace']}")).status_code == 202
    async with app.runtime.sessions() as session:
        rows = (
            await session.exec(
                select(UsageLedgerRow)
                .where(col(UsageLedgerRow.container_id) == created["id"])
                .order_by(col(UsageLedgerRow.id))
            )
        ).all()

    def utc(moment: datetime | None) -> datetime | None:
        return moment.replace(tzinfo=UTC) if moment is not None else None

    at = [(row.replicas, utc(row.started_at), utc(row.ended_at)) for row in rows]
    # The update closed the first segment (its replicas untouched) and opened a second;
    # the delete closed that one and opened none.
    assert at == [
        (1, NOV_10, NOV_10.replace(hour=11)),
        (2, NOV_10.replace(hour=11), NOV_10.replace(hour=12)),
    ]
    assert {(row.tenant_org_id, row.user, row.service_name, row.namespace) for row in rows} == {
        (org, "alice", "search", created["namespace"])
    }


async def test_a_cluster_spanning_the_month_boundary_is_cut_at_it(
    make_app: MakeApp, org: str
) -> None:
    app, clock = await _app(make_app, datetime(2026, 11, 30, 23, 0, tzinfo=UTC))
    async with app.client() as http:
        await create_accepted(http, org, "alice", "search")  # 1 node: 2 cores, 2Gi, 10Gi
        clock.advance(hours=3)  # now 2026-12-01T02:00Z, still running
        november = await _bill(http, org, period="2026-11")
        december = await _bill(http, org, period="2026-12")
    # November: 1 h = 2 core-h, 2 GiB-h, 10 GiB-h: 0.08 + 0.01 + 0.001 = 0.091 -> 0.09.
    assert november["billed_until"] == "2026-12-01T00:00:00Z"
    assert [
        (line["cpu_core_hours"], line["memory_gib_hours"], line["disk_gib_hours"], line["cost"])
        for line in november["lines"]
    ] == [("2.000000", "2.000000", "10.000000", "0.09")]
    assert november["total"] == "0.09"
    # December so far (open, up to now): 2 h: 0.16 + 0.02 + 0.002 = 0.182 -> 0.18.
    assert december["billed_until"] == "2026-12-01T02:00:00Z"
    assert [line["cpu_core_hours"] for line in december["lines"]] == ["4.000000"]
    assert december["total"] == "0.18"


async def test_a_price_change_mid_period_splits_the_segment(make_app: MakeApp, org: str) -> None:
    app, clock = await _app(make_app, NOV_10)
    async with app.client() as http:
        await create_accepted(http, org, "alice", "search")  # 1 node: 2 cores, 2Gi, 10Gi
        change = {"effective_from": "2026-11-10T11:00:00Z", "cpu_core_hour": "0.10"}
        response = await http.post("/billing/prices", json=change)
        assert response.status_code == 201, response.text
        # The prices left out are those in force then (the settings').
        assert response.json() == {
            "effective_from": "2026-11-10T11:00:00Z",
            "cpu_core_hour": "0.10",
            "memory_gib_hour": "0.005",
            "disk_gib_hour": "0.0001",
            "gpu_hour": "2.50",
            "currency": "USD",
        }
        clock.advance(hours=3)
        bill = await _bill(http, org, period="2026-11")
        # cpu 2 cores x (1 h at 0.04 + 2 h at 0.10) = 0.08 + 0.40; memory 2 GiB x 3 h x
        # 0.005 = 0.03; disk 10 GiB x 3 h x 0.0001 = 0.003: 0.513 -> 0.51.
        assert bill["lines"][0]["cpu_core_hours"] == "6.000000"
        assert bill["total"] == "0.51"

        prices = await http.get("/billing/prices")
        assert [p["effective_from"] for p in prices.json()] == [None, "2026-11-10T11:00:00Z"]
        answer = await graphql(http, "{ prices { effectiveFrom cpuCoreHour currency } }")
        assert answer["data"]["prices"] == [
            {"effectiveFrom": None, "cpuCoreHour": "0.04", "currency": "USD"},
            {"effectiveFrom": "2026-11-10T11:00:00Z", "cpuCoreHour": "0.10", "currency": "USD"},
        ]


async def test_only_the_admin_sets_prices_and_never_in_the_past(
    make_app: MakeApp, org: str
) -> None:
    app, clock = await _app(make_app, NOV_10)
    async with app.client() as admin:
        key = await _key(admin, org)
        past = {"effective_from": "2026-11-10T09:59:59Z", "cpu_core_hour": "1"}
        response = await admin.post("/billing/prices", json=past)
        assert response.status_code == 400
        assert "in the past" in response.json()["error"]
        for bad in ({"cpu_core_hour": "-1"}, {"cpu_core_hour": "abc"}, {"currency": "usd"},
                    {"price": "1"}, {"effective_from": "2026-12-01T00:00:00"}):  # fmt: skip
            response = await admin.post("/billing/prices", json=bad)
            assert response.status_code == 400, (bad, response.text)
            assert set(response.json()) == {"error"}
        future = {"effective_from": "2026-12-01T00:00:00Z", "gpu_hour": 3}
        assert (await admin.post("/billing/prices", json=future)).status_code == 201
        assert (await admin.post("/billing/prices", json=future)).status_code == 409

        mutation = 'mutation { setPrices(cpuCoreHour: "0.05") { effectiveFrom cpuCoreHour } }'
        answer = await graphql(admin, mutation)
        assert answer["data"]["setPrices"] == {
            "effectiveFrom": "2026-11-10T10:00:00Z",
            "cpuCoreHour": "0.05",
        }
        answer = await graphql(
            admin,
            'mutation { setPrices(effectiveFrom: "2020-01-01T00:00:00Z", gpuHour: "1") '
            "{ gpuHour } }",
        )
        assert answer["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"

    async with app.client(token=key) as tenant:
        response = await tenant.post("/billing/prices", json={"cpu_core_hour": "0"})
        assert response.status_code == 403
        answer = await graphql(tenant, 'mutation { setPrices(cpuCoreHour: "0") { currency } }')
        assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        # Everyone reads them: the settings', the 0.05 from now, the GPU price from
        # December. Each recorded list is whole: December's took the CPU price in force
        # then when it was recorded (0.04), and a change recorded later before it does
        # not rewrite it.
        prices = (await tenant.get("/billing/prices")).json()
        assert [(p["cpu_core_hour"], p["gpu_hour"]) for p in prices] == [
            ("0.04", "2.50"),
            ("0.05", "2.50"),
            ("0.04", "3"),
        ]
    del clock


async def test_allocation_by_user_and_by_service(make_app: MakeApp, org: str) -> None:
    app, clock = await _app(make_app, NOV_10)
    async with app.client() as http:
        for user, service in (("alice", "search"), ("alice", "images"), ("bob", "search")):
            await create_accepted(http, org, user, service)
        clock.advance(hours=1)
        bill = await _bill(http, org, period="2026-11")
    # Each: 1 node for 1 h: 0.08 + 0.01 + 0.001 = 0.091 -> 0.09 a line.
    assert [(line["user"], line["service_name"], line["cost"]) for line in bill["lines"]] == [
        ("alice", "images", "0.09"),
        ("alice", "search", "0.09"),
        ("bob", "search", "0.09"),
    ]
    assert [(a["user"], a["lines"], a["cpu_core_hours"], a["cost"]) for a in bill["by_user"]] == [
        ("alice", 2, "4.000000", "0.18"),
        ("bob", 1, "2.000000", "0.09"),
    ]
    assert [(a["service_name"], a["lines"], a["cost"]) for a in bill["by_service"]] == [
        ("images", 1, "0.09"),
        ("search", 2, "0.18"),
    ]
    # The lines add up: the total is theirs (not the exact 0.273 rounded on its own).
    assert bill["total"] == "0.27"


async def test_bills_are_isolated_by_organisation_and_user(make_app: MakeApp, org: str) -> None:
    app, clock = await _app(make_app, NOV_10)
    other = f"{org}-other"
    async with app.client() as admin:
        await create_accepted(admin, org, "alice", "search")
        await create_accepted(admin, org, "bob", "search")
        await create_accepted(admin, other, "alice", "search")
        org_key, alice_key = await _key(admin, org), await _key(admin, org, "alice")
    clock.advance(hours=1)
    async with app.client(token=org_key) as tenant:
        assert [line["user"] for line in (await _bill(tenant, org))["lines"]] == ["alice", "bob"]
        response = await tenant.get(f"/billing/org/{other}")
        assert response.status_code == 404
        assert response.json() == {"error": f'organisation "{other}" not found'}
        answer = await graphql(tenant, BILL_QUERY, {"org": other})
        assert answer["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    async with app.client(token=alice_key) as alice:
        bill = await _bill(alice, org, period="2026-11")
        assert [line["user"] for line in bill["lines"]] == ["alice"]
        assert [a["user"] for a in bill["by_user"]] == ["alice"]
        assert bill["total"] == "0.09"
        answer = await graphql(alice, BILL_QUERY, {"org": org, "period": "2026-11"})
        assert [line["user"] for line in answer["data"]["organization"]["bill"]["lines"]] == [
            "alice"
        ]
        assert (await alice.get(f"/billing/org/{other}")).status_code == 404


BAD_BILL_REQUESTS = [
    {"period": "2026-13"},
    {"period": "2026-1"},
    {"period": "november"},
    {"from": "2026-11-02T00:00:00Z", "to": "2026-11-01T00:00:00Z"},
    {"from": "2026-01-01T00:00:00Z", "to": "2027-01-03T00:00:00Z"},
    {"from": "2026-11-01T00:00:00Z"},
    {"from": "2026-11-01", "to": "2026-11-02T00:00:00Z"},
    {"from": "2026-11-01T00:00:00", "to": "2026-11-02T00:00:00Z"},
    {"period": "2026-11", "from": "2026-11-01T00:00:00Z", "to": "2026-11-02T00:00:00Z"},
    {"format": "xml"},
]


async def test_bad_bill_requests_are_400(admin_client: httpx.AsyncClient, org: str) -> None:
    for params in BAD_BILL_REQUESTS:
        response = await admin_client.get(f"/billing/org/{org}", params=params)
        assert response.status_code == 400, (params, response.text)
        assert set(response.json()) == {"error"}
    for variables in (
        {"period": "2026-13"},
        {"from": "2026-11-02T00:00:00Z", "to": "2026-11-01T00:00:00Z"},
        {"from": "not a time", "to": "2026-11-01T00:00:00Z"},
    ):
        answer = await graphql(admin_client, BILL_QUERY, {"org": org, **variables})
        assert answer["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", answer
