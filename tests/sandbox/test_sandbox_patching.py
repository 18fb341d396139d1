"""The three PATCH flavours (pure functions)."""

from __future__ import annotations

from typing import Any

import pytest

from kube_sandbox.patching import (
    PatchConflict,
    PatchError,
    json_patch,
    merge_patch,
    strategic_merge_patch,
)

POD_SPEC: dict[str, Any] = {
    "spec": {
        "containers": [
            {"name": "es", "image": "es:9", "ports": [{"containerPort": 9200, "name": "http"}],
             "args": ["-a", "-b"]},
            {"name": "sidecar", "image": "busybox"},
        ],
        "volumes": [{"name": "data", "emptyDir": {}}],
    },
    "metadata": {"finalizers": ["a"], "labels": {"keep": "1", "drop": "1"}},
}  # fmt: skip


def test_merge_patch_sets_replaces_and_deletes() -> None:
    patched = merge_patch(POD_SPEC, {"metadata": {"labels": {"drop": None, "new": "2"}}})
    assert patched["metadata"]["labels"] == {"keep": "1", "new": "2"}
    # Lists are replaced wholesale by a JSON merge patch.
    patched = merge_patch(POD_SPEC, {"spec": {"containers": [{"name": "es", "image": "es:10"}]}})
    assert patched["spec"]["containers"] == [{"name": "es", "image": "es:10"}]
    assert POD_SPEC["metadata"]["labels"]["drop"] == "1"  # the input is not mutated


def test_strategic_merge_patch_merges_containers_by_name() -> None:
    patched = strategic_merge_patch(
        POD_SPEC, {"spec": {"containers": [{"name": "es", "image": "es:10"}]}}
    )
    es, sidecar = patched["spec"]["containers"]
    assert es["image"] == "es:10"
    assert es["ports"] == [{"containerPort": 9200, "name": "http"}]  # kept, unlike merge patch
    assert sidecar == {"name": "sidecar", "image": "busybox"}


def test_strategic_merge_patch_directives() -> None:
    patched = strategic_merge_patch(
        POD_SPEC,
        {
            "spec": {
                "$setElementOrder/containers": [{"name": "sidecar"}, {"name": "es"}],
                "containers": [
                    {"name": "es", "ports": [{"containerPort": 9300, "name": "transport"}],
                     "args": ["-c"]},
                    {"name": "new", "image": "x"},
                ],
                "volumes": [{"name": "data", "$patch": "delete"}],
            },
            "metadata": {"finalizers": ["b", "a"], "$deleteFromPrimitiveList/finalizers": ["a"]},
        },
    )  # fmt: skip
    names = [c["name"] for c in patched["spec"]["containers"]]
    assert names == ["sidecar", "es", "new"]
    es = patched["spec"]["containers"][1]
    assert [p["containerPort"] for p in es["ports"]] == [9200, 9300]  # merged by containerPort
    assert es["args"] == ["-c"]  # args has no merge strategy: replaced
    assert patched["spec"]["volumes"] == []
    assert patched["metadata"]["finalizers"] == ["b"]


def test_strategic_merge_patch_replace_and_retain_keys() -> None:
    patched = strategic_merge_patch(
        POD_SPEC, {"metadata": {"labels": {"$patch": "replace", "only": "this"}}}
    )
    assert patched["metadata"]["labels"] == {"only": "this"}
    patched = strategic_merge_patch(
        {"spec": {"strategy": {"type": "A", "rollingUpdate": {"x": 1}}}},
        {"spec": {"strategy": {"$retainKeys": ["type"], "type": "B"}}},
    )
    assert patched["spec"]["strategy"] == {"type": "B"}


def test_strategic_merge_patch_service_ports_merge_by_port() -> None:
    service = {"spec": {"ports": [{"port": 80, "name": "http"}, {"port": 9300, "name": "t"}]}}
    patched = strategic_merge_patch(service, {"spec": {"ports": [{"port": 80, "name": "web"}]}},
                                    "Service")  # fmt: skip
    assert patched["spec"]["ports"] == [{"port": 80, "name": "web"}, {"port": 9300, "name": "t"}]
    # Other kinds' spec.ports (e.g. a NetworkPolicy's) are atomic lists.
    other = strategic_merge_patch(service, {"spec": {"ports": [{"port": 80}]}}, "NetworkPolicy")
    assert other["spec"]["ports"] == [{"port": 80}]


def test_strategic_merge_patch_errors() -> None:
    with pytest.raises(PatchError):
        strategic_merge_patch(POD_SPEC, ["not", "an", "object"])
    with pytest.raises(PatchConflict, match="merge key"):
        strategic_merge_patch(POD_SPEC, {"spec": {"containers": [{"image": "no-name"}]}})


def test_json_patch_operations() -> None:
    doc = {"metadata": {"labels": {"a": "1"}}, "items": [1, 2]}
    patched = json_patch(
        doc,
        [
            {"op": "test", "path": "/metadata/labels/a", "value": "1"},
            {"op": "add", "path": "/metadata/labels/b~1c", "value": "2"},
            {"op": "replace", "path": "/items/0", "value": 10},
            {"op": "add", "path": "/items/-", "value": 3},
            {"op": "copy", "from": "/items", "path": "/copied"},
            {"op": "move", "from": "/metadata/labels/a", "path": "/moved"},
            {"op": "remove", "path": "/items/1"},
        ],
    )
    assert patched == {
        "metadata": {"labels": {"b/c": "2"}},
        "items": [10, 3],
        "copied": [10, 2, 3],
        "moved": "1",
    }


@pytest.mark.parametrize(
    ("operations", "error"),
    [
        ([{"op": "test", "path": "/a", "value": 2}], PatchConflict),
        ([{"op": "remove", "path": "/missing"}], PatchConflict),
        ([{"op": "replace", "path": "/missing", "value": 1}], PatchConflict),
        ([{"op": "add", "path": "/list/9", "value": 1}], PatchConflict),
        ([{"op": "frobnicate", "path": "/a"}], PatchError),
        ([{"op": "add", "path": "a", "value": 1}], PatchError),
        ({"op": "add"}, PatchError),
    ],
)
def test_json_patch_failures(operations: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        json_patch({"a": 1, "list": []}, operations)
