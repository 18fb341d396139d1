"""The shared event feed against a real SQLite database (and PostgreSQL, where it is
woken by notifications): one read of the event log per tick however many subscribe,
each subscriber's events filtered to what it may see, and subscribers ended when too
slow, revoked, or over their caller's limit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from app.access import keys
from app.store.db import SessionFactory, make_engine, make_session_factory, migrate_async
from app.store.notify import NotifyListener
from app.tasks import TaskSupervisor
from app.tenancy import commands
from app.tenancy.errors import SubscriberTooSlow, TooManySubscriptions, Unauthenticated
from app.tenancy.event_feed import EventFeed, Subscription
from app.tenancy.naming import IdSequence
from app.tenancy.scope import Scope
from tests.support.factories import cluster_request
from tests.support.waiting import wait_for

POLL = 0.05
# Reads while notifications come (PostgreSQL): often enough for the revocation test.
IDLE = 0.5


@dataclass
class World:
    url: str
    sessions: SessionFactory
    tasks: TaskSupervisor
    ids: IdSequence
    statements: list[str]

    def feed(self, **kwargs: Any) -> EventFeed:
        async def live(key_ids: Any) -> set[str]:
            return await keys.live_key_ids(sessions=self.sessions, key_ids=key_ids)

        options: dict[str, Any] = {"poll_seconds": POLL, "idle_seconds": IDLE, **kwargs}
        return EventFeed(
            sessions=self.sessions,
            tasks=self.tasks,
            live_credentials=live,
            database_url=self.url,
            **options,
        )

    async def create(self, org: str, user: str, service: str) -> None:
        """A cluster record, and with it its first event (pending)."""
        request = cluster_request(org, user, service)
        await commands.create_cluster(sessions=self.sessions, ids=self.ids, request=request)

    def event_log_reads(self) -> int:
        return sum(1 for s in self.statements if "FROM cluster_events" in s)


@asynccontextmanager
async def _world(url: str) -> AsyncIterator[World]:
    await migrate_async(url)
    engine = make_engine(url)
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    tasks = TaskSupervisor()
    yield World(url, make_session_factory(engine), tasks, IdSequence(), statements)
    await tasks.stop()
    await engine.dispose()


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    """On SQLite: the feed polls."""
    async with _world(f"sqlite+aiosqlite:///{tmp_path / 'feed.db'}") as found:
        yield found


@pytest.fixture
async def any_world(database_url: str) -> AsyncIterator[World]:
    """On SQLite, and on PostgreSQL (woken by notifications) when TEST_POSTGRES_URL is set."""
    async with _world(database_url) as found:
        yield found


def _subscribe(feed: EventFeed, org: str, **kwargs: Any) -> Any:
    options: dict[str, Any] = {
        "caller": "admin",
        "credential": None,
        "scope": Scope.everything(),
        "tenant_org_id": org,
        "namespace": None,
        "max_per_caller": 1000,
    }
    return feed.subscribe(**{**options, **kwargs})


async def _next(subscription: Subscription, timeout: float = 5) -> tuple[str, str]:
    event_row, container = await asyncio.wait_for(anext(subscription), timeout)
    return container.namespace, event_row.to_status


@pytest.mark.parametrize("subscribers", [1, 40])
async def test_one_read_of_the_event_log_per_tick_whatever_the_subscribers(
    world: World, subscribers: int
) -> None:
    feed = world.feed()
    async with AsyncExitStack() as stack:
        subscriptions = [
            await stack.enter_async_context(_subscribe(feed, "org-a")) for _ in range(subscribers)
        ]
        reads, polls = world.event_log_reads(), feed.polls
        await world.create("org-a", "u", "s")
        for subscription in subscriptions:
            assert await _next(subscription) == ("org-a-u-s", "pending")
        await asyncio.sleep(10 * POLL)
        reads, polls = world.event_log_reads() - reads, feed.polls - polls
    assert polls >= 5
    # One read per tick serves every subscriber...
    assert reads == polls
    # ...and ticks follow the clock, not the number of subscribers.
    assert polls <= 30


async def test_each_subscriber_gets_what_it_may_see_in_order_from_when_it_subscribed(
    any_world: World,
) -> None:
    feed = any_world.feed()
    await any_world.create("org-a", "u0", "before")  # before anyone subscribed: never seen
    async with (
        _subscribe(feed, "org-a") as whole_org,
        _subscribe(feed, "org-a", namespace="org-a-u1-s1") as one_namespace,
        _subscribe(feed, "org-a", scope=Scope(tenant_org_id="org-a", user="u1")) as one_user,
        _subscribe(feed, "org-a", scope=Scope(tenant_org_id="org-b")) as foreign,
    ):
        await any_world.create("org-a", "u0", "s0")
        await any_world.create("org-b", "u0", "s0")
        await any_world.create("org-a", "u1", "s1")
        assert [await _next(whole_org), await _next(whole_org)] == [
            ("org-a-u0-s0", "pending"),
            ("org-a-u1-s1", "pending"),
        ]
        assert await _next(one_namespace) == ("org-a-u1-s1", "pending")
        assert await _next(one_user) == ("org-a-u1-s1", "pending")
        await asyncio.sleep(5 * POLL)
        for quiet in (whole_org, one_namespace, one_user, foreign):
            assert quiet.queue.empty()


async def test_a_subscriber_that_does_not_keep_up_is_ended(any_world: World) -> None:
    feed = any_world.feed(queue_size=2)
    async with _subscribe(feed, "org-a") as slow, _subscribe(feed, "org-b") as other:
        for n in range(3):
            await any_world.create("org-a", "u", f"s{n}")
        await any_world.create("org-b", "u", "s")
        assert await _next(other) == ("org-b-u-s", "pending")
        with pytest.raises(SubscriberTooSlow):
            await _next(slow)
        assert feed.held_by("admin") == 1


async def test_subscriptions_of_a_revoked_key_end_and_others_go_on(any_world: World) -> None:
    feed = any_world.feed()
    doomed = await keys.create_api_key(
        sessions=any_world.sessions, tenant_org_id="org-a", user=None, name="doomed"
    )
    kept = await keys.create_api_key(
        sessions=any_world.sessions, tenant_org_id="org-a", user=None, name="kept"
    )
    scope = Scope(tenant_org_id="org-a")
    async with (
        _subscribe(feed, "org-a", caller="d", credential=doomed.row.id, scope=scope) as revoked,
        _subscribe(feed, "org-a", caller="k", credential=kept.row.id, scope=scope) as live,
    ):
        await keys.revoke_api_key(sessions=any_world.sessions, key_id=doomed.row.id)
        with pytest.raises(Unauthenticated):
            await _next(revoked, timeout=3)
        await any_world.create("org-a", "u", "s")
        assert await _next(live) == ("org-a-u-s", "pending")


async def test_subscriptions_per_caller_are_bounded(world: World) -> None:
    feed = world.feed()
    async with _subscribe(feed, "org-a", caller="key:a", max_per_caller=2):
        async with _subscribe(feed, "org-a", caller="key:a", max_per_caller=2):
            with pytest.raises(TooManySubscriptions, match="at most 2"):
                async with _subscribe(feed, "org-a", caller="key:a", max_per_caller=2):
                    pass
            async with _subscribe(feed, "org-a", caller="key:b", max_per_caller=2):
                assert feed.held_by("key:b") == 1
        # One ended: room for another.
        async with _subscribe(feed, "org-a", caller="key:a", max_per_caller=2):
            assert feed.held_by("key:a") == 2


async def test_the_feed_reads_nothing_while_nobody_subscribes(world: World) -> None:
    feed = world.feed()
    async with _subscribe(feed, "org-a"):
        await asyncio.sleep(3 * POLL)
    await asyncio.sleep(2 * POLL)  # a tick in flight may finish
    polls = feed.polls
    await asyncio.sleep(5 * POLL)
    assert feed.polls == polls
    async with _subscribe(feed, "org-a") as again:  # and wakes up for the next one
        await world.create("org-a", "u", "s")
        assert await _next(again) == ("org-a-u-s", "pending")


async def test_a_thousand_idle_subscribers_cost_no_more_reads_than_one(any_world: World) -> None:
    """Idle, the feed reads on the clock (SQLite) or not at all (PostgreSQL: nothing
    notified), however many subscribe; news is one read for all of them."""
    feed = any_world.feed(idle_seconds=30)
    notified = feed.listener is not None
    idle_reads: dict[int, int] = {}
    for subscribers in (1, 1000):
        async with AsyncExitStack() as stack:
            subscriptions = [
                await stack.enter_async_context(_subscribe(feed, "org-a"))
                for _ in range(subscribers)
            ]
            if feed.listener is not None:
                listener = feed.listener

                async def connected(listener: NotifyListener = listener) -> bool:
                    return listener.connected

                await wait_for(connected, what="the LISTEN connection")
            await asyncio.sleep(2 * POLL)  # the read after connecting
            before = len(any_world.statements)
            await asyncio.sleep(20 * POLL)
            idle_reads[subscribers] = len(any_world.statements) - before
            reads = any_world.event_log_reads()
            heard = feed.listener.notifications if feed.listener is not None else 0
            await any_world.create("org-a", "u", f"s{subscribers}")
            for subscription in subscriptions:
                assert await _next(subscription) == (f"org-a-u-s{subscribers}", "pending")
            if notified:
                assert feed.listener is not None and feed.listener.notifications == heard + 1
                # Woken once, read once, for every subscriber.
                assert any_world.event_log_reads() - reads == 1
    if notified:
        assert idle_reads == {1: 0, 1000: 0}
    else:
        assert 5 <= idle_reads[1] <= 30
        assert idle_reads[1000] <= idle_reads[1] + 5
