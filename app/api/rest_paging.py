"""Paging of the REST listings, one scheme for all of them: ``?limit=&cursor=`` ask for
a keyset page (app.tenancy.paging) and the answer names the next one in a ``Link:
<...>; rel="next"`` header (RFC 8288) and in ``X-Next-Cursor``. The body stays the
listing's plain JSON list."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from app.api.json_encoding import FastJSONResponse
from app.tenancy.errors import InvalidInput
from app.tenancy.paging import MAX_PAGE, Order, PageRequest


def limit_of(request: Request, *, most: int = MAX_PAGE) -> int | None:
    """The ``limit`` parameter (1 to ``most``); None when it is not given."""
    raw = request.query_params.get("limit")
    if raw is None:
        return None
    # isascii: str.isdigit() also accepts digits such as "²" that int() refuses.
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= most:
        raise InvalidInput(f"limit must be an integer between 1 and {most}")
    return int(raw)


def page_of(
    request: Request, order: Order, *, most: int = MAX_PAGE, default: int | None = None
) -> PageRequest | None:
    """The page ``limit`` and ``cursor`` ask for in ``order`` (``default`` rows, else
    ``most``, when only a cursor is given); None when neither is given and no
    ``default`` applies: the whole listing."""
    limit, cursor = limit_of(request, most=most), request.query_params.get("cursor")
    if limit is None and cursor is None and default is None:
        return None
    first = limit if limit is not None else default if default is not None else most
    # The bound was checked above: a listing may allow more than a connection's page.
    return PageRequest(order=order, first=first, after=order.position(cursor) if cursor else None)


def paged_response(
    request: Request,
    *,
    rows: Sequence[Any],
    has_next: bool,
    order: Order,
    payload: Callable[[Any], Any],
) -> JSONResponse:
    """The rows as a JSON list, with the next page's URL and cursor when one follows
    (encoded by orjson: a full listing is thousands of rows)."""
    response = FastJSONResponse([payload(row) for row in rows])
    if has_next and rows:
        after = order.cursor_of(rows[-1])
        following = request.url.include_query_params(cursor=after)
        response.headers["Link"] = f'<{following}>; rel="next"'
        response.headers["X-Next-Cursor"] = after
    return response
