"""GraphQL types of vector-memory sizing, derived from the model (app.models.sizing):
``VectorSizing`` (``TenantContainer.sizing`` and ``Query.vectorSizing``), its enums, and
the dry run's input. Sizing is worked out from the cluster's own fields, without a
database read, so the cost estimate counts it as any object: once per selected field
and row."""

from __future__ import annotations

from typing import Any

from app.api.graphql.derive import builder, input_type, object_type
from app.api.graphql.enums import described_enum
from app.models.sizing import Quantization, SizingRequest, Verdict
from app.models.sizing import VectorSizing as SizingModel
from app.tenancy.sizing import size_cluster

# The values as GraphQL names too, as for ClusterStatus: "bbq_hnsw" here as in REST.
described_enum(
    Quantization,
    graphql_name_from="value",
    description="How a dense_vector field is indexed (Elasticsearch's index_options type).",
    values={
        Quantization.HNSW: "Float vectors, not quantised: dimension x 4 bytes a vector.",
        Quantization.INT8_HNSW: "Quantised to int8: dimension + 4 bytes a vector.",
        Quantization.INT4_HNSW: "Quantised to int4: dimension / 2 + 4 bytes a vector "
        "(an even dimension).",
        Quantization.BBQ_HNSW: "Better Binary Quantization: dimension / 8 + 14 bytes a "
        "vector (at least 64 dimensions).",
    },
)
described_enum(
    Verdict,
    graphql_name_from="value",
    description="Whether the vectors fit in the nodes' off-heap memory.",
    values={
        Verdict.FITS: "The vectors need at most 80% of the off-heap memory.",
        Verdict.TIGHT: "They need more than 80% of it, at most all of it.",
        Verdict.UNDERSIZED: "They need more than there is: kNN search reads from disk.",
    },
)

QUANTIZATION_DESCRIPTION = (
    "Size for this quantization; unset: the one Elasticsearch 9.1 gives a new field of the "
    "cluster's dimension (bbq_hnsw from 384 dimensions, int8_hnsw below)."
)


@object_type(
    SizingModel,
    description="Whether a cluster's nodes can hold its vectors where kNN search needs "
    "them, in the file-system cache off the JVM heap (Elastic's kNN memory guidance).",
)
class VectorSizing:
    @classmethod
    def of(cls, sizing: SizingModel) -> VectorSizing:
        return builder(cls)(sizing)

    @classmethod
    def of_cluster(cls, cluster: Any, quantization: Quantization | None) -> VectorSizing:
        """``cluster``: anything with replicas, mem_limit, dimension and vector_count
        (a TenantContainer)."""
        return cls.of(size_cluster(cluster=cluster, quantization=quantization))


@input_type(
    SizingRequest,
    description="A planned cluster: the sizing fields of a create request (unset fields take "
    "its defaults) and the quantization to size for.",
)
class VectorSizingInput:
    pass
