"""The types of a cluster's fields: each rule (range, quantity grammar, name rule, URL
form) written once, as an annotated type the models share.

A validator raises ``RuleViolation`` with the words the user sees; pydantic's own
errors (wrong type, out of range, too long) are worded in app.tenancy.validation.
"""

from __future__ import annotations

from typing import Annotated, Any

from annotated_types import Ge, Le
from pydantic import AfterValidator, BeforeValidator, Strict, ValidationInfo
from pydantic_core import PydanticCustomError

from app.models.names import LABEL, MAX_NAME_LENGTH, NAME_SCHEMA, check_name
from app.models.quantity import PATTERN, InvalidQuantity, parse_quantity
from app.models.rules import Described, Kind, RuleViolation
from app.models.versions import MAX_VERSION_LENGTH

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
# Elasticsearch's dense_vector accepts at most this many dimensions.
MAX_DIMENSION = 4096
MAX_REPLICAS = 1000
MAX_URL_LENGTH = 2048
MAX_QUANTITY_LENGTH = 32  # the column width; real quantities are a few characters
MAX_ID_LENGTH = 200


def _field(info: ValidationInfo) -> str:
    return info.field_name or "value"


# -- names -----------------------------------------------------------------------------


def _dns_label(value: str, info: ValidationInfo) -> str:
    return check_name(_field(info), value)


def _blank_is_missing(value: Any) -> Any:
    """A tenant name left empty (or null, or blanks) is a name not given."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise PydanticCustomError("missing", "Field required")
    return value


def empty_is_none(value: Any) -> Any:
    """An optional text given as "" is one not given."""
    return None if value == "" else value


# tenant_org_id, user, service_name: required DNS-1123 labels.
TenantName = Annotated[
    str,
    BeforeValidator(_blank_is_missing),
    Strict(),
    AfterValidator(_dns_label),
    Described(NAME_SCHEMA),
    Kind.NAME,
]
# A namespace: a DNS-1123 label.
Namespace = Annotated[str, Strict(), AfterValidator(_dns_label), Described(NAME_SCHEMA), Kind.TEXT]
# A namespace as a create request may give it: "" (or null) asks for the generated one.
OPTIONAL_NAME_SCHEMA = {"pattern": f"^({LABEL})?$", "maxLength": MAX_NAME_LENGTH}


# -- numbers ---------------------------------------------------------------------------

# Integers only (`true` or `2.0` is a client bug, not a count), within their range.
Replicas = Annotated[int, Strict(), Ge(1), Le(MAX_REPLICAS), Kind.NUMBER]
GpuCount = Annotated[int, Strict(), Ge(0), Le(INT32_MAX), Kind.NUMBER]
Dimension = Annotated[int, Strict(), Ge(1), Le(MAX_DIMENSION), Kind.NUMBER]
VectorCount = Annotated[int, Strict(), Ge(0), Le(INT64_MAX), Kind.NUMBER]
IndexLimit = Annotated[int, Strict(), Ge(0), Le(INT32_MAX), Kind.NUMBER]


# -- quantities ------------------------------------------------------------------------


def _any_quantity(value: str, info: ValidationInfo) -> str:
    try:
        parse_quantity(value)
    except InvalidQuantity as exc:
        raise RuleViolation(f"{_field(info)}: {exc}") from None
    return value


def _positive_quantity(value: str, info: ValidationInfo) -> str:
    if parse_quantity(_any_quantity(value, info)) <= 0:
        raise RuleViolation(f'{_field(info)} must be greater than zero, got "{value}"')
    return value


# A Kubernetes quantity greater than zero ("500m", "2", "1Gi", "1e3"); its length is
# bounded where it is used (Field(max_length=...): the column width).
Quantity = Annotated[
    str,
    Strict(),
    AfterValidator(_positive_quantity),
    Described({"pattern": PATTERN}),
    Kind.QUANTITY,
]


# A Kubernetes quantity that may be zero: a limit ("0" allows nothing).
QuantityOrZero = Annotated[
    str,
    Strict(),
    AfterValidator(_any_quantity),
    Described({"pattern": PATTERN}),
    Kind.QUANTITY,
]


# -- URLs ------------------------------------------------------------------------------


def _http_url(value: str, info: ValidationInfo) -> str:
    # Printable ASCII without spaces: it ends up in an env var and an annotation.
    printable = value.isascii() and value.isprintable() and " " not in value
    if (
        len(value) > MAX_URL_LENGTH
        or not printable
        or not value.startswith(("https://", "http://"))
    ):
        raise RuleViolation(
            f"{_field(info)} must be an http(s) URL of at most {MAX_URL_LENGTH} characters"
        )
    return value


# An http(s) URL; "" (or null) for none.
OptionalHttpUrl = Annotated[
    Annotated[str, Strict(), AfterValidator(_http_url)] | None,
    BeforeValidator(empty_is_none),
    Described({"maxLength": MAX_URL_LENGTH, "pattern": r"^(https?://[\s\S]*)?$"}),
    Kind.TEXT,
]


# -- versions --------------------------------------------------------------------------

# An Elasticsearch version ("9.1.5"); "" (or null) for the default (on a create) or no
# change (on an update). Which versions may be chosen is the platform's
# (app.models.versions), checked by the model that has the catalogue.
OptionalVersion = Annotated[
    Annotated[str, Strict()] | None,
    BeforeValidator(empty_is_none),
    Described({"maxLength": MAX_VERSION_LENGTH, "pattern": r"^([0-9]+\.[0-9]+\.[0-9]+)?$"}),
    Kind.TEXT,
]
