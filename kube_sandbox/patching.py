"""The three PATCH flavours the apiserver accepts for built-in kinds.

* JSON merge patch (RFC 7386), ``application/merge-patch+json``.
* Strategic merge patch, ``application/strategic-merge-patch+json``: a merge patch in
  which lists that Kubernetes declares mergeable (containers by ``name``, ports by
  ``containerPort``/``port``, ...) are merged element-wise by their merge key, and the
  ``$patch``/``$retainKeys``/``$setElementOrder``/``$deleteFromPrimitiveList`` directives
  are honoured. The python client sends this for every dict body, so merging
  containers by name matters: a plain merge patch would silently drop fields that a
  real server keeps.
* JSON patch (RFC 6902), ``application/json-patch+json``.

All functions are pure and return new documents.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
PATCH_TYPES: tuple[str, ...] = (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH)


class PatchError(ValueError):
    """The patch document is malformed (400)."""


class PatchConflict(ValueError):
    """The patch is well-formed but cannot be applied to this object (422)."""


# --- JSON merge patch -------------------------------------------------------------------


def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# --- strategic merge patch --------------------------------------------------------------

# patchMergeKey of the list fields that Kubernetes types declare with patchStrategy=merge.
_MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "conditions": "type",
    "ownerReferences": "uid",
    "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name",
}
_CONTAINER_LISTS = {"containers", "initContainers", "ephemeralContainers"}
# Lists of scalars with patchStrategy=merge: union instead of replace.
_MERGED_SCALAR_LISTS = {"finalizers"}


def _merge_key(path: Sequence[str]) -> str | None:
    field = path[-1]
    if field == "ports":
        if len(path) >= 2 and path[-2] in _CONTAINER_LISTS:
            return "containerPort"
        if tuple(path) == ("spec", "ports"):
            return "port"  # Service.spec.ports
        return None
    return _MERGE_KEYS.get(field)


def strategic_merge_patch(target: Any, patch: Any, kind: str = "") -> Any:
    """Apply a strategic merge patch; ``kind`` disambiguates Service ports."""
    if not isinstance(patch, dict):
        raise PatchError("strategic merge patch must be a JSON object")
    return _smp_map(target if isinstance(target, dict) else {}, patch, (), kind)


def _smp_map(
    target: dict[str, Any], patch: dict[str, Any], path: tuple[str, ...], kind: str
) -> Any:
    directive = patch.get("$patch")
    if directive == "delete":
        return None
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if not k.startswith("$")}
    if directive is not None:
        raise PatchError(f"unknown patch type: {directive!r} in map")
    result = copy.deepcopy(target)
    retain = patch.get("$retainKeys")
    for key, value in patch.items():
        if key.startswith("$setElementOrder/") or key.startswith("$deleteFromPrimitiveList/"):
            continue
        if key.startswith("$"):
            continue
        field_path = (*path, key)
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            current = result.get(key)
            merged = _smp_map(
                current if isinstance(current, dict) else {},
                value,
                field_path,
                kind,
            )
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list):
            result[key] = _smp_list(result.get(key), value, field_path, kind)
        else:
            result[key] = copy.deepcopy(value)
    for key, value in patch.items():
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            if isinstance(result.get(field), list):
                result[field] = [item for item in result[field] if item not in value]
        elif key.startswith("$setElementOrder/"):
            field = key.split("/", 1)[1]
            if isinstance(result.get(field), list):
                result[field] = _reorder(result[field], value, _merge_key((*path, field)))
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _smp_list(target: Any, patch: list[Any], path: tuple[str, ...], kind: str) -> list[Any]:
    current = target if isinstance(target, list) else []
    if any(isinstance(item, dict) and item.get("$patch") == "replace" for item in patch):
        return [copy.deepcopy(i) for i in patch if not (isinstance(i, dict) and "$patch" in i)]
    key = _merge_key(path)
    if path[-1] == "ports" and key == "port" and kind != "Service":
        key = None
    if path[-1] in _MERGED_SCALAR_LISTS:
        merged = list(current)
        merged.extend(item for item in patch if item not in merged)
        return merged
    if key is None or not all(isinstance(item, dict) for item in patch):
        return [copy.deepcopy(item) for item in patch]
    result = [copy.deepcopy(item) for item in current]
    for item in patch:
        if key not in item:
            raise PatchConflict(f"map: {item} does not contain declared merge key: {key}")
        index = next(
            (
                i
                for i, existing in enumerate(result)
                if isinstance(existing, dict) and existing.get(key) == item[key]
            ),
            None,
        )
        if item.get("$patch") == "delete":
            if index is not None:
                del result[index]
            continue
        if index is None:
            result.append(_smp_map({}, item, path, kind))
        else:
            result[index] = _smp_map(result[index], item, path, kind)
    return result


def _reorder(items: list[Any], order: list[Any], key: str | None) -> list[Any]:
    """Order ``items`` like the $setElementOrder list; unlisted items keep their place last."""

    def identity(item: Any) -> Any:
        return item.get(key) if key and isinstance(item, dict) else item

    wanted = [identity(entry) for entry in order]
    ranked = sorted(
        enumerate(items),
        key=lambda pair: (
            wanted.index(identity(pair[1]))
            if identity(pair[1]) in wanted
            else len(wanted) + pair[0]
        ),
    )
    return [item for _, item in ranked]


# --- JSON patch -------------------------------------------------------------------------


def _pointer(path: Any) -> list[str]:
    if not isinstance(path, str) or (path and not path.startswith("/")):
        raise PatchError(f"invalid JSON pointer: {path!r}")
    if path == "":
        return []
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _resolve_parent(doc: Any, parts: list[str]) -> tuple[Any, str]:
    current = doc
    for part in parts[:-1]:
        if isinstance(current, dict):
            if part not in current:
                raise PatchConflict(f"path not found: /{'/'.join(parts)}")
            current = current[part]
        elif isinstance(current, list):
            current = current[_index(current, part, allow_end=False)]
        else:
            raise PatchConflict(f"path not found: /{'/'.join(parts)}")
    return current, parts[-1]


def _index(container: list[Any], part: str, *, allow_end: bool) -> int:
    if allow_end and part == "-":
        return len(container)
    if not part.isdigit():
        raise PatchConflict(f"invalid array index: {part!r}")
    index = int(part)
    limit = len(container) if allow_end else len(container) - 1
    if index > limit:
        raise PatchConflict(f"array index out of bounds: {index}")
    return index


def _get(doc: Any, parts: list[str]) -> Any:
    if not parts:
        return doc
    parent, last = _resolve_parent(doc, parts)
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchConflict(f"path not found: /{'/'.join(parts)}")
        return parent[last]
    if isinstance(parent, list):
        return parent[_index(parent, last, allow_end=False)]
    raise PatchConflict(f"path not found: /{'/'.join(parts)}")


def _add(doc: Any, parts: list[str], value: Any) -> Any:
    if not parts:
        return value
    parent, last = _resolve_parent(doc, parts)
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, last, allow_end=True), value)
    else:
        raise PatchConflict(f"path not found: /{'/'.join(parts)}")
    return doc


def _remove(doc: Any, parts: list[str]) -> Any:
    if not parts:
        raise PatchConflict("cannot remove the whole document")
    parent, last = _resolve_parent(doc, parts)
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchConflict(f"unable to remove nonexistent key: {last}")
        return parent.pop(last)
    if isinstance(parent, list):
        return parent.pop(_index(parent, last, allow_end=False))
    raise PatchConflict(f"path not found: /{'/'.join(parts)}")


def json_patch(doc: Any, operations: Any) -> Any:
    if not isinstance(operations, list):
        raise PatchError("json patch must be a JSON array of operations")
    result = copy.deepcopy(doc)
    for operation in operations:
        if not isinstance(operation, dict) or "op" not in operation:
            raise PatchError(f"invalid json patch operation: {operation!r}")
        op = operation["op"]
        parts = _pointer(operation.get("path"))
        if op in ("add", "replace", "test") and "value" not in operation:
            raise PatchError(f"json patch operation {op!r} requires a value")
        if op == "add":
            result = _add(result, parts, copy.deepcopy(operation["value"]))
        elif op == "remove":
            _remove(result, parts)
        elif op == "replace":
            _get(result, parts)  # replace requires the target to exist
            if parts:
                _remove(result, parts)
            result = _add(result, parts, copy.deepcopy(operation["value"]))
        elif op in ("move", "copy"):
            source = _pointer(operation.get("from"))
            value = _remove(result, source) if op == "move" else copy.deepcopy(_get(result, source))
            result = _add(result, parts, value)
        elif op == "test":
            if _get(result, parts) != operation["value"]:
                raise PatchConflict(f"testing value /{'/'.join(parts)} failed")
        else:
            raise PatchError(f"unexpected json patch operation: {op!r}")
    return result


def apply_patch(content_type: str, target: dict[str, Any], patch: Any, kind: str) -> Any:
    """Dispatch on the PATCH Content-Type (media type without parameters)."""
    if content_type == JSON_PATCH:
        return json_patch(target, patch)
    if content_type == MERGE_PATCH:
        if not isinstance(patch, dict):
            raise PatchError("merge patch must be a JSON object")
        return merge_patch(target, patch)
    if content_type == STRATEGIC_MERGE_PATCH:
        return strategic_merge_patch(target, patch, kind)
    raise PatchError(f"unsupported patch type {content_type!r}")
