"""The one place validation errors are worded: a pydantic ``ValidationError`` from the
model family (app.models) becomes the ``InvalidInput`` users have always seen, with the
specification's exact texts; a rule's own ``RuleViolation`` keeps its words. Pydantic's
texts never reach a user.

A request with several problems gets one message, for the problem checked first: the
checks run kind by kind in a fixed order (for a create: the required names, unknown
fields, the names' form, numbers, quantities, then the namespace and the URL), and within
a kind in the order of the fields.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated, Any, get_args, get_origin

from annotated_types import Ge, Le
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from app.models.rules import Kind, RuleViolation
from app.tenancy.errors import InvalidInput

REQUIRED_MESSAGES = {
    "tenant_org_id": "tenant_org_id is required for multi-tenancy",
    "user": "user is required",
    "service_name": "service_name is required",
}


class Check(enum.Enum):
    """Problems that are no field's kind."""

    REQUIRED = "required"  # a name missing, blank or not text
    UNKNOWN = "unknown"  # a field the request does not know


CREATE_ORDER: Sequence[Kind | Check] = (
    Check.REQUIRED,
    Check.UNKNOWN,
    Kind.NAME,
    Kind.NUMBER,
    Kind.QUANTITY,
    Kind.TEXT,
)
UPDATE_ORDER: Sequence[Kind | Check] = (Kind.QUANTITY, Kind.NUMBER)
REPORT_ORDER: Sequence[Kind | Check] = (Check.UNKNOWN, Kind.NUMBER)
QUOTA_ORDER: Sequence[Kind | Check] = (Check.UNKNOWN, Kind.NUMBER, Kind.QUANTITY, Kind.TEXT)


@contextmanager
def rule_checks() -> Iterator[None]:
    """Runs model rules called directly: a ``RuleViolation`` is ``InvalidInput``."""
    try:
        yield
    except RuleViolation as exc:
        raise InvalidInput(str(exc)) from None


def invalid_input(
    error: ValidationError,
    *,
    model: type[BaseModel],
    order: Sequence[Kind | Check],
    takes: str = "a create request takes",
) -> InvalidInput:
    """The ``InvalidInput`` for the problem of ``error`` checked first. ``takes`` starts
    the list of the fields there are, when one was unknown."""
    details = error.errors()
    fields = model.model_fields
    first = min(details, key=lambda detail: _rank(detail, fields, order))
    if first["type"] == "extra_forbidden":
        unknown = sorted(str(detail["loc"][0]) for detail in details if _is_unknown(detail))
        return InvalidInput(f"unknown field(s) {', '.join(unknown)}; {takes} {', '.join(fields)}")
    return InvalidInput(_message(first, fields))


def _is_unknown(detail: ErrorDetails) -> bool:
    return detail["type"] == "extra_forbidden" and bool(detail["loc"])


def _kind(field: FieldInfo | None) -> Kind | None:
    metadata = field.metadata if field is not None else ()
    return next((m for m in metadata if isinstance(m, Kind)), None)


def _rank(
    detail: ErrorDetails, fields: dict[str, FieldInfo], order: Sequence[Kind | Check]
) -> tuple[int, int]:
    name = str(detail["loc"][0]) if detail["loc"] else ""
    check: Kind | Check | None
    if detail["type"] == "extra_forbidden":
        check = Check.UNKNOWN
    else:
        check = _kind(fields.get(name))
        if check is Kind.NAME and detail["type"] in ("missing", "string_type"):
            check = Check.REQUIRED
    position = list(fields).index(name) if name in fields else len(fields)
    return (order.index(check) if check in order else len(order), position)


def _message(detail: ErrorDetails, fields: dict[str, FieldInfo]) -> str:
    name = str(detail["loc"][0]) if detail["loc"] else "the request"
    value: Any = detail.get("input")
    kind = detail["type"]
    cause = (detail.get("ctx") or {}).get("error")
    if isinstance(cause, RuleViolation):
        return str(cause)
    if kind == "missing":
        return REQUIRED_MESSAGES.get(name, f"{name} is required")
    if kind == "string_type":
        if _kind(fields.get(name)) is Kind.QUANTITY:
            return (
                f'{name} must be a Kubernetes quantity string such as "500m", "2" or "10Gi", '
                f"got {_json_type(value)}"
            )
        return f"{name} must be a string"
    if kind == "string_too_long":
        return f"{name} must be at most {(detail.get('ctx') or {})['max_length']} characters"
    if kind == "bool_type":
        return f"{name} must be true or false, got {_json_type(value)}"
    if kind == "int_type":
        return f"{name} must be an integer, got {_json_type(value)}"
    if kind in ("greater_than_equal", "less_than_equal") and _is_integer(fields.get(name)):
        low, high = _bounds(fields[name])
        return f"{name} must be between {low} and {high}, got {value}"
    if kind == "float_type" and (isinstance(value, bool) or not isinstance(value, int)):
        return f"{name} must be a number"
    if kind in ("float_type", "finite_number", "greater_than_equal", "less_than_equal"):
        # An integer beyond the float range is a number out of range, not "no number".
        low, high = _bounds(fields[name]) if name in fields else (None, None)
        return f"{name} must be a finite number between {low} and {high:.0e}, got {value}"
    return f"{name} is not valid"


def _is_integer(field: FieldInfo | None) -> bool:
    return field is not None and _plain(field.annotation) is int


def _plain(annotation: Any) -> Any:
    """``int`` for ``int``, for ``int | None`` and for either with metadata."""
    if get_origin(annotation) is Annotated:
        return _plain(get_args(annotation)[0])
    args = [arg for arg in get_args(annotation) if arg is not type(None)]
    return _plain(args[0]) if len(args) == 1 else annotation


def _bounds(field: FieldInfo) -> tuple[Any, Any]:
    low = next((m.ge for m in field.metadata if isinstance(m, Ge)), None)
    high = next((m.le for m in field.metadata if isinstance(m, Le)), None)
    return low, high


def _json_type(value: object) -> str:
    names = {
        bool: "a boolean",
        str: "a string",
        float: "a number",
        list: "a list",
        dict: "an object",
    }
    return names.get(type(value), type(value).__name__)
