"""API-server defaulting by definition, as pkg/apis/*/v1/defaults.go and the types'
``+default`` markers do it: wherever a definition occurs (a probe in a pod, in a
StatefulSet's template, an init container's...) it gets the same defaults, so objects
read back look like a real cluster's (a probe's ``timeoutSeconds: 1``, not absent).

Kind-specific defaults that depend on more than one definition (a Service's cluster IP,
a StatefulSet's update strategy) stay in ``strategies.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .resources import ResourceType
from .schema import walk

Obj = dict[str, Any]

# SecretVolumeSourceDefaultMode and its siblings: 0644.
_DEFAULT_MODE = 0o644
_TOKEN_EXPIRATION_SECONDS = 3600


def image_pull_policy(image: str) -> str:
    """Always for ":latest" or no tag, else IfNotPresent (a digest counts as a tag)."""
    tail = image.rsplit("/", 1)[-1]
    if "@" in tail:
        return "IfNotPresent"
    tag = tail.split(":", 1)[1] if ":" in tail else "latest"
    return "Always" if tag == "latest" else "IfNotPresent"


def _pod_spec(spec: Obj) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("securityContext", {})
    spec.setdefault("terminationGracePeriodSeconds", 30)


def _container(container: Obj) -> None:
    container.setdefault("imagePullPolicy", image_pull_policy(str(container.get("image", ""))))
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    container.setdefault("resources", {})  # a struct, not a pointer: always serialised


def _probe(probe: Obj) -> None:
    for key, value in (
        ("timeoutSeconds", 1),
        ("periodSeconds", 10),
        ("successThreshold", 1),
        ("failureThreshold", 3),
    ):
        if not probe.get(key):  # 0 is "unset" for these int32 fields
            probe[key] = value


def _http_get(action: Obj) -> None:
    if not action.get("path"):
        action["path"] = "/"
    if not action.get("scheme"):
        action["scheme"] = "HTTP"


def _volume(volume: Obj) -> None:
    if set(volume) <= {"name"}:  # no source at all: an emptyDir
        volume["emptyDir"] = {}


def _setting(key: str, value: Any) -> Callable[[Obj], None]:
    def default(obj: Obj) -> None:
        if obj.get(key) in (None, ""):
            obj[key] = value

    return default


DEFAULTERS: dict[str, Callable[[Obj], None]] = {
    "V1PodSpec": _pod_spec,
    "V1Container": _container,
    "V1EphemeralContainer": _container,
    "V1ContainerPort": _setting("protocol", "TCP"),
    "V1ServicePort": _setting("protocol", "TCP"),
    "V1NetworkPolicyPort": _setting("protocol", "TCP"),
    "V1Probe": _probe,
    "V1HTTPGetAction": _http_get,
    "V1Volume": _volume,
    "V1SecretVolumeSource": _setting("defaultMode", _DEFAULT_MODE),
    "V1ConfigMapVolumeSource": _setting("defaultMode", _DEFAULT_MODE),
    "V1DownwardAPIVolumeSource": _setting("defaultMode", _DEFAULT_MODE),
    "V1ProjectedVolumeSource": _setting("defaultMode", _DEFAULT_MODE),
    "V1ServiceAccountTokenProjection": _setting("expirationSeconds", _TOKEN_EXPIRATION_SECONDS),
    "V1ObjectFieldSelector": _setting("apiVersion", "v1"),
    "V1PersistentVolumeClaimSpec": _setting("volumeMode", "Filesystem"),
}


def _visit(definition: str, obj: Obj, path: str) -> None:
    defaulter = DEFAULTERS.get(definition)
    if defaulter is not None:
        defaulter(obj)


def apply_defaults(resource: ResourceType, obj: Obj) -> None:
    """Default every definition inside ``obj`` (idempotent, on create and update)."""
    if resource.definition:
        walk(resource.definition, obj, visit=_visit)
