"""URL parsing for /api and /apis, following the apiserver's path layout.

    /api/v1[/namespaces/{ns}]/{plural}[/{name}[/{subresource}]]
    /apis/{group}/{version}[/namespaces/{ns}]/{plural}[/{name}[/{subresource}]]

plus the discovery documents at /api, /api/v1, /apis, /apis/{group} and
/apis/{group}/{version}.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import errors
from .resources import ResourceTable, ResourceType


@dataclass(frozen=True)
class ResourceTarget:
    resource: ResourceType
    # None: every namespace (a namespaced resource listed cluster-wide);
    # "": a cluster-scoped resource.
    namespace: str | None
    name: str | None = None
    subresource: str | None = None

    @property
    def is_collection(self) -> bool:
        return self.name is None

    @property
    def stats_key(self) -> str:
        """ "statefulsets" or "statefulsets/scale": the key for stats and faults."""
        name = self.resource.stats_name or self.resource.plural
        if self.subresource:
            return f"{name}/{self.subresource}"
        return name


@dataclass(frozen=True)
class DiscoveryTarget:
    document: str  # "api", "apis", "group", "resources"
    group: str = ""
    version: str = ""


def parse_path(path: str, table: ResourceTable) -> ResourceTarget | DiscoveryTarget:
    segments = [s for s in path.split("/") if s]
    if not segments or segments[0] not in ("api", "apis"):
        raise errors.unknown_path()
    if segments[0] == "api":
        if len(segments) == 1:
            return DiscoveryTarget("api")
        group, version, rest = "", segments[1], segments[2:]
    else:
        if len(segments) == 1:
            return DiscoveryTarget("apis")
        group = segments[1]
        if group not in table.groups():
            raise errors.unknown_path()
        if len(segments) == 2:
            return DiscoveryTarget("group", group)
        version, rest = segments[2], segments[3:]
    if not table.in_group_version(group, version):
        raise errors.unknown_path()
    if not rest:
        return DiscoveryTarget("resources", group, version)
    return _resource_target(group, version, rest, table)


def _resource_target(
    group: str, version: str, rest: list[str], table: ResourceTable
) -> ResourceTarget:
    namespace: str | None = None
    if len(rest) >= 3 and rest[0] == "namespaces":
        candidate = table.find(group, version, rest[2])
        if candidate is not None and candidate.namespaced:
            namespace, rest = rest[1], rest[2:]
    resource = table.find(group, version, rest[0])
    if resource is None or len(rest) > 3:
        raise errors.unknown_path()
    if namespace is None and not resource.namespaced:
        namespace = ""
    name = rest[1] if len(rest) > 1 else None
    if name is not None and namespace is None:
        raise errors.unknown_path()  # a namespaced object needs its namespace in the URL
    subresource = rest[2] if len(rest) > 2 else None
    if subresource is not None and subresource not in resource.subresources:
        raise errors.unknown_path()
    return ResourceTarget(resource, namespace, name, subresource)
