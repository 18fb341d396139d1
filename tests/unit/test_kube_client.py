"""The Kubernetes client's calling discipline (``KubeClient.call``) against the sandbox
over real HTTP, with failures injected through its fault API: transient statuses are
retried with backoff until they pass or the retry deadline is reached, permanent ones
surface at once with the API server's message, and calls in flight are bounded."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from app.kube.client import KubeClient, RetryPolicy
from app.kube.errors import TRANSIENT_STATUSES, KubeError
from kube_sandbox import SandboxCluster
from tests.support.kube_clients import Connect
from tests.support.sandbox import AsyncSandboxAPI
from tests.support.servers import free_port

# The statuses the API server answers when it is busy or briefly broken.
TRANSIENT = [429, 500, 502, 503, 504]
PERMANENT = [400, 403, 404, 409, 410, 422]


async def _read_default(kube: KubeClient) -> str:
    namespace = await kube.call(kube.core.read_namespace, name="default")
    return str(namespace.metadata.name)


def test_the_transient_statuses_are_exactly_these() -> None:
    assert set(TRANSIENT) == TRANSIENT_STATUSES


@pytest.mark.parametrize("status", TRANSIENT)
async def test_a_transient_status_is_retried_until_the_call_passes(
    connect: Connect, sandbox: AsyncSandboxAPI, status: int
) -> None:
    kube = await connect()
    await sandbox.inject_fault(method="GET", resource="namespaces", status=status, count=3)
    await sandbox.reset_stats()
    assert await _read_default(kube) == "default"
    responses = (await sandbox.stats())["responses"]
    assert responses == {f"GET namespaces {status}": 3, "GET namespaces 200": 1}
    assert await sandbox.faults() == []


@pytest.mark.parametrize("status", PERMANENT)
async def test_a_permanent_status_surfaces_at_once_with_the_servers_message(
    connect: Connect, sandbox: AsyncSandboxAPI, status: int
) -> None:
    kube = await connect()
    message = f"refused on purpose ({status})"
    await sandbox.inject_fault(
        method="GET", resource="namespaces", status=status, message=message, count=3
    )
    await sandbox.reset_stats()
    with pytest.raises(KubeError) as raised:
        await _read_default(kube)
    assert (raised.value.status, raised.value.transient) == (status, False)
    assert raised.value.message == f"Kubernetes API error {status}: {message}"
    assert (await sandbox.stats())["responses"] == {f"GET namespaces {status}": 1}
    assert [f["count"] for f in await sandbox.faults()] == [2]  # not asked again


@pytest.mark.parametrize("status", TRANSIENT)
async def test_retries_back_off_and_end_at_the_deadline(
    connect: Connect, sandbox: AsyncSandboxAPI, status: int
) -> None:
    deadline = 1.0
    kube = await connect(deadline=deadline)
    await sandbox.inject_fault(method="GET", resource="namespaces", status=status, count=100_000)
    await sandbox.reset_stats()
    started = time.monotonic()
    with pytest.raises(KubeError) as raised:
        await _read_default(kube)
    elapsed = time.monotonic() - started
    assert raised.value.status == status
    # It gives up before a pause would overrun the deadline (pauses are at most 0.5 s)...
    assert deadline - 0.5 <= elapsed <= deadline + 0.5, elapsed
    # ...and backs off meanwhile: a few attempts, not a hot loop.
    attempts = (await sandbox.stats())["requests"]["GET namespaces"]
    assert 3 <= attempts <= 40, attempts


async def test_an_unreachable_api_server_is_retried_until_the_deadline(connect: Connect) -> None:
    kube = await connect(deadline=1.0, server=f"http://127.0.0.1:{free_port()}")
    started = time.monotonic()
    with pytest.raises(KubeError) as raised:
        await _read_default(kube)
    assert 0.5 <= time.monotonic() - started <= 1.5
    assert raised.value.status is None and raised.value.transient
    assert raised.value.message.startswith("cannot reach the Kubernetes API server at http://")


async def test_call_once_does_not_retry(connect: Connect, sandbox: AsyncSandboxAPI) -> None:
    kube = await connect()
    await sandbox.inject_fault(method="GET", resource="namespaces", status=503, count=1)
    await sandbox.reset_stats()
    with pytest.raises(KubeError) as raised:
        await kube.call_once(kube.core.read_namespace, name="default", timeout=5)
    assert raised.value.status == 503
    assert (await sandbox.stats())["responses"] == {"GET namespaces 503": 1}


async def _peak_in_flight(kube: KubeClient, calls: int) -> int:
    """How many of ``calls`` concurrent reads were in flight at once at the most, seen
    from inside the client's bound (each read is the real one, over HTTP)."""
    now = peak = 0

    async def read(**kwargs: str) -> object:
        nonlocal now, peak
        now += 1
        peak = max(peak, now)
        try:
            return await kube.core.read_namespace(**kwargs)
        finally:
            now -= 1

    await asyncio.gather(*(kube.call(read, name="default") for _ in range(calls)))
    return peak


@pytest.mark.parametrize("bound", [1, 3])
async def test_calls_in_flight_are_bounded(
    connect: Connect, sandbox: AsyncSandboxAPI, bound: int
) -> None:
    kube = await connect(max_in_flight=bound)
    await sandbox.reset_stats()
    assert await _peak_in_flight(kube, 30) == bound
    assert (await sandbox.stats())["responses"] == {"GET namespaces 200": 30}


async def test_without_a_tight_bound_the_same_burst_overlaps(connect: Connect) -> None:
    """The check above can fail: with room, the same calls do overlap."""
    kube = await connect(max_in_flight=1000)
    assert await _peak_in_flight(kube, 30) > 3


@pytest.mark.parametrize("attempt", range(12))
def test_each_pause_is_jittered_under_an_exponential_cap(attempt: int) -> None:
    policy = RetryPolicy(first_delay=0.1, max_delay=5.0)
    cap = min(5.0, 0.1 * 2**attempt)
    pauses = [policy.delay(attempt) for _ in range(200)]
    assert all(0 <= pause <= cap for pause in pauses)
    assert max(pauses) > cap / 2  # spread over the range, not pinned to zero


@pytest.fixture
async def forward_proxy() -> AsyncIterator[tuple[str, list[str]]]:
    """A plain-HTTP forward proxy on loopback: yields its URL and the list of the URLs
    it forwarded, in order."""
    from aiohttp import ClientSession, web

    forwarded: list[str] = []
    session = ClientSession()

    async def forward(request: web.Request) -> web.Response:
        forwarded.append(str(request.url))
        async with session.request(
            request.method, request.url, headers=request.headers, data=await request.read()
        ) as answer:
            return web.Response(
                status=answer.status, body=await answer.read(), content_type=answer.content_type
            )

    app = web.Application()
    app.router.add_route("*", "/{path:.*}", forward)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}", forwarded
    finally:
        await runner.cleanup()
        await session.close()


@pytest.mark.parametrize("exempt", [False, True])
async def test_the_proxy_from_the_environment_is_used_unless_no_proxy_exempts_the_server(
    connect: Connect,
    forward_proxy: tuple[str, list[str]],
    monkeypatch: pytest.MonkeyPatch,
    sandbox_cluster: SandboxCluster,
    exempt: bool,
) -> None:
    # The proxy is decided once, when the client is opened (not looked up per request).
    proxy, forwarded = forward_proxy
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1" if exempt else "example.invalid")
    for name in ("http_proxy", "no_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    kube = await connect()
    assert kube.api.configuration.proxy == (None if exempt else proxy)
    assert kube.api.rest_client.pool_manager.trust_env is False
    monkeypatch.delenv("HTTP_PROXY")  # settled already: the calls below still use it
    assert await _read_default(kube) == "default"
    expected = [] if exempt else [f"{sandbox_cluster.url}/api/v1/namespaces/default"]
    assert forwarded == expected
