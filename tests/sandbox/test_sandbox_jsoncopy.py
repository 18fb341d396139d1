"""The store's copies: deep (no change to a copy reaches the original, nor the other
way), equal, and still right for values that are not JSON."""

from __future__ import annotations

from datetime import UTC, datetime

from kube_sandbox.jsoncopy import clone


def test_a_clone_is_equal_and_shares_nothing_mutable() -> None:
    original = {
        "metadata": {"name": "a", "labels": {"x": "1"}, "finalizers": ["kubernetes"]},
        "spec": {"replicas": 3, "ratio": 0.5, "paused": False, "selector": None},
        "items": [{"nested": [1, 2, {"deep": "yes"}]}],
    }
    copied = clone(original)
    assert copied == original
    copied["metadata"]["labels"]["x"] = "2"
    copied["metadata"]["finalizers"].append("other")
    copied["items"][0]["nested"][2]["deep"] = "no"
    assert original["metadata"] == {
        "name": "a",
        "labels": {"x": "1"},
        "finalizers": ["kubernetes"],
    }
    assert original["items"] == [{"nested": [1, 2, {"deep": "yes"}]}]


def test_values_that_are_not_json_are_deep_copied_too() -> None:
    stamped = {"at": datetime(2025, 1, 1, tzinfo=UTC), "tags": {"a", "b"}, "pair": ([1],)}
    copied = clone(stamped)
    assert copied == stamped
    copied["tags"].add("c")
    copied["pair"][0].append(2)
    assert stamped["tags"] == {"a", "b"}
    assert stamped["pair"] == ([1],)
