"""``kubectl apply -f deploy/`` against a Kubernetes API server: the sandbox cluster,
which serves discovery and OpenAPI as a real one does, so kubectl maps every kind and
validates on the server (a client dry run alone needs discovery too: it cannot run
without a server). Client dry run first, then a real apply into the (throwaway)
sandbox, then a server dry run, whose validation a broken manifest fails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from kube_sandbox import SandboxCluster
from tests.support.deploy import DEPLOY_DIR, deploy_documents, deploy_object
from tests.support.kubectl import Kubectl, kubectl_path


@pytest.fixture
def kubectl(sandbox_cluster: SandboxCluster, tmp_path: Path) -> Kubectl:
    home = tmp_path / "home"
    home.mkdir()
    kubeconfig = sandbox_cluster.write_kubeconfig(tmp_path / "kubeconfig")
    return Kubectl(kubectl_path(), kubeconfig, home)


def applied_names() -> list[str]:
    """What kubectl prints for each object, in file order: "deployment.apps/es-serverless"."""
    names = []
    for document in deploy_documents():
        group = document["apiVersion"].rpartition("/")[0]
        resource = f"{document['kind'].lower()}.{group}" if group else document["kind"].lower()
        names.append(f"{resource}/{document['metadata']['name']}")
    return names


async def test_client_dry_run_maps_every_object_and_stores_nothing(kubectl: Kubectl) -> None:
    result = await kubectl("apply", "--dry-run=client", "-f", str(DEPLOY_DIR))
    assert result.stdout.splitlines() == [f"{name} created (dry run)" for name in applied_names()]
    missing = await kubectl("get", "namespace", "es-serverless", check=False)
    assert missing.returncode != 0 and "NotFound" in missing.stderr


async def test_applied_for_real_then_server_dry_run(kubectl: Kubectl) -> None:
    created = await kubectl("apply", "-f", str(DEPLOY_DIR))
    assert created.stdout.splitlines() == [f"{name} created" for name in applied_names()]
    got = await kubectl("-n", "es-serverless", "get", "deployment", "es-serverless", "-o", "json")
    stored = json.loads(got.stdout)
    wanted = deploy_object("Deployment")["spec"]
    assert stored["spec"]["replicas"] == wanted["replicas"]
    assert stored["spec"]["template"]["spec"]["containers"][0]["env"] == (
        wanted["template"]["spec"]["containers"][0]["env"]
    )
    role = json.loads((await kubectl("get", "clusterrole", "es-serverless", "-o", "json")).stdout)
    assert role["rules"] == deploy_object("ClusterRole")["rules"]
    # Every object now exists, so the server validates each in a dry run.
    checked = await kubectl("apply", "--dry-run=server", "-f", str(DEPLOY_DIR))
    assert len(checked.stdout.splitlines()) == len(applied_names())
    assert all("(server dry run)" in line for line in checked.stdout.splitlines())


async def test_server_dry_run_refuses_a_broken_deployment(kubectl: Kubectl, tmp_path: Path) -> None:
    await kubectl("apply", "-f", str(DEPLOY_DIR / "00-namespace.yaml"))
    broken = deploy_object("Deployment")
    broken["spec"]["template"]["metadata"]["labels"] = {"app": "something-else"}
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(broken))
    refused = await kubectl("apply", "--dry-run=server", "-f", str(path), check=False)
    assert refused.returncode != 0
    assert "`selector` does not match template `labels`" in refused.stderr
