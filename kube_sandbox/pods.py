"""What the scheduler and kubelet would write into a pod's status, and how to read it."""

from __future__ import annotations

import hashlib
from typing import Any

from .meta import timestamp

NODE_NAME = "sandbox-node"
NODE_IP = "10.0.0.10"


def node_manifest(name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    """A Ready node as a kubelet registers it (more can be created through the API)."""
    return {
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                **(labels or {}),
            },
        },
        "status": {
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
            "addresses": [{"type": "InternalIP", "address": NODE_IP}],
        },
    }


def _containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return list(pod.get("spec", {}).get("containers") or [])


def qos_class(spec: dict[str, Any]) -> str:
    """Guaranteed / Burstable / BestEffort from the containers' requests and limits."""
    containers = spec.get("containers") or []
    resources = [c.get("resources") or {} for c in containers]
    if not any(r.get("requests") or r.get("limits") for r in resources):
        return "BestEffort"
    for resource in resources:
        limits = resource.get("limits") or {}
        requests = resource.get("requests") or {}
        for name in ("cpu", "memory"):
            if name not in limits or requests.get(name, limits[name]) != limits[name]:
                return "Burstable"
    return "Guaranteed"


def _condition(kind: str, status: bool, moment: str) -> dict[str, Any]:
    return {
        "type": kind,
        "status": "True" if status else "False",
        "lastProbeTime": None,
        "lastTransitionTime": moment,
    }


def pending_status(pod: dict[str, Any]) -> dict[str, Any]:
    """Scheduled onto the sandbox node, containers still being created."""
    moment = timestamp()
    return {
        "phase": "Pending",
        "conditions": [
            _condition("PodReadyToStartContainers", False, moment),
            _condition("Initialized", True, moment),
            {
                **_condition("Ready", False, moment),
                "reason": "ContainersNotReady",
                "message": "containers with unready status: ["
                + " ".join(c.get("name", "") for c in _containers(pod))
                + "]",
            },
            {**_condition("ContainersReady", False, moment), "reason": "ContainersNotReady"},
            _condition("PodScheduled", True, moment),
        ],
        "hostIP": NODE_IP,
        "hostIPs": [{"ip": NODE_IP}],
        "startTime": moment,
        "containerStatuses": [
            {
                "name": c.get("name", ""),
                "image": c.get("image", ""),
                "imageID": "",
                "ready": False,
                "started": False,
                "restartCount": 0,
                "state": {"waiting": {"reason": "ContainerCreating"}},
                "lastState": {},
            }
            for c in _containers(pod)
        ],
        "qosClass": qos_class(pod.get("spec", {})),
    }


def pod_ip(pod: dict[str, Any]) -> str:
    """A stable fake pod IP derived from the uid, in the usual 10.244.0.0/16 range."""
    digest = hashlib.sha256(pod.get("metadata", {}).get("uid", "").encode()).digest()
    return f"10.244.{digest[0]}.{max(digest[1], 2)}"


def running_status(pod: dict[str, Any]) -> dict[str, Any]:
    """All containers started and passing readiness."""
    moment = timestamp()
    status = dict(pod.get("status") or {})
    ip = pod_ip(pod)
    status.update(
        {
            "phase": "Running",
            "conditions": [
                _condition("PodReadyToStartContainers", True, moment),
                _condition("Initialized", True, moment),
                _condition("Ready", True, moment),
                _condition("ContainersReady", True, moment),
                _condition("PodScheduled", True, moment),
            ],
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "containerStatuses": [
                {
                    "name": c.get("name", ""),
                    "image": c.get("image", ""),
                    "imageID": f"{c.get('image', '')}@sha256:" + "0" * 64,
                    "containerID": "containerd://"
                    + hashlib.sha256(f"{ip}/{c.get('name')}".encode()).hexdigest(),
                    "ready": True,
                    "started": True,
                    "restartCount": 0,
                    "state": {"running": {"startedAt": moment}},
                    "lastState": {},
                }
                for c in _containers(pod)
            ],
        }
    )
    return status


def condition_true(pod: dict[str, Any], kind: str) -> bool:
    for condition in pod.get("status", {}).get("conditions") or []:
        if condition.get("type") == kind:
            return bool(condition.get("status") == "True")
    return False


def is_running_and_ready(pod: dict[str, Any]) -> bool:
    return pod.get("status", {}).get("phase") == "Running" and condition_true(pod, "Ready")


def ready_count(pod: dict[str, Any]) -> tuple[int, int]:
    """(ready containers, containers) for kubectl's READY column."""
    statuses = pod.get("status", {}).get("containerStatuses") or []
    return sum(1 for s in statuses if s.get("ready")), len(_containers(pod))


def display_status(pod: dict[str, Any]) -> str:
    """kubectl's STATUS column: a waiting reason beats the phase, as kubectl prints it."""
    if pod.get("metadata", {}).get("deletionTimestamp"):
        return "Terminating"
    for status in pod.get("status", {}).get("containerStatuses") or []:
        reason = (status.get("state") or {}).get("waiting", {}).get("reason")
        if reason:
            return str(reason)
    return str(pod.get("status", {}).get("phase", "Unknown"))
