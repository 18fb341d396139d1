"""ControllerRevisions the StatefulSet controller keeps, through the real client."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from kube_sandbox.history import HASH_LABEL, revision_data, revision_hash
from tests.sandbox.support import statefulset_manifest, wait_for


async def settled(apps: client.AppsV1Api, namespace: str, image: str) -> Any:
    async def done() -> bool:
        current = await apps.read_namespaced_stateful_set("es", namespace)
        status = current.status
        return (
            current.spec.template.spec.containers[0].image == image
            and status.ready_replicas == status.replicas == current.spec.replicas
            and status.current_revision == status.update_revision
            and status.observed_generation == current.metadata.generation
        )

    await wait_for(done, what=f"the rollout of {image}")
    return await apps.read_namespaced_stateful_set("es", namespace)


async def set_image(apps: client.AppsV1Api, namespace: str, image: str) -> Any:
    patch = {"spec": {"template": {"spec": {"containers": [
        {"name": "elasticsearch", "image": image}
    ]}}}}  # fmt: skip
    await apps.patch_namespaced_stateful_set("es", namespace, patch)
    return await settled(apps, namespace, image)


async def test_revisions_are_owned_labelled_and_named_as_the_pods_say(
    core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str
) -> None:
    await apps.create_namespaced_stateful_set(namespace, statefulset_manifest(replicas=2))
    statefulset = await settled(apps, namespace, "elasticsearch:9.1.5")
    [revision] = (await apps.list_namespaced_controller_revision(namespace)).items
    assert revision.revision == 1
    assert revision.metadata.name == statefulset.status.update_revision
    assert revision.metadata.name == statefulset.status.current_revision
    [owner] = revision.metadata.owner_references
    assert (owner.kind, owner.name, owner.uid, owner.controller) == (
        "StatefulSet", "es", statefulset.metadata.uid, True,
    )  # fmt: skip
    labels = revision.metadata.labels
    assert labels["app"] == "es" and labels["tenant-org-id"] == "org-001"
    assert revision.metadata.name == f"es-{labels[HASH_LABEL]}"
    # The data restores the template: a strategic merge patch replacing it whole.
    template = revision.data["spec"]["template"]
    assert template["$patch"] == "replace"
    assert template["spec"]["containers"][0]["image"] == "elasticsearch:9.1.5"
    pods = (await core.list_namespaced_pod(namespace)).items
    assert {p.metadata.labels["controller-revision-hash"] for p in pods} == {
        revision.metadata.name
    }
    selected = await apps.list_namespaced_controller_revision(namespace, label_selector="app=es")
    assert [r.metadata.name for r in selected.items] == [revision.metadata.name]

    # Deleting the set takes its history with it (owner references).
    await apps.delete_namespaced_stateful_set("es", namespace)

    async def gone() -> bool:
        return not (await apps.list_namespaced_controller_revision(namespace)).items

    await wait_for(gone, what="revisions garbage-collected")


async def test_history_is_trimmed_to_the_limit_keeping_what_is_live(
    apps: client.AppsV1Api, namespace: str
) -> None:
    manifest = statefulset_manifest(replicas=1, claims=False)
    manifest["spec"]["revisionHistoryLimit"] = 1
    await apps.create_namespaced_stateful_set(namespace, manifest)
    await settled(apps, namespace, "elasticsearch:9.1.5")
    for image in ("elasticsearch:9.1.6", "elasticsearch:9.1.7", "elasticsearch:9.1.8"):
        statefulset = await set_image(apps, namespace, image)
    revisions = (await apps.list_namespaced_controller_revision(namespace)).items
    numbered = sorted((r.revision, r.data["spec"]["template"]["spec"]["containers"][0]["image"])
                      for r in revisions)  # fmt: skip
    # The live revision (4) and one unused one (3): 1 and 2 were trimmed.
    assert numbered == [(3, "elasticsearch:9.1.7"), (4, "elasticsearch:9.1.8")]
    assert statefulset.status.update_revision in {r.metadata.name for r in revisions}


def test_revision_names_follow_the_template_and_the_collision_count() -> None:
    first = revision_data(statefulset_manifest())
    other = revision_data(statefulset_manifest(image="elasticsearch:9.2.0"))
    assert revision_hash(first, 0) == revision_hash(revision_data(statefulset_manifest()), 0)
    assert len({revision_hash(first, 0), revision_hash(other, 0), revision_hash(first, 1)}) == 3
    assert set(revision_hash(first, 0)) <= set("bcdfghjklmnpqrstvwxz2456789")


async def test_a_revisions_data_is_fixed(apps: client.AppsV1Api, namespace: str) -> None:
    await apps.create_namespaced_stateful_set(namespace, statefulset_manifest(claims=False))
    await settled(apps, namespace, "elasticsearch:9.1.5")
    [revision] = (await apps.list_namespaced_controller_revision(namespace)).items
    name = revision.metadata.name
    revision.data = {"spec": {}}
    with pytest.raises(ApiException) as caught:
        await apps.replace_namespaced_controller_revision(name, namespace, revision)
    assert caught.value.status == 422
    assert json.loads(caught.value.body)["message"] == (
        f'ControllerRevision.apps "{name}" is invalid: data: Invalid value: {{"spec":{{}}}}: '
        "field is immutable"
    )
    renumbered = await apps.patch_namespaced_controller_revision(
        name, namespace, {"revision": 7}
    )
    assert renumbered.revision == 7
