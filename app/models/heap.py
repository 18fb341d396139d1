"""The JVM heap an Elasticsearch node gets for its memory limit: written into the
StatefulSet (app.kube.manifests, ``-Xms``/``-Xmx``) and subtracted from the limit by the
vector-memory sizing (app.models.sizing), which must see the same heap the manifests
give. One rule, here, below both.

Elastic's guidance: half of the memory for the heap (the rest is for the file-system
cache and off-heap structures), below the compressed-oops threshold. Floored to whole
MiB, capped at 31 GiB and at least 256 MiB.

Pure functions, no I/O.
"""

from __future__ import annotations

from app.models.quantity import parse_quantity

__all__ = ["MIB", "heap_bytes", "jvm_heap"]

MIB = 1024**2
_HEAP_MIN_MIB = 256
_HEAP_MAX_MIB = 31 * 1024  # stay below the JVM's compressed-oops threshold (~32 GiB)


def _heap_mib(limit_bytes: int) -> int:
    return max(_HEAP_MIN_MIB, min(limit_bytes // 2 // MIB, _HEAP_MAX_MIB))


def heap_bytes(limit_bytes: int) -> int:
    """The heap, in bytes, of a node whose memory limit is ``limit_bytes``. At least
    256 MiB, so it may exceed a tiny limit (such a node leaves no memory off the heap)."""
    return _heap_mib(limit_bytes) * MIB


def jvm_heap(mem_limit: str) -> str:
    """JVM heap size (for ``-Xms``/``-Xmx``) for a container with this memory limit.
    Written as ``<n>g`` when it is a whole number of GiB of at least 2 GiB, otherwise as
    ``<n>m`` (``1024m``, ``1536m``, ``4g``). Raises ``InvalidQuantity`` for a limit
    that is no quantity."""
    # Floored to whole bytes first: limit // 2 // MiB equals floor(limit / 2 / MiB).
    mib = _heap_mib(int(parse_quantity(mem_limit)))
    if mib >= 2 * 1024 and mib % 1024 == 0:
        return f"{mib // 1024}g"
    return f"{mib}m"
