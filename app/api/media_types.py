"""Which request bodies count as JSON, for both doors (REST and GraphQL)."""

from __future__ import annotations

from app.api.error_codes import UnsupportedMediaType


def require_json(content_type: str, *, suffixed: bool = True) -> None:
    """Refuse (415) a body whose Content-Type is not ``application/json`` (any
    parameters) or, when ``suffixed``, another ``+json`` type."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type == "application/json" or (suffixed and media_type.endswith("+json")):
        return
    if not media_type:
        raise UnsupportedMediaType("the request body must be JSON: Content-Type: application/json")
    raise UnsupportedMediaType(
        f"the request body must be JSON (Content-Type: application/json), not {media_type}"
    )
