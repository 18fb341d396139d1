"""The namespace informer (app/kube/namespace_informer.py) against the sandbox over real
HTTP: in step it knows which namespaces exist from its LIST and WATCH, answering
"absent" without a request and confirming "present" with the API server; out of step
(before its first list, stopped, or while the API server cannot be reached) it asks the
API server, as every create did before it; history the API server no longer has (410
Expired) makes it list again."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from app.kube.client import KubeClient, RetryPolicy
from app.kube.namespace_informer import NamespaceInformer
from kube_sandbox import SandboxCluster
from tests.support.kube_clients import Connect
from tests.support.sandbox import AsyncSandboxAPI, namespace_path
from tests.support.waiting import wait_for

RETRY = RetryPolicy(deadline=2.0, first_delay=0.05, max_delay=0.2)


@pytest.fixture
async def kube(connect: Connect) -> KubeClient:
    return await connect(deadline=2.0, max_in_flight=8)


@asynccontextmanager
async def running(informer: NamespaceInformer) -> AsyncIterator[asyncio.Task[None]]:
    """The informer's loop running, once it is in step (its first list done)."""
    task = asyncio.create_task(informer.run_forever())
    try:
        await until(lambda: informer.in_step)
        yield task
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def until(condition: Callable[[], bool], *, timeout: float = 10.0) -> None:
    async def holds() -> bool:
        return condition()

    await wait_for(holds, timeout=timeout, interval=0.01)


async def make_namespace(sandbox: AsyncSandboxAPI, name: str) -> None:
    created = await sandbox.request("POST", "/api/v1/namespaces", json={"metadata": {"name": name}})
    assert created.status_code == 201, created.text


async def namespace_gets(sandbox: AsyncSandboxAPI) -> int:
    """How many GETs of namespaces (reads, lists and watches) the sandbox has answered."""
    requests: dict[str, int] = (await sandbox.stats())["requests"]
    return requests.get("GET namespaces", 0)


async def test_in_step_it_sees_namespaces_come_and_go(
    kube: KubeClient, sandbox: AsyncSandboxAPI
) -> None:
    informer = NamespaceInformer(kube, retry=RETRY)
    async with running(informer):
        assert informer.seen("default") is True
        assert informer.seen("made-later") is False

        await make_namespace(sandbox, "made-later")
        await until(lambda: informer.seen("made-later") is True)

        deleted = await sandbox.request("DELETE", namespace_path("made-later"))
        assert deleted.status_code == 200, deleted.text
        await until(lambda: informer.seen("made-later") is False)  # once really gone
        assert await sandbox.status(namespace_path("made-later")) == 404
        assert informer.lists == 1


async def test_absent_is_answered_without_a_request_present_is_confirmed(
    kube: KubeClient, sandbox: AsyncSandboxAPI
) -> None:
    informer = NamespaceInformer(kube, retry=RETRY)
    async with running(informer):
        before = await namespace_gets(sandbox)
        assert await informer.exists("nobody-made-this", timeout=5) is False
        assert await namespace_gets(sandbox) == before

        # A present one is asked about: a refusal must not rest on a stale memory.
        assert await informer.exists("default", timeout=5) is True
        assert await namespace_gets(sandbox) == before + 1
        await sandbox.inject_fault(method="GET", resource="namespaces", status=503, count=1)
        assert await informer.exists("default", timeout=5) is None  # could not say


async def test_out_of_step_it_asks_the_api_server(
    kube: KubeClient, sandbox: AsyncSandboxAPI
) -> None:
    informer = NamespaceInformer(kube, retry=RETRY)
    assert (informer.in_step, informer.seen("default")) == (False, None)  # never listed
    before = await namespace_gets(sandbox)
    assert await informer.exists("nobody-made-this", timeout=5) is False
    assert await informer.exists("default", timeout=5) is True
    assert await namespace_gets(sandbox) == before + 2

    async with running(informer):
        assert informer.seen("default") is True
    assert (informer.in_step, informer.seen("default")) == (False, None)  # stopped


async def test_it_stays_out_of_step_while_the_api_server_cannot_be_reached(
    sandbox_cluster: SandboxCluster, kube: KubeClient
) -> None:
    informer = NamespaceInformer(kube, retry=RETRY)
    async with running(informer) as task:
        await sandbox_cluster.stop()  # ends the watch; every new request is refused
        await until(lambda: not informer.in_step)
        await asyncio.sleep(0.3)  # several attempts to list again
        assert (informer.seen("default"), informer.lists, task.done()) == (None, 1, False)
        assert await informer.exists("default", timeout=5) is None


async def test_history_the_api_server_no_longer_has_is_listed_again(
    kube: KubeClient,
    sandbox_cluster: SandboxCluster,
    sandbox: AsyncSandboxAPI,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="app.kube.namespace_informer")
    informer = NamespaceInformer(kube, retry=RETRY, watch_seconds=1)
    async with running(informer):
        # Later changes of other kinds, then a compaction: the revision the informer
        # resumes from is gone, and the API server answers its next watch with 410.
        made = await sandbox.request(
            "POST",
            "/api/v1/namespaces/default/configmaps",
            json={"metadata": {"name": "later"}, "data": {}},
        )
        assert made.status_code == 201, made.text
        sandbox_cluster.compact()
        await until(lambda: informer.lists == 2)
        await until(lambda: informer.in_step)
        # Listed again because of the 410, not because the stream broke.
        assert "namespace watch expired" in caplog.text
        assert "namespace watch failed" not in caplog.text

        await make_namespace(sandbox, "after-resync")
        await until(lambda: informer.seen("after-resync") is True)
