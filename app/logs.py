"""Log lines and the context they carry.

Every line can say which HTTP request it belongs to (``request_id``) and which tenant
namespace is being worked on (``namespace``). Both live in context variables, which
asyncio copies into a task when the task is created: the background work a request
starts (through app/tasks.py) logs under that request's id, long after the answer went
out. Work that belongs to no request (resumed after a restart, a reconciler pass) gets
an id of its own, so its lines can still be told apart and followed.

``ESS_LOG_FORMAT=json`` writes one JSON object per line, for a log collector:
``{"time", "level", "logger", "message"}`` always, ``request_id`` and ``namespace`` when
known, ``exception`` (the traceback) when there is one, and ``method``, ``path``,
``status``, ``client`` on uvicorn's access lines. ``text`` (the default) writes the
lines a person reads at a terminal.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from app.settings import LogFormat

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
NAMESPACE: contextvars.ContextVar[str | None] = contextvars.ContextVar("namespace", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# An id a client or a proxy sends is kept when it is short and plain (a UUID, a trace
# id): anything else, a newline or a quote above all, could forge log lines.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")
# uvicorn's access line: '%s - "%s %s HTTP/%s" %d' (client, method, path, version, status)
_ACCESS_LOGGER = "uvicorn.access"


def new_request_id() -> str:
    return uuid.uuid4().hex


def request_id_from(header: str | None) -> str:
    """The id a request is logged under: the caller's ``X-Request-ID`` when sane."""
    if header is not None and _SANE_REQUEST_ID.fullmatch(header):
        return header
    return new_request_id()


@contextmanager
def bound(*, request_id: str | None = None, namespace: str | None = None) -> Iterator[None]:
    """Log lines written inside (and by tasks started inside) carry these."""
    tokens = []
    if request_id is not None:
        tokens.append((REQUEST_ID, REQUEST_ID.set(request_id)))
    if namespace is not None:
        tokens.append((NAMESPACE, NAMESPACE.set(namespace)))
    try:
        yield
    finally:
        for variable, token in reversed(tokens):
            variable.reset(token)


def task_context(*, fresh: bool = False) -> contextvars.Context:
    """The context a new background task runs in: a copy of the current one (the
    request's id travels along), with an id of its own when it belongs to no request
    or ``fresh`` says it must not inherit one."""
    context = contextvars.copy_context()
    if fresh or context.get(REQUEST_ID) is None:
        context.run(REQUEST_ID.set, new_request_id())
        context.run(NAMESPACE.set, None)
    return context


class ContextFilter(logging.Filter):
    """Puts the request id and namespace of the current context on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        record.namespace = NAMESPACE.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        line: dict[str, Any] = {
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in ("request_id", "namespace"):
            value = getattr(record, field, None)
            if value is not None:
                line[field] = value
        if record.name == _ACCESS_LOGGER and isinstance(record.args, tuple):
            line.update(_access_fields(record.args))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def _access_fields(args: tuple[Any, ...]) -> dict[str, Any]:
    if len(args) != 5:
        return {}
    client, method, path, _, status = args
    return {"method": method, "path": path, "status": status, "client": client}


def configure_logging(*, level: str, log_format: LogFormat) -> None:
    """One handler on the root logger, for the control plane's loggers and uvicorn's
    (which must then be started with ``log_config=None`` so it keeps its hands off)."""
    handler = logging.StreamHandler()
    formatter = JsonFormatter() if log_format is LogFormat.JSON else logging.Formatter(TEXT_FORMAT)
    handler.setFormatter(formatter)
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Alembic announces every plugin it loads at INFO; that is noise on each start.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
