"""How fast is an organisation tree served over GraphQL as the org grows?

Seeds organisations of several sizes straight into a fresh SQLite store (records
only: no provisioning), then times the frontend's tree query through the real schema,
DataLoaders and database, and counts the SQL statements it costs. Prints figures;
asserts nothing (machines are noisy).

    python benchmarks/org_tree.py [--sizes 10 100 1000 3000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event

from app.access.principals import Principal
from app.api.graphql.context import Context
from app.api.graphql.schema import schema
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


async def measure(runtime: Any, org: str, repeat: int) -> tuple[list[float], int]:
    engine = runtime.sessions.kw["bind"]
    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    timings = []
    for attempt in range(repeat):
        event.listen(engine.sync_engine, "before_cursor_execute", count)
        started = time.perf_counter()
        context = Context(runtime=runtime, principal=Principal.admin())
        result = await schema.execute(TREE, variable_values={"id": org}, context_value=context)
        timings.append(time.perf_counter() - started)
        event.remove(engine.sync_engine, "before_cursor_execute", count)
        assert result.errors is None, result.errors
        if attempt == 0:
            per_query = statements
    return timings, per_query


async def main(sizes: list[int], repeat: int) -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(data_dir=Path(data_dir), kube_mode=KubeMode.SANDBOX, database_url="")
        async with open_runtime(settings) as runtime:
            print(f"{'clusters':>9} {'SQL/query':>10} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9}")
            for size in sizes:
                org = f"bench-{size}"
                await seed(runtime, org, size)
                timings, per_query = await measure(runtime, org, repeat)
                ms = sorted(t * 1000 for t in timings)
                p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
                p50 = statistics.median(ms)
                print(f"{size:>9} {per_query:>10} {p50:>9.1f} {p95:>9.1f} {ms[-1]:>9.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000, 3000])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.sizes, args.repeat))
