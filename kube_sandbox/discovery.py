"""Discovery documents: /version, /api, /apis and the per-group-version resource lists.

These are the legacy (unaggregated) documents. kubectl >= 1.30 first asks for the
aggregated ``apidiscovery.k8s.io/v2`` form; answering plain ``application/json`` makes
client-go fall back to these, which is what it does against older servers.
"""

from __future__ import annotations

from typing import Any

from .resources import SUBRESOURCE_VERBS, ResourceTable, ResourceType
from .scale import SCALE

KUBERNETES_VERSION = "v1.32.0"


def version_info() -> dict[str, str]:
    major, minor, _ = KUBERNETES_VERSION.lstrip("v").split(".")
    return {
        "major": major,
        "minor": minor,
        "gitVersion": KUBERNETES_VERSION,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2024-12-11T00:00:00Z",
        "goVersion": "go1.23.3",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def api_versions(server_address: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def _group_versions(table: ResourceTable, group: str) -> list[dict[str, str]]:
    return [{"groupVersion": f"{group}/{v}", "version": v} for v in table.versions(group)]


def api_group(table: ResourceTable, group: str) -> dict[str, Any]:
    versions = _group_versions(table, group)
    return {
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": group,
        "versions": versions,
        "preferredVersion": versions[0],
    }


def api_group_list(table: ResourceTable) -> dict[str, Any]:
    groups = []
    for group in table.groups():
        document = api_group(table, group)
        del document["kind"], document["apiVersion"]
        groups.append(document)
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def _resource_entry(resource: ResourceType) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": resource.plural,
        "singularName": resource.singular,
        "namespaced": resource.namespaced,
        "kind": resource.kind,
        "verbs": list(resource.verbs),
    }
    if resource.short_names:
        entry["shortNames"] = list(resource.short_names)
    if resource.categories:
        entry["categories"] = list(resource.categories)
    return entry


def _subresource_entries(resource: ResourceType) -> list[dict[str, Any]]:
    entries = []
    for sub in resource.subresources:
        entry: dict[str, Any] = {
            "name": f"{resource.plural}/{sub}",
            "singularName": "",
            "namespaced": resource.namespaced,
            "kind": resource.kind,
            "verbs": list(SUBRESOURCE_VERBS),
        }
        if sub == "scale":
            # kubectl scale reads the Scale kind's group/version from here.
            entry.update(group=SCALE.group, version=SCALE.version, kind=SCALE.kind)
        entries.append(entry)
    return entries


def api_resource_list(table: ResourceTable, group: str, version: str) -> dict[str, Any] | None:
    resources = table.in_group_version(group, version)
    if not resources:
        return None
    entries: list[dict[str, Any]] = []
    for resource in resources:
        entries.append(_resource_entry(resource))
        entries.extend(_subresource_entries(resource))
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": entries,
    }
