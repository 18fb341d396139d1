"""Label and field selector parsing and matching (pure functions)."""

from __future__ import annotations

import pytest

from kube_sandbox.selectors import (
    SelectorError,
    label_selector_from_object,
    parse_field_selector,
    parse_label_selector,
)

LABELS = {"tenant-org-id": "org-001", "user": "alice", "tier": "hot", "shards": "5"}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("", True),
        ("tenant-org-id=org-001", True),
        ("tenant-org-id==org-001", True),
        ("tenant-org-id=org-002", False),
        ("tenant-org-id!=org-002", True),
        ("tenant-org-id!=org-001", False),
        ("missing!=x", True),  # != matches objects without the key
        ("tenant-org-id=org-001,user=alice", True),
        ("tenant-org-id=org-001,user=bob", False),
        ("user in (alice,bob)", True),
        ("user in (bob, carol)", False),
        ("user notin (bob)", True),
        ("user notin (alice,bob)", False),
        ("missing notin (x)", True),
        ("user", True),
        ("missing", False),
        ("!missing", True),
        ("!user", False),
        ("  user = alice , tier in ( hot ) ", True),
        ("shards>4", True),
        ("shards<5", False),
        ("user>1", False),  # non-numeric label values never satisfy gt/lt
        ("empty=", False),
        ("example.com/role=data", False),
    ],
)
def test_label_selector_matching(selector: str, expected: bool) -> None:
    assert parse_label_selector(selector).matches(LABELS) is expected


def test_empty_value_matches_empty_label() -> None:
    assert parse_label_selector("flag=").matches({"flag": ""})
    assert not parse_label_selector("flag=").matches({})


@pytest.mark.parametrize(
    "selector",
    [
        "a in ()",
        "a in (x",
        "a in x",
        "=b",
        "a b",
        "!",
        "a=b c",
        "a==b==c",
        "-bad-key=x",
        "a=-bad-value-",
        "a=" + "v" * 64,
        "a notin ()",
        "a>b",
        "a in (x) b",
        "a=in",
        ",",
    ],
)
def test_malformed_label_selectors_are_rejected(selector: str) -> None:
    with pytest.raises(SelectorError):
        parse_label_selector(selector)


def test_label_selector_renders_canonically() -> None:
    text = "user in (bob,alice),!x,tier,a!=b,n>3"
    assert str(parse_label_selector(text)) == "user in (alice,bob),!x,tier,a!=b,n>3"


def test_label_selector_object_conversion() -> None:
    selector = label_selector_from_object(
        {
            "matchLabels": {"app": "es"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["hot", "warm"]},
                {"key": "legacy", "operator": "DoesNotExist"},
            ],
        }
    )
    assert str(selector) == "app=es,!legacy,tier in (hot,warm)"
    assert selector.matches({"app": "es", "tier": "warm"})
    assert not selector.matches({"app": "es", "tier": "warm", "legacy": "1"})
    assert label_selector_from_object({}).matches({"anything": "goes"})
    with pytest.raises(SelectorError):
        label_selector_from_object({"matchExpressions": [{"key": "a", "operator": "Near"}]})


OBJECT = {
    "metadata": {"name": "es-0", "namespace": "team-a"},
    "spec": {"nodeName": "sandbox-node", "hostNetwork": False},
    "status": {"phase": "Running"},
}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("", True),
        ("metadata.name=es-0", True),
        ("metadata.name==es-0", True),
        ("metadata.name!=es-0", False),
        ("metadata.namespace=team-a,metadata.name=es-1", False),
        ("status.phase=Running,spec.nodeName=sandbox-node", True),
        ("status.podIP=", True),  # an absent field compares as ""
    ],
)
def test_field_selector_matching(selector: str, expected: bool) -> None:
    supported = ("status.phase", "spec.nodeName", "status.podIP")
    assert parse_field_selector(selector, supported).matches(OBJECT) is expected


def test_field_selector_escapes() -> None:
    selector = parse_field_selector(r"metadata.name=a\,b\=c")
    assert selector.matches({"metadata": {"name": "a,b=c"}})
    assert not selector.matches({"metadata": {"name": "a"}})


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ("spec.replicas=3", "field label not supported: spec.replicas"),
        ("metadata.name", "can't understand"),
        (r"metadata.name=a\x", "escape"),
    ],
)
def test_malformed_field_selectors_are_rejected(selector: str, message: str) -> None:
    with pytest.raises(SelectorError, match=message):
        parse_field_selector(selector)
