"""How does the control plane hold up at scale? One command, side by side:

* creates: ``--creates`` clusters (spread over 10 organisations and 7 users each) sent as
  ``POST /clusters`` over real HTTP by 16 concurrent light clients (light_http.py: the
  load generator shares the cores with the server) to a real ``es-serverless serve``
  subprocess on the embedded defaults (SQLite, the sandbox cluster in a process the
  server starts) with ``ESS_SANDBOX_READY_SECONDS=0``: creates per second accepted, the
  latency of a create (p50/p99) while the others provision, the time from the first
  POST until every cluster is ``created``, and the CPU time per create that the server,
  its sandbox process and the clients used while the creates were accepted.
* reads: for each of ``--sizes``, an organisation of that many clusters (across 50
  users; the database holds every size's organisation at once) seeded straight through
  ``app.tenancy.commands`` and marked ``created``, then served by a second server: the
  frontend's GraphQL org tree over HTTP (containers + deployment + details) and in this
  process (the same schema and limits on a runtime of the same database, no HTTP), the
  REST shim ``GET /tenant/containers/org/{org}`` over HTTP and the floor (one SQL query
  of the same rows and ``json.dumps`` of them, in this process), interleaved, p50/p95.
* each server's peak RSS (``VmHWM`` from ``/proc/PID/status``, Linux only), and its
  sandbox process's; and first a speed probe of this machine (``speed_probe``), to
  compare runs made on different machines.

The reads server runs with the reconciler's interval raised (the seeded records have no
Kubernetes objects; it would otherwise spend the measurement marking them degraded) and
the GraphQL row and cost limits raised (an org tree of 10,000 clusters is above the
defaults, which would refuse it). Prints a table, writes JSON (``--json``), asserts
nothing (machines are noisy). Every process it starts is stopped at the end.

    python benchmarks/scale.py [--creates 1000] [--sizes 100 1000 10000] [--repeat 10]
        [--sandbox-in-process] [--json scale.json]

``--sandbox-in-process`` runs the creates' sandbox in the server's own process and event
loop (``ESS_SANDBOX_IN_PROCESS=true``), as it ran before it had a process of its own.

A quick run (under a minute): ``--creates 200 --sizes 100 1000 --repeat 5``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent  # where `python -m app.cli` runs
# The checkout this script belongs to, not whichever `app` the environment installed:
# the seeding and the server must agree on the schema's migrations.
sys.path.insert(0, str(ROOT))

from light_http import LightClient  # noqa: E402
from org_tree import TREE, tree  # noqa: E402  (the query the in-process benchmark times)
from server_process import serve_process  # noqa: E402

from app.api.graphql.cost_limit import CostBudget  # noqa: E402
from app.api.graphql.schema import DEFAULT_LIMITS, make_schema  # noqa: E402
from app.models.names import ReservedNamespaces  # noqa: E402
from app.runtime import open_runtime  # noqa: E402
from app.secrets import random_token  # noqa: E402
from app.settings import KubeMode, Settings  # noqa: E402
from app.store.db import make_engine, make_session_factory, migrate_async  # noqa: E402
from app.tenancy import commands  # noqa: E402
from app.tenancy.naming import IdSequence  # noqa: E402
from app.tenancy.requests import parse_create_request  # noqa: E402

CLIENTS = 16
CREATE_ORGS, CREATE_USERS, TREE_USERS = 10, 7, 50
NO_LIMIT = str(10**15)

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


def peak_rss_mb(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def children(pid: int) -> list[int]:
    """The processes ``pid`` started (the sandbox cluster's, unless it runs in-process)."""
    try:
        listed = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in listed.split()]


def cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) the process ``pid`` has used so far; 0 when
    unknown (not Linux)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()  # after the command, which may hold blanks
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def speed_probe() -> float:
    """Milliseconds of a fixed pure-Python loop, best of three: how fast this machine
    runs Python, to compare runs made on different machines (the same code measured
    about twice as fast on one 2-core machine as on another)."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        sum(i * i for i in range(2_000_000))
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 1)


@dataclass
class Server:
    url: str
    admin: str
    pid: int

    def http(self, timeout: float = 120) -> httpx.AsyncClient:
        limits = httpx.Limits(max_connections=CLIENTS * 2, max_keepalive_connections=CLIENTS * 2)
        return httpx.AsyncClient(
            base_url=self.url,
            headers={"Authorization": f"Bearer {self.admin}"},
            timeout=timeout,
            limits=limits,
        )


@asynccontextmanager
async def serve(data_dir: Path, **settings: str) -> AsyncIterator[Server]:
    async with serve_process(data_dir, **settings) as started:
        yield Server(url=started.url, admin=started.admin, pid=started.pid)


def ms(values: list[float], q: float) -> float:
    ordered = sorted(v * 1000 for v in values)
    if q == 0.5:
        return statistics.median(ordered)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


@contextmanager
def own_collector_paused() -> Iterator[None]:
    """This script's own garbage collector off while it times requests. This process
    imports the whole app (to seed), and a full collection walks all of it: pauses of
    100-150 ms, which landed on whichever requests were in flight and were counted as
    the server's latency (all 16 clients' creates at once, a p99 of 160-180 ms where
    the server answered within 100 ms). The garbage of the timed part is freed after."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


async def measure_creates(count: int, *, sandbox_in_process: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as data_dir:
        async with AsyncExitStack() as stack:
            settings = {"ESS_SANDBOX_IN_PROCESS": "true"} if sandbox_in_process else {}
            server = await stack.enter_async_context(serve(Path(data_dir), **settings))
            http = await stack.enter_async_context(server.http())
            pending = list(range(count))
            latencies: list[float] = []
            refused: list[str] = []

            async def client() -> None:
                async with LightClient(server.url, token=server.admin) as light:
                    while pending:
                        n = pending.pop()
                        body = {
                            "tenant_org_id": f"org{n % CREATE_ORGS}",
                            "user": f"user{n % CREATE_USERS}",
                            "service_name": f"svc{n}",
                        }
                        started = time.perf_counter()
                        status, answer = await light.request("POST", "/clusters", body)
                        latencies.append(time.perf_counter() - started)
                        if status != 202:
                            refused.append(f"{status} {answer[:200]!r}")

            processes = {
                "server": [server.pid],
                "sandbox": children(server.pid),
                "clients": [os.getpid()],
            }
            cpu_before = {what: sum(map(cpu_seconds, pids)) for what, pids in processes.items()}
            with own_collector_paused():
                began = time.perf_counter()
                await asyncio.gather(*(client() for _ in range(CLIENTS)))
                accepted = time.perf_counter() - began
            # CPU time per create while they were being accepted (the provisioning
            # that ran meanwhile included): where the two cores went.
            cpu_ms = {
                what: round((sum(map(cpu_seconds, pids)) - cpu_before[what]) * 1000 / count, 2)
                for what, pids in processes.items()
            }
            # Polled once a second: the poll is load on the server it measures.
            while True:
                rows = (await http.get("/tenant/containers")).json()
                if all(row["status"] in ("created", "failed") for row in rows):
                    break
                await asyncio.sleep(1)
            settled = time.perf_counter() - began
            failed = sum(row["status"] == "failed" for row in rows)
            return {
                "clusters": count,
                "clients": CLIENTS,
                "accepted_seconds": round(accepted, 2),
                "creates_per_second": round(count / accepted, 1),
                "create_p50_ms": round(ms(latencies, 0.5), 1),
                "create_p99_ms": round(ms(latencies, 0.99), 1),
                "cpu_ms_per_create": cpu_ms,
                "all_created_seconds": round(settled, 2),
                "failed": failed,
                "refused": refused[:5],
                "peak_rss_mb": peak_rss_mb(server.pid),
                "sandbox_peak_rss_mb": sum(
                    peak_rss_mb(child) or 0 for child in children(server.pid)
                ),
            }


async def seed(url: str, sizes: list[int]) -> float:
    """Records only, straight through the domain commands, then marked created (no
    provisioning: the reads measure serving the records, not Kubernetes)."""
    began = time.perf_counter()
    await migrate_async(url)
    engine = make_engine(url)
    sessions, ids = make_session_factory(engine), IdSequence()
    reserved = ReservedNamespaces.of(platform_namespace="es-serverless-system", extra=[])
    try:
        for size in sizes:
            org = f"tree{size}"
            for n in range(size):
                request = parse_create_request(
                    {"tenant_org_id": org, "user": f"u{n % TREE_USERS}", "service_name": f"s{n}"},
                    reserved=reserved,
                    org_prefixed=False,
                )
                await commands.create_cluster(sessions=sessions, ids=ids, request=request)
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE tenant_containers SET status = 'created'"))
            await connection.execute(text("UPDATE deployment_statuses SET status = 'created'"))
    finally:
        await engine.dispose()
    return time.perf_counter() - began


async def floor(sessions: Any, org: str) -> float:
    started = time.perf_counter()
    async with sessions() as session:
        connection = await session.connection()
        rows = (await connection.execute(FLOOR, {"org": org})).all()
    json.dumps([list(row) for row in rows], default=str)
    return time.perf_counter() - started


async def timed(http: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> float:
    started = time.perf_counter()
    response = await http.request(method, path, **kwargs)
    body = response.json()
    elapsed = time.perf_counter() - started
    assert response.status_code == 200 and not (isinstance(body, dict) and body.get("errors")), (
        response.text[:500]
    )
    return elapsed


# The server's schema as the reads server runs it: the cost check on, its limits raised.
IN_PROCESS_SCHEMA = make_schema(
    **DEFAULT_LIMITS, cost=CostBudget(max_cost=int(NO_LIMIT), max_rows=int(NO_LIMIT))
)


async def measure_reads(sizes: list[int], repeat: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as data_dir, tempfile.TemporaryDirectory() as own_dir:
        url = Settings(data_dir=Path(data_dir), database_url="").database_url_resolved
        seeded = await seed(url, sizes)
        key = random_token()  # the server and this process share its database
        settings = {
            "ESS_RECONCILE_INTERVAL_SECONDS": "1000000",
            "ESS_GRAPHQL_MAX_LIST_ROWS": NO_LIMIT,
            "ESS_GRAPHQL_MAX_COST": NO_LIMIT,
            "ESS_SECRET_KEY": key,
        }
        # The tree in this process too, through the schema on a runtime of the same
        # database (GraphQL without HTTP).
        in_process = Settings(
            data_dir=Path(own_dir),
            database_url=url,
            secret_key=SecretStr(key),
            kube_mode=KubeMode.SANDBOX,
            sandbox_in_process=True,
            reconcile_interval_seconds=10**6,
        )
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        results: list[dict[str, Any]] = []
        try:
            async with (
                open_runtime(in_process) as runtime,
                serve(Path(data_dir), **settings) as server,
                server.http() as http,
            ):
                for size in sizes:
                    org = f"tree{size}"
                    query = {"query": TREE, "variables": {"id": org}}
                    timings: dict[str, list[float]] = {
                        "in_process": [],
                        "graphql": [],
                        "rest": [],
                        "floor": [],
                    }
                    await timed(http, "POST", "/graphql", json=query)  # warm up
                    await tree(runtime, IN_PROCESS_SCHEMA, org)
                    rest = f"/tenant/containers/org/{org}"
                    for _ in range(repeat):
                        with own_collector_paused():
                            timings["in_process"].append(
                                await tree(runtime, IN_PROCESS_SCHEMA, org)
                            )
                            timings["graphql"].append(
                                await timed(http, "POST", "/graphql", json=query)
                            )
                            timings["rest"].append(await timed(http, "GET", rest))
                            timings["floor"].append(await floor(sessions, org))
                    row: dict[str, Any] = {"clusters": size}
                    for what, values in timings.items():
                        row[f"{what}_p50_ms"] = round(ms(values, 0.5), 1)
                        row[f"{what}_p95_ms"] = round(ms(values, 0.95), 1)
                    results.append(row)
                rss = peak_rss_mb(server.pid)
        finally:
            await engine.dispose()
        return {"seed_seconds": round(seeded, 1), "sizes": results, "peak_rss_mb": rss}


def print_table(result: dict[str, Any]) -> None:
    creates = result["creates"]
    if creates:
        print(
            f"creates: {creates['clusters']} POST /clusters, {creates['clients']} clients:"
            f" {creates['creates_per_second']}/s accepted ({creates['accepted_seconds']} s),"
            f" p50 {creates['create_p50_ms']} ms, p99 {creates['create_p99_ms']} ms;"
            f" all created after {creates['all_created_seconds']} s"
            f" ({creates['failed']} failed, {len(creates['refused'])} refused);"
            f" server peak RSS {creates['peak_rss_mb']:.0f} MB"
            f" (sandbox process {creates['sandbox_peak_rss_mb']:.0f} MB)"
        )
        cpu = creates["cpu_ms_per_create"]
        print(
            "  CPU per create while accepting (ms): "
            + ", ".join(f"{what} {value}" for what, value in cpu.items())
        )
    reads = result["reads"]
    if reads:
        print(f"reads (seeded in {reads['seed_seconds']} s), p50 / p95 ms:")
        heads = ("clusters", "GraphQL in-process", "GraphQL tree", "REST shim", "floor")
        print(f"{heads[0]:>9} {heads[1]:>19} {heads[2]:>16} {heads[3]:>16} {heads[4]:>14}", end="")
        print(f" {'gql/rest':>9} {'gql/floor':>9}")
        for row in reads["sizes"]:
            cells = [
                f"{row[f'{what}_p50_ms']:.1f} / {row[f'{what}_p95_ms']:.1f}"
                for what in ("in_process", "graphql", "rest", "floor")
            ]
            to_rest = row["graphql_p50_ms"] / max(row["rest_p50_ms"], 0.001)
            to_floor = row["graphql_p50_ms"] / max(row["floor_p50_ms"], 0.001)
            size = row["clusters"]
            print(f"{size:>9} {cells[0]:>19} {cells[1]:>16} {cells[2]:>16} {cells[3]:>14}", end="")
            print(f" {to_rest:>8.1f}x {to_floor:>8.1f}x")
        print(f"reads server peak RSS {reads['peak_rss_mb']:.0f} MB")


async def main(args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores,"
        f" Python {platform.python_version()}",
        "speed_probe_ms": speed_probe(),
        "creates": await measure_creates(args.creates, sandbox_in_process=args.sandbox_in_process)
        if args.creates
        else None,
        "reads": None,
    }
    print(f"{result['machine']}; speed probe {result['speed_probe_ms']} ms (see speed_probe)")
    print_table(result)  # the creates, at once
    if args.sizes:
        result["reads"] = await measure_reads(args.sizes, args.repeat)
        print_table({**result, "creates": None})
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creates", type=int, default=1000, help="0 skips the creates")
    parser.add_argument("--sizes", type=int, nargs="*", default=[100, 1000, 10000])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument(
        "--sandbox-in-process",
        action="store_true",
        help="creates: run the sandbox cluster in the server's process and event loop",
    )
    parser.add_argument("--json", help="where to write the results as JSON")
    arguments = parser.parse_args()
    outcome = asyncio.run(main(arguments))
    if arguments.json:
        Path(arguments.json).write_text(json.dumps(outcome, indent=2) + "\n")
