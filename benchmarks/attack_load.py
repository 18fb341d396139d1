"""How much does one tenant's heavy use of GraphQL slow down another tenant?

Starts ``es-serverless serve`` on loopback (embedded sandbox, a temporary data dir,
the rate limit raised so that only the scenarios' own load counts), seeds an attacker
organisation of 200 clusters and a victim organisation of 5, and measures the victim
key's small query (p50/p95):

  (a) at rest,
  (b) while 3 clients send the attacker's heavy query in a loop: 27 aliases of the
      organisation tree with 33 fields, events and deployment { details } per cluster
      (972 fields, under every document limit),
  (c) while 300 clusterEvents subscriptions are open (graphql-transport-ws, spread
      over sockets within strawberry's 100 operations per socket).

It does so twice: with the query-cost and per-caller subscription limits switched off
(as before they existed) and with the server's defaults. Run from a checkout of an
older version, the same script measures that version. Prints a table; asserts nothing
(machines are noisy). Every process it starts is stopped at the end.

    python benchmarks/attack_load.py [--clusters 200] [--seconds 10] [--subscriptions 300]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from server_process import serve_process
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

ATTACKER, VICTIM = "attacker", "victim"
HEAVY_CLIENTS = 3
PER_SOCKET = 50  # strawberry allows 100 operations per socket
# Far above any real use: such a limit never refuses, as before it existed.
NO_LIMIT = str(10**15)

VICTIM_QUERY = "query($org: String!) { organization(id: $org) { containers { id status } } }"
HEAVY_TREE = """organization(id: "%s") { containers {
  id tenantOrgId user serviceName namespace replicas cpu memory disk cpuRequest cpuLimit
  memRequest memLimit diskSize gpuCount dimension vectorCount indexLimit gitlabUrl status
  error createdAt events { from to reason at }
  deployment { id status replicas details { diskSize cpuLimit } } } }"""
SUBSCRIPTION = "subscription($org: String!) { clusterEvents(tenantOrgId: $org) { namespace } }"


def heavy_query(org: str) -> str:
    return "{ " + " ".join(f"a{n}: {HEAVY_TREE % org}" for n in range(27)) + " }"


@dataclass
class Server:
    url: str
    admin: str  # the admin token
    keys: dict[str, str] = field(default_factory=dict)  # org -> org key secret

    def http(self, token: str, timeout: float = 120) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=timeout)


@asynccontextmanager
async def serve(data_dir: Path, **settings: str) -> AsyncIterator[Server]:
    async with serve_process(data_dir, **settings) as started:
        yield Server(url=started.url, admin=started.admin)


async def seed(server: Server, org: str, clusters: int) -> None:
    async with server.http(server.admin) as http:
        gate = asyncio.Semaphore(8)

        async def create(n: int) -> None:
            async with gate:
                body = {"tenant_org_id": org, "user": f"user{n % 20}", "service_name": f"svc{n}"}
                response = await http.post("/clusters", json=body)
                response.raise_for_status()

        await asyncio.gather(*(create(n) for n in range(clusters)))
        # Measure a settled platform, not the provisioning of the seed.
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            rows = (await http.get(f"/tenant/containers/org/{org}")).json()
            if all(row["status"] == "created" for row in rows):
                break
            await asyncio.sleep(1)
        issued = await http.post("/api-keys", json={"tenant_org_id": org, "name": "bench"})
        server.keys[org] = issued.raise_for_status().json()["secret"]


async def victim_latencies(server: Server, seconds: float) -> list[float]:
    timings = []
    payload = {"query": VICTIM_QUERY, "variables": {"org": VICTIM}}
    async with server.http(server.keys[VICTIM]) as http:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            started = time.perf_counter()
            response = await http.post("/graphql", json=payload)
            timings.append(time.perf_counter() - started)
            assert "errors" not in response.json(), response.text
            await asyncio.sleep(0.05)  # a person clicking, not a flood
    return timings


async def with_heavy_clients(server: Server, measure: Callable[[], Awaitable[list[float]]]) -> Any:
    stop = asyncio.Event()
    answered: list[tuple[float, int]] = []  # (seconds, bytes)
    refused = 0

    async def attack() -> None:
        nonlocal refused
        payload = {"query": heavy_query(ATTACKER)}
        async with server.http(server.keys[ATTACKER], timeout=300) as http:
            while not stop.is_set():
                started = time.perf_counter()
                response = await http.post("/graphql", json=payload)
                # The body is not parsed: 5 MB of JSON would load this process, not the server.
                if b"QUERY_TOO_EXPENSIVE" in response.content[:2000]:
                    refused += 1
                else:
                    answered.append((time.perf_counter() - started, len(response.content)))

    attackers = [asyncio.create_task(attack()) for _ in range(HEAVY_CLIENTS)]
    try:
        await asyncio.sleep(1)  # let the attack get going
        timings = await measure()
    finally:
        stop.set()
        # Wait for requests in flight: the server works on them regardless.
        await asyncio.gather(*attackers)
    note = f"heavy: {refused} refused"
    if answered:
        seconds = statistics.mean(s for s, _ in answered)
        megabytes = statistics.mean(b for _, b in answered) / 1e6
        note += f", {len(answered)} answered ({seconds:.1f} s, {megabytes:.1f} MB each)"
    return timings, note


async def with_subscriptions(
    server: Server, count: int, measure: Callable[[], Awaitable[list[float]]]
) -> Any:
    url = server.url.replace("http://", "ws://") + "/graphql"
    init = {
        "type": "connection_init",
        "payload": {"Authorization": f"Bearer {server.keys[ATTACKER]}"},
    }
    sockets: list[ClientConnection] = []
    refused = 0
    try:
        for first in range(0, count, PER_SOCKET):
            ws = await connect(url, subprotocols=[Subprotocol("graphql-transport-ws")])
            sockets.append(ws)
            await ws.send(json.dumps(init))
            if json.loads(await ws.recv())["type"] != "connection_ack":
                refused += min(PER_SOCKET, count - first)
                continue
            for n in range(first, min(first + PER_SOCKET, count)):
                payload = {"query": SUBSCRIPTION, "variables": {"org": ATTACKER}}
                await ws.send(json.dumps({"id": str(n), "type": "subscribe", "payload": payload}))
        await asyncio.sleep(1)
        for ws in sockets:  # refusals arrive as errors (or a closed socket)
            try:
                while True:
                    message = json.loads(await asyncio.wait_for(ws.recv(), 0.5))
                    kind, payload = message.get("type"), message.get("payload")
                    if kind == "error" or (kind == "next" and "errors" in (payload or {})):
                        refused += 1
            except TimeoutError:
                pass
            except ConnectionClosed:  # closed by the server: all of its subscriptions
                refused += PER_SOCKET
        timings = await measure()
    finally:
        for ws in sockets:
            await ws.close()
    return timings, f"subscriptions: {count - refused} open, {refused} refused"


def percentiles(timings: list[float]) -> tuple[float, float]:
    ms = sorted(t * 1000 for t in timings)
    return statistics.median(ms), ms[min(len(ms) - 1, int(len(ms) * 0.95))]


async def main(clusters: int, seconds: float, subscriptions: int) -> None:
    configurations = [
        # The query-cost and per-caller subscription limits off, as before they existed:
        # what is left is the shared event feed (one read of the log for every subscriber).
        (
            "limits off",
            {
                "ESS_GRAPHQL_MAX_COST": NO_LIMIT,
                "ESS_GRAPHQL_MAX_SUBSCRIPTIONS_PER_CALLER": NO_LIMIT,
            },
        ),
        ("defaults", {}),
    ]
    print(f"victim: 5 clusters; attacker: {clusters} clusters; {seconds:.0f} s per scenario")
    print(f"{'server':<15} {'scenario':<22} {'n':>5} {'p50 ms':>9} {'p95 ms':>9}  notes")
    for label, settings in configurations:
        with tempfile.TemporaryDirectory() as data_dir:
            async with serve(Path(data_dir), **settings) as server:
                await seed(server, VICTIM, 5)
                await seed(server, ATTACKER, clusters)

                async def victim() -> list[float]:
                    return await victim_latencies(server, seconds)

                scenarios: list[tuple[str, list[float], str]] = [
                    ("(a) at rest", await victim(), "")
                ]
                scenarios.append(("(b) 3 heavy clients", *await with_heavy_clients(server, victim)))
                scenarios.append(
                    (
                        f"(c) {subscriptions} subscriptions",
                        *await with_subscriptions(server, subscriptions, victim),
                    )
                )
                for scenario, timings, note in scenarios:
                    p50, p95 = percentiles(timings)
                    figures = f"{len(timings):>5} {p50:>9.1f} {p95:>9.1f}"
                    print(f"{label:<15} {scenario:<22} {figures}  {note}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--subscriptions", type=int, default=300)
    args = parser.parse_args()
    asyncio.run(main(args.clusters, args.seconds, args.subscriptions))
