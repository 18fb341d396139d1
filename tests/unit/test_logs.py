"""The log format and context (app/logs.py): JSON lines, the request id a caller may
choose, and the context background tasks (app/tasks.py) inherit or get afresh."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from app.logs import (
    NAMESPACE,
    REQUEST_ID,
    ContextFilter,
    JsonFormatter,
    bound,
    request_id_from,
    task_context,
)
from app.tasks import TaskSupervisor
from tests.support.waiting import wait_for


def formatted(record: logging.LogRecord) -> dict[str, object]:
    ContextFilter().filter(record)
    line: dict[str, object] = json.loads(JsonFormatter().format(record))
    return line


def record(name: str, message: str, *args: object, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord(name, logging.WARNING, __file__, 1, message, args, None)
    made.__dict__.update(extra)
    return made


def test_a_line_without_context_has_the_four_fields() -> None:
    line = formatted(record("app.x", "%d clusters", 3))
    assert set(line) == {"time", "level", "logger", "message"}
    assert (line["level"], line["logger"], line["message"]) == ("WARNING", "app.x", "3 clusters")
    assert isinstance(line["time"], str) and line["time"].endswith("Z")


def test_context_and_exception_are_carried() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        failure = record("app.y", "it failed", exc_info=sys.exc_info())
    with bound(request_id="req-1", namespace="org-1-alice-search"):
        line = formatted(failure)
    assert (line["request_id"], line["namespace"]) == ("req-1", "org-1-alice-search")
    assert "ValueError: boom" in str(line["exception"])
    assert REQUEST_ID.get() is None  # bound() leaves nothing behind


def test_access_lines_are_split_into_fields() -> None:
    access_format = '%s - "%s %s HTTP/%s" %d'  # uvicorn's
    access = record(
        "uvicorn.access", access_format, "10.0.0.7:5000", "POST", "/clusters", "1.1", 202
    )
    line = formatted(access)
    assert line["message"] == '10.0.0.7:5000 - "POST /clusters HTTP/1.1" 202'
    assert (line["method"], line["path"], line["status"], line["client"]) == (
        "POST",
        "/clusters",
        202,
        "10.0.0.7:5000",
    )


@pytest.mark.parametrize(
    "given",
    ["4bf92f3577b34da6a3ce929d0e0e4736", "00-4bf92f35-01", "req:a/b+c=d_e.f"],
)
def test_a_plain_request_id_is_kept(given: str) -> None:
    assert request_id_from(given) == given


@pytest.mark.parametrize("given", [None, "", "a b", 'x"y', "line\nbreak", "é", "x" * 129])
def test_anything_else_gets_a_fresh_id(given: str | None) -> None:
    fresh = request_id_from(given)
    assert fresh != given and len(fresh) == 32 and fresh.isalnum()


def test_a_task_context_keeps_the_request_id_or_gets_its_own() -> None:
    with bound(request_id="req-2", namespace="org-1-a-b"):
        assert task_context()[REQUEST_ID] == "req-2"
        fresh = task_context(fresh=True)
        assert fresh[REQUEST_ID] not in (None, "req-2") and fresh[NAMESPACE] is None
    own, other = task_context()[REQUEST_ID], task_context()[REQUEST_ID]
    assert own and other and own != other


async def test_supervised_tasks_log_under_their_starters_id() -> None:
    tasks = TaskSupervisor()
    seen: dict[str, str | None] = {}

    async def note(name: str) -> None:
        seen[name] = REQUEST_ID.get()

    with bound(request_id="req-3"):
        tasks.start("in-request", note("in-request"))
        tasks.start("shared", note("shared"), shared=True)
    tasks.start("on-its-own", note("on-its-own"))

    async def both_ran() -> bool:
        return len(seen) == 3

    await wait_for(both_ran, what="both tasks to run")
    await tasks.stop()
    assert seen["in-request"] == "req-3"
    assert seen["on-its-own"] not in (None, "req-3")
    assert seen["shared"] not in (None, "req-3", seen["on-its-own"])
