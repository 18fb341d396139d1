"""Vector-memory sizing in the domain: the sizing of a cluster (app.models.sizing, pure)
for the API to show, the dry run of a planned one, and the refusal of an undersized
one, which the quota check makes when the organisation's quota policy enforces sizing.

Errors as everywhere: a bad request (a dry run's fields, a quantization Elasticsearch
refuses at the dimension) is ``InvalidInput`` with the create request's words; an
undersized cluster refused is ``Undersized``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from app.models.cluster import ClusterSpec
from app.models.sizing import (
    Quantization,
    SizedCluster,
    SizingRequest,
    VectorSizing,
    Verdict,
    quantization_named,
    size_vectors,
)
from app.tenancy.errors import Undersized
from app.tenancy.validation import CREATE_ORDER, invalid_input, rule_checks

__all__ = [
    "Quantization",
    "VectorSizing",
    "parse_quantization",
    "refuse_undersized",
    "size_cluster",
    "size_planned_cluster",
]


def parse_quantization(value: str | None) -> Quantization | None:
    """A quantization named in a query string (None or empty: the default)."""
    with rule_checks():
        return quantization_named(value or None)


def size_cluster(
    *, cluster: SizedCluster, quantization: Quantization | None = None
) -> VectorSizing:
    """The sizing of a recorded (or requested) cluster; ``quantization`` None means
    Elasticsearch's default for its dimension."""
    with rule_checks():
        return size_vectors(cluster, quantization=quantization)


def size_planned_cluster(*, payload: Mapping[str, Any]) -> VectorSizing:
    """The dry run: the sizing of a planned cluster given as the sizing fields of a
    create request (replicas, mem_limit, dimension, vector_count) and an optional
    quantization, checked with the create request's rules and words."""
    try:
        request: Any = SizingRequest.model_validate(dict(payload))
    except ValidationError as exc:
        raise invalid_input(
            exc, model=SizingRequest, order=CREATE_ORDER, takes="a sizing request takes"
        ) from None
    return size_cluster(cluster=request, quantization=request.quantization)


def refuse_undersized(*, spec: ClusterSpec, before: ClusterSpec | None = None) -> None:
    """Raise ``Undersized`` (with the memory limit that would do) when ``spec`` cannot
    hold its vectors with Elasticsearch's default quantization; a tight cluster passes.
    For the quota check, when the organisation's policy enforces sizing.

    An update (``before``: the cluster as it is) is refused only when it also takes
    off-heap memory away: one that leaves it as it is or adds some (a re-apply that
    repairs, a bigger disk, a step towards the recommendation) goes through even while
    the cluster stays undersized."""
    sizing = size_cluster(cluster=spec)
    if sizing.verdict is not Verdict.UNDERSIZED:
        return
    if (
        before is not None
        and sizing.available_bytes >= size_cluster(cluster=before).available_bytes
    ):
        return
    raise Undersized(sizing.refusal())
