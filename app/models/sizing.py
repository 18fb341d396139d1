"""Vector-memory sizing: can a cluster's nodes hold its vectors where approximate kNN
search needs them, in the file-system cache off the JVM heap?

Elastic's guidance ("Tune approximate kNN search", section "Ensure data nodes have
enough memory": https://www.elastic.co/docs/deploy-manage/production-guidance/
optimize-performance/approximate-knn-search, and the same numbers in the 9.x
reference's knn-search tuning page) estimates the off-heap memory of N float vectors of
D dimensions as

- no quantization (``hnsw``):  N * D * 4 bytes
- ``int8_hnsw``:               N * (D + 4)
- ``int4_hnsw``:               N * (D / 2 + 4)
- ``bbq_hnsw``:                N * (D / 8 + 14)

plus the HNSW graph, about N * 4 * m bytes with m = 16 (the default ``m``), all of it
held in the file-system cache, which is what a node's memory limit leaves beside the
heap. A vector's quantised bytes are whole bytes: D / 2 and D / 8 are rounded up (the
same as the formulas for the dimensions Elasticsearch accepts for them: int4 needs an
even D, bbq at least 64).

Which quantization a new ``dense_vector`` field gets: since Elasticsearch 9.1 (our
default image is 9.1.5) a float field is indexed as ``bbq_hnsw`` when it has 384
dimensions or more, otherwise as ``int8_hnsw`` (the dense_vector reference,
https://www.elastic.co/docs/reference/elasticsearch/mapping-reference/dense-vector,
"index_options"; ``DenseVectorFieldMapper.BBQ_DIMS_DEFAULT_THRESHOLD = 384``). That is
the default here; a caller may ask for another.

Decisions where the guidance is silent:

- Copies: an Elasticsearch index has one replica by default, assigned only when a
  second node exists. So with 2 or more nodes every vector is held twice, on one node
  once: copies = min(replicas, 2). The copies are taken to spread over all nodes (an
  index with at least as many shards as nodes, which Elasticsearch balances), so the
  memory they have is every node's: replicas * (mem_limit - heap).
- The heap is the one the manifests give (app.models.heap); at least 256 MiB, so a
  tiny node has no off-heap memory at all.
- Verdict: ``fits`` when the vectors need at most 80% of that memory (the rest for the
  other Lucene files, segment merges and the operating system), ``tight`` up to 100%,
  ``undersized`` beyond.
- Recommendation: when the cluster fits, its own mem_limit; otherwise the smallest
  whole number of GiB per node, never below the current limit, at which it fits with
  the same replicas (none when even the largest Kubernetes quantity per node would not).
- Byte counts shown are capped at 2^63 - 1, like every Kubernetes quantity; the verdict
  is worked out on the exact numbers.

Pure functions, no I/O.
"""

from __future__ import annotations

import enum
import json
from typing import Annotated, Any, Protocol

from annotated_types import Ge, Le
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)
from pydantic import Field as PydanticField

from app.models.cluster import null_is_not_given, null_means_default, spec_fields
from app.models.fields import INT64_MAX, Dimension, Replicas, VectorCount
from app.models.heap import heap_bytes
from app.models.quantity import parse_quantity
from app.models.rules import Kind, RuleViolation

__all__ = [
    "FITS_SHARE",
    "GIB",
    "HNSW_M",
    "SIZING_FIELDS",
    "Quantization",
    "SizedCluster",
    "SizingRequest",
    "VectorSizing",
    "Verdict",
    "check_quantization",
    "default_quantization",
    "quantization_named",
    "size_vectors",
]

GIB = 1024**3
HNSW_M = 16  # Elasticsearch's default HNSW m: the graph's links per vector
# Elasticsearch 9.1 indexes float vectors of at least this many dimensions as bbq_hnsw.
BBQ_DEFAULT_DIMENSIONS = 384
BBQ_MIN_DIMENSIONS = 64  # Elasticsearch refuses bbq below this
# "fits": the vectors need at most 4/5 of the off-heap memory (as a fraction, exact).
FITS_SHARE = (4, 5)
_MAX_GIB = INT64_MAX // GIB  # the largest whole-GiB memory limit Kubernetes can express


class Quantization(enum.StrEnum):
    """How a dense_vector field is indexed: Elasticsearch's ``index_options.type``."""

    HNSW = "hnsw"  # float vectors, not quantised
    INT8_HNSW = "int8_hnsw"
    INT4_HNSW = "int4_hnsw"
    BBQ_HNSW = "bbq_hnsw"


class Verdict(enum.StrEnum):
    """Whether the vectors fit in the off-heap memory of the cluster's nodes."""

    FITS = "fits"  # at most 80% of it
    TIGHT = "tight"  # over 80%, at most all of it
    UNDERSIZED = "undersized"  # more than there is


def default_quantization(dimension: int) -> Quantization:
    """What Elasticsearch 9.1 gives a new float dense_vector field of ``dimension``."""
    return Quantization.BBQ_HNSW if dimension >= BBQ_DEFAULT_DIMENSIONS else Quantization.INT8_HNSW


def check_quantization(quantization: Quantization, *, dimension: int) -> None:
    """Refuse (``RuleViolation``) what Elasticsearch refuses for a field of ``dimension``."""
    if quantization is Quantization.INT4_HNSW and dimension % 2:
        raise RuleViolation(
            f"quantization int4_hnsw needs an even dimension (Elasticsearch refuses odd "
            f"ones), got {dimension}"
        )
    if quantization is Quantization.BBQ_HNSW and dimension < BBQ_MIN_DIMENSIONS:
        raise RuleViolation(
            f"quantization bbq_hnsw needs a dimension of at least {BBQ_MIN_DIMENSIONS}, "
            f"got {dimension}"
        )


def _bytes_per_vector(quantization: Quantization, dimension: int) -> int:
    if quantization is Quantization.HNSW:
        return dimension * 4
    if quantization is Quantization.INT8_HNSW:
        return dimension + 4
    if quantization is Quantization.INT4_HNSW:
        return -(-dimension // 2) + 4
    return -(-dimension // 8) + 14


def _off_heap(limit_bytes: int) -> int:
    return max(limit_bytes - heap_bytes(limit_bytes), 0)


def _fits(required: int, available: int) -> bool:
    share, whole = FITS_SHARE
    return required * whole <= available * share


def _recommended_gib(*, required: int, replicas: int, limit_bytes: int) -> int | None:
    """The smallest whole GiB per node (not below ``limit_bytes``) at which ``required``
    fits; None when no quantity Kubernetes can express would."""
    low = max(1, -(-limit_bytes // GIB))

    def enough(gib: int) -> bool:
        return _fits(required, replicas * _off_heap(gib * GIB))

    if low > _MAX_GIB or not enough(_MAX_GIB):
        return None
    high = _MAX_GIB  # off-heap memory grows with whole GiB: search for the first that fits
    while low < high:
        middle = (low + high) // 2
        if enough(middle):
            high = middle
        else:
            low = middle + 1
    return low


def _shown(count: int) -> str:
    """A byte count for people: 2.3GiB, 512MiB, 100B."""
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")
    power = 0
    while power < len(units) - 1 and count >= 1024 ** (power + 1):
        power += 1
    if power == 0:
        return f"{count}B"
    return f"{count / 1024**power:.1f}".removesuffix(".0") + units[power]


# A byte count as shown: an int64, like every Kubernetes quantity.
ByteCount = Annotated[int, Ge(0), Le(INT64_MAX)]


def _capped(count: int) -> int:
    return min(count, INT64_MAX)


class VectorSizing(BaseModel):
    """The vector-memory sizing of a cluster (or of a planned one)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    replicas: Replicas = PydanticField(description="Elasticsearch nodes, as sized")
    mem_limit: str = PydanticField(description="Memory limit per node, as sized")
    dimension: Dimension = PydanticField(description="Vector dimension, as sized")
    vector_count: VectorCount = PydanticField(description="Number of vectors, as sized")
    quantization: Quantization = PydanticField(
        description="How the vectors are indexed (Elasticsearch's dense_vector "
        "index_options type): the one Elasticsearch 9.1 gives a new field of this "
        "dimension (bbq_hnsw from 384 dimensions, int8_hnsw below) unless asked otherwise"
    )
    copies: int = PydanticField(
        ge=1, le=2, description="Copies of each vector: 2 on 2 or more nodes (the default "
        "replica of an index), 1 on one node"
    )  # fmt: skip
    vector_bytes: ByteCount = PydanticField(description="One copy of the vectors, quantised")
    graph_bytes: ByteCount = PydanticField(
        description=f"One copy of the HNSW graph: 4 bytes x m ({HNSW_M}) per vector"
    )
    required_bytes: ByteCount = PydanticField(
        description="Off-heap memory the vectors need: copies x (vector_bytes + graph_bytes)"
    )
    heap_bytes_per_node: ByteCount = PydanticField(
        description="The JVM heap of each node (half the memory limit, 256 MiB to 31 GiB)"
    )
    available_bytes: ByteCount = PydanticField(
        description="Off-heap memory of all nodes: replicas x (mem_limit - heap)"
    )
    verdict: Verdict = PydanticField(
        description="fits: required_bytes at most 80% of available_bytes; tight: at most "
        "100%; undersized: more"
    )
    recommended_mem_limit: str | None = PydanticField(
        description="The smallest memory limit per node at which the vectors fit, in whole "
        "Gi (the current one when they do); null when no memory limit would, with these "
        "replicas"
    )

    def refusal(self) -> str:
        """Why the cluster is too small, and what would do."""
        copies = "1 copy" if self.copies == 1 else f"{self.copies} copies"
        need = (
            f"cluster too small for its vectors: {self.vector_count} vectors of dimension "
            f"{self.dimension} need {_shown(self.required_bytes)} of off-heap memory "
            f"({self.quantization}, {copies}), {self.replicas} node(s) with mem_limit "
            f"{self.mem_limit} have {_shown(self.available_bytes)} beside the JVM heap"
        )
        if self.recommended_mem_limit is None:
            return (
                f"{need}; no mem_limit is large enough with {self.replicas} node(s): add "
                "nodes or choose a smaller quantization"
            )
        return (
            f"{need}; set mem_limit to at least {self.recommended_mem_limit} (vectors may "
            "take up to 80% of the off-heap memory)"
        )


class SizedCluster(Protocol):
    """What sizing reads of a cluster: a ClusterSpec, a record, a sizing request."""

    @property
    def replicas(self) -> int: ...
    @property
    def mem_limit(self) -> str: ...
    @property
    def dimension(self) -> int: ...
    @property
    def vector_count(self) -> int: ...


def size_vectors(
    cluster: SizedCluster, *, quantization: Quantization | None = None
) -> VectorSizing:
    """The sizing of ``cluster`` indexed with ``quantization`` (None: Elasticsearch's
    default for its dimension). Raises ``RuleViolation`` for a quantization
    Elasticsearch refuses at that dimension, ``InvalidQuantity`` for a mem_limit that is
    none (a checked spec has neither)."""
    dimension, count, replicas = cluster.dimension, cluster.vector_count, cluster.replicas
    chosen = quantization or default_quantization(dimension)
    check_quantization(chosen, dimension=dimension)
    copies = min(replicas, 2)
    vector_bytes = count * _bytes_per_vector(chosen, dimension)
    graph_bytes = count * 4 * HNSW_M
    required = copies * (vector_bytes + graph_bytes)
    limit = int(parse_quantity(cluster.mem_limit))
    available = replicas * _off_heap(limit)
    recommended: str | None
    if _fits(required, available):
        verdict, recommended = Verdict.FITS, cluster.mem_limit
    else:
        verdict = Verdict.TIGHT if required <= available else Verdict.UNDERSIZED
        gib = _recommended_gib(required=required, replicas=replicas, limit_bytes=limit)
        recommended = None if gib is None else f"{gib}Gi"
    return VectorSizing(
        replicas=replicas,
        mem_limit=cluster.mem_limit,
        dimension=dimension,
        vector_count=count,
        quantization=chosen,
        copies=copies,
        vector_bytes=_capped(vector_bytes),
        graph_bytes=_capped(graph_bytes),
        required_bytes=_capped(required),
        heap_bytes_per_node=heap_bytes(limit),
        available_bytes=_capped(available),
        verdict=verdict,
        recommended_mem_limit=recommended,
    )


# -- the dry run: sizing a planned cluster ------------------------------------------

# The fields of a create request that sizing reads, with their rules and defaults.
SIZING_FIELDS = ("replicas", "mem_limit", "dimension", "vector_count")
_QUANTIZATIONS = ", ".join(q.value for q in Quantization)


def quantization_named(value: Any) -> Quantization | None:
    """The quantization ``value`` names (None: the default); ``RuleViolation`` when
    it names none."""
    if value is None or isinstance(value, Quantization):
        return value
    if isinstance(value, str) and value in Quantization.__members__.values():
        return Quantization(value)
    raise RuleViolation(
        f"quantization must be one of {_QUANTIZATIONS}, or null for Elasticsearch's "
        f"default; got {json.dumps(value, ensure_ascii=False, default=str)}"
    )


class _SizingBase(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=null_means_default)

    @model_validator(mode="before")
    @classmethod
    def _null_is_not_given(cls, data: Any) -> Any:
        return null_is_not_given(data, fields=SIZING_FIELDS)

    @field_validator("quantization", check_fields=False)
    @classmethod
    def _elasticsearch_takes_it(
        cls, quantization: Quantization | None, info: ValidationInfo
    ) -> Quantization | None:
        dimension = info.data.get("dimension")  # absent when it was invalid itself
        if quantization is not None and dimension is not None:
            check_quantization(quantization, dimension=dimension)
        return quantization


_REQUEST_FIELDS = spec_fields(SIZING_FIELDS, default="spec")
# A dry run has no mem_request for its mem_limit to be at least.
_MEM_LIMIT_TYPE, _MEM_LIMIT = _REQUEST_FIELDS["mem_limit"]
_REQUEST_FIELDS["mem_limit"] = (
    _MEM_LIMIT_TYPE,
    PydanticField(default=_MEM_LIMIT.default, description="Memory limit per node"),
)

SizingRequest: type[BaseModel] = create_model(
    "SizingRequest",
    __base__=_SizingBase,
    __doc__="A planned cluster to size: the sizing fields of a create request, with the "
    "same rules and defaults (null means the default), and the quantization to size for.",
    **_REQUEST_FIELDS,
    quantization=(
        Annotated[Quantization | None, BeforeValidator(quantization_named), Kind.TEXT],
        PydanticField(
            default=None,
            description="Elasticsearch's dense_vector index_options type to size for; null: "
            "the one Elasticsearch 9.1 gives a new field of this dimension (bbq_hnsw from "
            "384 dimensions, int8_hnsw below)",
        ),
    ),
)
