"""The object store's revisions and history, and the background task set."""

from __future__ import annotations

import asyncio
import logging

import pytest

from kube_sandbox.resources import NAMESPACES, PODS
from kube_sandbox.store import HistoryExpired, ObjectStore
from kube_sandbox.tasks import TaskSet


def _obj(name: str, namespace: str = "") -> dict[str, object]:
    meta = {"name": name, "uid": f"uid-{namespace}-{name}"}
    if namespace:
        meta["namespace"] = namespace
    return {"metadata": meta}


def test_every_write_bumps_one_global_revision() -> None:
    store = ObjectStore()
    first = store.put(NAMESPACES, _obj("a"))
    second = store.put(PODS, _obj("p", "a"))
    third = store.put(NAMESPACES, _obj("a"))
    assert [first["metadata"]["resourceVersion"], second["metadata"]["resourceVersion"],
            third["metadata"]["resourceVersion"]] == ["1", "2", "3"]  # fmt: skip
    removed = store.remove(PODS, "a", "p")
    assert removed is not None and removed["metadata"]["resourceVersion"] == "4"
    assert store.revision == 4
    assert store.remove(PODS, "a", "p") is None


def test_list_is_sorted_and_scoped_and_returns_copies() -> None:
    store = ObjectStore()
    for namespace, name in (("b", "x"), ("a", "y"), ("a", "x")):
        store.put(PODS, _obj(name, namespace))
    everywhere = store.list(PODS)
    assert [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in everywhere] == [
        ("a", "x"), ("a", "y"), ("b", "x"),
    ]  # fmt: skip
    assert [o["metadata"]["name"] for o in store.list(PODS, "b")] == ["x"]
    everywhere[0]["metadata"]["name"] = "mutated"
    assert store.get(PODS, "a", "x") is not None


def test_history_replays_events_after_a_revision() -> None:
    store = ObjectStore()
    store.put(PODS, _obj("p", "a"))
    store.put(NAMESPACES, _obj("a"))
    store.put(PODS, _obj("p", "a"))
    store.remove(PODS, "a", "p")
    events = store.events_since(1, PODS)
    assert [(e.type, e.revision) for e in events] == [("MODIFIED", 3), ("DELETED", 4)]
    assert events[0].old is not None and events[0].old["metadata"]["resourceVersion"] == "1"


def test_compaction_and_bounded_history_expire_old_revisions() -> None:
    store = ObjectStore(history=3)
    for index in range(5):
        store.put(PODS, _obj(f"p{index}", "a"))
    with pytest.raises(HistoryExpired):
        store.events_since(1, PODS)  # revisions 2 and 3 were dropped from the deque
    assert [e.revision for e in store.events_since(2, PODS)] == [3, 4, 5]
    store.compact()
    with pytest.raises(HistoryExpired, match="too old resource version"):
        store.events_since(4, PODS)
    assert store.events_since(5, PODS) == []


async def test_subscriptions_receive_writes_and_end_on_close() -> None:
    store = ObjectStore()
    pods_only = store.subscribe([PODS])
    store.put(NAMESPACES, _obj("a"))
    store.put(PODS, _obj("p", "a"))
    event = await asyncio.wait_for(pods_only.next(), 1)
    assert event is not None and event.type == "ADDED" and event.resource == PODS
    store.close()
    assert await asyncio.wait_for(pods_only.next(), 1) is None


async def test_task_set_logs_failures_and_cancels_on_close(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tasks = TaskSet()

    async def boom() -> None:
        raise RuntimeError("controller bug")

    started = asyncio.Event()

    async def forever() -> None:
        started.set()
        await asyncio.Event().wait()

    with caplog.at_level(logging.ERROR, logger="kube_sandbox.tasks"):
        failing = tasks.spawn(boom(), name="sandbox-test-boom")
        waiting = tasks.spawn(forever(), name="sandbox-test-forever")
        assert failing is not None and waiting is not None
        await asyncio.wait([failing])
        await started.wait()
        await tasks.close()
    assert "sandbox-test-boom" in caplog.text and "controller bug" in caplog.text
    assert waiting.cancelled()
    assert len(tasks) == 0
    # After close nothing new starts (and the coroutine is closed, not leaked).
    assert tasks.spawn(forever(), name="late") is None
