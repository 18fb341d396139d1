"""What kubectl shows of the conventions a real control plane keeps: rollout history from
ControllerRevisions, events in ``get events`` and ``describe``, API-server defaults, and
unknown fields refused with the apiserver's own message."""

from __future__ import annotations

from pathlib import Path

import yaml
from kubernetes_asyncio import client

from tests.sandbox.support import Kubectl, statefulset_manifest, wait_for


async def rolled_out(apps: client.AppsV1Api, namespace: str) -> None:
    async def done() -> bool:
        status = (await apps.read_namespaced_stateful_set_status("es", namespace)).status
        return (
            status.ready_replicas == status.replicas
            and status.current_revision == status.update_revision
            and status.updated_replicas == status.replicas
        )

    await wait_for(done, what="the rollout")


def history_rows(output: str) -> list[list[str]]:
    lines = output.strip().splitlines()
    assert lines[0].strip() == "statefulset.apps/es"
    assert lines[1].split() == ["REVISION", "CHANGE-CAUSE"]
    return [line.split() for line in lines[2:]]


async def test_rollout_history_and_undo(
    kubectl: Kubectl, apps: client.AppsV1Api, namespace: str
) -> None:
    await apps.create_namespaced_stateful_set(namespace, statefulset_manifest(replicas=2))
    await rolled_out(apps, namespace)
    ns = ("-n", namespace)
    await kubectl(*ns, "set", "image", "statefulset/es", "elasticsearch=elasticsearch:9.2.0")
    await rolled_out(apps, namespace)
    history = await kubectl(*ns, "rollout", "history", "statefulset/es")
    assert history_rows(history.stdout) == [["1", "<none>"], ["2", "<none>"]]
    first = (await kubectl(*ns, "rollout", "history", "statefulset/es", "--revision=1")).stdout
    assert first.startswith("statefulset.apps/es with revision #1\nPod Template:")
    assert "elasticsearch:9.1.5" in first and "9.2.0" not in first

    undone = await kubectl(*ns, "rollout", "undo", "statefulset/es")
    assert undone.stdout.strip() == "statefulset.apps/es rolled back"
    await rolled_out(apps, namespace)
    current = await apps.read_namespaced_stateful_set("es", namespace)
    assert current.spec.template.spec.containers[0].image == "elasticsearch:9.1.5"
    # The first template is used again: its revision is renumbered, not copied.
    history = await kubectl(*ns, "rollout", "history", "statefulset/es")
    assert history_rows(history.stdout) == [["2", "<none>"], ["3", "<none>"]]
    again = await kubectl(*ns, "rollout", "undo", "statefulset/es", "--to-revision=3")
    assert again.stdout.strip() == (
        "statefulset.apps/es skipped rollback (current template already matches revision 3)"
    )
    table = (await kubectl(*ns, "get", "controllerrevisions")).stdout.splitlines()
    assert table[0].split() == ["NAME", "CONTROLLER", "REVISION", "AGE"]
    assert sorted(row.split()[1:3] for row in table[1:]) == [
        ["statefulset.apps/es", "2"],
        ["statefulset.apps/es", "3"],
    ]


async def test_events_in_get_events_and_describe(
    kubectl: Kubectl, apps: client.AppsV1Api, namespace: str
) -> None:
    await apps.create_namespaced_stateful_set(namespace, statefulset_manifest(replicas=1))
    await rolled_out(apps, namespace)
    ns = ("-n", namespace)

    async def started() -> bool:
        listing = await kubectl(*ns, "get", "events", "--field-selector", "reason=Started")
        return "pod/es-0" in listing.stdout

    await wait_for(started, what="the kubelet's Started event")
    table = (await kubectl(*ns, "get", "events")).stdout.splitlines()
    assert table[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    rows = {" ".join(line.split()[1:4]) for line in table[1:]}
    assert {
        "Normal SuccessfulCreate statefulset/es",
        "Normal Scheduled pod/es-0",
        "Normal Pulled pod/es-0",
        "Normal Created pod/es-0",
        "Normal Started pod/es-0",
        "Normal ProvisioningSucceeded persistentvolumeclaim/data-es-0",
    } <= rows

    described = (await kubectl(*ns, "describe", "statefulset", "es")).stdout
    events = described[described.index("\nEvents:") :]
    assert "create Claim data-es-0 Pod es-0 in StatefulSet es success" in events
    assert "create Pod es-0 in StatefulSet es successful" in events
    assert "statefulset-controller" in events and "Scheduled" not in events

    described = (await kubectl(*ns, "describe", "pod", "es-0")).stdout
    events = described[described.index("\nEvents:") :].splitlines()
    messages = {" ".join(line.split()[:2]): line for line in events[3:]}
    assert f"Successfully assigned {namespace}/es-0 to sandbox-node" in messages["Normal Scheduled"]
    assert "default-scheduler" in messages["Normal Scheduled"]
    assert 'Container image "elasticsearch:9.1.5" already present on machine' in (
        messages["Normal Pulled"]
    )
    assert "kubelet" in messages["Normal Created"] and "Created container: elasticsearch" in (
        messages["Normal Created"]
    )
    assert "Started container elasticsearch" in messages["Normal Started"]
    assert "SuccessfulCreate" not in described

    await kubectl(*ns, "scale", "statefulset", "es", "--replicas=0")

    async def deleted() -> bool:
        listing = await kubectl(*ns, "get", "events", "--field-selector", "type=Normal")
        return (
            "delete Pod es-0 in StatefulSet es successful" in listing.stdout
            and "Stopping container elasticsearch" in listing.stdout
        )

    await wait_for(deleted, what="the SuccessfulDelete and Killing events")


async def test_get_yaml_shows_the_api_servers_defaults(
    kubectl: Kubectl, apps: client.AppsV1Api, namespace: str
) -> None:
    manifest = statefulset_manifest(replicas=1)
    container = manifest["spec"]["template"]["spec"]["containers"][0]
    container["readinessProbe"] = {"httpGet": {"port": 9200}}
    container["image"] = "elasticsearch"  # no tag: pulled Always
    await apps.create_namespaced_stateful_set(namespace, manifest)
    ns = ("-n", namespace)
    shown = yaml.safe_load((await kubectl(*ns, "get", "sts", "es", "-o", "yaml")).stdout)
    spec = shown["spec"]
    assert spec["revisionHistoryLimit"] == 10
    assert spec["podManagementPolicy"] == "OrderedReady"
    assert spec["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}
    assert spec["persistentVolumeClaimRetentionPolicy"] == {
        "whenDeleted": "Retain",
        "whenScaled": "Retain",
    }
    assert spec["volumeClaimTemplates"][0]["spec"]["volumeMode"] == "Filesystem"
    pod_spec = spec["template"]["spec"]
    assert {k: pod_spec[k] for k in ("restartPolicy", "dnsPolicy", "schedulerName")} == {
        "restartPolicy": "Always",
        "dnsPolicy": "ClusterFirst",
        "schedulerName": "default-scheduler",
    }
    assert pod_spec["securityContext"] == {} and pod_spec["terminationGracePeriodSeconds"] == 30
    [shown_container] = pod_spec["containers"]
    assert shown_container["readinessProbe"] == {
        "httpGet": {"port": 9200, "path": "/", "scheme": "HTTP"},
        "timeoutSeconds": 1,
        "periodSeconds": 10,
        "successThreshold": 1,
        "failureThreshold": 3,
    }
    assert shown_container["imagePullPolicy"] == "Always"
    assert shown_container["terminationMessagePath"] == "/dev/termination-log"
    assert shown_container["terminationMessagePolicy"] == "File"
    assert shown_container["ports"][0]["protocol"] == "TCP"
    described = (await kubectl(*ns, "describe", "statefulset", "es")).stdout
    assert "http-get http://:9200/ delay=0s timeout=1s period=10s #success=1 #failure=3" in (
        described
    )


async def test_apply_refuses_an_unknown_field_with_the_servers_message(
    kubectl: Kubectl, apps: client.AppsV1Api, namespace: str, tmp_path: Path
) -> None:
    manifest = statefulset_manifest(replicas=1)
    manifest["metadata"]["namespace"] = namespace
    manifest["spec"] = {"replicaz": 2, **manifest["spec"]}
    path = tmp_path / "sts.yaml"
    path.write_text(yaml.safe_dump(manifest, sort_keys=False))
    refused = await kubectl("apply", "-f", str(path), check=False)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        f'Error from server (BadRequest): error when creating "{path}": StatefulSet in version '
        '"v1" cannot be handled as a StatefulSet: strict decoding error: unknown field '
        '"spec.replicaz"'
    )
    assert not (await apps.list_namespaced_stateful_set(namespace)).items
    warned = await kubectl("create", "-f", str(path), "--validate=warn")
    assert 'Warning: unknown field "spec.replicaz"' in warned.stderr
    assert warned.stdout.strip() == "statefulset.apps/es created"
