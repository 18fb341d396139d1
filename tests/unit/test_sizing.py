"""Vector-memory sizing (app.models.sizing, pure; app.tenancy.sizing): every number
below is worked out by hand from Elastic's formulas, written out in the comments.

Per vector, D dimensions: hnsw 4D, int8 D+4, int4 D/2+4, bbq D/8+14; graph 4 x 16 = 64.
Copies: min(replicas, 2). Off-heap per node: mem_limit - heap (half, 256 MiB to 31 GiB).
fits: required <= 80% of available; tight: <= 100%; else undersized.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.kube.manifests import jvm_heap
from app.models.cluster import ClusterSpec
from app.models.quantity import parse_quantity
from app.models.sizing import Quantization, Verdict, default_quantization, size_vectors
from app.tenancy.errors import InvalidInput, Undersized
from app.tenancy.requests import parse_create_request
from app.tenancy.sizing import (
    parse_quantization,
    refuse_undersized,
    size_cluster,
    size_planned_cluster,
)
from tests.support.factories import DEFAULT_RESERVED, cluster_body

GIB = 2**30
MIB = 2**20
INT64_MAX = 2**63 - 1


def spec(**fields: Any) -> ClusterSpec:
    return ClusterSpec(**fields)


def test_the_default_cluster_fits() -> None:
    # 1 node, 2Gi (heap 1Gi, off-heap 1Gi), 10,000 vectors of 128 dims: int8 below 384,
    # 10,000 x (132 + 64) = 1,960,000 bytes, one copy.
    sizing = size_vectors(spec())
    assert sizing.quantization is Quantization.INT8_HNSW
    assert (sizing.copies, sizing.vector_bytes, sizing.graph_bytes) == (1, 1_320_000, 640_000)
    assert sizing.required_bytes == 1_960_000
    assert sizing.heap_bytes_per_node == GIB
    assert sizing.available_bytes == GIB
    assert sizing.verdict is Verdict.FITS
    assert sizing.recommended_mem_limit == "2Gi"


# 1,000,000 vectors of 512 dims on 2 nodes of 4Gi: two copies; 2 x 2Gi = 4,294,967,296
# bytes off the heap, of which 80% is 3,435,973,836.8.
@pytest.mark.parametrize(
    ("quantization", "per_vector", "required", "verdict", "recommended"),
    [
        # 2 x (2,048,000,000 + 64,000,000); over 80%: 5Gi gives 2 x 2.5GiB x 80%
        # = 4,294,967,296 >= 4,224,000,000, 4Gi only 3,435,973,836.8.
        (Quantization.HNSW, 2048, 4_224_000_000, Verdict.TIGHT, "5Gi"),
        (Quantization.INT8_HNSW, 516, 1_160_000_000, Verdict.FITS, "4Gi"),  # 2 x 580,000,000
        (Quantization.INT4_HNSW, 260, 648_000_000, Verdict.FITS, "4Gi"),  # 2 x 324,000,000
        (Quantization.BBQ_HNSW, 78, 284_000_000, Verdict.FITS, "4Gi"),  # 2 x 142,000,000
    ],
)
def test_each_quantization(
    quantization: Quantization, per_vector: int, required: int, verdict: Verdict, recommended: str
) -> None:
    cluster = spec(replicas=2, mem_request="1Gi", mem_limit="4Gi", dimension=512)
    cluster = cluster.model_copy(update={"vector_count": 1_000_000})
    sizing = size_vectors(cluster, quantization=quantization)
    assert sizing.quantization is quantization
    assert sizing.copies == 2
    assert sizing.vector_bytes == 1_000_000 * per_vector
    assert sizing.graph_bytes == 64_000_000
    assert sizing.required_bytes == required
    assert sizing.available_bytes == 4 * GIB
    assert sizing.verdict is verdict
    assert sizing.recommended_mem_limit == recommended


@pytest.mark.parametrize(
    ("dimension", "default"),
    [
        (1, Quantization.INT8_HNSW),
        (128, Quantization.INT8_HNSW),
        (383, Quantization.INT8_HNSW),
        (384, Quantization.BBQ_HNSW),  # Elasticsearch 9.1: bbq_hnsw from 384 dimensions
        (4096, Quantization.BBQ_HNSW),
    ],
)
def test_the_default_quantization_is_elasticsearch_9_1s(
    dimension: int, default: Quantization
) -> None:
    assert default_quantization(dimension) is default
    assert size_vectors(spec(dimension=dimension)).quantization is default


def test_an_undersized_cluster_and_its_refusal() -> None:
    # 10,000,000 x 768 floats: 2 x 10,000,000 x (3,072 + 64) = 62,720,000,000 bytes
    # (58.4 GiB); 3 nodes of 2Gi have 3 x 1GiB. Per node it needs 5/4 x 62.72e9 / 3
    # = 26,133,333,333.3 off the heap: 49Gi leaves 24.5GiB = 26,306,674,688, 48Gi only
    # 25,769,803,776.
    cluster = spec(replicas=3, dimension=768).model_copy(update={"vector_count": 10_000_000})
    sizing = size_vectors(cluster, quantization=Quantization.HNSW)
    assert sizing.required_bytes == 62_720_000_000
    assert sizing.available_bytes == 3 * GIB
    assert sizing.verdict is Verdict.UNDERSIZED
    assert sizing.recommended_mem_limit == "49Gi"
    assert sizing.refusal() == (
        "cluster too small for its vectors: 10000000 vectors of dimension 768 need 58.4GiB "
        "of off-heap memory (hnsw, 2 copies), 3 node(s) with mem_limit 2Gi have 3GiB "
        "beside the JVM heap; set mem_limit to at least 49Gi (vectors may take up to 80% "
        "of the off-heap memory)"
    )


def test_the_recommendation_with_the_heap_at_its_cap() -> None:
    # 20,000,000 x 1,024 floats on one node: 20,000,000 x (4,096 + 64) = 83,200,000,000;
    # it needs 5/4 of that, 104,000,000,000, off the heap. Above 62Gi the heap stays 31Gi:
    # 128Gi leaves 97GiB = 104,152,956,928; 127Gi 96GiB = 103,079,215,104.
    cluster = spec(dimension=1024).model_copy(update={"vector_count": 20_000_000})
    sizing = size_vectors(cluster, quantization=Quantization.HNSW)
    assert (sizing.copies, sizing.required_bytes) == (1, 83_200_000_000)
    assert sizing.recommended_mem_limit == "128Gi"
    assert (
        size_vectors(
            cluster.model_copy(update={"mem_limit": "128Gi"}), quantization=Quantization.HNSW
        ).verdict
        is Verdict.FITS
    )


def test_a_tight_cluster_is_recommended_a_larger_whole_gi() -> None:
    # 2.5Gi: heap 1,280MiB, off-heap 1,342,177,280; 6,000,000 x 196 = 1,176,000,000 is
    # over its 80% (1,073,741,824). 3Gi leaves 1.5GiB, 80% of it 1,288,490,188.8: enough.
    cluster = spec(mem_limit="2.5Gi").model_copy(update={"vector_count": 6_000_000})
    sizing = size_vectors(cluster)
    assert sizing.available_bytes == 1280 * MIB
    assert sizing.verdict is Verdict.TIGHT
    assert sizing.recommended_mem_limit == "3Gi"


def test_no_vectors_always_fit() -> None:
    sizing = size_vectors(spec(vector_count=0, replicas=5))
    assert (sizing.required_bytes, sizing.verdict) == (0, Verdict.FITS)
    assert sizing.recommended_mem_limit == "2Gi"


@pytest.mark.parametrize("mem_limit", ["256Mi", "100Mi", "1"])
def test_a_node_whose_heap_takes_its_whole_limit_has_nothing_off_the_heap(mem_limit: str) -> None:
    # The heap is at least 256 MiB: nothing is left beside it.
    empty = size_vectors(spec(mem_request="1", mem_limit=mem_limit, vector_count=0))
    assert (empty.available_bytes, empty.heap_bytes_per_node) == (0, 256 * MIB)
    assert empty.verdict is Verdict.FITS  # 0 bytes fit in 0
    one = size_vectors(spec(mem_request="1", mem_limit=mem_limit, vector_count=1))
    assert (one.required_bytes, one.verdict) == (196, Verdict.UNDERSIZED)
    assert one.recommended_mem_limit == "1Gi"  # 512MiB off the heap


def test_a_decimal_memory_limit() -> None:
    # 5G = 5,000,000,000 bytes; heap floor(2.5e9 / MiB) = 2,384MiB = 2,499,805,184.
    sizing = size_vectors(spec(mem_limit="5G"))
    assert sizing.heap_bytes_per_node == 2_499_805_184
    assert sizing.available_bytes == 2_500_194_816
    assert jvm_heap("5G") == "2384m"  # the manifests give the same heap


@pytest.mark.parametrize(
    ("quantization", "per_vector"),
    [
        (Quantization.HNSW, 16_384),
        (Quantization.INT8_HNSW, 4_100),
        (Quantization.INT4_HNSW, 2_052),
        (Quantization.BBQ_HNSW, 526),
    ],
)
def test_the_largest_dimension(quantization: Quantization, per_vector: int) -> None:
    sizing = size_vectors(spec(dimension=4096, vector_count=1_000), quantization=quantization)
    assert sizing.vector_bytes == 1_000 * per_vector
    assert sizing.required_bytes == 1_000 * (per_vector + 64)


def test_dimensions_that_do_not_fill_a_byte_round_up() -> None:
    # bbq: 100 / 8 = 12.5 -> 13 bytes + 14; int4 of 2 dimensions: 1 + 4.
    assert size_vectors(spec(dimension=100, vector_count=10), quantization=Quantization.BBQ_HNSW).vector_bytes == 270  # fmt: skip
    assert size_vectors(spec(dimension=2, vector_count=10), quantization=Quantization.INT4_HNSW).vector_bytes == 50  # fmt: skip


def test_counts_near_int64_are_capped_and_can_need_more_than_any_limit() -> None:
    # 2 x (2^63 - 1) x 16,448 bytes on 1,000 nodes of 1Ti (1Ti - 31Gi off the heap each):
    # beyond what any memory limit (at most 2^63 - 1 bytes) holds.
    cluster = spec(replicas=1000, mem_limit="1Ti", dimension=4096, vector_count=INT64_MAX)
    sizing = size_vectors(cluster, quantization=Quantization.HNSW)
    assert sizing.required_bytes == INT64_MAX  # capped, as Kubernetes caps quantities
    assert sizing.vector_bytes == INT64_MAX
    assert sizing.available_bytes == 1000 * (1024 - 31) * GIB
    assert sizing.verdict is Verdict.UNDERSIZED
    assert sizing.recommended_mem_limit is None
    assert sizing.refusal().endswith(
        "no mem_limit is large enough with 1000 node(s): add nodes or choose a smaller quantization"
    )
    assert "need 8EiB of off-heap memory" in sizing.refusal()


def test_a_huge_count_that_a_large_limit_still_holds() -> None:
    # 10^12 x 196 = 196e12 bytes on one node: 5/4 of it, 245e12, off the heap is
    # 228,174.03 GiB, so 228,175 GiB + the 31 GiB heap = 228,206Gi.
    sizing = size_vectors(spec(vector_count=10**12))
    assert sizing.required_bytes == 196 * 10**12
    assert sizing.recommended_mem_limit == "228206Gi"


@pytest.mark.parametrize(
    ("quantization", "dimension", "message"),
    [
        (
            Quantization.INT4_HNSW,
            127,
            "quantization int4_hnsw needs an even dimension (Elasticsearch refuses odd ones), "
            "got 127",
        ),
        (
            Quantization.BBQ_HNSW,
            63,
            "quantization bbq_hnsw needs a dimension of at least 64, got 63",
        ),
    ],
)
def test_a_quantization_elasticsearch_refuses_at_the_dimension(
    quantization: Quantization, dimension: int, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        size_cluster(cluster=spec(dimension=dimension), quantization=quantization)
    with pytest.raises(InvalidInput) as refused:
        size_planned_cluster(payload={"dimension": dimension, "quantization": quantization.value})
    assert refused.value.message == message


# -- the refusal the quota check makes ---------------------------------------------------


def test_refuse_undersized_lets_fitting_and_tight_clusters_pass() -> None:
    refuse_undersized(spec=spec())
    refuse_undersized(spec=spec(mem_limit="2.5Gi").model_copy(update={"vector_count": 6_000_000}))


def test_refuse_undersized_refuses_with_the_recommendation() -> None:
    # Elasticsearch's default for 768 dims is bbq: 100,000,000 x (96 + 14 + 64) = 17.4e9
    # per copy, 34.8e9 for two; 2 nodes of 8Gi have 2 x 4GiB. Per node 5/4 x 34.8e9 / 2
    # = 21,750,000,000: 41Gi leaves 20.5GiB = 22,011,707,392, 40Gi 21,474,836,480.
    cluster = spec(replicas=2, mem_request="1Gi", mem_limit="8Gi", dimension=768)
    cluster = cluster.model_copy(update={"vector_count": 100_000_000})
    with pytest.raises(Undersized) as refused:
        refuse_undersized(spec=cluster)
    assert refused.value.message == (
        "cluster too small for its vectors: 100000000 vectors of dimension 768 need 32.4GiB "
        "of off-heap memory (bbq_hnsw, 2 copies), 2 node(s) with mem_limit 8Gi have 8GiB "
        "beside the JVM heap; set mem_limit to at least 41Gi (vectors may take up to 80% "
        "of the off-heap memory)"
    )
    assert isinstance(refused.value, InvalidInput)


# -- the dry run's request: the create request's rules and words ---------------------------


def test_the_dry_run_defaults_are_the_create_requests() -> None:
    assert size_planned_cluster(payload={}) == size_vectors(spec())
    assert size_planned_cluster(payload={"replicas": None, "quantization": None}) == size_vectors(
        spec()
    )
    planned = size_planned_cluster(payload={"dimension": 512, "quantization": "int4_hnsw"})
    assert planned.quantization is Quantization.INT4_HNSW
    assert planned.required_bytes == 10_000 * (256 + 4 + 64)


@pytest.mark.parametrize(
    "field",
    [
        {"replicas": 0},
        {"replicas": "2"},
        {"replicas": True},
        {"mem_limit": "2GB"},
        {"mem_limit": "-1"},
        {"mem_limit": 2},
        {"mem_limit": "0"},
        {"dimension": 4097},
        {"dimension": 1.5},
        {"vector_count": -1},
        {"vector_count": 2**63},
    ],
)
def test_the_dry_run_refuses_what_the_create_request_refuses_in_its_words(
    field: dict[str, Any],
) -> None:
    with pytest.raises(InvalidInput) as created:
        parse_create_request(
            cluster_body("org-1", "alice", "search", **field),
            reserved=DEFAULT_RESERVED,
            org_prefixed=False,
        )
    with pytest.raises(InvalidInput) as planned:
        size_planned_cluster(payload=field)
    assert planned.value.message == created.value.message


def test_the_dry_run_names_unknown_fields_and_bad_quantizations() -> None:
    with pytest.raises(InvalidInput) as unknown:
        size_planned_cluster(payload={"replicas": 1, "cpu_limit": "2"})
    assert unknown.value.message == (
        "unknown field(s) cpu_limit; a sizing request takes replicas, mem_limit, dimension, "
        "vector_count, quantization"
    )
    message = (
        "quantization must be one of hnsw, int8_hnsw, int4_hnsw, bbq_hnsw, or null for "
        'Elasticsearch\'s default; got "int2"'
    )
    with pytest.raises(InvalidInput) as bad:
        size_planned_cluster(payload={"quantization": "int2"})
    assert bad.value.message == message
    with pytest.raises(InvalidInput) as from_query:
        parse_quantization("int2")
    assert from_query.value.message == message
    assert parse_quantization("") is None
    assert parse_quantization("bbq_hnsw") is Quantization.BBQ_HNSW


# -- properties ------------------------------------------------------------------------

PROPERTY = settings(
    max_examples=200,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
clusters = st.builds(
    lambda replicas, mib, dimension, count: spec(
        replicas=replicas, mem_request="1", mem_limit=f"{mib}Mi", dimension=dimension
    ).model_copy(update={"vector_count": count}),
    st.integers(1, 1000),
    st.integers(1, 2**24),
    st.integers(64, 4096).map(lambda d: d - d % 2),
    st.one_of(st.integers(0, 10**9), st.integers(0, INT64_MAX)),
)


@PROPERTY
@given(cluster=clusters, quantization=st.sampled_from(Quantization))
def test_the_recommendation_is_the_smallest_whole_gi_that_fits_and_never_smaller(
    cluster: ClusterSpec, quantization: Quantization
) -> None:
    sizing = size_vectors(cluster, quantization=quantization)
    recommended = sizing.recommended_mem_limit
    if sizing.verdict is Verdict.FITS:
        assert recommended == cluster.mem_limit
        return
    if recommended is None:
        largest = f"{INT64_MAX // GIB}Gi"
        assert size_vectors(cluster.model_copy(update={"mem_limit": largest}), quantization=quantization).verdict is not Verdict.FITS  # fmt: skip
        return
    gib = int(recommended.removesuffix("Gi"))
    assert gib * GIB >= parse_quantity(cluster.mem_limit)
    assert size_vectors(cluster.model_copy(update={"mem_limit": recommended}), quantization=quantization).verdict is Verdict.FITS  # fmt: skip
    if (gib - 1) * GIB >= parse_quantity(cluster.mem_limit) and gib > 1:
        smaller = cluster.model_copy(update={"mem_limit": f"{gib - 1}Gi"})
        assert size_vectors(smaller, quantization=quantization).verdict is not Verdict.FITS


@PROPERTY
@given(cluster=clusters)
def test_quantization_never_needs_more_and_verdicts_follow_the_thresholds(
    cluster: ClusterSpec,
) -> None:
    sizes = [size_vectors(cluster, quantization=q) for q in Quantization]
    required = [s.required_bytes for s in sizes]
    assert required == sorted(required, reverse=True)  # hnsw >= int8 >= int4 >= bbq
    for sizing in sizes:
        exact = sizing.required_bytes < INT64_MAX and sizing.available_bytes < INT64_MAX
        if exact:
            if sizing.required_bytes * 5 <= sizing.available_bytes * 4:
                assert sizing.verdict is Verdict.FITS
            elif sizing.required_bytes <= sizing.available_bytes:
                assert sizing.verdict is Verdict.TIGHT
            else:
                assert sizing.verdict is Verdict.UNDERSIZED
