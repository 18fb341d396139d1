"""Watch streams through kubernetes_asyncio's Watch and as raw chunked HTTP."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from kubernetes_asyncio import client, watch
from kubernetes_asyncio.client.exceptions import ApiException

from kube_sandbox import SandboxCluster


async def collect(stream: Any, count: int) -> list[tuple[str, str]]:
    events = []
    async for event in stream:
        events.append((event["type"], event["object"].metadata.name))
        if len(events) == count:
            break
    return events


async def test_watch_streams_added_modified_deleted(core: client.CoreV1Api, namespace: str) -> None:
    # Watching from the list's resourceVersion makes the test independent of when the
    # watch connects: later events are replayed from the history.
    version = (await core.list_namespaced_config_map(namespace)).metadata.resource_version
    watcher = watch.Watch()
    stream = watcher.stream(
        core.list_namespaced_config_map, namespace, resource_version=version, timeout_seconds=5
    )
    received = asyncio.create_task(collect(stream, 3))
    await asyncio.sleep(0.05)  # usually connected by now; the history covers it otherwise
    await core.create_namespaced_config_map(namespace, {"metadata": {"name": "cfg"}})
    await core.patch_namespaced_config_map("cfg", namespace, {"data": {"a": "1"}})
    await core.delete_namespaced_config_map("cfg", namespace)
    assert await asyncio.wait_for(received, 5) == [
        ("ADDED", "cfg"),
        ("MODIFIED", "cfg"),
        ("DELETED", "cfg"),
    ]
    await watcher.close()


async def test_watch_without_resource_version_starts_with_the_current_state(
    core: client.CoreV1Api,
) -> None:
    watcher = watch.Watch()
    stream = watcher.stream(
        core.list_namespace, label_selector="kubernetes.io/metadata.name", timeout_seconds=5
    )
    events = await asyncio.wait_for(collect(stream, 4), 5)
    assert {kind for kind, _ in events} == {"ADDED"}
    assert {name for _, name in events} == {
        "default",
        "kube-system",
        "kube-public",
        "kube-node-lease",
    }
    await watcher.close()


async def test_watch_resumes_after_a_resource_version(
    core: client.CoreV1Api, namespace: str
) -> None:
    await core.create_namespaced_config_map(namespace, {"metadata": {"name": "before"}})
    listed = await core.list_namespaced_config_map(namespace)
    version = listed.metadata.resource_version
    await core.create_namespaced_config_map(namespace, {"metadata": {"name": "after-1"}})
    await core.create_namespaced_config_map(namespace, {"metadata": {"name": "after-2"}})
    watcher = watch.Watch()
    stream = watcher.stream(
        core.list_namespaced_config_map, namespace, resource_version=version, timeout_seconds=5
    )
    assert await asyncio.wait_for(collect(stream, 2), 5) == [
        ("ADDED", "after-1"),
        ("ADDED", "after-2"),
    ]
    assert int(watcher.resource_version) > int(version)
    await watcher.close()


async def test_watch_from_a_compacted_version_is_expired(
    sandbox: SandboxCluster, core: client.CoreV1Api, namespace: str, http: aiohttp.ClientSession
) -> None:
    listed = await core.list_namespaced_config_map(namespace)
    await core.create_namespaced_config_map(namespace, {"metadata": {"name": "cfg"}})
    async with http.post("/_sandbox/compact") as response:
        assert response.status == 200
    watcher = watch.Watch()
    stream = watcher.stream(
        core.list_namespaced_config_map,
        namespace,
        resource_version=listed.metadata.resource_version,
        timeout_seconds=5,
    )
    with pytest.raises(ApiException) as expired:
        await asyncio.wait_for(collect(stream, 1), 5)
    assert expired.value.status == 410
    assert "Expired: too old resource version" in str(expired.value.reason)
    # On the wire: HTTP 200 and one ERROR event carrying the 410 Status, as the
    # apiserver's watch cache answers.
    path = f"/api/v1/namespaces/{namespace}/configmaps?watch=true&resourceVersion=1"
    async with http.get(path) as response:
        assert response.status == 200
        line = await response.content.readline()
    event = json.loads(line)
    assert event["type"] == "ERROR"
    assert (event["object"]["code"], event["object"]["reason"]) == (410, "Expired")


async def test_selector_watch_reports_objects_leaving_the_selection(
    core: client.CoreV1Api, namespace: str
) -> None:
    version = (await core.list_namespaced_config_map(namespace)).metadata.resource_version
    watcher = watch.Watch()
    stream = watcher.stream(
        core.list_namespaced_config_map, namespace, label_selector="tier=hot",
        resource_version=version, timeout_seconds=5,
    )  # fmt: skip
    received = asyncio.create_task(collect(stream, 3))
    await core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "cold", "labels": {"tier": "cold"}}}
    )
    await core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "hot", "labels": {"tier": "hot"}}}
    )
    await core.patch_namespaced_config_map(
        "cold", namespace, {"metadata": {"labels": {"tier": "hot"}}}
    )
    await core.patch_namespaced_config_map(
        "hot", namespace, {"metadata": {"labels": {"tier": "warm"}}}
    )
    assert await asyncio.wait_for(received, 5) == [
        ("ADDED", "hot"),
        ("ADDED", "cold"),
        ("DELETED", "hot"),
    ]
    await watcher.close()


async def test_raw_watch_is_newline_delimited_json_and_honours_timeout(
    core: client.CoreV1Api, namespace: str, http: aiohttp.ClientSession
) -> None:
    listed = await core.list_namespaced_pod(namespace)
    await core.create_namespaced_config_map(namespace, {"metadata": {"name": "ignored"}})
    await core.create_namespaced_pod(
        namespace,
        {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}},
    )
    path = (
        f"/api/v1/namespaces/{namespace}/pods?watch=1&timeoutSeconds=1"
        f"&resourceVersion={listed.metadata.resource_version}&fieldSelector=metadata.name%3Dp"
    )
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with http.get(path) as response:
        assert response.status == 200
        assert response.headers["Transfer-Encoding"] == "chunked"
        body = await response.read()  # ends when the server closes the stream
    assert 0.9 <= loop.time() - started < 3
    events = [json.loads(line) for line in body.decode().splitlines()]
    # ADDED by the client, then MODIFIED when the simulated kubelet marks it Running.
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED"]
    assert events[0]["object"]["kind"] == "Pod" and events[0]["object"]["apiVersion"] == "v1"
    assert events[1]["object"]["status"]["phase"] == "Running"


async def test_all_namespaces_watch_and_initial_events_bookmark(
    core: client.CoreV1Api, namespace: str, http: aiohttp.ClientSession
) -> None:
    await core.create_namespaced_config_map(namespace, {"metadata": {"name": "cfg"}})
    path = (
        "/api/v1/configmaps?watch=true&sendInitialEvents=true&allowWatchBookmarks=true"
        "&resourceVersionMatch=NotOlderThan&timeoutSeconds=1"
    )
    async with http.get(path) as response:
        first = json.loads(await response.content.readline())
        second = json.loads(await response.content.readline())
    assert (first["type"], first["object"]["metadata"]["name"]) == ("ADDED", "cfg")
    assert second["type"] == "BOOKMARK"
    assert second["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


async def test_bad_watch_parameters_are_rejected(http: aiohttp.ClientSession) -> None:
    async with http.get("/api/v1/namespaces?watch=true&resourceVersion=abc") as response:
        assert response.status == 400
    async with http.get("/api/v1/namespaces?watch=true&labelSelector=a%20in%20(") as response:
        assert response.status == 400
        assert (await response.json())["reason"] == "BadRequest"


async def test_stopping_the_cluster_ends_open_watches(
    sandbox: SandboxCluster, http: aiohttp.ClientSession
) -> None:
    async with http.get("/api/v1/namespaces?watch=true") as response:
        for _ in range(4):
            await response.content.readline()  # the four system namespaces
        await asyncio.wait_for(sandbox.stop(), 5)
        assert await asyncio.wait_for(response.content.read(), 5) == b""
