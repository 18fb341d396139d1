"""How fast is an organisation tree served over GraphQL as the org grows?

Seeds organisations of several sizes straight into a fresh SQLite store (records
only: no provisioning), then times the frontend's tree query through the real schema,
DataLoaders and database, and counts the SQL statements it costs. Beside it, in the
same run and interleaved (so a busy machine slows all alike): the same query on the
standard graphql-core executor (the server runs the fast one, app.api.graphql.
fast_execution), and the floor, one SQL query of the same rows and ``json.dumps`` of
them. Prints figures; asserts nothing (machines are noisy).

    python benchmarks/org_tree.py [--sizes 10 100 1000 3000] [--repeat 20] [--freeze-gc]

``--freeze-gc`` moves everything alive after seeding out of the cyclic garbage
collector's reach (``gc.freeze()``) before measuring: how much of the time the
collector's passes over the process's whole heap take.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import strawberry
from sqlalchemy import event, text

from app.access.principals import Principal
from app.api.graphql.context import Context
from app.api.graphql.schema import DEFAULT_LIMITS, make_schema, schema
from app.runtime import open_runtime
from app.settings import KubeMode, Settings
from app.tenancy import commands
from app.tenancy.requests import parse_create_request

TREE = """
query($id: String!) {
  organization(id: $id) {
    containers {
      id serviceName status cpu memory disk
      deployment { status replicas qps details { diskSize } }
    }
    users { name containers { serviceName status } }
  }
}
"""


async def seed(runtime: Any, org: str, size: int) -> None:
    for n in range(size):
        request = parse_create_request(
            {"tenant_org_id": org, "user": f"user{n % 50}", "service_name": f"svc{n}"},
            reserved=runtime.reserved_namespaces,
            org_prefixed=False,
        )
        await commands.create_cluster(sessions=runtime.sessions, ids=runtime.ids, request=request)


# The rows the tree shows, containers with their deployments, in one statement.
FLOOR = text(
    """
    SELECT c.id, c.user, c.service_name, c.status, c.cpu_request, c.cpu_limit,
           c.mem_request, c.mem_limit, c.disk_size, d.status, d.replicas, d.qps, d.details
    FROM tenant_containers c JOIN deployment_statuses d ON d.container_id = c.id
    WHERE c.tenant_org_id = :org AND c.deleted_at IS NULL
    ORDER BY c.created_at, c.id
    """
)


async def tree(runtime: Any, executing: strawberry.Schema, org: str) -> float:
    started = time.perf_counter()
    context = Context(runtime=runtime, principal=Principal.admin())
    result = await executing.execute(TREE, variable_values={"id": org}, context_value=context)
    elapsed = time.perf_counter() - started
    assert result.errors is None, result.errors
    return elapsed


async def floor(runtime: Any, org: str) -> float:
    started = time.perf_counter()
    async with runtime.sessions() as session:
        connection = await session.connection()
        rows = (await connection.execute(FLOOR, {"org": org})).all()
    json.dumps([list(row) for row in rows], default=str)
    return time.perf_counter() - started


async def statements_per_tree(runtime: Any, org: str) -> int:
    engine = runtime.sessions.kw["bind"]
    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        await tree(runtime, schema, org)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    return statements


async def measure(
    runtime: Any, org: str, repeat: int, standard: strawberry.Schema
) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {"fast": [], "standard": [], "floor": []}
    await tree(runtime, schema, org)  # warm up: plans, caches, the database's pages
    for _ in range(repeat):
        timings["fast"].append(await tree(runtime, schema, org))
        timings["standard"].append(await tree(runtime, standard, org))
        timings["floor"].append(await floor(runtime, org))
    return timings


def p50(values: list[float]) -> float:
    return statistics.median(values) * 1000


def p95(values: list[float]) -> float:
    ms = sorted(v * 1000 for v in values)
    return ms[min(len(ms) - 1, int(len(ms) * 0.95))]


async def main(sizes: list[int], repeat: int, freeze_gc: bool) -> None:
    standard = make_schema(**DEFAULT_LIMITS, fast_execution=False)
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(data_dir=Path(data_dir), kube_mode=KubeMode.SANDBOX, database_url="")
        async with open_runtime(settings) as runtime:
            print(
                f"{'clusters':>9} {'SQL/query':>10} {'p50 ms':>9} {'p95 ms':>9}"
                f" {'standard':>9} {'floor':>7} {'/floor':>7} {'std/floor':>9}"
            )
            for size in sizes:
                org = f"bench-{size}"
                await seed(runtime, org, size)
                per_query = await statements_per_tree(runtime, org)
                if freeze_gc:
                    gc.collect()
                    gc.freeze()
                t = await measure(runtime, org, repeat, standard)
                fast, std, bottom = p50(t["fast"]), p50(t["standard"]), p50(t["floor"])
                print(
                    f"{size:>9} {per_query:>10} {fast:>9.1f} {p95(t['fast']):>9.1f}"
                    f" {std:>9.1f} {bottom:>7.1f} {fast / bottom:>6.1f}x {std / bottom:>8.1f}x"
                )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000, 3000])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--freeze-gc", action="store_true")
    args = parser.parse_args()
    asyncio.run(main(args.sizes, args.repeat, args.freeze_gc))
