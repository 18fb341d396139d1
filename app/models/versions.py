"""Elasticsearch versions a cluster may run, and the upgrades between them (pure).

The platform offers a list of versions (``ESS_ES_VERSIONS``); a cluster is created at
one of them and may move only forward through them, as Elasticsearch allows a rolling
upgrade: never down (a node cannot read data a newer one wrote), at most one major
version at a time, and a major step only from the newest minor of the major before it
that the platform offers (Elasticsearch upgrades to 9.x only from the last 8.x
minors; older 8.x clusters go through it first). Each refusal says what is allowed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache, total_ordering

from pydantic import BaseModel, Field

from app.models.rules import RuleViolation

# The versions offered by default (the newest patch of each minor at the time of
# writing) and the one a create takes when it names none; LEGACY_VERSION is what every
# cluster ran before clusters had versions of their own (the one platform-wide image).
DEFAULT_VERSIONS = ("8.17.10", "8.18.8", "8.19.5", "9.0.8", "9.1.5", "9.2.0")
DEFAULT_VERSION = "9.1.5"
LEGACY_VERSION = "9.1.5"

_VERSION = re.compile(r"^(0|[1-9][0-9]{0,3})\.(0|[1-9][0-9]{0,3})\.(0|[1-9][0-9]{0,3})$")
MAX_VERSION_LENGTH = 16  # the column width; "9999.9999.9999" fits


@total_ordering
@dataclass(frozen=True)
class EsVersion:
    """A released Elasticsearch version, ``major.minor.patch`` (an image tag)."""

    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: str) -> EsVersion:
        match = _VERSION.match(text)
        if match is None:
            raise ValueError(f'"{text}" is not an Elasticsearch version such as "9.1.5"')
        major, minor, patch = (int(part) for part in match.groups())
        return cls(major, minor, patch)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, EsVersion):
            return NotImplemented
        return (self.major, self.minor, self.patch) < (other.major, other.minor, other.patch)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


def is_version(text: str) -> bool:
    return _VERSION.match(text) is not None


@dataclass(frozen=True, kw_only=True)
class VersionCatalog:
    """The versions the platform offers (oldest first) and the one a create takes by
    default."""

    available: tuple[str, ...]
    default: str

    @classmethod
    def of(cls, available: Sequence[str], *, default: str) -> VersionCatalog:
        # The settings' catalog is asked for by every create and upgrade: found once.
        return _catalog(tuple(available), default)

    def refusal(self, wanted: str, *, current: str | None) -> str | None:
        """Why ``wanted`` cannot be chosen (created at, or upgraded to from ``current``),
        or None when it can. The same version as now is no change."""
        if wanted == current:
            return None
        if wanted not in self.available:
            return (
                f'version "{wanted}" is not available; available versions: '
                f"{', '.join(self.available)}"
            )
        if current is None:
            return None
        now, then = EsVersion.parse(current), EsVersion.parse(wanted)
        targets = self.upgrades_from(current)
        allowed = (
            f"upgrades available: {', '.join(targets)}"
            if targets
            else "no upgrade is available from it"
        )
        if then < now:
            return (
                f"version {wanted} is older than the cluster's {current}: Elasticsearch cannot "
                f"be downgraded ({allowed})"
            )
        if then.major > now.major + 1:
            return (
                f"version {wanted} is more than one major version above the cluster's "
                f"{current}: upgrade one major version at a time ({allowed})"
            )
        if then.major > now.major:
            last = self.newest_of_major(now.major)
            if last is not None and str(last) != current:
                return (
                    f"version {wanted} is a major upgrade, which starts from the newest "
                    f"{now.major}.x ({last}): upgrade the cluster to {last} first ({allowed})"
                )
        return None

    def upgrades_from(self, current: str) -> tuple[str, ...]:
        """The versions a cluster running ``current`` may be upgraded to, oldest first."""
        now = EsVersion.parse(current)
        newest_of_major = self.newest_of_major(now.major)
        return tuple(
            version
            for version in self.available
            if (then := EsVersion.parse(version)) > now
            and (
                then.major == now.major
                or (then.major == now.major + 1 and newest_of_major in (None, now))
            )
        )

    def newest_of_major(self, major: int) -> EsVersion | None:
        of_major = [v for v in map(EsVersion.parse, self.available) if v.major == major]
        return max(of_major) if of_major else None


@lru_cache(maxsize=64)
def _catalog(available: tuple[str, ...], default: str) -> VersionCatalog:
    ordered = tuple(str(v) for v in sorted({EsVersion.parse(v) for v in available}))
    if default not in ordered:
        raise ValueError(f"the default version {default} is not among {', '.join(ordered)}")
    return VersionCatalog(available=ordered, default=default)


DEFAULT_CATALOG = VersionCatalog.of(DEFAULT_VERSIONS, default=DEFAULT_VERSION)


class UpgradeProgress(BaseModel):
    """An upgrade under way: pods restart on the new version one at a time, highest ordinal first"""

    from_version: str = Field(description="The version the cluster ran before")
    to_version: str = Field(description="The version it is being upgraded to")
    updated: int = Field(description="Pods already running the new version, and ready")
    total: int = Field(description="Pods of the cluster")


def check_version(wanted: str, *, catalog: VersionCatalog, current: str | None) -> str:
    """``wanted`` when it may be chosen; else ``RuleViolation`` with the reason."""
    refusal = catalog.refusal(wanted, current=current)
    if refusal is not None:
        raise RuleViolation(refusal)
    return wanted
