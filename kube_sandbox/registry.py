"""The REST semantics of the apiserver, independent of HTTP.

create/get/list/replace/patch/delete with the checks a real apiserver performs, in its
order: namespace lifecycle admission, defaulting, validation, existence, optimistic
concurrency on ``metadata.resourceVersion``, and the status/scale subresources. The
HTTP layer and the simulated controllers both write through here, so controller-made
objects get exactly the same treatment as client-made ones.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import Counter
from typing import Any

from . import disruption, errors, limitranger, metrics, resourcequota
from .defaults import apply_defaults
from .errors import ApiError, FieldError
from .fieldvalidation import FieldValidation
from .jsoncopy import clone
from .meta import generated_name, new_uid, timestamp
from .patching import PatchConflict, PatchError, apply_patch
from .resources import (
    DISRUPTION_BUDGETS,
    NAMESPACES,
    POD_METRICS,
    PODS,
    ResourceTable,
    ResourceType,
)
from .scale import SCALE, SCALE_API_VERSION, replicas_from_scale, to_scale
from .selectors import FieldSelector, LabelSelector
from .store import ObjectStore
from .strategies import Strategy, strategy_for
from .validation import validate_object_meta

Obj = dict[str, Any]
# An alias so annotations inside Registry do not resolve to its ``list`` method.
Objs = list[Obj]
FieldErrors = list[FieldError]

# Namespaces every cluster has and that the apiserver refuses to delete.
SYSTEM_NAMESPACES: tuple[str, ...] = ("default", "kube-system", "kube-public", "kube-node-lease")
_UNDELETABLE_NAMESPACES = ("default", "kube-system", "kube-public")
# Metadata owned by the server: kept from the stored object on every update.
_SERVER_OWNED_META = (
    "uid",
    "creationTimestamp",
    "generation",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
)
NAMESPACE_TERMINATING_MESSAGE = (
    "The system is ensuring all content is removed from this namespace.  Upon completion, "
    "this namespace will automatically be purged by the system."
)


def object_key(resource: ResourceType, namespace: str, name: str) -> str:
    """How the creation counters name an object: "statefulsets ns/name", "namespaces ns"."""
    where = f"{namespace}/{name}" if resource.namespaced else name
    return f"{resource.plural} {where}"


def with_type(resource: ResourceType, obj: Obj) -> Obj:
    """The object with kind/apiVersion first, as the apiserver serialises it."""
    rest = {k: v for k, v in obj.items() if k not in ("kind", "apiVersion")}
    return {"kind": resource.kind, "apiVersion": resource.api_version, **rest}


def without_type(obj: Obj) -> Obj:
    """List items carry no kind/apiVersion on a real server; mirror that."""
    return {k: v for k, v in obj.items() if k not in ("kind", "apiVersion")}


class Registry:
    def __init__(self, store: ObjectStore, resources: ResourceTable) -> None:
        self.store = store
        self.resources = resources
        # Per object ("statefulsets ns/name"), how often it was created and how often a
        # create found it already there: a test can tell each object was made once.
        self.creations: Counter[str] = Counter()
        self.refused_creations: Counter[str] = Counter()
        self._strategies: dict[str, Strategy] = {
            rt.storage_key: strategy_for(store, rt) for rt in resources
        }

    # --- reads ------------------------------------------------------------------------

    def get(self, resource: ResourceType, namespace: str, name: str) -> Obj:
        obj = (
            self._computed(resource, namespace).get(name)
            if resource is POD_METRICS
            else (self.store.get(resource, namespace, name))
        )
        if obj is None:
            raise errors.not_found(resource, name)
        return with_type(resource, obj)

    def list(
        self,
        resource: ResourceType,
        namespace: str | None,
        *,
        labels: LabelSelector | None = None,
        fields: FieldSelector | None = None,
        limit: int | None = None,
        continue_token: str | None = None,
    ) -> Obj:
        items = self.select(resource, namespace, labels, fields)
        revision = str(self.store.revision)
        metadata: Obj = {"resourceVersion": revision}
        if continue_token:
            start = _decode_continue(continue_token)
            items = [o for o in items if _position(o) > start]
        if limit and limit > 0 and len(items) > limit:
            metadata["continue"] = _encode_continue(_position(items[limit - 1]), revision)
            metadata["remainingItemCount"] = len(items) - limit
            items = items[:limit]
        return {
            "kind": resource.list_kind,
            "apiVersion": resource.api_version,
            "metadata": metadata,
            "items": [without_type(o) for o in items],
        }

    def select(
        self,
        resource: ResourceType,
        namespace: str | None,
        labels: LabelSelector | None = None,
        fields: FieldSelector | None = None,
    ) -> Objs:
        """Stored objects (with kind/apiVersion) matching the selectors."""
        objects = (
            list(self._computed(resource, namespace).values())
            if resource is POD_METRICS
            else self.store.list(resource, namespace)
        )
        return [
            with_type(resource, obj)
            for obj in objects
            if (labels is None or labels.matches(obj.get("metadata", {}).get("labels")))
            and (fields is None or fields.matches(obj))
        ]

    # --- create -----------------------------------------------------------------------

    def create(
        self,
        resource: ResourceType,
        namespace: str,
        body: Any,
        *,
        dry_run: bool = False,
        validation: FieldValidation | None = None,
    ) -> Obj:
        obj = self._decode(resource, body, namespace, validation=validation)
        meta = obj["metadata"]
        if resource.namespaced:
            self._admit_namespace(resource, namespace, str(meta.get("name") or ""))
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = generated_name(str(meta["generateName"]))
        strategy = self._strategies[resource.storage_key]
        strategy.default(obj)
        apply_defaults(resource, obj)
        limitranger.default_pod(self.store, resource, obj)  # mutating admission
        self._raise_invalid(resource, obj, validate_object_meta(meta, resource.name_rule))
        if self.store.get(resource, namespace, meta["name"]) is not None:
            if not dry_run:
                self.refused_creations[object_key(resource, namespace, meta["name"])] += 1
            raise errors.already_exists(resource, meta["name"])
        for key in (
            "resourceVersion",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "selfLink",
            "managedFields",
        ):
            meta.pop(key, None)
        meta["uid"] = new_uid()
        meta["creationTimestamp"] = timestamp()
        if resource.tracks_generation:
            meta["generation"] = 1
        else:
            meta.pop("generation", None)
        strategy.prepare_for_create(obj)
        self._raise_invalid(resource, obj, strategy.validate(obj))
        # Validating admission, after the object itself is valid (as in the apiserver).
        limitranger.check_pod(self.store, resource, obj)
        resourcequota.admit(resource, obj, None, self.store)
        if dry_run:
            return with_type(resource, obj)
        stored = self.store.put(resource, obj)
        self.creations[object_key(resource, namespace, meta["name"])] += 1
        self._written(resource, namespace)
        return with_type(resource, stored)

    def _admit_namespace(self, resource: ResourceType, namespace: str, name: str) -> None:
        """The NamespaceLifecycle admission plugin."""
        ns = self.store.get(NAMESPACES, "", namespace)
        if ns is None:
            raise errors.not_found(NAMESPACES, namespace)
        if ns["metadata"].get("deletionTimestamp"):
            raise errors.forbidden(
                resource,
                name,
                f"unable to create new content in namespace {namespace} because it is being "
                "terminated",
                causes=[
                    {
                        "reason": "NamespaceTerminating",
                        "field": "metadata.namespace",
                        "message": f"namespace {namespace} is being terminated",
                    }
                ],
            )

    # --- update -----------------------------------------------------------------------

    def replace(
        self,
        resource: ResourceType,
        namespace: str,
        name: str,
        body: Any,
        *,
        subresource: str | None = None,
        dry_run: bool = False,
        validation: FieldValidation | None = None,
    ) -> Obj:
        old = self._existing(resource, namespace, name)
        new = self._decode(resource, body, namespace, name, validation=validation)
        return self._update(resource, new, old, subresource, dry_run)

    def patch(
        self,
        resource: ResourceType,
        namespace: str,
        name: str,
        content_type: str,
        patch: Any,
        *,
        subresource: str | None = None,
        dry_run: bool = False,
        validation: FieldValidation | None = None,
    ) -> Obj:
        old = self._existing(resource, namespace, name)
        patched = _apply(content_type, with_type(resource, old), patch, resource.kind)
        new = self._decode(resource, patched, namespace, name, validation=validation, patch=True)
        return self._update(resource, new, old, subresource, dry_run)

    def _existing(self, resource: ResourceType, namespace: str, name: str) -> Obj:
        old = self.store.get(resource, namespace, name)
        if old is None:
            raise errors.not_found(resource, name)
        return old

    def _update(
        self, resource: ResourceType, new: Obj, old: Obj, subresource: str | None, dry_run: bool
    ) -> Obj:
        name = old["metadata"]["name"]
        requested_version = new["metadata"].get("resourceVersion")
        if requested_version and requested_version != old["metadata"]["resourceVersion"]:
            raise errors.modified_conflict(resource, name)
        if subresource == "status":
            # The status subresource writes status and nothing else.
            status = new.get("status")
            new = clone(old)
            if status is None:
                new.pop("status", None)
            else:
                new["status"] = status
        elif resource.has_status:
            # ...and the main resource never writes status.
            if "status" in old:
                new["status"] = clone(old["status"])
            else:
                new.pop("status", None)
        strategy = self._strategies[resource.storage_key]
        strategy.default(new)
        apply_defaults(resource, new)
        for key in _SERVER_OWNED_META:
            if key in old["metadata"]:
                new["metadata"][key] = old["metadata"][key]
            else:
                new["metadata"].pop(key, None)
        new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
        strategy.prepare_for_update(new, old)
        self._raise_invalid(
            resource,
            new,
            validate_object_meta(new["metadata"], resource.name_rule)
            + strategy.validate(new)
            + strategy.validate_update(new, old),
        )
        if resource.tracks_generation and new.get("spec") != old.get("spec"):
            new["metadata"]["generation"] = int(old["metadata"].get("generation", 1)) + 1
        # Like etcd3's GuaranteedUpdate: a no-op update is not written and keeps its RV
        # (``new`` carries the old resourceVersion by now, so equal means unchanged).
        if dry_run or without_type(new) == without_type(old):
            return with_type(resource, new)
        if subresource is None:
            resourcequota.admit(resource, new, old, self.store)
        stored = self.store.put(resource, new)
        self._written(resource, str(new["metadata"].get("namespace", "")))
        return with_type(resource, stored)

    # --- scale subresource ------------------------------------------------------------

    def get_scale(self, resource: ResourceType, namespace: str, name: str) -> Obj:
        return to_scale(self.get(resource, namespace, name))

    def replace_scale(
        self, resource: ResourceType, namespace: str, name: str, body: Any, *, dry_run: bool = False
    ) -> Obj:
        old = self._existing(resource, namespace, name)
        if not isinstance(body, dict):
            raise errors.bad_request("the object provided is unrecognized (must be of type Scale)")
        if body.get("apiVersion") not in (None, SCALE_API_VERSION) or body.get("kind") not in (
            None,
            "Scale",
        ):
            raise errors.bad_request(
                f"the API version in the data ({body.get('apiVersion')}) does not match the "
                f"expected API version ({SCALE_API_VERSION})"
            )
        scale_meta = body.get("metadata") or {}
        if scale_meta.get("name") not in (None, name):
            raise errors.bad_request(
                f"the name of the object ({scale_meta.get('name')}) does not match the name "
                f"on the URL ({name})"
            )
        version = scale_meta.get("resourceVersion")
        if version and version != old["metadata"]["resourceVersion"]:
            raise errors.modified_conflict(resource, name)
        replicas = replicas_from_scale(body)
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
            raise errors.invalid(
                SCALE,
                name,
                [
                    FieldError.invalid(
                        "spec.replicas", replicas, "must be greater than or equal to 0"
                    )
                ],
            )
        new = clone(old)
        new.setdefault("spec", {})["replicas"] = replicas
        return to_scale(self._update(resource, new, old, None, dry_run))

    def patch_scale(
        self,
        resource: ResourceType,
        namespace: str,
        name: str,
        content_type: str,
        patch: Any,
        *,
        dry_run: bool = False,
    ) -> Obj:
        scale = self.get_scale(resource, namespace, name)
        patched = _apply(content_type, scale, patch, "Scale")
        return self.replace_scale(resource, namespace, name, patched, dry_run=dry_run)

    # --- delete -----------------------------------------------------------------------

    def delete(
        self,
        resource: ResourceType,
        namespace: str,
        name: str,
        options: Any = None,
        *,
        dry_run: bool = False,
    ) -> Obj:
        old = self._existing(resource, namespace, name)
        options = options if isinstance(options, dict) else {}
        self._check_preconditions(resource, old, options.get("preconditions") or {})
        if resource == NAMESPACES:
            return self._delete_namespace(old, dry_run)
        orphan = (
            options.get("propagationPolicy") == "Orphan" or options.get("orphanDependents") is True
        )
        if dry_run:
            final = old
        else:
            if orphan:
                self._orphan_dependents(old)
            final = self.store.remove(resource, namespace, name) or old
            self._written(resource, namespace)
        if resource.returns_deleted_object:
            return with_type(resource, final)
        return errors.success(resource, final)

    def delete_collection(
        self,
        resource: ResourceType,
        namespace: str | None,
        *,
        labels: LabelSelector | None = None,
        fields: FieldSelector | None = None,
        options: Any = None,
        dry_run: bool = False,
    ) -> Obj:
        deleted = []
        for obj in self.select(resource, namespace, labels, fields):
            meta = obj["metadata"]
            try:
                self.delete(
                    resource, meta.get("namespace", ""), meta["name"], options, dry_run=dry_run
                )
            except ApiError as exc:
                if exc.code != 404:  # raced with another deleter: fine
                    raise
            deleted.append(without_type(obj))
        return {
            "kind": resource.list_kind,
            "apiVersion": resource.api_version,
            "metadata": {"resourceVersion": str(self.store.revision)},
            "items": deleted,
        }

    def _check_preconditions(self, resource: ResourceType, obj: Obj, preconditions: Obj) -> None:
        meta = obj["metadata"]
        for field, label in (("uid", "UID"), ("resourceVersion", "ResourceVersion")):
            wanted = preconditions.get(field)
            if wanted and wanted != meta.get(field):
                raise errors.conflict(
                    resource,
                    meta["name"],
                    f"Precondition failed: {label} in precondition: {wanted}, {label} in "
                    f"object meta: {meta.get(field)}",
                )

    def _delete_namespace(self, namespace: Obj, dry_run: bool) -> Obj:
        """Namespaces are finalized, not removed: Terminating now, gone once emptied."""
        name = namespace["metadata"]["name"]
        if name in _UNDELETABLE_NAMESPACES:
            raise errors.forbidden(NAMESPACES, name, "this namespace may not be deleted")
        if namespace["metadata"].get("deletionTimestamp"):
            raise errors.conflict(NAMESPACES, name, NAMESPACE_TERMINATING_MESSAGE)
        terminating = clone(namespace)
        terminating["metadata"]["deletionTimestamp"] = timestamp()
        terminating["metadata"]["deletionGracePeriodSeconds"] = 0
        terminating["status"] = {"phase": "Terminating"}
        if dry_run:
            return with_type(NAMESPACES, terminating)
        return with_type(NAMESPACES, self.store.put(NAMESPACES, terminating))

    def finish_namespace(self, name: str) -> None:
        """Remove an emptied Terminating namespace (the namespace controller's last step)."""
        self.store.remove(NAMESPACES, "", name)

    def _orphan_dependents(self, owner: Obj) -> None:
        """propagationPolicy=Orphan: dependents lose their owner reference and stay."""
        uid = owner["metadata"].get("uid")
        namespace = owner["metadata"].get("namespace", "")
        for resource in self.resources.namespaced():
            for obj in self.store.list(resource, namespace):
                refs = obj["metadata"].get("ownerReferences") or []
                kept = [ref for ref in refs if ref.get("uid") != uid]
                if len(kept) != len(refs):
                    obj["metadata"]["ownerReferences"] = kept
                    self.store.put(resource, obj)

    # --- helpers ----------------------------------------------------------------------

    def _computed(self, resource: ResourceType, namespace: str | None) -> dict[str, Obj]:
        """A resource made from others on every read (the metrics API), by name."""
        assert resource is POD_METRICS
        return {obj["metadata"]["name"]: obj for obj in metrics.pod_metrics(self.store, namespace)}

    def _written(self, resource: ResourceType, namespace: str) -> None:
        """After a write: what the quota controller recounts (pods, claims, quotas) and
        the disruption controller (pods, budgets)."""
        if resource in resourcequota.QUOTA_INPUTS:
            resourcequota.refresh_status(self.store, namespace)
        if resource in (PODS, DISRUPTION_BUDGETS):
            disruption.refresh_status(self.store, namespace)

    def _decode(
        self,
        resource: ResourceType,
        body: Any,
        namespace: str,
        name: str | None = None,
        *,
        validation: FieldValidation | None = None,
        patch: bool = False,
    ) -> Obj:
        """Check a request body against the URL and return a typed, namespaced copy
        without the fields its kind does not declare (refused under Strict validation;
        the controllers' own writes drop them silently)."""
        if not isinstance(body, dict):
            raise errors.bad_request(
                f"the object provided is unrecognized (must be of type {resource.kind})"
            )
        api_version = body.get("apiVersion")
        if api_version not in (None, "", resource.api_version):
            raise errors.bad_request(
                f"the API version in the data ({api_version}) does not match the expected API "
                f"version ({resource.api_version})"
            )
        kind = body.get("kind")
        if kind not in (None, "", resource.kind):
            raise errors.bad_request(
                f"the kind in the data ({kind}) does not match the expected kind ({resource.kind})"
            )
        obj = with_type(resource, clone(body))
        (validation or FieldValidation()).check(resource, obj, patch=patch)
        meta = obj.get("metadata")
        if meta is None:
            meta = obj["metadata"] = {}
        if not isinstance(meta, dict):
            raise errors.bad_request("metadata must be an object")
        if resource.namespaced:
            if meta.get("namespace") not in (None, "", namespace):
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent on "
                    "the request"
                )
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        if name is not None and meta.get("name") != name:
            raise errors.bad_request(
                f"the name of the object ({meta.get('name') or ''}) does not match the name on "
                f"the URL ({name})"
            )
        return obj

    @staticmethod
    def _raise_invalid(resource: ResourceType, obj: Obj, problems: FieldErrors) -> None:
        if problems:
            meta = obj.get("metadata", {})
            raise errors.invalid(
                resource, str(meta.get("name") or meta.get("generateName") or ""), problems
            )


def _apply(content_type: str, target: Obj, patch: Any, kind: str) -> Obj:
    try:
        patched = apply_patch(content_type, target, patch, kind)
    except PatchError as exc:
        raise errors.bad_request(str(exc)) from exc
    except PatchConflict as exc:
        raise ApiError(422, str(exc)) from exc
    if not isinstance(patched, dict):
        raise errors.bad_request("the patch did not produce an object")
    return patched


def _position(obj: Obj) -> tuple[str, str]:
    meta = obj["metadata"]
    return meta.get("namespace", ""), meta["name"]


def _encode_continue(position: tuple[str, str], revision: str) -> str:
    token = json.dumps({"v": "sandbox/v1", "rv": revision, "start": list(position)})
    return base64.urlsafe_b64encode(token.encode()).decode()


def _decode_continue(token: str) -> tuple[str, str]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        namespace, name = data["start"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise errors.bad_request(f"continue key is not valid: {exc}") from exc
    return str(namespace), str(name)
