"""Properties of the pure validation code (hypothesis, no server): names and namespaces,
Kubernetes quantities, create requests and usage reports.

Derandomized with a modest number of examples, so CI runs are stable and quick. Inputs
found to escape as another exception than the documented one are pinned down at the end.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_CEILING, Decimal, localcontext
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from app.kube.quantity import InvalidQuantity, parse_quantity
from app.tenancy.errors import InvalidInput
from app.tenancy.naming import ReservedNamespaces, check_name, check_namespace, default_namespace
from app.tenancy.requests import (
    INT32_MAX,
    INT64_MAX,
    MAX_DIMENSION,
    MAX_REPLICAS,
    ClusterRequest,
)
from app.tenancy.requests import parse_create_request as parse_with
from app.tenancy.usage import MAX_REPORTED, USAGE_FIELDS, parse_usage_report

PROPERTY = settings(
    max_examples=200,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
# Kubernetes label values: at most 63 characters, alphanumerics, '-', '_' and '.' inside.
LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
NAME_FIELDS = ("tenant_org_id", "user", "service_name")
RESERVED = ("default", "kube-system", "kube-public", "kube-node-lease", "es-serverless", "ops")
# Written out here rather than derived from the code under test.
RESERVED_PREFIXES = ("kube-", "team-")
RESERVED_NAMESPACES = ReservedNamespaces.of(platform_namespace="es-serverless", extra=["ops", "team-*"])
INT64 = Decimal(2**63 - 1)
NANO = Decimal("1e-9")
# The allowed suffixes, written out here rather than taken from the parser.
DECIMAL_SUFFIXES = {"n": -9, "u": -6, "m": -3, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
BINARY_SUFFIXES = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}


def is_dns_label(value: str) -> bool:
    return len(value) <= 63 and DNS1123_LABEL.fullmatch(value) is not None


def is_label_value(value: str) -> bool:
    return len(value) <= 63 and LABEL_VALUE.fullmatch(value) is not None


def is_reserved(namespace: str) -> bool:
    return namespace in RESERVED or namespace.startswith(RESERVED_PREFIXES)


def parse_create_request(payload: dict[str, Any], *, org_prefixed: bool = False) -> ClusterRequest:
    return parse_with(payload, reserved=RESERVED_NAMESPACES, org_prefixed=org_prefixed)


# -- strategies ------------------------------------------------------------------------

labels = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", fullmatch=True)
short_labels = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,12}[a-z0-9])?", fullmatch=True)
BAD_CHARACTERS = st.one_of(
    st.sampled_from("ABCMZ._/ \t\n:@"),
    st.characters(min_codepoint=0x80),  # anything non-ASCII
)


@st.composite
def invalid_names(draw: st.DrawFn) -> str:
    """A string no tenant name may be: each of the ways a name goes wrong."""
    base = draw(short_labels)
    way = draw(st.sampled_from(["character", "leading", "trailing", "long", "empty"]))
    if way == "character":
        at = draw(st.integers(0, len(base)))
        return base[:at] + draw(BAD_CHARACTERS) + base[at:]
    if way == "leading":
        return "-" + base
    if way == "trailing":
        return base + "-"
    if way == "long":
        return draw(st.from_regex(r"[a-z0-9][-a-z0-9]{62,90}[a-z0-9]", fullmatch=True))
    return draw(st.sampled_from(["", " ", "-"]))


@st.composite
def valid_quantities(draw: st.DrawFn) -> tuple[str, Decimal]:
    """A quantity in one of the allowed forms and the value it stands for, computed
    independently of the parser: the exact product, capped at 2**63-1 and rounded up
    to a nano-unit like Kubernetes."""
    digits = st.from_regex(r"[0-9]{1,12}", fullmatch=True)
    form = draw(st.sampled_from(["integer", "decimal", "point-first", "point-last"]))
    if form == "integer":
        mantissa = draw(digits)
    elif form == "decimal":
        mantissa = f"{draw(digits)}.{draw(digits)}"
    elif form == "point-first":
        mantissa = "." + draw(digits)
    else:
        mantissa = draw(digits) + "."
    kind = draw(st.sampled_from(["none", "decimal", "binary", "exponent"]))
    if kind == "none":
        suffix, scale = "", Decimal(1)
    elif kind == "decimal":
        suffix, power = draw(st.sampled_from(sorted(DECIMAL_SUFFIXES.items())))
        scale = Decimal(10) ** power
    elif kind == "binary":
        suffix, power = draw(st.sampled_from(sorted(BINARY_SUFFIXES.items())))
        scale = Decimal(2**power)
    else:
        power = draw(st.integers(-40, 40))
        letter = draw(st.sampled_from("eE"))
        sign = "+" if power >= 0 and draw(st.booleans()) else ""
        suffix, scale = f"{letter}{sign}{power}", Decimal(10) ** power
    text = draw(st.sampled_from(["", "+"])) + mantissa + suffix
    with localcontext() as ctx:
        ctx.prec = 200
        value = Decimal(mantissa) * scale
        if value > INT64:
            value = INT64
        elif value != 0 and value.as_tuple().exponent < -9:  # type: ignore[operator]
            value = value.quantize(NANO, rounding=ROUND_CEILING)
    return text, value


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
quantity_like = st.one_of(
    st.sampled_from(["500m", "1", "2", "1Gi", "8Gi", "10Gi", "0", "-1", "1e3", "1.5", " 1"]),
    valid_quantities().map(lambda pair: pair[0]),
    st.text(alphabet="0123456789.+-eEmkMGTPiKn ", max_size=8),
)
integer_like = st.one_of(
    st.integers(-3, MAX_REPLICAS + 3),
    st.sampled_from([INT32_MAX, INT32_MAX + 1, INT64_MAX, INT64_MAX + 1, MAX_DIMENSION + 1]),
    st.floats(),
    st.booleans(),
)
FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    **{field: st.one_of(short_labels, invalid_names(), json_values) for field in NAME_FIELDS},
    **{field: integer_like for field in ("replicas", "gpu_count", "dimension")},
    **{field: integer_like for field in ("vector_count", "index_limit")},
    **{
        field: st.one_of(quantity_like, json_values)
        for field in ("cpu_request", "cpu_limit", "mem_request", "mem_limit", "disk_size")
    },
    "gitlab_url": st.one_of(
        st.sampled_from(["https://gitlab.example/x", "http://g", "ftp://g", "", "h" * 3000]),
        json_values,
    ),
    "namespace": st.one_of(labels, invalid_names(), st.sampled_from(RESERVED), json_values),
}
payloads = st.one_of(
    st.fixed_dictionaries({}, optional=FIELD_VALUES),
    # The names right, so the checks after them are reached.
    st.fixed_dictionaries(
        dict.fromkeys(NAME_FIELDS, short_labels),
        optional={k: v for k, v in FIELD_VALUES.items() if k not in NAME_FIELDS},
    ),
    st.dictionaries(st.sampled_from(sorted(FIELD_VALUES)) | st.text(max_size=8), json_values),
)


# -- names -----------------------------------------------------------------------------


@PROPERTY
@given(value=st.one_of(labels, st.text(max_size=80), invalid_names()))
@example(value="a" * 63)
@example(value="0")
@example(value="a-b")
def test_an_accepted_name_is_a_dns_label_and_a_label_value_unchanged(value: str) -> None:
    try:
        accepted = check_name("user", value)
    except InvalidInput:
        assert not is_dns_label(value)
        return
    assert accepted == value  # never mangled
    assert is_dns_label(accepted)
    assert is_label_value(accepted)


@PROPERTY
@given(value=invalid_names(), field=st.sampled_from(NAME_FIELDS))
@example(value="a" * 64, field="user")
@example(value="Alice", field="user")
@example(value="org.001", field="tenant_org_id")
@example(value="a/b", field="service_name")
@example(value="a_b", field="service_name")
@example(value="café", field="user")
@example(value="-a", field="tenant_org_id")
@example(value="a-", field="tenant_org_id")
def test_a_bad_name_is_refused_never_mangled(value: str, field: str) -> None:
    with pytest.raises(InvalidInput):
        check_name(field, value)
    payload = {"tenant_org_id": "org", "user": "alice", "service_name": "search", field: value}
    with pytest.raises(InvalidInput):
        parse_create_request(payload)


@PROPERTY
@given(org=labels, user=labels, service=labels)
def test_the_generated_namespace_is_the_join_or_refused(org: str, user: str, service: str) -> None:
    joined = f"{org}-{user}-{service}"
    payload = {"tenant_org_id": org, "user": user, "service_name": service}
    names = {"tenant_org_id": org, "user": user, "service_name": service}
    if len(joined) > 63 or is_reserved(joined):
        with pytest.raises(InvalidInput):
            default_namespace(**names, reserved=RESERVED_NAMESPACES)
        with pytest.raises(InvalidInput):
            parse_create_request(payload)
        return
    first = default_namespace(**names, reserved=RESERVED_NAMESPACES)
    again = default_namespace(**names, reserved=RESERVED_NAMESPACES)
    assert first == again == joined  # deterministic, nothing added or changed
    assert is_dns_label(first)
    request = parse_create_request(payload)
    assert request.namespace == joined
    assert (request.tenant_org_id, request.user, request.service_name) == (org, user, service)


@PROPERTY
@given(a=short_labels, b=short_labels, c=short_labels, d=short_labels)
def test_colliding_triples_give_the_same_namespace_and_are_not_renamed(
    a: str, b: str, c: str, d: str
) -> None:
    """(a-b, c, d) and (a, b-c, d) are different tenants with the same namespace: the
    generator gives both that one namespace (the live-namespace unique index then turns
    the second create into a 409), rather than silently giving one another name."""
    assume(not is_reserved(f"{a}-{b}-{c}-{d}"))
    first = parse_create_request({"tenant_org_id": f"{a}-{b}", "user": c, "service_name": d})
    second = parse_create_request({"tenant_org_id": a, "user": f"{b}-{c}", "service_name": d})
    assert (first.tenant_org_id, first.user) != (second.tenant_org_id, second.user)
    assert first.namespace == second.namespace == f"{a}-{b}-{c}-{d}"


@PROPERTY
@given(
    value=st.one_of(labels, st.sampled_from(RESERVED), st.text(max_size=70), invalid_names()),
    org=st.one_of(st.none(), short_labels),
)
@example(value="kube-anything", org=None)
@example(value="kube", org=None)
@example(value="team-a", org="team")
@example(value="orga-b-dave-search", org="orga")
@example(value="orgb-dave-search", org="orga")
@example(value="orga", org="orga")
def test_an_accepted_namespace_is_a_free_dns_label_of_the_callers_org(
    value: str, org: str | None
) -> None:
    try:
        accepted = check_namespace(value, reserved=RESERVED_NAMESPACES, org_prefix=org)
    except InvalidInput:
        assert (
            not is_dns_label(value)
            or is_reserved(value)
            or (org is not None and not value.startswith(f"{org}-"))
        )
        return
    assert accepted == value
    assert is_dns_label(accepted)
    assert not is_reserved(accepted)
    if org is not None:
        assert accepted.startswith(f"{org}-")


# -- quantities ------------------------------------------------------------------------


@PROPERTY
@given(pair=valid_quantities())
@example(pair=("500m", Decimal("0.5")))
@example(pair=("1Ei", Decimal(2**60)))
@example(pair=("1e-30", NANO))
@example(pair=("10E", INT64))  # capped at 2**63-1
@example(pair=("9E", Decimal(9 * 10**18)))
def test_a_valid_quantity_parses_to_its_value(pair: tuple[str, Decimal]) -> None:
    text, expected = pair
    assert parse_quantity(text) == expected


@PROPERTY
@given(
    text=st.one_of(
        st.text(max_size=30),
        st.from_regex(r"[+-]?[0-9.]{0,6}([A-Za-z]{0,3}|[eE][+-]?[0-9]{0,5})", fullmatch=True),
        st.integers(),
        st.floats(),
        st.none(),
    )
)
@example(text="1e99999999999999999")
@example(text="1e-99999999999999999")
@example(text="1.2.3")
@example(text="١٢")  # non-ASCII digits
def test_any_text_parses_to_a_non_negative_decimal_or_is_refused(text: Any) -> None:
    try:
        value = parse_quantity(text)
    except InvalidQuantity:
        return
    assert isinstance(value, Decimal)
    assert value.is_finite()
    assert 0 <= value <= INT64


# -- create requests -------------------------------------------------------------------


def assert_sound(request: ClusterRequest) -> None:
    for field in NAME_FIELDS:
        assert is_dns_label(getattr(request, field))
    assert is_dns_label(request.namespace)
    assert not is_reserved(request.namespace)
    assert 1 <= request.replicas <= MAX_REPLICAS
    assert 0 <= request.gpu_count <= INT32_MAX
    assert 1 <= request.dimension <= MAX_DIMENSION
    assert 0 <= request.vector_count <= INT64_MAX
    assert 0 <= request.index_limit <= INT32_MAX
    for number in (request.replicas, request.gpu_count, request.dimension):
        assert type(number) is int
    assert parse_quantity(request.cpu_request) <= parse_quantity(request.cpu_limit)
    assert parse_quantity(request.mem_request) <= parse_quantity(request.mem_limit)
    for quantity in (request.cpu_request, request.mem_request, request.disk_size):
        assert parse_quantity(quantity) > 0
    if request.gitlab_url is not None:
        assert request.gitlab_url.startswith(("http://", "https://"))
        assert len(request.gitlab_url) <= 2048


@PROPERTY
@given(payload=payloads, org_prefixed=st.booleans())
def test_a_create_request_is_accepted_sound_or_refused(
    payload: dict[str, Any], org_prefixed: bool
) -> None:
    try:
        request = parse_create_request(payload, org_prefixed=org_prefixed)
    except InvalidInput as exc:
        assert exc.message
        return
    assert_sound(request)
    if org_prefixed:
        assert request.namespace.startswith(f"{request.tenant_org_id}-")
    for field in NAME_FIELDS:
        assert getattr(request, field) == payload[field]  # verbatim


# -- usage reports ---------------------------------------------------------------------

usage_numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(),
    st.integers(-(2**1100), 2**1100),  # also beyond the float range
    st.sampled_from([0, -0.0, 1e308, -1e-300, 5e-324, 2**53, 10**30, 10**31, 10**400]),
)
# Integers above this are exact neither as floats nor as measurements: the parser may
# refuse them (it must refuse those beyond the float range).
SAFE_INTEGER = 2**53
usage_values = st.one_of(usage_numbers, json_values)


@PROPERTY
@given(
    payload=st.one_of(
        st.fixed_dictionaries({}, optional=dict.fromkeys(USAGE_FIELDS, usage_values)),
        st.dictionaries(st.sampled_from(USAGE_FIELDS) | st.text(max_size=8), usage_values),
    )
)
@example(payload={"qps": float("nan")})
@example(payload={"qps": True})
@example(payload={"qps": None, "cpu_usage": 0})
def test_only_finite_non_negative_numbers_make_a_usage_report(payload: dict[str, Any]) -> None:
    def number(value: Any) -> bool:
        return isinstance(value, int | float) and not isinstance(value, bool)

    def acceptable(value: Any) -> bool:
        if not number(value) or value < 0:
            return False
        return value <= SAFE_INTEGER if isinstance(value, int) else value <= MAX_REPORTED

    def refusable(value: Any) -> bool:
        return not acceptable(value) and not (isinstance(value, int) and value > SAFE_INTEGER)

    given_values = {key: value for key, value in payload.items() if value is not None}
    well_formed = set(payload) <= set(USAGE_FIELDS) and bool(given_values)
    must_accept = well_formed and all(acceptable(v) for v in given_values.values())
    must_refuse = not well_formed or any(refusable(v) for v in given_values.values())
    try:
        report = parse_usage_report(payload)
    except InvalidInput:
        assert not must_accept, payload
        return
    assert not must_refuse, payload
    assert report == {key: float(value) for key, value in given_values.items()}
    assert all(0 <= value <= MAX_REPORTED for value in report.values())
    # -0.0 is stored as 0.0 (its sign would show as "-0.0").
    assert all(math.copysign(1.0, value) == 1.0 for value in report.values())


# -- inputs that once escaped as another exception (a 500 over REST) ------------------

HUGE_EXPONENT = "1e" + "1" * 5000  # int() refuses strings of more than 4300 digits


def test_a_huge_exponent_is_clamped_like_kubernetes_does() -> None:
    assert parse_quantity(HUGE_EXPONENT) == Decimal(2**63 - 1)
    assert parse_quantity("1e-" + "1" * 5000) == Decimal("0.000000001")


def test_a_huge_exponent_is_invalid_input() -> None:
    payload = {
        "tenant_org_id": "org",
        "user": "alice",
        "service_name": "s",
        "disk_size": HUGE_EXPONENT,
    }
    with pytest.raises(InvalidInput):
        parse_create_request(payload)


@pytest.mark.parametrize("value", [1.79e308, 1e31, 10**31, -1e-300])
def test_usage_values_beyond_the_measurable_range_are_invalid_input(value: float) -> None:
    with pytest.raises(InvalidInput, match="between 0 and 1e\\+30"):
        parse_usage_report({"cpu_usage": value})


def test_negative_zero_usage_is_stored_as_zero() -> None:
    assert str(parse_usage_report({"qps": -0.0})["qps"]) == "0.0"


def test_an_integer_beyond_the_float_range_is_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        parse_usage_report({"qps": 10**400})  # math.isfinite() would raise OverflowError
