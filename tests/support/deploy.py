"""The manifests of ``deploy/`` (running the control plane in a cluster), read the way
``kubectl apply -f deploy/`` reads them: every YAML file, in name order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

DEPLOY_DIR = Path(__file__).resolve().parents[2] / "deploy"

Grant = tuple[str, str, str]  # API group ("" for core), resource[/subresource], verb


def deploy_files() -> list[Path]:
    return sorted(DEPLOY_DIR.glob("*.yaml"))


def deploy_documents() -> list[dict[str, Any]]:
    return [
        document
        for path in deploy_files()
        for document in yaml.safe_load_all(path.read_text())
        if document is not None
    ]


def deploy_object(kind: str) -> dict[str, Any]:
    """The one object of ``kind`` (the test fails if there is not exactly one)."""
    (found,) = [document for document in deploy_documents() if document["kind"] == kind]
    return found


def cluster_role_grants() -> set[Grant]:
    """Every (group, resource, verb) the control plane's ClusterRole allows."""
    grants: set[Grant] = set()
    for rule in deploy_object("ClusterRole")["rules"]:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                grants.update((group, resource, verb) for verb in rule["verbs"])
    return grants
