"""A minimal OpenAPI v3 description, enough for ``kubectl apply`` to validate server-side.

kubectl (>= 1.27) checks the OpenAPI v3 document of a group/version for a PATCH
operation on the kind that accepts the ``fieldValidation`` query parameter. When it
finds one it leaves validation to the server (``fieldValidation=Strict``) instead of
downloading the full schema for client-side validation, which the sandbox cannot
serve. The documents therefore list each resource's paths and operations with their
group/version/kind but no schemas; kubectl then computes apply patches from its own
built-in types, as it does for any kind it has no schema for.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .resources import ResourceTable, ResourceType

_QUERY_PARAMETERS = ("dryRun", "fieldManager", "fieldValidation", "pretty")


def _path_key(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _operation(resource: ResourceType, action: str) -> dict[str, Any]:
    return {
        "operationId": f"{action}{resource.kind}",
        "parameters": [
            {"name": name, "in": "query", "schema": {"type": "string"}, "uniqueItems": True}
            for name in _QUERY_PARAMETERS
        ],
        "responses": {"200": {"description": "OK"}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {
            "group": resource.group,
            "version": resource.version,
            "kind": resource.kind,
        },
    }


def group_version_document(table: ResourceTable, group: str, version: str) -> dict[str, Any] | None:
    resources = table.in_group_version(group, version)
    if not resources:
        return None
    paths: dict[str, Any] = {}
    for resource in resources:
        scope = "/namespaces/{namespace}" if resource.namespaced else ""
        base = f"/{_path_key(group, version)}{scope}/{resource.plural}"
        paths[base] = {"get": _operation(resource, "list"), "post": _operation(resource, "post")}
        paths[f"{base}/{{name}}"] = {
            action: _operation(resource, action) for action in ("get", "put", "patch", "delete")
        }
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes (sandbox)", "version": "v1.32.0"},
        "paths": paths,
        "components": {"schemas": {}},
    }


def root_document(table: ResourceTable) -> dict[str, Any]:
    """The /openapi/v3 index: one entry per group/version, with a content hash."""
    paths: dict[str, Any] = {}
    versions = [("", v) for v in table.versions("")]
    versions += [(g, v) for g in table.groups() for v in table.versions(g)]
    for group, version in versions:
        document = group_version_document(table, group, version)
        digest = hashlib.sha512(json.dumps(document, sort_keys=True).encode()).hexdigest()
        key = _path_key(group, version)
        paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={digest.upper()}"}
    return {"paths": paths}
