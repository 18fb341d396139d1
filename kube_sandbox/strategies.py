"""Per-kind defaulting, validation and update rules (the apiserver's "strategies").

Only the rules that client code is likely to trip over are emulated: the defaults the
apiserver fills in (so read-back objects look like a real cluster's), required fields,
and the immutability rules that make real updates fail (StatefulSet spec fields other
than replicas/template/..., PVC spec other than storage requests, pod spec, Service
clusterIP).
"""

from __future__ import annotations

import base64
import copy
import ipaddress
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from .errors import ApiError, FieldError, invalid
from .meta import labels_of
from .pods import NODE_NAME, pending_status
from .quantity import parse_quantity
from .resources import NODES, PODS, ResourceType
from .selectors import SelectorError, label_selector_from_object
from .store import ObjectStore
from .validation import name_problems

Obj = dict[str, Any]


class Strategy:
    """Default behaviour: no extra defaults, no extra rules."""

    def default(self, obj: Obj) -> None:
        """Idempotent defaulting applied to every written object (create and update)."""

    def prepare_for_create(self, obj: Obj) -> None:
        """Server-owned fields on create (status, allocations)."""

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        """Carry server-owned fields over from the stored object."""

    def validate(self, obj: Obj) -> list[FieldError]:
        return []

    def validate_update(self, new: Obj, old: Obj) -> list[FieldError]:
        return []


def quantity(value: Any) -> Decimal | None:
    """A quantity field's value, or None when it is not a valid (non-negative) quantity.
    JSON numbers are accepted too, as the apiserver decodes them into quantities."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return Decimal(str(value)) if value >= 0 else None
    try:
        parsed = parse_quantity(value)
    except ValueError:
        return None
    return None if parsed.is_signed() else parsed  # "-0" too: no size is written with a minus


# --- shared pod-spec rules --------------------------------------------------------------


def validate_pod_spec(spec: Any, path: str) -> list[FieldError]:
    if not isinstance(spec, dict):
        return [FieldError.required(path)]
    containers = spec.get("containers")
    if not containers or not isinstance(containers, list):
        return [FieldError.required(f"{path}.containers")]
    errors: list[FieldError] = []
    seen: set[str] = set()
    for index, container in enumerate(containers):
        where = f"{path}.containers[{index}]"
        if not isinstance(container, dict):
            errors.append(FieldError.invalid(where, container, "must be an object"))
            continue
        name = container.get("name")
        if not name:
            errors.append(FieldError.required(f"{where}.name"))
        else:
            errors.extend(
                FieldError.invalid(f"{where}.name", name, p)
                for p in name_problems(str(name), "dns1123-label")
            )
            if name in seen:
                errors.append(FieldError("FieldValueDuplicate", f"{where}.name", "", name))
            seen.add(str(name))
        if not container.get("image"):
            errors.append(FieldError.required(f"{where}.image"))
        for kind in ("requests", "limits"):
            for resource, value in ((container.get("resources") or {}).get(kind) or {}).items():
                if quantity(value) is None:
                    errors.append(
                        FieldError.invalid(
                            f"{where}.resources.{kind}[{resource}]",
                            value,
                            "must be a valid quantity",
                        )
                    )
    return errors


def workload_selector_problems(spec: Obj, kind: str) -> list[FieldError]:
    """A workload's selector: present, not empty, and matching its pod template."""
    selector_obj = spec.get("selector")
    if not selector_obj:
        return [FieldError.required("spec.selector")]
    try:
        selector = label_selector_from_object(selector_obj)
    except SelectorError as exc:
        return [FieldError.invalid("spec.selector", selector_obj, str(exc))]
    template_labels = labels_of(spec.get("template", {}))
    if selector.is_empty():
        return [
            FieldError.invalid(
                "spec.selector", selector_obj, f"empty selector is invalid for {kind}"
            )
        ]
    if not selector.matches(template_labels):
        return [
            FieldError.invalid(
                "spec.template.metadata.labels",
                template_labels,
                "`selector` does not match template `labels`",
            )
        ]
    return []


def replicas_problems(spec: Obj) -> list[FieldError]:
    replicas = spec.get("replicas")
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
        return [FieldError.invalid("spec.replicas", replicas, "must be greater than or equal to 0")]
    return []


# --- kinds ------------------------------------------------------------------------------


class NamespaceStrategy(Strategy):
    def default(self, obj: Obj) -> None:
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        # The apiserver always (re)writes this label, so selectors on it work everywhere.
        meta = obj.setdefault("metadata", {})
        if meta.get("name"):
            meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta["name"]

    def prepare_for_create(self, obj: Obj) -> None:
        obj["status"] = {"phase": "Active"}


def default_requests_to_limits(spec: Obj) -> None:
    """SetDefaults_Pod: a container that sets a limit but no request for a resource
    requests its limit (pods only, not templates; before admission sees the pod)."""
    for field in ("containers", "initContainers"):
        for container in spec.get(field) or []:
            if not isinstance(container, dict) or not isinstance(container.get("resources"), dict):
                continue
            resources = container["resources"]
            limits = resources.get("limits")
            if not isinstance(limits, dict) or not limits:
                continue
            requests = resources.setdefault("requests", {})
            if isinstance(requests, dict):
                for name, value in limits.items():
                    requests.setdefault(name, value)


class PodStrategy(Strategy):
    def __init__(self, store: ObjectStore) -> None:
        self._store = store

    def default(self, obj: Obj) -> None:
        # SetDefaults_Pod: for pods only, not for the pod templates of other kinds.
        spec = obj.setdefault("spec", {})
        default_requests_to_limits(spec)
        spec.setdefault("enableServiceLinks", True)

    def prepare_for_create(self, obj: Obj) -> None:
        # Scheduling is instantaneous in the sandbox.
        obj["spec"].setdefault("nodeName", self._node_for(obj))
        obj["status"] = pending_status(obj)

    def _node_for(self, pod: Obj) -> str:
        """The schedulable node with the fewest pods of the pod's namespace (then by
        name): a stand-in for the scheduler's spreading preferences, enough to put a
        cluster's pods on several nodes, and zones, once several exist."""
        nodes = [
            node["metadata"]["name"]
            for node in self._store.list(NODES)
            if not (node.get("spec") or {}).get("unschedulable")
        ]
        if not nodes:
            return NODE_NAME
        namespace = pod.get("metadata", {}).get("namespace", "")
        load = Counter(p.get("spec", {}).get("nodeName") for p in self._store.list(PODS, namespace))
        return min(nodes, key=lambda name: (load[name], name))

    def validate(self, obj: Obj) -> list[FieldError]:
        return validate_pod_spec(obj.get("spec"), "spec")

    def validate_update(self, new: Obj, old: Obj) -> list[FieldError]:
        def without_images(spec: Obj) -> Obj:
            spec = copy.deepcopy(spec)
            for field in ("containers", "initContainers"):
                for container in spec.get(field) or []:
                    container.pop("image", None)
            spec.pop("activeDeadlineSeconds", None)
            return spec

        if without_images(new.get("spec", {})) != without_images(old.get("spec", {})):
            return [
                FieldError.forbidden(
                    "spec",
                    "pod updates may not change fields other than `spec.containers[*].image`,"
                    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
                    "`spec.tolerations` (only additions to existing tolerations),"
                    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was "
                    "previously negative)",
                )
            ]
        return []


_SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")
# 10.96.0.1 belongs to the "kubernetes" service and 10.96.0.10 to DNS on real clusters.
_FIRST_FREE_OFFSET = 11


def _free_cluster_ip(used: set[Any]) -> str:
    base = int(_SERVICE_CIDR.network_address)
    for offset in range(_FIRST_FREE_OFFSET, _SERVICE_CIDR.num_addresses - 1):
        candidate = str(ipaddress.ip_address(base + offset))
        if candidate not in used:
            return candidate
    raise ApiError(500, "the service cluster IP range is exhausted")


_SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")


class ServiceStrategy(Strategy):
    """Allocates cluster IPs (and node ports) from what the store already holds."""

    def __init__(self, store: ObjectStore, services: ResourceType) -> None:
        self._store = store
        self._services = services

    def default(self, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        if spec["type"] != "ExternalName":
            spec.setdefault("internalTrafficPolicy", "Cluster")
        for port in spec.get("ports") or []:
            if isinstance(port, dict):
                port.setdefault("targetPort", port.get("port"))

    def _used(self, field: str) -> set[Any]:
        used: set[Any] = set()
        for service in self._store.scan(self._services):
            spec = service.get("spec", {})
            if field == "clusterIP":
                used.add(spec.get("clusterIP"))
            else:
                used.update(p.get("nodePort") for p in spec.get("ports") or [])
        return used

    def prepare_for_create(self, obj: Obj) -> None:
        spec = obj["spec"]
        if spec["type"] != "ExternalName":
            requested = spec.get("clusterIP") or (spec.get("clusterIPs") or [""])[0]
            used = self._used("clusterIP")
            if requested and requested != "None" and requested in used:
                raise invalid(
                    self._services,
                    obj["metadata"].get("name", ""),
                    [
                        FieldError.invalid(
                            "spec.clusterIPs",
                            [requested],
                            f"failed to allocate IP {requested}: provided IP is already allocated",
                        )
                    ],
                )
            if not requested:
                requested = _free_cluster_ip(used)
            spec["clusterIP"] = requested
            spec["clusterIPs"] = [requested]
            if requested != "None":
                spec.setdefault("ipFamilies", ["IPv4"])
                spec.setdefault("ipFamilyPolicy", "SingleStack")
        if spec["type"] in ("NodePort", "LoadBalancer"):
            used_ports = self._used("nodePort")
            free = (p for p in range(30000, 32768) if p not in used_ports)
            for port in spec.get("ports") or []:
                if not port.get("nodePort"):
                    port["nodePort"] = next(free)
        obj["status"] = {"loadBalancer": {}}

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        # Since Kubernetes 1.20 an update that omits clusterIP keeps the allocated one.
        spec, old_spec = new.setdefault("spec", {}), old.get("spec", {})
        if not spec.get("clusterIP") and old_spec.get("clusterIP"):
            spec["clusterIP"] = old_spec["clusterIP"]
            spec["clusterIPs"] = old_spec.get("clusterIPs", [old_spec["clusterIP"]])
        for field in ("ipFamilies", "ipFamilyPolicy"):
            if field in old_spec:
                spec.setdefault(field, old_spec[field])

    def validate(self, obj: Obj) -> list[FieldError]:
        spec = obj.get("spec", {})
        errors: list[FieldError] = []
        if spec.get("type") not in _SERVICE_TYPES:
            errors.append(
                FieldError(
                    "FieldValueNotSupported",
                    "spec.type",
                    'supported values: "' + '", "'.join(_SERVICE_TYPES) + '"',
                    spec.get("type"),
                )
            )
        ports = spec.get("ports") or []
        headless = spec.get("clusterIP") == "None"
        if not ports and not headless and spec.get("type") != "ExternalName":
            errors.append(FieldError.required("spec.ports"))
        for index, port in enumerate(ports):
            number = port.get("port") if isinstance(port, dict) else None
            if not isinstance(number, int) or not 1 <= number <= 65535:
                errors.append(
                    FieldError.invalid(
                        f"spec.ports[{index}].port",
                        number,
                        "must be between 1 and 65535, inclusive",
                    )
                )
            if len(ports) > 1 and not (isinstance(port, dict) and port.get("name")):
                errors.append(FieldError.required(f"spec.ports[{index}].name"))
        return errors

    def validate_update(self, new: Obj, old: Obj) -> list[FieldError]:
        before, after = old.get("spec", {}).get("clusterIP"), new.get("spec", {}).get("clusterIP")
        if before and after != before and new.get("spec", {}).get("type") != "ExternalName":
            return [FieldError.invalid("spec.clusterIPs[0]", after, "may not change once set")]
        return []


class PersistentVolumeClaimStrategy(Strategy):
    """Claims bind at once: the sandbox is its own dynamic provisioner."""

    def prepare_for_create(self, obj: Obj) -> None:
        spec = obj["spec"]
        spec.setdefault("storageClassName", "standard")  # the DefaultStorageClass admission
        spec["volumeName"] = f"pvc-{obj['metadata']['uid']}"
        annotations = obj["metadata"].setdefault("annotations", {})
        annotations.setdefault("pv.kubernetes.io/bind-completed", "yes")
        annotations.setdefault("pv.kubernetes.io/bound-by-controller", "yes")
        obj["status"] = self._bound_status(spec)

    @staticmethod
    def _bound_status(spec: Obj) -> Obj:
        return {
            "phase": "Bound",
            "accessModes": list(spec.get("accessModes") or []),
            "capacity": {"storage": spec.get("resources", {}).get("requests", {}).get("storage")},
        }

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        # Volume expansion completes instantly: capacity follows a larger request.
        new_size = new.get("spec", {}).get("resources", {}).get("requests", {}).get("storage")
        old_size = old.get("spec", {}).get("resources", {}).get("requests", {}).get("storage")
        if new_size != old_size and quantity(new_size) is not None:
            new["status"] = {**new.get("status", {}), "capacity": {"storage": new_size}}

    def validate(self, obj: Obj) -> list[FieldError]:
        spec = obj.get("spec", {})
        errors: list[FieldError] = []
        if not spec.get("accessModes"):
            errors.append(
                FieldError.required("spec.accessModes", "at least 1 access mode is required")
            )
        storage = spec.get("resources", {}).get("requests", {}).get("storage")
        if storage is None:
            errors.append(FieldError.required("spec.resources[storage]"))
        elif quantity(storage) is None:
            errors.append(
                FieldError.invalid("spec.resources[storage]", storage, "must be a valid quantity")
            )
        return errors

    def validate_update(self, new: Obj, old: Obj) -> list[FieldError]:
        def frozen(spec: Obj) -> Obj:
            spec = copy.deepcopy(spec)
            spec.get("resources", {}).pop("requests", None)
            spec.pop("volumeAttributesClassName", None)
            return spec

        new_spec, old_spec = new.get("spec", {}), old.get("spec", {})
        if frozen(new_spec) != frozen(old_spec):
            return [
                FieldError.forbidden(
                    "spec",
                    "spec is immutable after creation except resources.requests and "
                    "volumeAttributesClassName for bound claims",
                )
            ]
        new_size = new_spec.get("resources", {}).get("requests", {}).get("storage")
        capacity = old.get("status", {}).get("capacity", {}).get("storage")
        requested, current = quantity(new_size), quantity(capacity)
        if requested is not None and current is not None and requested < current:
            return [
                FieldError.forbidden(
                    "spec.resources.requests.storage", "field can not be less than status.capacity"
                )
            ]
        return []


_STS_MUTABLE = (
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
)


class StatefulSetStrategy(Strategy):
    def default(self, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        spec.setdefault("replicas", 1)
        spec.setdefault("podManagementPolicy", "OrderedReady")
        strategy = spec.setdefault("updateStrategy", {"type": "RollingUpdate"})
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            strategy.setdefault("rollingUpdate", {}).setdefault("partition", 0)
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault(
            "persistentVolumeClaimRetentionPolicy",
            {"whenDeleted": "Retain", "whenScaled": "Retain"},
        )
        spec.setdefault("template", {}).setdefault("spec", {})  # defaulted by defaults.py
        for claim in spec.get("volumeClaimTemplates") or []:
            if isinstance(claim, dict):
                claim.setdefault("apiVersion", "v1")
                claim.setdefault("kind", "PersistentVolumeClaim")
                claim.setdefault("status", {"phase": "Pending"})

    def prepare_for_create(self, obj: Obj) -> None:
        obj["status"] = {"replicas": 0, "availableReplicas": 0}

    def validate(self, obj: Obj) -> list[FieldError]:
        spec = obj.get("spec", {})
        errors = replicas_problems(spec)
        errors.extend(workload_selector_problems(spec, "statefulset"))
        policy = spec.get("podManagementPolicy")
        if policy not in ("OrderedReady", "Parallel"):
            errors.append(
                FieldError(
                    "FieldValueNotSupported",
                    "spec.podManagementPolicy",
                    'supported values: "OrderedReady", "Parallel"',
                    policy,
                )
            )
        update_type = spec.get("updateStrategy", {}).get("type")
        if update_type not in ("RollingUpdate", "OnDelete"):
            errors.append(
                FieldError(
                    "FieldValueNotSupported",
                    "spec.updateStrategy.type",
                    'supported values: "OnDelete", "RollingUpdate"',
                    update_type,
                )
            )
        template_spec = spec.get("template", {}).get("spec")
        errors.extend(validate_pod_spec(template_spec, "spec.template.spec"))
        restart = (template_spec or {}).get("restartPolicy")
        if restart != "Always":
            errors.append(
                FieldError(
                    "FieldValueNotSupported",
                    "spec.template.spec.restartPolicy",
                    'supported values: "Always"',
                    restart,
                )
            )
        for index, claim in enumerate(spec.get("volumeClaimTemplates") or []):
            claim_name = (
                (claim.get("metadata") or {}).get("name") if isinstance(claim, dict) else None
            )
            if not claim_name:
                errors.append(
                    FieldError.required(f"spec.volumeClaimTemplates[{index}].metadata.name")
                )
        return errors

    def validate_update(self, new: Obj, old: Obj) -> list[FieldError]:
        def frozen(spec: Obj) -> Obj:
            return {k: v for k, v in spec.items() if k not in _STS_MUTABLE}

        if frozen(new.get("spec", {})) != frozen(old.get("spec", {})):
            return [
                FieldError.forbidden(
                    "spec",
                    "updates to statefulset spec for fields other than 'replicas', 'ordinals', "
                    "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
                    "'minReadySeconds' are forbidden",
                )
            ]
        return []


class DeploymentStrategy(Strategy):
    """apps/v1 defaults and the rules a manifest most often breaks (selector against
    template labels, pod spec, strategy). No controller acts on it in the sandbox."""

    def default(self, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        spec.setdefault("replicas", 1)
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)
        strategy = spec.setdefault("strategy", {"type": "RollingUpdate"})
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            rolling = strategy.setdefault("rollingUpdate", {})
            rolling.setdefault("maxSurge", "25%")
            rolling.setdefault("maxUnavailable", "25%")

    def prepare_for_create(self, obj: Obj) -> None:
        obj["status"] = {}

    def validate(self, obj: Obj) -> list[FieldError]:
        spec = obj.get("spec", {})
        errors = replicas_problems(spec)
        errors.extend(workload_selector_problems(spec, "deployment"))
        strategy_type = (spec.get("strategy") or {}).get("type")
        if strategy_type not in ("RollingUpdate", "Recreate"):
            errors.append(
                FieldError(
                    "FieldValueNotSupported",
                    "spec.strategy.type",
                    'supported values: "Recreate", "RollingUpdate"',
                    strategy_type,
                )
            )
        errors.extend(validate_pod_spec(spec.get("template", {}).get("spec"), "spec.template.spec"))
        return errors

    def validate_update(self, new: Obj, old: Obj) -> list[FieldError]:
        selector = (new.get("spec") or {}).get("selector")
        if selector != (old.get("spec") or {}).get("selector"):
            return [FieldError.invalid("spec.selector", selector, "field is immutable")]
        return []


class SecretStrategy(Strategy):
    def default(self, obj: Obj) -> None:
        obj.setdefault("type", "Opaque")
        # stringData is write-only: the apiserver folds it into base64 data.
        string_data = obj.pop("stringData", None)
        if isinstance(string_data, dict):
            data = obj.setdefault("data", {})
            for key, value in string_data.items():
                data[key] = base64.b64encode(str(value).encode()).decode()

    def validate(self, obj: Obj) -> list[FieldError]:
        errors = []
        for key, value in (obj.get("data") or {}).items():
            try:
                base64.b64decode(str(value), validate=True)
            except ValueError:
                errors.append(
                    FieldError.invalid(
                        f"data[{key}]", "<secret contents redacted>", "illegal base64 data"
                    )
                )
        return errors

    def validate_update(self, new: Obj, old: Obj) -> list[FieldError]:
        if new.get("type") != old.get("type"):
            return [FieldError.invalid("type", new.get("type"), "field is immutable")]
        return []


class NetworkPolicyStrategy(Strategy):
    def default(self, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        spec.setdefault("podSelector", {})
        if "policyTypes" not in spec:
            spec["policyTypes"] = ["Ingress", "Egress"] if spec.get("egress") else ["Ingress"]


# Quota resources counted in whole objects: their hard value must be an integer.
_INTEGER_QUOTA_RESOURCES = frozenset(
    {"pods", "services", "replicationcontrollers", "resourcequotas", "secrets", "configmaps",
     "persistentvolumeclaims", "services.nodeports", "services.loadbalancers"}
)  # fmt: skip


def _quantity_problems(field: str, value: Any, *, integer: bool = False) -> list[FieldError]:
    amount = quantity(value)
    if amount is None:
        detail = "must be a valid quantity"
        if isinstance(value, str) and value.startswith("-"):
            detail = "must be greater than or equal to 0"
        return [FieldError.invalid(field, value, detail)]
    if integer and amount != amount.to_integral_value():
        return [FieldError.invalid(field, value, "must be an integer")]
    return []


class ResourceQuotaStrategy(Strategy):
    """spec.hard must hold quantities; status (hard and used) is the quota
    controller's, written by the sandbox whenever usage or spec.hard changes."""

    def validate(self, obj: Obj) -> list[FieldError]:
        hard = (obj.get("spec") or {}).get("hard") or {}
        if not isinstance(hard, dict):
            return [FieldError.invalid("spec.hard", hard, "must be an object")]
        errors: list[FieldError] = []
        for name, value in sorted(hard.items()):
            integer = name in _INTEGER_QUOTA_RESOURCES or name.startswith("count/")
            errors.extend(_quantity_problems(f"spec.hard[{name}]", value, integer=integer))
        return errors


_LIMIT_TYPES = ("Pod", "Container", "PersistentVolumeClaim")
_LIMIT_SECTIONS = ("max", "min", "default", "defaultRequest", "maxLimitRequestRatio")


class LimitRangeStrategy(Strategy):
    def default(self, obj: Obj) -> None:
        """SetDefaults_LimitRangeItem: for containers a missing default limit is the max,
        a missing default request the default limit, else the min."""
        for item in (obj.get("spec") or {}).get("limits") or []:
            if not isinstance(item, dict) or item.get("type") != "Container":
                continue
            if not all(isinstance(item.get(k) or {}, dict) for k in _LIMIT_SECTIONS):
                continue  # validation words it
            default = item.setdefault("default", {})
            request = item.setdefault("defaultRequest", {})
            if not isinstance(default, dict) or not isinstance(request, dict):
                continue
            for name, value in (item.get("max") or {}).items():
                default.setdefault(name, value)
            for name, value in default.items():
                request.setdefault(name, value)
            for name, value in (item.get("min") or {}).items():
                request.setdefault(name, value)

    def validate(self, obj: Obj) -> list[FieldError]:
        limits = (obj.get("spec") or {}).get("limits")
        if not isinstance(limits, list):
            return [FieldError.required("spec.limits")]
        errors: list[FieldError] = []
        for index, item in enumerate(limits):
            where = f"spec.limits[{index}]"
            if not isinstance(item, dict):
                errors.append(FieldError.invalid(where, item, "must be an object"))
                continue
            kind = item.get("type")
            if kind not in _LIMIT_TYPES:
                errors.append(
                    FieldError(
                        "FieldValueNotSupported",
                        f"{where}.type",
                        'supported values: "Container", "PersistentVolumeClaim", "Pod"',
                        kind,
                    )
                )
            amounts: dict[str, dict[str, Decimal]] = {}
            for section in _LIMIT_SECTIONS:
                values = item.get(section) or {}
                if not isinstance(values, dict):
                    errors.append(
                        FieldError.invalid(f"{where}.{section}", values, "must be an object")
                    )
                    continue
                if kind == "Pod" and section in ("default", "defaultRequest") and values:
                    errors.append(
                        FieldError.forbidden(
                            f"{where}.{section}", "may not be specified when `type` is 'Pod'"
                        )
                    )
                for name, value in sorted(values.items()):
                    problems = _quantity_problems(f"{where}.{section}[{name}]", value)
                    errors.extend(problems)
                    if not problems:
                        amounts.setdefault(section, {})[name] = quantity(value) or Decimal(0)
            errors.extend(_limit_order_problems(where, item, amounts))
        return errors


# (lower section, higher section, field blamed, message) as ValidateLimitRange orders them.
_REQUEST, _DEFAULT = "defaultRequest", "default"
_LIMIT_ORDER = (
    ("min", "max", "min", "min value {low} is greater than max value {high}"),
    ("min", _REQUEST, _REQUEST, "min value {low} is greater than default request value {high}"),
    (_REQUEST, "max", _REQUEST, "default request value {low} is greater than max value {high}"),
    (_REQUEST, _DEFAULT, _REQUEST,
     "default request value {low} is greater than default limit value {high}"),
    ("min", _DEFAULT, _DEFAULT, "min value {low} is greater than default value {high}"),
    (_DEFAULT, "max", _DEFAULT, "default value {low} is greater than max value {high}"),
)  # fmt: skip


def _limit_order_problems(
    where: str, item: Obj, amounts: dict[str, dict[str, Decimal]]
) -> list[FieldError]:
    errors: list[FieldError] = []
    names = sorted({name for section in amounts.values() for name in section})
    for name in names:
        for low, high, blamed, message in _LIMIT_ORDER:
            low_value, high_value = amounts.get(low, {}).get(name), amounts.get(high, {}).get(name)
            if low_value is None or high_value is None or low_value <= high_value:
                continue
            texts = {s: str((item.get(s) or {}).get(name)) for s in (low, high)}
            errors.append(
                FieldError.invalid(
                    f"{where}.{blamed}[{name}]",
                    texts[blamed],
                    message.format(low=texts[low], high=texts[high]),
                )
            )
    return errors


StrategyFactory = Callable[[ObjectStore, ResourceType], Strategy]


class PodDisruptionBudgetStrategy(Strategy):
    """policy/v1 validation: one of minAvailable and maxUnavailable, each a count of
    pods (an integer from 0) or a percentage ("50%")."""

    def validate(self, obj: Obj) -> list[FieldError]:
        spec = obj.get("spec") or {}
        given = [key for key in ("minAvailable", "maxUnavailable") if spec.get(key) is not None]
        errors = [
            FieldError.invalid(f"spec.{key}", spec[key], _INT_OR_PERCENT)
            for key in given
            if not _int_or_percent(spec[key])
        ]
        if len(given) == 2:
            errors.append(
                FieldError.invalid(
                    "spec", spec, "minAvailable and maxUnavailable cannot be both set"
                )
            )
        return errors


_INT_OR_PERCENT = "must be a non-negative integer or a percentage such as 50%"


def _int_or_percent(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value >= 0
    return isinstance(value, str) and value.endswith("%") and value[:-1].isdigit()


class ControllerRevisionStrategy(Strategy):
    """ValidateControllerRevision(Update): data is mandatory and, once written, fixed."""

    def validate(self, obj: Obj) -> list[FieldError]:
        errors = []
        if obj.get("data") is None:
            errors.append(FieldError.required("data", "data is mandatory"))
        revision = obj.get("revision", 0)
        if not isinstance(revision, int) or revision < 0:
            errors.append(
                FieldError.invalid("revision", revision, "must be greater than or equal to 0")
            )
        return errors

    def validate_update(self, new: Obj, old: Obj) -> list[FieldError]:
        if new.get("data") != old.get("data"):
            return [FieldError.invalid("data", new.get("data"), "field is immutable")]
        return []


_FACTORIES: dict[str, StrategyFactory] = {
    "/namespaces": lambda store, rt: NamespaceStrategy(),
    "/pods": lambda store, rt: PodStrategy(store),
    "/services": ServiceStrategy,
    "/persistentvolumeclaims": lambda store, rt: PersistentVolumeClaimStrategy(),
    "/secrets": lambda store, rt: SecretStrategy(),
    "/resourcequotas": lambda store, rt: ResourceQuotaStrategy(),
    "/limitranges": lambda store, rt: LimitRangeStrategy(),
    "apps/statefulsets": lambda store, rt: StatefulSetStrategy(),
    "apps/deployments": lambda store, rt: DeploymentStrategy(),
    "apps/controllerrevisions": lambda store, rt: ControllerRevisionStrategy(),
    "networking.k8s.io/networkpolicies": lambda store, rt: NetworkPolicyStrategy(),
    "policy/poddisruptionbudgets": lambda store, rt: PodDisruptionBudgetStrategy(),
}


def strategy_for(store: ObjectStore, resource: ResourceType) -> Strategy:
    factory = _FACTORIES.get(resource.storage_key)
    return factory(store, resource) if factory else Strategy()
