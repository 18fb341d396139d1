"""The REST endpoints of billing: an organisation's bill (JSON, or CSV for finance) and
the price table (everyone reads it; only the platform admin adds to it)."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.api import bill_payloads
from app.api.rest import audited_request, json_object, principal_of, runtime_of
from app.tenancy import bills, prices
from app.tenancy.billing import Period, parse_instant
from app.tenancy.errors import InvalidInput

FORMATS = ("json", "csv")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
CSV = "text/csv; charset=utf-8"


def _period(request: Request) -> Period:
    query = request.query_params
    start, end = query.get("from"), query.get("to")
    return Period.asked(
        month=query.get("period"),
        start=parse_instant("from", start) if start is not None else None,
        end=parse_instant("to", end) if end is not None else None,
        now=runtime_of(request).clock(),
    )


async def get_org_bill(request: Request) -> Response:
    runtime, scope = runtime_of(request), principal_of(request).scope
    answer_format = request.query_params.get("format", "json")
    if answer_format not in FORMATS:
        raise InvalidInput(f'format must be one of {", ".join(FORMATS)}, got "{answer_format}"')
    tenant_org_id = request.path_params["tenant_org_id"]
    period = _period(request)
    async with runtime.sessions() as session:
        bill = await bills.org_bill(
            session=session,
            scope=scope,
            tenant_org_id=tenant_org_id,
            period=period,
            now=runtime.clock(),
            defaults=runtime.default_prices,
        )
    if answer_format == "csv":
        # Header-safe: an organisation id that is no valid name may hold any character.
        org = _UNSAFE.sub("_", tenant_org_id)
        name = f"bill-{org}-{period.month or period.start.date().isoformat()}.csv"
        return Response(
            bill_payloads.bill_csv(bill),
            media_type=CSV,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return JSONResponse(bill_payloads.bill(bill))


async def list_prices(request: Request) -> Response:
    runtime = runtime_of(request)
    principal_of(request).scope  # noqa: B018 - tenant callers only (no report tokens)
    async with runtime.sessions() as session:
        rows = await prices.price_rows(session=session)
    return JSONResponse(
        [
            bill_payloads.price_list(runtime.default_prices, effective_from=None),
            *(bill_payloads.price_row(row) for row in rows),
        ]
    )


async def set_prices(request: Request) -> Response:
    runtime, principal = runtime_of(request), principal_of(request)
    async with audited_request(request, "setPrices") as note:
        principal.require_admin()
        change = prices.parse_price_change(await json_object(request))
        row = await prices.set_prices(
            sessions=runtime.sessions,
            change=change,
            defaults=runtime.default_prices,
            now=runtime.clock(),
        )
        note.target = f"prices from {bill_payloads.price_row(row)['effective_from']}"
    return JSONResponse(bill_payloads.price_row(row), status_code=201)


routes = [
    Route("/billing/org/{tenant_org_id}", get_org_bill, methods=["GET"]),
    Route("/billing/prices", list_prices, methods=["GET"]),
    Route("/billing/prices", set_prices, methods=["POST"]),
]
