"""Quota arithmetic without a server: quantities written back exactly, a cluster's usage
(per node times replicas), sums and differences, and which change a limit refuses."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.models.cluster import ClusterSpec
from app.models.quantity import format_quantity, parse_quantity
from app.models.quota import QuotaLimits, QuotaUsage, excess

PROPERTY = settings(max_examples=300, derandomize=True, database=None, deadline=None)


@pytest.mark.parametrize(
    ("value", "binary", "written"),
    [
        ("0", True, "0"),
        ("5", False, "5"),
        ("104", False, "104"),
        ("1.5", False, "1500m"),
        ("0.25", False, "250m"),
        ("0.0005", False, "500u"),
        ("10Gi", True, "10Gi"),
        ("1536Mi", True, "1536Mi"),
        ("1.5Gi", True, "1536Mi"),
        ("1Ti", True, "1Ti"),
        ("1024Gi", True, "1Ti"),
        ("2G", True, "2G"),
        ("1000", True, "1k"),
        ("1023", True, "1023"),
        ("1e-10", False, "1n"),
    ],
)
def test_quantities_are_written_as_kubernetes_would(value: str, binary: bool, written: str) -> None:
    assert format_quantity(parse_quantity(value), binary=binary) == written


@PROPERTY
@given(
    st.decimals(min_value=0, max_value=10**15, places=9, allow_nan=False, allow_infinity=False),
    st.booleans(),
)
def test_a_written_quantity_reads_back_to_the_same_value(value: Decimal, binary: bool) -> None:
    written = format_quantity(value, binary=binary)
    assert parse_quantity(written) == value


def test_negative_quantities_cannot_be_written() -> None:
    with pytest.raises(ValueError, match="never negative"):
        format_quantity(Decimal(-1), binary=False)


def spec(**fields: object) -> ClusterSpec:
    return ClusterSpec.model_validate(fields)


def test_a_clusters_usage_is_per_node_times_replicas() -> None:
    usage = QuotaUsage.of_cluster(
        spec(replicas=3, cpu_request="250m", cpu_limit="500m", mem_request="256Mi",
             mem_limit="512Mi", disk_size="1Ti", gpu_count=2)
    )  # fmt: skip
    assert usage.as_shown() == {
        "clusters": 1, "cpu": "1500m", "memory": "1536Mi", "disk": "3Ti", "gpu": 6,
    }  # fmt: skip


def test_usages_add_and_subtract_exactly() -> None:
    a = QuotaUsage.of_cluster(spec(cpu_limit="1.5", mem_limit="1Gi", disk_size="512Gi"))
    b = QuotaUsage.of_cluster(spec(replicas=2, cpu_request="100m", cpu_limit="250m"))
    total = a + b
    assert total.as_shown() == {
        "clusters": 2, "cpu": "2", "memory": "5Gi", "disk": "532Gi", "gpu": 0,
    }  # fmt: skip
    assert total - b == a


def test_excess_names_the_first_resource_over_its_limit() -> None:
    limits = QuotaLimits(max_clusters=3, max_cpu="100", max_memory="8Gi")
    before = QuotaUsage(clusters=1, cpu=Decimal(100), memory=Decimal(0))
    after = QuotaUsage(clusters=2, cpu=Decimal(104), memory=Decimal(9 * 2**30))
    found = excess(limits, before=before, after=after)
    assert str(found) == "cpu would be 104 > 100"


def test_a_resource_that_does_not_grow_is_never_refused() -> None:
    # Over the limit already (the quota was lowered), and not growing: allowed.
    limits = QuotaLimits(max_cpu="2", max_clusters=0)
    held = QuotaUsage(clusters=1, cpu=Decimal(4))
    assert excess(limits, before=held, after=held) is None
    shrunk = QuotaUsage(clusters=1, cpu=Decimal(3))
    assert excess(limits, before=held, after=shrunk) is None
    grown = QuotaUsage(clusters=1, cpu=Decimal("4.5"))
    assert str(excess(limits, before=held, after=grown)) == "cpu would be 4500m > 2"


def test_no_limit_is_never_exceeded_and_a_limit_equal_to_usage_fits() -> None:
    huge = QuotaUsage(clusters=10**6, cpu=Decimal(10**9), memory=Decimal(2**60), gpu=10**6)
    assert excess(QuotaLimits(), before=QuotaUsage(), after=huge) is None
    exact = QuotaUsage(clusters=5, cpu=Decimal(100))
    limits = QuotaLimits(max_clusters=5, max_cpu="100")
    assert excess(limits, before=QuotaUsage(), after=exact) is None
